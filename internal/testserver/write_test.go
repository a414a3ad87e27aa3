package testserver

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDryRun(t *testing.T) {
	t.Parallel()
	c := setup(t)
	rv := c.srv.ResourceVersion()
	r := c.do("POST", "/api/v1/namespaces/default/configmaps?dryRun=All", `{"metadata":{"name":"dry"},"data":{"a":"b"}}`)
	require.Equal(t, http.StatusCreated, r.code, string(r.raw))
	assert.Equal(t, "dry", r.str("metadata.name"))
	assert.NotEmpty(t, r.str("metadata.uid"))
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/api/v1/namespaces/default/configmaps/dry", "").code)
	assert.Equal(t, rv, c.srv.ResourceVersion(), "a dry run hands out no resourceVersion")

	invalid := c.do("POST", "/api/v1/namespaces/default/configmaps?dryRun=All", `{"metadata":{"name":"Bad"}}`)
	assert.Equal(t, http.StatusUnprocessableEntity, invalid.code, "dry runs still validate")
	badValue := c.do("POST", "/api/v1/namespaces/default/configmaps?dryRun=Yes", `{"metadata":{"name":"x"}}`)
	assert.Equal(t, http.StatusUnprocessableEntity, badValue.code)

	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"real"},"data":{"a":"b"}}`).code)
	p := c.do("PATCH", "/api/v1/namespaces/default/configmaps/real?dryRun=All", `{"data":{"a":"c"}}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusOK, p.code)
	assert.Equal(t, "c", p.str("data.a"))
	assert.Equal(t, "b", c.do("GET", "/api/v1/namespaces/default/configmaps/real", "").str("data.a"))
	d := c.do("DELETE", "/api/v1/namespaces/default/configmaps/real?dryRun=All", "")
	require.Equal(t, http.StatusOK, d.code)
	assert.Equal(t, http.StatusOK, c.do("GET", "/api/v1/namespaces/default/configmaps/real", "").code)
}

func TestFieldValidation(t *testing.T) {
	t.Parallel()
	c := setup(t)
	body := `{"metadata":{"name":"%s","bogus":1},"data":{"a":"b"},"extra":true}`
	for _, tc := range []struct {
		mode     string
		code     int
		warnings []string
	}{
		{"Strict", 400, nil},
		{"Warn", 201, []string{`299 - "unknown field \"extra\""`, `299 - "unknown field \"metadata.bogus\""`}},
		{"", 201, []string{`299 - "unknown field \"extra\""`, `299 - "unknown field \"metadata.bogus\""`}},
		{"Ignore", 201, nil},
	} {
		t.Run("mode="+tc.mode, func(t *testing.T) {
			t.Parallel()
			name := "fv-" + map[string]string{"Strict": "s", "Warn": "w", "": "d", "Ignore": "i"}[tc.mode]
			r := c.do("POST", "/api/v1/namespaces/default/configmaps?fieldValidation="+tc.mode, fmt.Sprintf(body, name))
			require.Equal(t, tc.code, r.code, string(r.raw))
			if tc.code == 400 {
				assert.Equal(t, "BadRequest", r.str("reason"))
				assert.Equal(t, `ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "extra", unknown field "metadata.bogus"`, r.str("message"))
				return
			}
			assert.ElementsMatch(t, tc.warnings, r.header.Values("Warning"))
			assert.Nil(t, r.get("extra"), "unknown fields are dropped")
			assert.Nil(t, r.get("metadata.bogus"))
		})
	}
	nested := c.do("POST", "/api/v1/namespaces/default/pods?fieldValidation=Strict", `{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}],"bogusSpec":1}}`)
	assert.Equal(t, http.StatusBadRequest, nested.code)
	assert.Contains(t, nested.str("message"), `unknown field "spec.bogusSpec"`)
	loud := c.do("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Loud", `{"metadata":{"name":"x"}}`)
	assert.Equal(t, http.StatusUnprocessableEntity, loud.code)
	assert.Equal(t, "CreateOptions", loud.str("details.kind"))
}

