package e2e_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/sjson"

	"github.com/kubedyn/kubedyn/celrules"
	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// widgetCRDFile is the CRD of the agreement corpus: nested objects, enums,
// int-or-string, preserve-unknown-fields, an embedded resource, list-map
// keys, defaults and CEL rules.
const widgetCRDFile = "../../discovery/testdata/openapi/widgets-crd.json"

// schemaCase is one object of the agreement corpus: a valid base with some
// fields set (raw JSON) or deleted.
type schemaCase struct {
	name string
	base string
	set  []string // pairs: sjson path, raw JSON
	del  []string
}

func (c schemaCase) object(t testing.TB) string {
	doc := c.base
	var err error
	for i := 0; i+1 < len(c.set); i += 2 {
		doc, err = sjson.SetRaw(doc, c.set[i], c.set[i+1])
		require.NoError(t, err, c.name)
	}
	for _, p := range c.del {
		doc, err = sjson.Delete(doc, p)
		require.NoError(t, err, c.name)
	}
	return doc
}

const (
	widgetBase = `{"apiVersion":"schema.kubedyn.test/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":5,"mode":"Steady","ports":[{"name":"http","number":80}]}}`
	deployBase = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"nginx","ports":[{"containerPort":80}]}]}}}}`
	cmBase     = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"b"}}`
	svcBase    = `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"selector":{"app":"x"},"ports":[{"port":80,"targetPort":8080}]}}`
	podBase    = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`
	cronBase   = `{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"cj"},"spec":{"schedule":"*/5 * * * *","jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"OnFailure","containers":[{"name":"c","image":"busybox"}]}}}}}}`
	ingBase    = `{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"i"},"spec":{"rules":[{"host":"example.com","http":{"paths":[{"path":"/","pathType":"Prefix","backend":{"service":{"name":"s","port":{"number":80}}}}]}}]}}`
	pdbBase    = `{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"pdb"},"spec":{"minAvailable":1,"selector":{"matchLabels":{"a":"b"}}}}`
	secretBase = `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"sec"},"type":"Opaque","data":{"a":"aGVsbG8="}}`
	jobBase    = `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}`
)

// widgetCase, deployCase, cmCase, svcCase, podCase and jobCase build corpus
// cases on each base.
func widgetCase(name string, set ...string) schemaCase {
	return schemaCase{name: "widget/" + name, base: widgetBase, set: set}
}
func deployCase(name string, set ...string) schemaCase {
	return schemaCase{name: "deployment/" + name, base: deployBase, set: set}
}
func cmCase(name string, set ...string) schemaCase {
	return schemaCase{name: "configmap/" + name, base: cmBase, set: set}
}
func svcCase(name string, set ...string) schemaCase {
	return schemaCase{name: "service/" + name, base: svcBase, set: set}
}
func podCase(name string, set ...string) schemaCase {
	return schemaCase{name: "pod/" + name, base: podBase, set: set}
}
func jobCase(name string, set ...string) schemaCase {
	return schemaCase{name: "job/" + name, base: jobBase, set: set}
}

func cronCase(name string, set ...string) schemaCase {
	return schemaCase{name: "cronjob/" + name, base: cronBase, set: set}
}
func ingCase(name string, set ...string) schemaCase {
	return schemaCase{name: "ingress/" + name, base: ingBase, set: set}
}
func pdbCase(name string, set ...string) schemaCase {
	return schemaCase{name: "pdb/" + name, base: pdbBase, set: set}
}
func secretCase(name string, set ...string) schemaCase {
	return schemaCase{name: "secret/" + name, base: secretBase, set: set}
}

func (c schemaCase) without(paths ...string) schemaCase { c.del = append(c.del, paths...); return c }

