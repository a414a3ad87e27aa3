package fidelity

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// knownDifference is a way in which internal/testserver is known to answer
// differently from the real server. TestFidelity tolerates it and fails
// when it no longer occurs, so the entry goes once the test server is
// fixed.
type knownDifference struct {
	// Case is the case name (testdata/<Case>.json); "*" matches any run of
	// characters.
	Case string
	// Key is a diff key; "*" matches any run of characters.
	Key string
	// Reason says why the difference is tolerated for now.
	Reason string
	// Detail, when set, must equal the diff's detail.
	Detail string
}

// glob reports whether s matches pattern, in which "*" matches any run of
// characters and everything else matches itself.
func glob(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return s == pattern
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

func (k knownDifference) matches(c string, d diff) bool {
	return glob(k.Case, c) && glob(k.Key, d.Key) && (k.Detail == "" || k.Detail == d.Detail)
}

// knownDifferences are the differences TestFidelity tolerates.
var knownDifferences = slices.Concat(knownOther, knownSchemas, knownObjects)

var knownOther = []knownDifference{
	// Legacy discovery.
	{"api-legacy", "etag", etagReason, ""},
	{"apis-legacy", "etag", etagReason, ""},
	{"api-v1", "etag", etagReason, ""},
	{"apis-apps-v1", "etag", etagReason, ""},
	{"apis-apps", "etag", etagReason, ""},
	{"apis-rbac-v1", "etag", etagReason, ""},
	{"apis-apiextensions-v1", "etag", etagReason, ""},

	// OpenAPI v3.
	{"openapi-v3-api-v1", "key missing: $.path./api/v1/namespaces/{namespace}/configmaps/{name}.*", openAPIPathReason, ""},
	{"openapi-v3-apis-apps-v1*", "key missing: $.path./apis/apps/v1/namespaces/{namespace}/deployments/{name}.*", openAPIPathReason, ""},

	{"openapi-v3-api-v1-revalidate", "status", "testserver ignores If-None-Match on /openapi/v3/<group-version> and answers 200 with the document; the real server answers 304 (it sends the same ETag)", ""},
	{"openapi-v3-api-v1-revalidate", "content-type", "follows from the status entry (a 304 has no Content-Type)", ""},

	// Headers.
	{"*", "cache-control", "the real server sends Cache-Control: no-cache, private on every answer but aggregated discovery and hashed OpenAPI documents; testserver sends none", `real "no-cache, private", testserver ""`},
	{"*aggregated*", "cache-control", "the real server sends Cache-Control: public with aggregated discovery (also on its 304); testserver sends none", `real "public", testserver ""`},

	// Error Statuses.
	{"error-bad-label-selector", "value: message", `for labelSelector "a b c" real says "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"; testserver says "unable to parse requirement: invalid label key \"a b c\" in selector \"a b c\""`, ""},
	{"error-malformed-json", "value: message", `real: "the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: unexpected end of JSON input (<first bytes> ...)"; testserver: "the body of the request could not be decoded: unexpected EOF"`, ""},
}

var knownSchemas = slices.Concat(
	schemaKeys("openapi-v3-api-v1", "io.k8s.api.core.v1.ConfigMap", "missing", openAPISchemaReason,
		"description",
		"properties.binaryData.additionalProperties", "properties.binaryData.description", "properties.binaryData.type",
		"properties.data.additionalProperties", "properties.data.description", "properties.data.type",
		"properties.immutable.description", "properties.immutable.type",
		"properties.metadata.description"),
	schemaKeys("openapi-v3-apis-apps-v1*", "io.k8s.api.apps.v1.Deployment", "missing", openAPISchemaReason,
		"description", "required", "properties.metadata.description",
		"properties.spec.allOf", "properties.spec.default", "properties.spec.description",
		"properties.status.allOf", "properties.status.default", "properties.status.description"),
	schemaKeys("openapi-v3-apis-apps-v1*", "io.k8s.api.apps.v1.Deployment", "extra",
		"testserver inlines spec as an object listing its field names; the real server refers to io.k8s.api.apps.v1.DeploymentSpec through allOf/$ref with default {}",
		"properties.spec.properties", "properties.spec.type"),
)

var knownObjects = slices.Concat(
	objectKeys("object-create-deployment", "missing", "testserver defaults only a few pod template fields; the real server also sets, per container, imagePullPolicy, resources, terminationMessagePath, terminationMessagePolicy and ports[].protocol, and dnsPolicy, restartPolicy, schedulerName, securityContext and terminationGracePeriodSeconds on the pod spec",
		"spec.template.spec.containers[].imagePullPolicy", "spec.template.spec.containers[].ports[].protocol",
		"spec.template.spec.containers[].resources", "spec.template.spec.containers[].terminationMessagePath",
		"spec.template.spec.containers[].terminationMessagePolicy", "spec.template.spec.dnsPolicy",
		"spec.template.spec.restartPolicy", "spec.template.spec.schedulerName",
		"spec.template.spec.securityContext", "spec.template.spec.terminationGracePeriodSeconds"),
	objectKeys("object-create-deployment", "missing", "the real server answers a Deployment create with status: {}; testserver omits status", "status"),
	objectKeys("object-create-pod", "missing", "admission on the real server sets spec.priority and spec.preemptionPolicy (Priority) and the not-ready/unreachable spec.tolerations (DefaultTolerationSeconds); testserver does not",
		"spec.preemptionPolicy", "spec.priority", "spec.tolerations"),
	objectKeys("object-create-pod", "extra", "testserver sets spec.serviceAccountName: default; internal/cluster runs kube-apiserver without the ServiceAccount admission plugin, which is what sets it on a full control plane, so this difference is an artefact of the captured cluster's configuration", "spec.serviceAccountName"),
	[]knownDifference{{Case: "object-table-configmaps", Key: "content-type parameters", Reason: "the real server answers a Table request with Content-Type application/json (no parameters); testserver adds ;as=Table;v=v1;g=meta.k8s.io"}},
)

// objectKeys lists the known differences of an object answer: key paths
// (relative to $) that testserver lacks ("missing") or adds ("extra").
func objectKeys(c, which, reason string, keys ...string) []knownDifference {
	var out []knownDifference
	for _, k := range keys {
		out = append(out, knownDifference{Case: c, Key: "key " + which + ": $." + k, Reason: reason})
	}
	return out
}

// schemaKeys lists the known differences of one OpenAPI schema: keys
// (relative to the schema) that testserver lacks ("missing") or adds
// ("extra").
func schemaKeys(c, schema, which, reason string, keys ...string) []knownDifference {
	var out []knownDifference
	for _, k := range keys {
		out = append(out, knownDifference{Case: c, Key: "key " + which + ": $.schema." + schema + "." + k, Reason: reason})
	}
	return out
}

const (
	etagReason          = "testserver sends an ETag on legacy discovery documents; the real server sends one only with aggregated discovery"
	openAPIPathReason   = "testserver's path items have only a get operation with a JSON 200 response: no put, patch, delete, parameters, tags, descriptions, 401, or YAML and protobuf responses"
	openAPISchemaReason = "testserver's built-in schemas have no descriptions, no required list, and leave field types open (no type, additionalProperties or $ref for spec and status)"
)

// TestFidelity sends every captured request to a fresh test server and
// compares its answer with the real server's capture.
func TestFidelity(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		used = make([]bool, len(knownDifferences))
		ran  = map[string]bool{}
	)
	t.Run("cases", func(t *testing.T) {
		for _, c := range allCases() {
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				want := readGolden(t, c)
				got := run(t, testTarget(t), c)
				mu.Lock()
				defer mu.Unlock()
				ran[c.Name] = true
				for _, d := range compare(c, want, got) {
					known := false
					for i, k := range knownDifferences {
						if k.matches(c.Name, d) {
							used[i], known = true, true
						}
					}
					if !known {
						t.Errorf("%s: %s: %s", c.Name, d.Key, d.Detail)
					}
				}
			})
		}
	})
	if len(ran) < len(allCases()) {
		return // a -run filter left cases out, or a case failed early
	}
	for i, k := range knownDifferences {
		assert.True(t, used[i], "known difference %q of %s no longer occurs: remove it from knownDifferences", k.Key, k.Case)
	}
}