func TestUpdateChecks(t *testing.T) {
	t.Parallel()
	c := setup(t)
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"cm"},"data":{"a":"b"}}`).code)
	nameMismatch := c.do("PUT", "/api/v1/namespaces/default/configmaps/cm", `{"metadata":{"name":"other"}}`)
	assert.Equal(t, http.StatusBadRequest, nameMismatch.code)
	noName := c.do("PUT", "/api/v1/namespaces/default/configmaps/cm", `{"metadata":{}}`)
	assert.Equal(t, "the name of the object (cm based on URL) was undeterminable: name must be provided", noName.str("message"))
	unconditional := c.do("PUT", "/api/v1/namespaces/default/configmaps/cm", `{"metadata":{"name":"cm"},"data":{"a":"z"}}`)
	require.Equal(t, http.StatusOK, unconditional.code, "configmaps allow updates without resourceVersion")
	assert.Equal(t, "z", unconditional.str("data.a"))
	missing := c.do("PUT", "/api/v1/namespaces/default/configmaps/nope", `{"metadata":{"name":"nope"}}`)
	assert.Equal(t, http.StatusNotFound, missing.code)
	wrongMethod := c.do("POST", "/api/v1/namespaces/default/configmaps/cm", `{}`)
	assert.Equal(t, http.StatusMethodNotAllowed, wrongMethod.code)
	assert.Equal(t, "MethodNotAllowed", wrongMethod.str("reason"))
}

func TestSecretStringData(t *testing.T) {
	t.Parallel()
	c := setup(t)
	r := c.do("POST", "/api/v1/namespaces/default/secrets", `{"metadata":{"name":"s"},"stringData":{"user":"admin"}}`)
	require.Equal(t, http.StatusCreated, r.code, string(r.raw))
	assert.Equal(t, "YWRtaW4=", r.str("data.user"))
	assert.Nil(t, r.get("stringData"))
	assert.Equal(t, "Opaque", r.str("type"))
}

func TestFinalizersAndPreconditions(t *testing.T) {
	t.Parallel()
	c := setup(t)
	r := c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"held","finalizers":["example.com/hold"]}}`)
	require.Equal(t, http.StatusCreated, r.code)

	pre := c.do("DELETE", "/api/v1/namespaces/default/configmaps/held", `{"preconditions":{"uid":"not-the-uid"}}`)
	assert.Equal(t, http.StatusConflict, pre.code)
	assert.Contains(t, pre.str("message"), "the UID in the precondition (not-the-uid) does not match")
	assert.Equal(t, "ConfigMap", pre.str("details.kind"), "a failed precondition names the Kind")

	d := c.do("DELETE", "/api/v1/namespaces/default/configmaps/held", "")
	require.Equal(t, http.StatusOK, d.code)
	assert.Equal(t, "ConfigMap", d.str("kind"), "an object held by finalizers comes back")
	assert.NotEmpty(t, d.str("metadata.deletionTimestamp"))
	g := c.do("GET", "/api/v1/namespaces/default/configmaps/held", "")
	require.Equal(t, http.StatusOK, g.code)
	assert.NotEmpty(t, g.str("metadata.deletionTimestamp"))

	add := c.do("PATCH", "/api/v1/namespaces/default/configmaps/held", `{"metadata":{"finalizers":["example.com/hold","example.com/more"]}}`, "Content-Type", "application/merge-patch+json")
	assert.Equal(t, http.StatusUnprocessableEntity, add.code)
	assert.Equal(t, "FieldValueForbidden", add.str("details.causes.0.reason"))
	assert.Equal(t, `ConfigMap "held" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/more"}`, add.str("message"))

	clear := c.do("PATCH", "/api/v1/namespaces/default/configmaps/held", `{"metadata":{"finalizers":null}}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusOK, clear.code, string(clear.raw))
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/api/v1/namespaces/default/configmaps/held", "").code)
}

func TestUpdateWithWrongUID(t *testing.T) {
	t.Parallel()
	c := setup(t)
	const cm = "/api/v1/namespaces/default/configmaps/u"
	created := c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"u"},"data":{"a":"1"}}`)
	require.Equal(t, http.StatusCreated, created.code)
	uid := created.str("metadata.uid")

	put := c.do("PUT", cm, `{"metadata":{"name":"u","uid":"wrong"},"data":{"a":"2"}}`)
	assert.Equal(t, http.StatusConflict, put.code)
	assert.Equal(t, "configmaps", put.str("details.kind"))
	assert.Equal(t, `Operation cannot be fulfilled on configmaps "u": StorageError: invalid object, Code: 4, Key: /registry/configmaps/default/u, `+
		`ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: wrong, UID in object meta: `+uid, put.str("message"))

	patch := c.do("PATCH", cm, `{"metadata":{"uid":"wrong"},"data":{"a":"2"}}`, "Content-Type", "application/merge-patch+json")
	assert.Equal(t, http.StatusUnprocessableEntity, patch.code)
	assert.Equal(t, `ConfigMap "u" is invalid: metadata.uid: Invalid value: "wrong": field is immutable`, patch.str("message"))

	assert.Equal(t, "1", c.do("GET", cm, "").str("data.a"), "neither write changed the object")
	same := c.do("PUT", cm, `{"metadata":{"name":"u","uid":"`+uid+`"},"data":{"a":"3"}}`)
	require.Equal(t, http.StatusOK, same.code, string(same.raw))
	assert.Equal(t, "3", same.str("data.a"), "the stored uid is no failed precondition")
}