// validCases must be accepted by both sides.
func validCases() []schemaCase {
	return []schemaCase{
		cronCase("base"), ingCase("base"), pdbCase("base"), secretCase("base"),
		pdbCase("percent", "spec.minAvailable", `"50%"`),
		ingCase("named service port", "spec.rules.0.http.paths.0.backend.service.port", `{"name":"http"}`),
		secretCase("string data", "stringData", `{"b":"plain"}`),
		widgetCase("embedded resource metadata", "spec.template", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","labels":{"a":"b"}}}`),
		widgetCase("integers written as floats", "spec.size", `5.0`, "spec.ports.0.number", `1e1`),
		widgetCase("maxLength counts characters", "spec.labels", `{"a":"ééééééé"}`),
		widgetCase("nulls of objects are pruned", "spec.extra", `null`, "spec.template", `null`, "spec.ports", `[{"name":"a","number":1,"protocol":null}]`),
		widgetCase("null map value is pruned", "spec.labels", `{"a":null}`),
		widgetCase("two UDP ports not 22", "spec.ports", `[{"name":"a","number":53,"protocol":"UDP"},{"name":"b","number":54,"protocol":"UDP"}]`),
		widgetCase("base"), deployCase("base"), cmCase("base"), svcCase("base"), podCase("base"), jobCase("base"),
		widgetCase("preserved fields are kept", "spec.extra", `{"any":{"thing":[1,"x"]}}`),
		widgetCase("embedded resource", "spec.template", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"a":"b"}}`),
		widgetCase("map values", "spec.labels", `{"a":"x","b":"y"}`),
		widgetCase("int-or-string as string", "spec.port", `"http"`),
		widgetCase("int-or-string as integer", "spec.port", `8080`),
		widgetCase("quantity-like string matches", "spec.memory", `"1Gi"`),
		widgetCase("int-or-string pattern ignores integers", "spec.memory", `5`),
		widgetCase("nullable null", "spec.note", `null`),
		widgetCase("date-time", "spec.schedule", `"2024-01-01T10:00:00Z"`),
		widgetCase("duration", "spec.timeout", `"5m"`),
		widgetCase("byte", "spec.payload", `"aGVsbG8="`),
		widgetCase("map list keys differ by protocol", "spec.ports", `[{"name":"a","number":1,"protocol":"UDP"},{"name":"a","number":2}]`),
		widgetCase("burst with burst", "spec.mode", `"Burst"`, "spec.burst", `3`),
		widgetCase("https endpoint", "spec.endpoint", `"https://example.com"`),
		widgetCase("no spec").without("spec"),
		widgetCase("short limit names", "spec.limits", `{"cpu":1,"mem":"1Gi"}`),
		widgetCase("nested", "spec.nested", `{"level":{"depth":2,"items":[{"key":"a","value":"x"}]}}`),
		deployCase("quantity as number", "spec.template.spec.containers.0.resources", `{"limits":{"cpu":1,"memory":"1Gi"}}`),
		deployCase("named probe port", "spec.template.spec.containers.0.livenessProbe", `{"httpGet":{"port":"http"}}`),
		deployCase("null replicas", "spec.replicas", `null`),
		svcCase("named target port", "spec.ports.0.targetPort", `"http"`),
		cmCase("binary data", "binaryData", `{"x":"aGVsbG8="}`),
		widgetCase("status is reset on create", "status", `{"phase":1}`),
		widgetCase("duration in words", "spec.timeout", `"5 minutes"`),
		widgetCase("null for a non-nullable field is pruned", "spec.name", `null`),
		widgetCase("null list is pruned", "spec.tags", `null`),
		widgetCase("null with a default gets the default", "spec.enabled", `null`),
		deployCase("duplicate container ports are not checked by the server", "spec.template.spec.containers.0.ports", `[{"containerPort":80},{"containerPort":80}]`),
	}
}

// wrongCases are the deliberately wrong objects.
func wrongCases() []schemaCase {
	return []schemaCase{
		// Widget: unknown fields (decode stage).
		widgetCase("unknown spec field", "spec.bogus", `1`),
		widgetCase("unknown item field", "spec.ports.0.zzz", `1`),
		widgetCase("unknown top-level field", "bogus", `1`),
		widgetCase("unknown nested field", "spec.nested", `{"level":{"depth":1,"x":1}}`),
		widgetCase("unknown field deep in a list", "spec.nested", `{"level":{"depth":1,"items":[{"key":"a","foo":1}]}}`),
		widgetCase("unknown metadata field", "metadata.bogus", `1`),
		widgetCase("unknown status field", "status", `{"phase":"x","bogus":1}`),
		widgetCase("two unknown fields", "spec.bogus", `1`, "spec.ports.0.zzz", `2`),
		widgetCase("unknown field in an empty object schema", "spec.nested", `{"bogus":1}`),
		// Widget: types.
		widgetCase("size string", "spec.size", `"x"`),
		widgetCase("size float", "spec.size", `1.5`),
		widgetCase("size bool", "spec.size", `true`),
		widgetCase("size object", "spec.size", `{}`),
		widgetCase("size array", "spec.size", `[]`),
		widgetCase("mode number", "spec.mode", `1`),
		widgetCase("name number", "spec.name", `5`),
		widgetCase("ratio string", "spec.ratio", `"a"`),
		widgetCase("enabled string", "spec.enabled", `"yes"`),
		widgetCase("tags string", "spec.tags", `"a"`),
		widgetCase("tags of numbers", "spec.tags", `[1]`),
		widgetCase("labels array", "spec.labels", `[]`),
		widgetCase("label value number", "spec.labels", `{"a":1}`),
		widgetCase("ports object", "spec.ports", `{}`),
		widgetCase("port number string", "spec.ports.0.number", `"80"`),
		widgetCase("int-or-string float", "spec.port", `1.5`),
		widgetCase("int-or-string bool", "spec.port", `true`),
		widgetCase("int-or-string object", "spec.port", `{}`),
		widgetCase("memory bool", "spec.memory", `true`),
		widgetCase("nested number", "spec.nested", `1`),
		widgetCase("nested level array", "spec.nested", `{"level":[]}`),
		widgetCase("preserved object string", "spec.extra", `"x"`),
		widgetCase("embedded resource string", "spec.template", `"x"`),
		widgetCase("burst string", "spec.burst", `"x"`),
		widgetCase("note number", "spec.note", `1`),
		widgetCase("limits value bool", "spec.limits", `{"cpu":true}`),
		widgetCase("spec string", "spec", `"x"`),
		// Widget: required.
		widgetCase("no size").without("spec.size"),
		widgetCase("no mode").without("spec.mode"),
		widgetCase("no size nor mode").without("spec.size", "spec.mode"),
		widgetCase("port without name").without("spec.ports.0.name"),
		widgetCase("port without number").without("spec.ports.0.number"),
		widgetCase("level without depth", "spec.nested", `{"level":{}}`),
		widgetCase("embedded resource without kind", "spec.template", `{"apiVersion":"v1"}`),
		widgetCase("embedded resource without apiVersion", "spec.template", `{"kind":"ConfigMap"}`),
		// Widget: enums.
		widgetCase("mode not in enum", "spec.mode", `"Foo"`),
		widgetCase("mode wrong case", "spec.mode", `"steady"`),
		widgetCase("protocol not in enum", "spec.ports.0.protocol", `"SCTP"`),
		widgetCase("nested key not in enum", "spec.nested", `{"level":{"depth":1,"items":[{"key":"c"}]}}`),
		// Widget: pattern and lengths.
		widgetCase("name upper case", "spec.name", `"Abc"`),
		widgetCase("name underscore", "spec.name", `"a_b"`),
		widgetCase("name too short", "spec.name", `"ab"`),
		widgetCase("name too long", "spec.name", `"abcdefghijklm"`),
		widgetCase("label value too long", "spec.labels", `{"a":"12345678901"}`),
		widgetCase("memory not a quantity", "spec.memory", `"lots"`),
		// Widget: items and properties.
		widgetCase("too many tags", "spec.tags", `["a","b","c","d","e"]`),
		widgetCase("no ports", "spec.ports", `[]`),
		widgetCase("too many labels", "spec.labels", `{"a":"1","b":"2","c":"3","d":"4"}`),
		// Widget: ranges.
		widgetCase("size zero", "spec.size", `0`),
		widgetCase("size too big", "spec.size", `101`),
		widgetCase("size negative", "spec.size", `-1`),
		widgetCase("ratio at exclusive maximum", "spec.ratio", `1`),
		widgetCase("ratio negative", "spec.ratio", `-0.1`),
		widgetCase("port number zero", "spec.ports.0.number", `0`),
		widgetCase("port number too big", "spec.ports.0.number", `70000`),
		widgetCase("negative depth", "spec.nested", `{"level":{"depth":-1}}`),
		// Widget: formats.
		widgetCase("date-time word", "spec.schedule", `"yesterday"`),
		widgetCase("date only", "spec.schedule", `"2024-01-01"`),
		widgetCase("duration words", "spec.timeout", `"forever"`),
		widgetCase("byte not base64", "spec.payload", `"!!!"`),
		// Widget: nulls.
		widgetCase("size null", "spec.size", `null`),
		widgetCase("mode null", "spec.mode", `null`),
		widgetCase("three equal tags", "spec.tags", `["a","a","a"]`),
		widgetCase("size null with required", "spec.size", `null`, "spec.mode", `null`),
		// Widget: list uniqueness.
		widgetCase("duplicate tags", "spec.tags", `["a","a"]`),
		widgetCase("duplicate map keys by default", "spec.ports", `[{"name":"a","number":1},{"name":"a","number":2}]`),
		widgetCase("duplicate map keys explicit and default", "spec.ports", `[{"name":"a","number":1,"protocol":"TCP"},{"name":"a","number":2}]`),
		widgetCase("duplicate map keys three times", "spec.ports", `[{"name":"a","number":1},{"name":"a","number":2},{"name":"a","number":3}]`),
		// Widget: CEL rules.
		widgetCase("min above default max", "spec.minReplicas", `5`),
		widgetCase("min above max", "spec.minReplicas", `2`, "spec.maxReplicas", `1`),
		widgetCase("http endpoint", "spec.endpoint", `"http://x"`),
		widgetCase("burst without burst", "spec.mode", `"Burst"`),
		widgetCase("port 22 over UDP", "spec.ports", `[{"name":"ssh","number":22,"protocol":"UDP"}]`),
		widgetCase("long limit name", "spec.limits", `{"verylongname":1}`),
		widgetCase("several rules", "spec.mode", `"Burst"`, "spec.minReplicas", `9`, "spec.endpoint", `"ftp://x"`),
		widgetCase("host not a URL", "spec.host", `"a b"`),
		// Widget: several stages at once.
		widgetCase("unknown and type", "spec.bogus", `1`, "spec.size", `"x"`),
		widgetCase("unknown, schema and rule", "spec.bogus", `1`, "spec.mode", `"Foo"`, "spec.endpoint", `"http://x"`),
		widgetCase("schema and rule", "spec.size", `0`, "spec.endpoint", `"http://x"`),
		widgetCase("many schema errors", "spec.size", `"x"`, "spec.mode", `"Foo"`, "spec.tags", `["a","a"]`, "spec.labels", `{"a":"12345678901"}`),

		widgetCase("a rule reads an integer written as a float", "spec.minReplicas", `2.0`),
		widgetCase("label value too long in characters", "spec.labels", `{"a":"ééééééééééé"}`),
		widgetCase("embedded resource with empty apiVersion", "spec.template", `{"kind":"ConfigMap","apiVersion":""}`),
		widgetCase("two ports break a rule", "spec.ports", `[{"name":"a","number":22,"protocol":"UDP"},{"name":"b","number":22,"protocol":"UDP"}]`),
		widgetCase("rule with reason and message expression", "spec.mode", `"Burst"`, "spec.minReplicas", `1`),
		widgetCase("unknown field in embedded metadata", "spec.template", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","bogus":1}}`),
		widgetCase("nested level items object", "spec.nested", `{"level":{"depth":1,"items":{"key":"a"}}}`),
		widgetCase("limits nested object", "spec.limits", `{"cpu":{"a":1}}`),
		widgetCase("payload number", "spec.payload", `5`),
		widgetCase("schedule number", "spec.schedule", `20240101`),

		// CronJob, Ingress, PodDisruptionBudget, Secret.
		cronCase("concurrency policy not in enum", "spec.concurrencyPolicy", `"Sometimes"`),
		cronCase("no schedule").without("spec.schedule"),
		cronCase("suspend string", "spec.suspend", `"no"`),
		cronCase("unknown job template field", "spec.jobTemplate.spec.bogus", `1`),
		cronCase("history limit string", "spec.successfulJobsHistoryLimit", `"3"`),
		ingCase("path type not in enum", "spec.rules.0.http.paths.0.pathType", `"Regex"`),
		ingCase("no path type").without("spec.rules.0.http.paths.0.pathType"),
		ingCase("port number string", "spec.rules.0.http.paths.0.backend.service.port.number", `"80"`),
		ingCase("unknown backend field", "spec.rules.0.http.paths.0.backend.bogus", `1`),
		ingCase("rules object", "spec.rules", `{}`),
		pdbCase("min available float", "spec.minAvailable", `1.5`),
		pdbCase("min available bool", "spec.minAvailable", `true`),
		pdbCase("unhealthy eviction policy not in enum", "spec.unhealthyPodEvictionPolicy", `"Never"`),
		pdbCase("unknown field", "spec.bogus", `1`),
		secretCase("data not base64", "data.a", `"!!!"`),
		secretCase("data number", "data.a", `1`),
		secretCase("string data number", "stringData", `{"b":1}`),
		secretCase("unknown field", "bogus", `1`),

		// Deployment.
		deployCase("unknown spec field", "spec.bogus", `1`),
		deployCase("unknown container field", "spec.template.spec.containers.0.bogus", `1`),
		deployCase("unknown port field", "spec.template.spec.containers.0.ports.0.bogus", `1`),
		deployCase("unknown metadata field", "metadata.bogus", `1`),
		deployCase("unknown template metadata field", "spec.template.metadata.bogus", `1`),
		deployCase("unknown strategy field", "spec.strategy", `{"type":"RollingUpdate","bogus":1}`),
		deployCase("unknown resources field", "spec.template.spec.containers.0.resources", `{"bogus":1}`),
		deployCase("two unknown fields", "spec.bogus", `1`, "spec.template.spec.containers.0.bogus", `1`),
		deployCase("unknown top-level field", "bogus", `{}`),
		deployCase("replicas string", "spec.replicas", `"1"`),
		deployCase("replicas float", "spec.replicas", `1.5`),
		deployCase("replicas written as a float", "spec.replicas", `1.0`),
		deployCase("paused string", "spec.paused", `"yes"`),
		deployCase("containers string", "spec.template.spec.containers", `"x"`),
		deployCase("container port string", "spec.template.spec.containers.0.ports.0.containerPort", `"80"`),
		deployCase("args string", "spec.template.spec.containers.0.args", `"x"`),
		deployCase("env value number", "spec.template.spec.containers.0.env", `[{"name":"A","value":1}]`),
		deployCase("label value number", "metadata.labels", `{"a":1}`),
		deployCase("cpu not a quantity", "spec.template.spec.containers.0.resources", `{"limits":{"cpu":"lots"}}`),
		deployCase("probe port bool", "spec.template.spec.containers.0.livenessProbe", `{"httpGet":{"port":true}}`),
		deployCase("minReadySeconds string", "spec.minReadySeconds", `"5"`),
		deployCase("selector string", "spec.selector", `"app=d"`),
		deployCase("pull policy not in enum", "spec.template.spec.containers.0.imagePullPolicy", `"Sometimes"`),
		deployCase("protocol not in enum", "spec.template.spec.containers.0.ports.0.protocol", `"XTCP"`),
		deployCase("strategy not in enum", "spec.strategy", `{"type":"Fast"}`),
		deployCase("dns policy not in enum", "spec.template.spec.dnsPolicy", `"Auto"`),
		deployCase("termination message policy not in enum", "spec.template.spec.containers.0.terminationMessagePolicy", `"Loud"`),
		deployCase("restart policy Never", "spec.template.spec.restartPolicy", `"Never"`),
		deployCase("container without name").without("spec.template.spec.containers.0.name"),
		deployCase("container without image").without("spec.template.spec.containers.0.image"),
		deployCase("no selector").without("spec.selector"),
		deployCase("duplicate containers", "spec.template.spec.containers", `[{"name":"c","image":"x"},{"name":"c","image":"y"}]`),
		deployCase("env without name", "spec.template.spec.containers.0.env", `[{"value":"x"}]`),
		deployCase("unknown and enum", "spec.bogus", `1`, "spec.template.spec.containers.0.imagePullPolicy", `"Sometimes"`),

		// ConfigMap.
		cmCase("data value number", "data.a", `1`),
		cmCase("data array", "data", `[]`),
		cmCase("binary data not base64", "binaryData", `{"x":"!!!"}`),
		cmCase("immutable string", "immutable", `"yes"`),
		cmCase("unknown field", "bogus", `1`),
		cmCase("labels array", "metadata.labels", `[]`),
		cmCase("annotation bool", "metadata.annotations", `{"a":true}`),
		cmCase("unknown metadata field", "metadata.bogus", `"x"`),
		cmCase("two unknown fields", "bogus", `1`, "spec", `{}`),

		// Service.
		svcCase("target port float", "spec.ports.0.targetPort", `1.5`),
		svcCase("port string", "spec.ports.0.port", `"80"`),
		svcCase("protocol not in enum", "spec.ports.0.protocol", `"HTTP"`),
		svcCase("type not in enum", "spec.type", `"Internal"`),
		svcCase("session affinity not in enum", "spec.sessionAffinity", `"Sticky"`),
		svcCase("unknown spec field", "spec.bogus", `1`),
		svcCase("unknown port field", "spec.ports.0.bogus", `1`),
		svcCase("port without port").without("spec.ports.0.port"),
		svcCase("ip family policy not in enum", "spec.ipFamilyPolicy", `"Any"`),
		svcCase("duplicate ports", "spec.ports", `[{"port":80},{"port":80}]`),
		svcCase("ports object", "spec.ports", `{}`),
		svcCase("selector value number", "spec.selector", `{"app":1}`),
		svcCase("internal traffic policy not in enum", "spec.internalTrafficPolicy", `"Nearby"`),

		// Pod.
		podCase("restart policy not in enum", "spec.restartPolicy", `"Sometimes"`),
		podCase("unknown container field", "spec.containers.0.bogus", `1`),
		podCase("unknown spec field", "spec.bogus", `1`),
		podCase("run as user string", "spec.containers.0.securityContext", `{"runAsUser":"root"}`),
		podCase("memory not a quantity", "spec.containers.0.resources", `{"requests":{"memory":"1GB"}}`),
		podCase("dns policy not in enum", "spec.dnsPolicy", `"Auto"`),
		podCase("env without name", "spec.containers.0.env", `[{"value":"x"}]`),
		podCase("toleration operator not in enum", "spec.tolerations", `[{"key":"a","operator":"Maybe"}]`),
		podCase("priority string", "spec.priority", `"high"`),
		podCase("container port too big", "spec.containers.0.ports", `[{"containerPort":70000}]`),
		podCase("volumes object", "spec.volumes", `{}`),
		podCase("unknown volume field", "spec.volumes", `[{"name":"v","emptyDir":{},"bogus":1}]`),
		podCase("container without name").without("spec.containers.0.name"),
		podCase("termination grace string", "spec.terminationGracePeriodSeconds", `"30"`),
		podCase("host network string", "spec.hostNetwork", `"true"`),
		podCase("enable service links string", "spec.enableServiceLinks", `"yes"`),

		// Job.
		jobCase("completion mode not in enum", "spec.completionMode", `"Sometimes"`),
		jobCase("backoff limit string", "spec.backoffLimit", `"3"`),
		jobCase("unknown spec field", "spec.bogus", `1`),
		jobCase("failure policy action not in enum", "spec.podFailurePolicy", `{"rules":[{"action":"Explode","onExitCodes":{"operator":"In","values":[1]}}]}`),
		jobCase("parallelism float", "spec.parallelism", `1.5`),
		jobCase("unknown template field", "spec.template.spec.bogus", `1`),
		jobCase("suspend string", "spec.suspend", `"no"`),
	}
}

