package testserver

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The FieldsV1 a kube-apiserver 1.37 records for this create (from
// internal/fidelity's capture).
const realDeploymentFields = `{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},
"f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},
"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},
"f:ports":{".":{},"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:protocol":{}}},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},
"f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}}`

func TestManagedFieldsShape(t *testing.T) {
	t.Parallel()
	c := setup(t)
	body := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"fidelity-web","labels":{"app":"web"}},
"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":80}]}]}}}}`
	r := c.do("POST", "/apis/apps/v1/namespaces/default/deployments", body, "User-Agent", "Go-http-client/1.1")
	require.Equal(t, http.StatusCreated, r.code, string(r.raw))
	var want any
	require.NoError(t, json.Unmarshal([]byte(realDeploymentFields), &want))
	assert.Equal(t, want, r.get("metadata.managedFields.0.fieldsV1"))
	assert.Equal(t, "Go-http-client", r.str("metadata.managedFields.0.manager"))
	assert.Equal(t, "Update", r.str("metadata.managedFields.0.operation"))
	assert.Equal(t, "apps/v1", r.str("metadata.managedFields.0.apiVersion"))

	ns := c.do("POST", "/api/v1/namespaces", `{"metadata":{"name":"owned"}}`)
	require.Equal(t, http.StatusCreated, ns.code)
	assert.Equal(t, map[string]any{"f:metadata": map[string]any{"f:labels": map[string]any{".": map[string]any{}, "f:kubernetes.io/metadata.name": map[string]any{}}}},
		ns.get("metadata.managedFields.0.fieldsV1"), "the server's namespace finalizer is nobody's")

	// A port owned by the creator conflicts when another manager applies
	// it with another name; keyed list paths are named like the real ones.
	apply := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"fidelity-web"},"spec":{"template":{"spec":{"containers":[{"name":"web","ports":[{"containerPort":80,"protocol":"TCP","name":"http"}]}]}}}}`
	conflict := c.do("PATCH", "/apis/apps/v1/namespaces/default/deployments/fidelity-web?fieldManager=tool", apply, "Content-Type", "application/apply-patch+yaml")
	assert.Equal(t, http.StatusOK, conflict.code, "a new field of a shared item is no conflict: %s", conflict.raw)
	assert.Equal(t, "http", conflict.str("spec.template.spec.containers.0.ports.0.name"))
	assert.Len(t, conflict.get("spec.template.spec.containers.0.ports"), 1, "ports merge by containerPort and protocol")

	img := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"fidelity-web"},"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:2","ports":[{"containerPort":80,"protocol":"TCP","name":"web"}]}]}}}}`
	c2 := c.do("PATCH", "/apis/apps/v1/namespaces/default/deployments/fidelity-web?fieldManager=other", img, "Content-Type", "application/apply-patch+yaml")
	require.Equal(t, http.StatusConflict, c2.code)
	assert.Equal(t, "Apply failed with 2 conflicts: conflicts with \"Go-http-client\" using apps/v1:\n- .spec.template.spec.containers[name=\"web\"].image\nconflicts with \"tool\":\n- .spec.template.spec.containers[name=\"web\"].ports[containerPort=80,protocol=\"TCP\"].name", c2.str("message"))

	// Finalizers are a set.
	fin := c.do("PATCH", "/apis/apps/v1/namespaces/default/deployments/fidelity-web?fieldManager=guard", `{"metadata":{"finalizers":["example.com/a"]}}`, "Content-Type", "application/strategic-merge-patch+json")
	require.Equal(t, http.StatusOK, fin.code)
	fin2 := c.do("PATCH", "/apis/apps/v1/namespaces/default/deployments/fidelity-web?fieldManager=guard", `{"metadata":{"finalizers":["example.com/b"]}}`, "Content-Type", "application/strategic-merge-patch+json")
	require.Equal(t, http.StatusOK, fin2.code)
	assert.Equal(t, []any{"example.com/a", "example.com/b"}, fin2.get("metadata.finalizers"), "strategic merge unions finalizers")
	var guard map[string]any
	for _, e := range fin2.get("metadata.managedFields").([]any) {
		if path(e, "manager") == "guard" {
			guard = e.(map[string]any)
		}
	}
	require.NotNil(t, guard)
	assert.Equal(t, map[string]any{"f:metadata": map[string]any{"f:finalizers": map[string]any{".": map[string]any{}, `v:"example.com/a"`: map[string]any{}, `v:"example.com/b"`: map[string]any{}}}}, guard["fieldsV1"])
}

// A second apply of the same configuration in a later second changes
// nothing: the real field manager keeps the entry's time when neither the
// object nor the owned fields change, so the resourceVersion stays.
func TestNoOpApplyKeepsTheResourceVersionAcrossSeconds(t *testing.T) {
	t.Parallel()
	c := setup(t)
	path := "/api/v1/namespaces/default/configmaps/noop?fieldManager=tool"
	body := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"noop"},"data":{"a":"1"}}`
	first := c.do("PATCH", path, body, "Content-Type", "application/apply-patch+yaml")
	require.Equal(t, http.StatusCreated, first.code, string(first.raw))
	// The managedFields time has a one-second resolution: wait for the
	// clock to reach the next second.
	created, err := time.Parse(time.RFC3339, first.str("metadata.managedFields.0.time"))
	require.NoError(t, err)
	time.Sleep(time.Until(created.Add(time.Second)))
	again := c.do("PATCH", path, body, "Content-Type", "application/apply-patch+yaml")
	require.Equal(t, http.StatusOK, again.code, string(again.raw))
	assert.Equal(t, first.str("metadata.resourceVersion"), again.str("metadata.resourceVersion"))
	assert.Equal(t, first.str("metadata.managedFields.0.time"), again.str("metadata.managedFields.0.time"))
	changed := c.do("PATCH", path, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"noop"},"data":{"a":"2"}}`, "Content-Type", "application/apply-patch+yaml")
	require.Equal(t, http.StatusOK, changed.code, string(changed.raw))
	assert.NotEqual(t, first.str("metadata.resourceVersion"), changed.str("metadata.resourceVersion"))
	assert.NotEqual(t, first.str("metadata.managedFields.0.time"), changed.str("metadata.managedFields.0.time"))
}

// The same holds when the applied configuration differs from the stored
// object only by what the server's defaulting turns it into (a Secret's
// stringData becomes data): the object after defaulting is unchanged, so
// nothing is written.
func TestNoOpApplyOfStringDataAcrossSeconds(t *testing.T) {
	t.Parallel()
	c := setup(t)
	path := "/api/v1/namespaces/default/secrets/creds?fieldManager=tool"
	body := `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"creds"},"stringData":{"user":"admin"}}`
	first := c.do("PATCH", path, body, "Content-Type", "application/apply-patch+yaml")
	require.Equal(t, http.StatusCreated, first.code, string(first.raw))
	created, err := time.Parse(time.RFC3339, first.str("metadata.managedFields.0.time"))
	require.NoError(t, err)
	time.Sleep(time.Until(created.Add(time.Second)))
	again := c.do("PATCH", path, body, "Content-Type", "application/apply-patch+yaml")
	require.Equal(t, http.StatusOK, again.code, string(again.raw))
	assert.Equal(t, first.str("metadata.resourceVersion"), again.str("metadata.resourceVersion"), "nothing written")
	assert.Equal(t, first.str("metadata.managedFields.0.time"), again.str("metadata.managedFields.0.time"))
}

// TestApplyBeforeFirstApply: a Namespace applied with nothing but its name
// is created without managedFields (the apply owns no field); the next
// apply records the object's fields under "before-first-apply" and moves
// the resourceVersion; the one after changes nothing. kube-apiserver 1.37
// does the same (internal/e2e TestCLI, the name-only Namespace), so this
// replaces an earlier test that expected the second apply to write nothing.
func TestApplyBeforeFirstApply(t *testing.T) {
	t.Parallel()
	c := setup(t)
	apply := func() resp {
		t.Helper()
		r := c.do("PATCH", "/api/v1/namespaces/bare?fieldManager=tool", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bare"}}`,
			"Content-Type", "application/apply-patch+yaml")
		require.Equal(t, http.StatusOK, r.code, string(r.raw))
		return r
	}
	first := c.do("PATCH", "/api/v1/namespaces/bare?fieldManager=tool", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bare"}}`,
		"Content-Type", "application/apply-patch+yaml")
	require.Equal(t, http.StatusCreated, first.code, string(first.raw))
	assert.Nil(t, first.get("metadata.managedFields"))

	second := apply()
	assert.NotEqual(t, first.str("metadata.resourceVersion"), second.str("metadata.resourceVersion"))
	assert.Equal(t, "before-first-apply", second.str("metadata.managedFields.0.manager"))
	assert.Equal(t, "Update", second.str("metadata.managedFields.0.operation"))
	assert.Equal(t, map[string]any{
		"f:metadata": map[string]any{"f:labels": map[string]any{".": map[string]any{}, "f:kubernetes.io/metadata.name": map[string]any{}}},
		"f:spec":     map[string]any{"f:finalizers": map[string]any{}},
	}, second.get("metadata.managedFields.0.fieldsV1"))
	assert.Len(t, second.get("metadata.managedFields"), 1)

	third := apply()
	assert.Equal(t, second.str("metadata.resourceVersion"), third.str("metadata.resourceVersion"))
}