func TestDeletePropagationFinalizers(t *testing.T) {
	t.Parallel()
	const cms = "/api/v1/namespaces/default/configmaps"
	for _, tc := range []struct {
		name, policy, finalizer string
		held                    bool // created with a finalizer of its own
	}{
		{"foreground", "Foreground", "foregroundDeletion", false},
		{"orphan", "Orphan", "orphan", false},
		{"foreground held", "Foreground", "foregroundDeletion", true},
		{"orphan held", "Orphan", "orphan", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t)
			body := `{"metadata":{"name":"cm"}}`
			if tc.held {
				body = `{"metadata":{"name":"cm","finalizers":["example.com/hold"]}}`
			}
			require.Equal(t, http.StatusCreated, c.do("POST", cms, body).code)
			d := c.do("DELETE", cms+"/cm", `{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"`+tc.policy+`"}`)
			require.Equal(t, http.StatusOK, d.code, string(d.raw))
			assert.Equal(t, "ConfigMap", d.str("kind"), "the object marked for deletion is the answer")
			assert.NotEmpty(t, d.str("metadata.deletionTimestamp"))
			assert.Contains(t, d.get("metadata.finalizers"), tc.finalizer)
			g := c.do("GET", cms+"/cm", "")
			if !tc.held {
				assert.Equal(t, http.StatusNotFound, g.code, "with no dependents the collector's finalizer comes off at once")
				return
			}
			require.Equal(t, http.StatusOK, g.code)
			assert.Equal(t, []any{"example.com/hold"}, g.get("metadata.finalizers"), "only the object's own finalizer holds it")
			assert.NotEmpty(t, g.str("metadata.deletionTimestamp"))
		})
	}
}

func TestNamespaceDeletion(t *testing.T) {
	t.Parallel()
	c := setup(t)
	ns := c.do("POST", "/api/v1/namespaces", `{"metadata":{"name":"team-a"}}`)
	require.Equal(t, http.StatusCreated, ns.code, string(ns.raw))
	assert.Equal(t, "Active", ns.str("status.phase"))
	assert.Equal(t, map[string]any{"kubernetes.io/metadata.name": "team-a"}, ns.get("metadata.labels"))
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/team-a/configmaps", `{"metadata":{"name":"cm"}}`).code)
	bad := c.do("POST", "/api/v1/namespaces", `{"metadata":{"name":"not.a.label"}}`)
	assert.Equal(t, http.StatusUnprocessableEntity, bad.code)

	d := c.do("DELETE", "/api/v1/namespaces/team-a", "")
	require.Equal(t, http.StatusOK, d.code)
	assert.Equal(t, "Terminating", d.str("status.phase"))
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/api/v1/namespaces/team-a", "").code)
	assert.Empty(t, names(c.do("GET", "/api/v1/namespaces/team-a/configmaps", "")))
	again := c.do("POST", "/api/v1/namespaces/team-a/configmaps", `{"metadata":{"name":"cm"}}`)
	assert.Equal(t, http.StatusNotFound, again.code)
}