// schemaDisagreements are the corpus objects where client-side validation
// and the server are known to differ, with the reason. The server's Go
// validation of built-in kinds checks more than their OpenAPI schemas
// describe; a CEL function of Kubernetes' own libraries is not evaluated
// client-side.
var schemaDisagreements = map[string]string{
	"widget/host not a URL":              "the rule calls isURL() of Kubernetes' CEL libraries: reported as not checked client-side",
	"deployment/strategy not in enum":    "Go validation names the strategy object (spec.strategy), the schema's enum is on spec.strategy.type",
	"deployment/restart policy Never":    "Go validation allows only Always in a Deployment's pod template; the schema lists every policy",
	"deployment/container without image": "Go validation requires an image in workload templates; the schema does not",
	"deployment/no selector":             "Go validation also reports that the template labels no longer match the (missing) selector",
	"deployment/duplicate containers":    "Go validation requires unique container names; the schema's containers list is not a map list",
	"service/duplicate ports":            "Go validation requires names on multiple ports besides their uniqueness; list uniqueness of built-in kinds is left to Go validation",
	"pod/container port too big":         "Go validation limits ports to 1-65535; the schema has no range",
}

// serverVerdict is what the server answered a dry-run create.
type serverVerdict struct {
	accepted bool
	stage    unstructured.Stage
	fields   []string // the paths the server named
	// prefixOnly: the server names only the first decode error, without
	// list indices (a JSON type error of a built-in kind).
	prefixOnly bool
	message    string
}