func TestUpdateNamespace(t *testing.T) {
	t.Parallel()
	c := setup(t)
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"ns"}}`).code)
	rv := c.do("GET", "/api/v1/namespaces/default/configmaps/ns", "").str("metadata.resourceVersion")

	bad := c.do("PUT", "/api/v1/namespaces/default/configmaps/ns", `{"metadata":{"name":"ns","namespace":"kube-system","resourceVersion":"`+rv+`"}}`)
	assert.Equal(t, http.StatusBadRequest, bad.code, string(bad.raw))
	assert.Contains(t, bad.str("message"), "does not match the namespace")

	filled := c.do("PUT", "/api/v1/namespaces/default/configmaps/ns", `{"metadata":{"name":"ns","resourceVersion":"`+rv+`"},"data":{"a":"b"}}`)
	require.Equal(t, http.StatusOK, filled.code, string(filled.raw))
	assert.Equal(t, "default", filled.str("metadata.namespace"), "a missing namespace is taken from the path")

	cluster := c.do("POST", "/api/v1/namespaces", `{"metadata":{"name":"nsx","namespace":"default"}}`)
	require.Equal(t, http.StatusCreated, cluster.code, string(cluster.raw))
	assert.Nil(t, cluster.get("metadata.namespace"), "a cluster-scoped object keeps no namespace")
}

// Data keys become file names: the real server refuses '/' and friends in
// ConfigMap and Secret keys with 422, and keeps an immutable ConfigMap's
// data and immutable flag.
func TestDataKeysAndImmutable(t *testing.T) {
	t.Parallel()
	c := setup(t)
	for _, tc := range []struct {
		name, path, body, field, message string
	}{
		{"slash", "configmaps", `{"metadata":{"name":"k1"},"data":{"a/b":"1"}}`, "data[a/b]",
			`ConfigMap "k1" is invalid: data[a/b]: Invalid value: "a/b": ` + configKeyMsg},
		{"dot dot", "configmaps", `{"metadata":{"name":"k2"},"binaryData":{"..x":"MQ=="}}`, "binaryData[..x]",
			`ConfigMap "k2" is invalid: binaryData[..x]: Invalid value: "..x": must not start with '..'`},
		{"duplicate", "configmaps", `{"metadata":{"name":"k3"},"data":{"a":"1"},"binaryData":{"a":"MQ=="}}`, "binaryData[a]",
			`ConfigMap "k3" is invalid: binaryData[a]: Invalid value: "a": duplicate of key present in data`},
		{"secret", "secrets", `{"metadata":{"name":"k4"},"data":{"a b":"MQ=="}}`, "data[a b]",
			`Secret "k4" is invalid: data[a b]: Invalid value: "a b": ` + configKeyMsg},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do("POST", "/api/v1/namespaces/default/"+tc.path, tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, r.code, string(r.raw))
			assert.Equal(t, tc.message, r.str("message"))
			assert.Equal(t, tc.field, r.str("details.causes.0.field"))
		})
	}
	ok := c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"keys"},"data":{"a.b_c-D":"1"}}`)
	assert.Equal(t, http.StatusCreated, ok.code, string(ok.raw))

	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"frozen"},"data":{"a":"1"},"immutable":true}`).code)
	changed := c.do("PATCH", "/api/v1/namespaces/default/configmaps/frozen", `{"data":{"a":"2"}}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusUnprocessableEntity, changed.code, string(changed.raw))
	assert.Equal(t, "ConfigMap \"frozen\" is invalid: data: Forbidden: field is immutable when `immutable` is set", changed.str("message"))
	unset := c.do("PATCH", "/api/v1/namespaces/default/configmaps/frozen", `{"immutable":false}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusUnprocessableEntity, unset.code, string(unset.raw))
	assert.Equal(t, "immutable", unset.str("details.causes.0.field"))
	labelled := c.do("PATCH", "/api/v1/namespaces/default/configmaps/frozen", `{"metadata":{"labels":{"a":"b"}}}`, "Content-Type", "application/merge-patch+json")
	assert.Equal(t, http.StatusOK, labelled.code, "metadata stays mutable: %s", labelled.raw)
}

// The scale subresource takes a Scale: another kind's body is a 400 (the
// real server cannot convert it), and the deployment is left alone.
func TestScaleRefusesOtherKinds(t *testing.T) {
	t.Parallel()
	c := setup(t)
	deploy := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}}`
	require.Equal(t, http.StatusCreated, c.do("POST", "/apis/apps/v1/namespaces/default/deployments", deploy).code)
	wrong := strings.Replace(deploy, `"replicas":1`, `"replicas":5`, 1)
	r := c.do("PUT", "/apis/apps/v1/namespaces/default/deployments/web/scale", wrong)
	require.Equal(t, http.StatusBadRequest, r.code, string(r.raw))
	assert.Equal(t, `Deployment in version "v1" cannot be handled as a Scale: converting (v1.Deployment) to (autoscaling.Scale): unknown conversion`, r.str("message"))
	assert.EqualValues(t, 1, c.do("GET", "/apis/apps/v1/namespaces/default/deployments/web", "").get("spec.replicas"))

	scale := c.do("PUT", "/apis/apps/v1/namespaces/default/deployments/web/scale", `{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web"},"spec":{"replicas":3}}`)
	require.Equal(t, http.StatusOK, scale.code, string(scale.raw))
	assert.EqualValues(t, 3, scale.get("spec.replicas"))
}

// A value of the wrong JSON type in a built-in kind is the decoder's 400,
// naming the Go struct field, before any validation.
func TestWrongTypes(t *testing.T) {
	t.Parallel()
	c := setup(t)
	deploy := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"%s"},"spec":{"replicas":%s,"selector":{"matchLabels":{"app":"web"}},
"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":%s}]}}}}`
	for _, tc := range []struct{ name, path, body, message string }{
		{"map value", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"t1"},"data":{"a":1}}`,
			`ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string`},
		{"nested int32", "/apis/apps/v1/namespaces/default/deployments", fmt.Sprintf(deploy, "t2", `"two"`, `"nginx"`),
			`Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32`},
		{"list item field", "/apis/apps/v1/namespaces/default/deployments", fmt.Sprintf(deploy, "t3", `1`, `true`),
			`Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal bool into Go struct field Container.spec.template.spec.containers.image of type string`},
		{"bool", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"t4"},"immutable":"yes"}`,
			`ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal string into Go struct field ConfigMap.immutable of type bool`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do("POST", tc.path, tc.body)
			require.Equal(t, http.StatusBadRequest, r.code, string(r.raw))
			assert.Equal(t, "BadRequest", r.str("reason"))
			assert.Equal(t, tc.message, r.str("message"))
		})
	}
}

// A Deployment's selector cannot change; the message quotes the new one
// as JSON.
func TestDeploymentSelectorImmutable(t *testing.T) {
	t.Parallel()
	c := setup(t)
	require.Equal(t, http.StatusCreated, c.do("POST", "/apis/apps/v1/namespaces/default/deployments", `{"metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},
"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}}`).code)
	r := c.do("PATCH", "/apis/apps/v1/namespaces/default/deployments/web", `{"spec":{"selector":{"matchLabels":{"app":"db"}},"template":{"metadata":{"labels":{"app":"db"}}}}}`,
		"Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusUnprocessableEntity, r.code, string(r.raw))
	assert.Equal(t, `Deployment.apps "web" is invalid: spec.selector: Invalid value: {"matchLabels":{"app":"db"}}: field is immutable`, r.str("message"))
}

// managedFields come sorted as the real field manager sorts them (Apply
// entries first), and an applied container port is keyed with its default
// protocol.
func TestManagedFieldsOrderAndPortKeys(t *testing.T) {
	t.Parallel()
	c := setup(t)
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"shared"},"data":{"a":"1"}}`).code)
	r := c.do("PATCH", "/api/v1/namespaces/default/configmaps/shared?fieldManager=applier", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"shared"},"data":{"b":"2"}}`,
		"Content-Type", "application/apply-patch+yaml")
	require.Equal(t, http.StatusOK, r.code, string(r.raw))
	assert.Equal(t, "Apply", r.str("metadata.managedFields.0.operation"))
	assert.Equal(t, "applier", r.str("metadata.managedFields.0.manager"))
	assert.Equal(t, "Update", r.str("metadata.managedFields.1.operation"))

	d := c.do("PATCH", "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=applier", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},