var (
	unknownFieldRE = regexp.MustCompile(`unknown field "([^"]+)"`)
	goFieldRE      = regexp.MustCompile(`Go struct field [A-Za-z0-9_]+\.([^ ]+) of type`)
	indexRE        = regexp.MustCompile(`\[\d+\]`)
	goEmbeddedRE   = regexp.MustCompile(`\.[A-Z][A-Za-z0-9]*`)
)

func parseVerdict(t testing.TB, code int, body []byte) serverVerdict {
	t.Helper()
	if code/100 == 2 {
		return serverVerdict{accepted: true}
	}
	var st struct {
		Message string `json:"message"`
		Reason  string `json:"reason"`
		Details struct {
			Causes []struct {
				Field   string `json:"field"`
				Message string `json:"message"`
			} `json:"causes"`
		} `json:"details"`
	}
	require.NoError(t, json.Unmarshal(body, &st), string(body))
	v := serverVerdict{message: st.Message}
	switch code {
	case http.StatusBadRequest:
		v.stage = unstructured.StageDecode
		for _, m := range unknownFieldRE.FindAllStringSubmatch(st.Message, -1) {
			v.fields = append(v.fields, m[1])
		}
		if m := goFieldRE.FindStringSubmatch(st.Message); m != nil {
			v.fields = append(v.fields, m[1])
			v.prefixOnly = true
		}
	case http.StatusUnprocessableEntity:
		v.stage = unstructured.StageSchema
		rules := true
		for _, c := range st.Details.Causes {
			if c.Field == "<nil>" {
				continue // "some validation rules were not checked"
			}
			v.fields = append(v.fields, c.Field)
			if !isRuleMessage(c.Message) {
				rules = false
			}
		}
		if rules && len(v.fields) > 0 {
			v.stage = unstructured.StageRules
		}
	default:
		t.Fatalf("unexpected answer %d: %s", code, body)
	}
	sort.Strings(v.fields)
	v.fields = compactStrings(v.fields)
	return v
}