"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":80}]}]}}}}`, "Content-Type", "application/apply-patch+yaml")
	require.Equal(t, http.StatusCreated, d.code, string(d.raw))
	ports := d.get(`metadata.managedFields.0.fieldsV1.f:spec.f:template.f:spec.f:containers.k:{"name":"web"}.f:ports`)
	assert.Equal(t, map[string]any{`k:{"containerPort":80,"protocol":"TCP"}`: map[string]any{".": map[string]any{}, "f:containerPort": map[string]any{}}}, ports)
}

// Validation beyond names: annotation keys, duplicate container names,
// port ranges, negative replicas, enums, as the real server words them.
func TestMoreValidation(t *testing.T) {
	t.Parallel()
	c := setup(t)
	for _, tc := range []struct{ name, path, body, field, message string }{
		{"annotation key", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"v1","annotations":{"a b":"1"}}}`,
			"metadata.annotations", `Invalid value: "a b": ` + qualifiedNameMsg},
		{"duplicate container", "/api/v1/namespaces/default/pods",
			`{"metadata":{"name":"v2"},"spec":{"containers":[{"name":"c","image":"x:1"},{"name":"c","image":"x:1"}]}}`,
			"spec.containers[1].name", `Duplicate value: "c"`},
		{"port range", "/api/v1/namespaces/default/services", `{"metadata":{"name":"v3"},"spec":{"ports":[{"port":70000,"targetPort":80}]}}`,
			"spec.ports[0].port", "Invalid value: 70000: must be between 1 and 65535, inclusive"},
		{"negative replicas", "/apis/apps/v1/namespaces/default/deployments", `{"metadata":{"name":"v4"},"spec":{"replicas":-1,"selector":{"matchLabels":{"a":"b"}},
"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x:1"}]}}}}`,
			"spec.replicas", "Invalid value: -1: must be greater than or equal to 0"},
		{"service type", "/api/v1/namespaces/default/services", `{"metadata":{"name":"v5"},"spec":{"type":"Bogus","ports":[{"port":80}]}}`,
			"spec.type", `Unsupported value: "Bogus": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"`},
		{"restart policy", "/api/v1/namespaces/default/pods", `{"metadata":{"name":"v6"},"spec":{"restartPolicy":"Sometimes","containers":[{"name":"c","image":"x:1"}]}}`,
			"spec.restartPolicy", `Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"`},
		{"recreate with rolling update", "/apis/apps/v1/namespaces/default/deployments", `{"metadata":{"name":"v7"},"spec":{"strategy":{"type":"Recreate","rollingUpdate":{}},
"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x:1"}]}}}}`,
			"spec.strategy.rollingUpdate", "Forbidden: may not be specified when strategy `type` is 'Recreate'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do("POST", tc.path, tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, r.code, string(r.raw))
			assert.Equal(t, tc.field, r.str("details.causes.0.field"))
			assert.Equal(t, tc.message, r.str("details.causes.0.message"))
		})
	}
}

// A patch whose result has a value of the wrong type is a 422 quoting the
// patched object; an applied configuration with one is the real server's
// 500 from building the typed patch. Neither changes the object.
func TestWrongTypesInPatches(t *testing.T) {
	t.Parallel()
	c := setup(t)
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"p"},"data":{"a":"1"}}`).code)
	r := c.do("PATCH", "/api/v1/namespaces/default/configmaps/p", `{"data":{"a":1}}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusUnprocessableEntity, r.code, string(r.raw))
	assert.Equal(t, "patch", r.str("details.causes.0.field"))
	assert.True(t, strings.HasPrefix(r.str("message"), ` "" is invalid: patch: Invalid value: "{\"apiVersion\":\"v1\",\"data\":{\"a\":1},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"uid\":`), r.str("message"))
	assert.True(t, strings.HasSuffix(r.str("message"), `": json: cannot unmarshal number into Go struct field ConfigMap.data of type string`), r.str("message"))

	a := c.do("PATCH", "/api/v1/namespaces/default/configmaps/q?fieldManager=me", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"q"},"data":{"a":1}}`,
		"Content-Type", "application/apply-patch+yaml")
	require.Equal(t, http.StatusInternalServerError, a.code, string(a.raw))
	assert.Equal(t, `failed to create typed patch object (/q; /v1, Kind=ConfigMap): .data.a: expected string, got &value.valueUnstructured{Value:1}`, a.str("message"))
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/api/v1/namespaces/default/configmaps/q", "").code)
	assert.Equal(t, "1", c.do("GET", "/api/v1/namespaces/default/configmaps/p", "").str("data.a"))
}

// A pod's spec may change only in its images, deadlines and added
// tolerations; a PUT that leaves out what admission added keeps it.
func TestPodSpecUpdates(t *testing.T) {
	t.Parallel()
	c := setup(t)
	r := c.do("POST", "/api/v1/namespaces/default/pods", fmt.Sprintf(podJSON, "p"))
	require.Equal(t, http.StatusCreated, r.code)
	put := c.do("PUT", "/api/v1/namespaces/default/pods/p", fmt.Sprintf(`{"metadata":{"name":"p","resourceVersion":%q},"spec":{"containers":[{"name":"c","image":"nginx:1.28"}]}}`, r.str("metadata.resourceVersion")))
	require.Equal(t, http.StatusOK, put.code, string(put.raw))
	assert.Equal(t, "nginx:1.28", put.str("spec.containers.0.image"))
	assert.EqualValues(t, 0, put.get("spec.priority"), "kept")
	assert.Len(t, put.get("spec.tolerations"), 2, "kept")

	bad := c.do("PATCH", "/api/v1/namespaces/default/pods/p", `{"spec":{"restartPolicy":"Never"}}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusUnprocessableEntity, bad.code, string(bad.raw))
	assert.Equal(t, "spec", bad.str("details.causes.0.field"))
	assert.True(t, strings.HasPrefix(bad.str("details.causes.0.message"), podUpdateMsg+"\n"), bad.str("details.causes.0.message"))
	assert.Contains(t, bad.str("details.causes.0.message"), `+ "restartPolicy": "Never"`)

	more := c.do("PATCH", "/api/v1/namespaces/default/pods/p", `{"spec":{"activeDeadlineSeconds":60,"tolerations":[{"key":"x","operator":"Exists"}]}}`, "Content-Type", "application/strategic-merge-patch+json")
	assert.Equal(t, http.StatusOK, more.code, string(more.raw))
}

// A manager left owning a map without any of its keys owns "f:labels": {},
// as the real field manager writes it, and keeps owning it on the next
// write.
func TestManagedFieldsCollapsedMap(t *testing.T) {
	t.Parallel()
	c := setup(t)
	r := c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"m","labels":{"a":"1"}},"data":{"k":"v"}}`)
	require.Equal(t, http.StatusCreated, r.code)
	put := func(labels string) resp {
		body := fmt.Sprintf(`{"metadata":{"name":"m","labels":%s},"data":{"k":"v"}}`, labels)
		u := c.do("PUT", "/api/v1/namespaces/default/configmaps/m?fieldManager=other", body)
		require.Equal(t, http.StatusOK, u.code, string(u.raw))
		return u
	}
	u := put(`{"b":"2"}`)
	creator := findByField(u.get("metadata.managedFields"), "manager", "Go-http-client")
	require.NotNil(t, creator)
	assert.Equal(t, map[string]any{}, path(creator, "fieldsV1.f:metadata.f:labels"))
	u = put(`{"b":"3"}`)
	creator = findByField(u.get("metadata.managedFields"), "manager", "Go-http-client")
	assert.Equal(t, map[string]any{}, path(creator, "fieldsV1.f:metadata.f:labels"), "read back as the map itself")
}