// ruleMessages are the messages of the Widget's CEL rules: a 422 naming
// only these is the rules stage.
var ruleMessages = []string{"minReplicas must not exceed maxReplicas", "endpoint must use https", "needs burst",
	"port 22 must be TCP", "limit names are at most 8 characters", "host must make a URL"}

func isRuleMessage(m string) bool {
	for _, r := range ruleMessages {
		if strings.Contains(m, r) {
			return true
		}
	}
	return false
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// clientVerdict is the stage of the server's first answer as predicted
// client-side (decode, or schema for a 422 that may carry rule errors too,
// rules for one with rule errors only), and the paths it names.
func clientVerdict(res *unstructured.ValidationResult) (unstructured.Stage, []string) {
	answer := res.ServerAnswer()
	if len(answer) == 0 {
		return 0, nil
	}
	st := answer[0].Stage
	var fields []string
	for _, e := range answer {
		fields = append(fields, e.Field)
	}
	sort.Strings(fields)
	return st, compactStrings(fields)
}

// agree compares the two verdicts; "" when they agree, else why not.
func agree(sv serverVerdict, res *unstructured.ValidationResult) (string, bool) {
	st, fields := clientVerdict(res)
	if sv.accepted {
		if st == 0 {
			return "", true
		}
		return fmt.Sprintf("server accepted, client rejected at %s: %v", st, res.Errors), false
	}
	if st == 0 {
		return fmt.Sprintf("server rejected at %s %v (%s), client accepted", sv.stage, sv.fields, sv.message), false
	}
	if st != sv.stage && !(st == unstructured.StageSchema && sv.stage == unstructured.StageRules) {
		return fmt.Sprintf("server rejected at %s %v (%s), client at %s %v", sv.stage, sv.fields, sv.message, st, fields), false
	}
	if sv.prefixOnly {
		// The decoder names only its first error, without indices, with
		// the names of embedded Go structs ("ProbeHandler"), and a map
		// rather than its key.
		for _, f := range sv.fields {
			f = goEmbeddedRE.ReplaceAllString(f, "")
			found := false
			for _, cf := range fields {
				cf = indexRE.ReplaceAllString(cf, "")
				if cf == f || strings.HasPrefix(cf, f+".") {
					found = true
				}
			}
			if !found {
				return fmt.Sprintf("server named %s (%s), client %v", f, sv.message, fields), false
			}
		}
		return "", true
	}
	if len(sv.fields) == 0 {
		return "", true // the server named no path (a quantity or base64 decode error)
	}
	if strings.Join(sv.fields, ",") != strings.Join(fields, ",") {
		return fmt.Sprintf("paths differ at %s: server %v (%s), client %v", st, sv.fields, sv.message, fields), false
	}
	return "", true
}

// TestSchemaAgreement sends every corpus object to the real server with
// dryRun=All and fieldValidation=Strict, validates it client-side with the
// schema the server publishes, and compares the verdicts: accepted or not,
// the first stage that fails, and the field paths named there.
func TestSchemaAgreement(t *testing.T) {
	ctx := testContext(t)
	c := admin(t)
	crdJSON, err := os.ReadFile(widgetCRDFile)
	require.NoError(t, err)
	_, err = c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition").Create(ctx, unstructured.MustParse(string(crdJSON)), nil)
	if err != nil && !errors.Is(err, transport.ErrAlreadyExists) {
		require.NoError(t, err)
	}
	_, err = c.WaitEstablished(ctx, "widgets.schema.kubedyn.test", nil)
	require.NoError(t, err)
	ns := newNamespace(t)
	rules, err := celrules.New()
	require.NoError(t, err)

	r := newRaw(t, cluster(t).AdminToken)
	type tally struct{ objects, agreed, withPaths, pathsAgreed int }
	var wrong, valid tally
	var disagreements []string
	run := func(tc schemaCase, want *tally, wantRejected bool) {
		doc := tc.object(t)
		o := unstructured.MustParse(doc)
		gv, err := unstructured.ParseGroupVersion(o.Get("apiVersion").String())
		require.NoError(t, err)
		gvk := gv.WithKind(o.Get("kind").String())
		h := c.Resource(gvk.APIVersion(), gvk.Kind)
		gvr, err := h.Resolve(ctx)
		require.NoError(t, err, tc.name)
		var schema *unstructured.Schema
		eventually(t, 30*time.Second, "the schema of "+gvk.String(), func() bool {
			schema, err = c.Discovery().Schema(ctx, gvk)
			if err != nil {
				c.Discovery().Invalidate()
			}
			return err == nil
		})
		res, err := unstructured.Validate(o, schema, &unstructured.ValidateOptions{Rules: rules, ResetStatus: true})
		require.NoError(t, err)

		prefix := "/apis/" + gvr.Group
		if gvr.Group == "" {
			prefix = "/api"
		}
		path := prefix + "/" + gvr.Version + "/namespaces/" + ns + "/" + gvr.Resource + "?dryRun=All&fieldValidation=Strict"
		resp, body := r.do(http.MethodPost, path, http.Header{"Content-Type": {"application/json"}}, doc)
		sv := parseVerdict(t, resp.StatusCode, body)

		want.objects++
		if !sv.accepted && len(sv.fields) > 0 {
			want.withPaths++
		}
		why, ok := agree(sv, res)
		reason, documented := schemaDisagreements[tc.name]
		switch {
		case ok:
			want.agreed++
			if !sv.accepted && len(sv.fields) > 0 {
				want.pathsAgreed++
			}
			if documented {
				disagreements = append(disagreements, tc.name+": listed as a disagreement but agrees now")
			}
		case documented:
			t.Logf("known disagreement %s: %s (%s)", tc.name, why, reason)
		default:
			disagreements = append(disagreements, tc.name+": "+why)
		}
		if wantRejected != !sv.accepted {
			disagreements = append(disagreements, fmt.Sprintf("%s: corpus expects rejected=%v, the server says %v", tc.name, wantRejected, !sv.accepted))
		}
	}
	for _, tc := range validCases() {
		run(tc, &valid, false)
	}
	for _, tc := range wrongCases() {
		run(tc, &wrong, true)
	}
	t.Logf("agreement on %d deliberately wrong objects: %d/%d objects agree; field paths agree on %d/%d objects the server named paths for",
		wrong.objects, wrong.agreed, wrong.objects, wrong.pathsAgreed, wrong.withPaths)
	t.Logf("agreement on %d valid objects: %d/%d", valid.objects, valid.agreed, valid.objects)
	assert.GreaterOrEqual(t, wrong.objects, 150)
	assert.Empty(t, disagreements, "\n"+strings.Join(disagreements, "\n"))
}

// TestSchemaAllStagesInOnePass checks that client-side validation reports
// what the server reveals one stage at a time: the server answers the
// unknown field first, then the schema error once that is fixed, then the
// rule once that is fixed; the client names all three at once.
func TestSchemaAllStagesInOnePass(t *testing.T) {
	ctx := testContext(t)
	c := admin(t)
	crdJSON, err := os.ReadFile(widgetCRDFile)
	require.NoError(t, err)
	_, err = c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition").Create(ctx, unstructured.MustParse(string(crdJSON)), nil)
	if err != nil && !errors.Is(err, transport.ErrAlreadyExists) {
		require.NoError(t, err)
	}
	_, err = c.WaitEstablished(ctx, "widgets.schema.kubedyn.test", nil)
	require.NoError(t, err)
	ns := newNamespace(t)
	rules, err := celrules.New()
	require.NoError(t, err)
	gvk := unstructured.GroupVersionKind{Group: "schema.kubedyn.test", Version: "v1", Kind: "Widget"}
	var schema *unstructured.Schema
	eventually(t, 30*time.Second, "the Widget schema", func() bool {
		schema, err = c.Discovery().Schema(ctx, gvk)
		if err != nil {
			c.Discovery().Invalidate()
		}
		return err == nil
	})

	tc := widgetCase("all stages", "spec.bogus", `1`, "spec.mode", `"Foo"`, "spec.endpoint", `"http://x"`)
	doc := tc.object(t)
	res, err := unstructured.Validate(unstructured.MustParse(doc), schema, &unstructured.ValidateOptions{Rules: rules})
	require.NoError(t, err)
	var got []string
	for _, e := range res.Errors {
		got = append(got, e.Stage.String()+" "+e.Field)
	}
	assert.Equal(t, []string{"decode spec.bogus", "schema spec.mode", "rules spec.endpoint"}, got)

	r := newRaw(t, cluster(t).AdminToken)
	path := "/apis/schema.kubedyn.test/v1/namespaces/" + ns + "/widgets?dryRun=All&fieldValidation=Strict"
	for _, step := range []struct {
		fix   []string
		stage unstructured.Stage
		field string
	}{
		{nil, unstructured.StageDecode, "spec.bogus"},
		{[]string{"spec.bogus"}, unstructured.StageSchema, "spec.mode"},
		{[]string{"spec.bogus", "spec.mode"}, unstructured.StageRules, "spec.endpoint"},
	} {
		fixed := doc
		for _, f := range step.fix {
			fixed, err = sjson.Delete(fixed, f)
			require.NoError(t, err)
		}
		if len(step.fix) == 2 {
			fixed, err = sjson.Set(fixed, "spec.mode", "Steady")
			require.NoError(t, err)
		}
		resp, body := r.do(http.MethodPost, path, http.Header{"Content-Type": {"application/json"}}, fixed)
		sv := parseVerdict(t, resp.StatusCode, body)
		assert.Equal(t, step.stage, sv.stage, string(body))
		assert.Equal(t, []string{step.field}, sv.fields, string(body))
	}
}

// TestSchemaExplain explains a built-in kind and the corpus CRD from the
// schemas the real server publishes, and compiles each group version once.
func TestSchemaExplain(t *testing.T) {
	ctx := testContext(t)
	c := admin(t)
	crdJSON, err := os.ReadFile(widgetCRDFile)
	require.NoError(t, err)
	_, err = c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition").Create(ctx, unstructured.MustParse(string(crdJSON)), nil)
	if err != nil && !errors.Is(err, transport.ErrAlreadyExists) {
		require.NoError(t, err)
	}
	_, err = c.WaitEstablished(ctx, "widgets.schema.kubedyn.test", nil)
	require.NoError(t, err)

	out, err := c.Discovery().Explain(ctx, unstructured.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, "spec.template.spec.containers.ports", nil)
	require.NoError(t, err)
	assert.Contains(t, out, "FIELD: ports <[]ContainerPort>")
	assert.Contains(t, out, "  containerPort\t<integer> -required-\n")
	assert.Contains(t, out, "  protocol\t<string>\n  enum: SCTP, TCP, UDP\n")

	wgvk := unstructured.GroupVersionKind{Group: "schema.kubedyn.test", Version: "v1", Kind: "Widget"}
	eventually(t, 30*time.Second, "the Widget schema", func() bool {
		out, err = c.Discovery().Explain(ctx, wgvk, "spec.ports", &unstructured.ExplainOptions{Recursive: true})
		if errors.Is(err, discovery.ErrNoSchema) {
			c.Discovery().Invalidate()
			return false
		}
		return true
	})
	require.NoError(t, err)
	assert.Contains(t, out, "FIELD: ports <[]Object>")
	assert.Contains(t, out, "  name\t<string> -required-\n  number\t<integer> -required-\n  protocol\t<string>\n")
	assert.Contains(t, out, "RULE: self.number != 22 || self.protocol == 'TCP'")

	_, err = c.Discovery().Explain(ctx, wgvk, "spec.bogus", nil)
	require.ErrorIs(t, err, unstructured.ErrNoField)
	_, err = c.Discovery().Explain(ctx, unstructured.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Nothing"}, "", nil)
	require.ErrorIs(t, err, discovery.ErrNoSchema)

	// The compiled set is kept by the document's hash URL.
	a, err := c.Discovery().SchemaSet(ctx, unstructured.GroupVersion{Group: "apps", Version: "v1"})
	require.NoError(t, err)
	b, err := c.Discovery().SchemaSet(ctx, unstructured.GroupVersion{Group: "apps", Version: "v1"})
	require.NoError(t, err)
	assert.Same(t, a, b)
}

// TestSchemaValidationInRequests: a client in Strict mode refuses what the
// real server would refuse, before sending, with every stage's errors; Warn
// sends and warns; merge patches are checked on their result.
func TestSchemaValidationInRequests(t *testing.T) {
	ctx := testContext(t)
	c := newClient(t, "admin", resource.WithValidation(resource.ValidationStrict))
	crdJSON, err := os.ReadFile(widgetCRDFile)
	require.NoError(t, err)
	_, err = c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition").Create(ctx, unstructured.MustParse(string(crdJSON)), nil)
	if err != nil && !errors.Is(err, transport.ErrAlreadyExists) {
		require.NoError(t, err)
	}
	_, err = c.WaitEstablished(ctx, "widgets.schema.kubedyn.test", nil)
	require.NoError(t, err)
	ns := newNamespace(t)
	widgets := c.Resource("schema.kubedyn.test/v1", "Widget").Namespace(ns)

	bad := unstructured.MustParse(widgetCase("all stages", "spec.bogus", `1`, "spec.mode", `"Foo"`, "spec.endpoint", `"http://x"`).object(t))
	_, err = widgets.Create(ctx, bad, nil)
	require.ErrorIs(t, err, unstructured.ErrInvalidObject)
	var verr *unstructured.ValidationError
	require.ErrorAs(t, err, &verr)
	var got []string
	for _, e := range verr.Errors {
		got = append(got, e.Stage.String()+" "+e.Field)
	}
	assert.Equal(t, []string{"decode spec.bogus", "schema spec.mode", "rules spec.endpoint"}, got)
	_, err = widgets.Get(ctx, "w", nil)
	require.ErrorIs(t, err, transport.ErrNotFound, "nothing was sent")

	// Warn sends it: the server refuses the unknown field itself.
	var warned []string
	wctx := resource.WithWarningHandler(ctx, func(x transport.Warning) { warned = append(warned, x.Text) })
	_, err = widgets.Create(wctx, bad, &resource.CreateOptions{Validation: resource.ValidationWarn, FieldValidation: resource.FieldValidationStrict})
	require.ErrorIs(t, err, transport.ErrBadRequest)
	assert.Contains(t, warned, `client-side validation: spec.mode: Unsupported value: "Foo": supported values: "Steady", "Burst", "Off"`)

	good := unstructured.MustParse(widgetBase)
	_, err = widgets.Create(ctx, good, nil)
	require.NoError(t, err)
	_, err = widgets.Patch(ctx, "w", resource.MergePatch, []byte(`{"spec":{"minReplicas":7}}`), nil)
	require.ErrorIs(t, err, unstructured.ErrInvalidObject)
	assert.Contains(t, err.Error(), "spec: Invalid value: minReplicas must not exceed maxReplicas")
	_, err = widgets.Patch(ctx, "w", resource.MergePatch, []byte(`{"spec":{"minReplicas":2}}`), nil)
	require.NoError(t, err)

	_, err = widgets.Apply(ctx, unstructured.MustParse(`{"apiVersion":"schema.kubedyn.test/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"sise":3}}`),
		&resource.ApplyOptions{FieldManager: "schema-e2e"})
	require.ErrorIs(t, err, unstructured.ErrInvalidObject)
	assert.Contains(t, err.Error(), `spec.sise: unknown field "spec.sise"`)
	_, err = widgets.Apply(ctx, unstructured.MustParse(`{"apiVersion":"schema.kubedyn.test/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":3}}`),
		&resource.ApplyOptions{FieldManager: "schema-e2e", Force: true})
	require.NoError(t, err)
}

// TestSchemaTypedYAML decodes a manifest with scalars typed by the real
// server's schemas and has the server accept it: YAML 1.1 booleans where
// the schema says boolean, strings kept where it says string.
func TestSchemaTypedYAML(t *testing.T) {
	ctx := testContext(t)
	c := admin(t)
	ns := newNamespace(t)
	manifest := `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: typed
  labels: {version: 1.20, enabled: yes}
spec:
  paused: yes
  replicas: 1
  selector: {matchLabels: {app: typed}}
  template:
    metadata: {labels: {app: typed}}
    spec:
      hostNetwork: off
      containers:
      - name: c
        image: nginx
        args: [on, 1.0]
        env: [{name: DEBUG, value: true}]
        ports: [{containerPort: 8080}]
        livenessProbe: {httpGet: {port: 8080}}
        resources: {limits: {cpu: 1, memory: 1Gi}}
`
	lookup := func(gvk unstructured.GroupVersionKind) (*unstructured.Schema, error) {
		return c.Discovery().Schema(ctx, gvk)
	}
	objs, err := unstructured.DecodeYAMLWithSchema([]byte(manifest), lookup)
	require.NoError(t, err)
	require.Len(t, objs, 1)
	o := objs[0]
	assert.Equal(t, "1.20", o.Get("metadata.labels.version").Raw[1:5])
	assert.Equal(t, "true", o.Get("spec.paused").Raw)
	assert.Equal(t, "false", o.Get("spec.template.spec.hostNetwork").Raw)
	assert.Equal(t, `["on","1.0"]`, o.Get("spec.template.spec.containers.0.args").Raw)
	assert.Equal(t, `"true"`, o.Get("spec.template.spec.containers.0.env.0.value").Raw)
	assert.Equal(t, `8080`, o.Get("spec.template.spec.containers.0.livenessProbe.httpGet.port").Raw)

	created, err := c.Resource("apps/v1", "Deployment").Namespace(ns).Create(ctx, o, &resource.CreateOptions{DryRun: true, FieldValidation: resource.FieldValidationStrict})
	require.NoError(t, err)
	assert.Equal(t, "yes", created.Get("metadata.labels.enabled").String())
	assert.True(t, created.Get("spec.paused").Bool())

	// Without the schema, YAML 1.2 makes the label a number and the server refuses it.
	plain, err := unstructured.Decode([]byte(manifest))
	require.NoError(t, err)
	_, err = c.Resource("apps/v1", "Deployment").Namespace(ns).Create(ctx, plain[0], &resource.CreateOptions{DryRun: true})
	require.ErrorIs(t, err, transport.ErrBadRequest)
}
