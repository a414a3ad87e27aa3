package testserver

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const deployJSON = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"%s"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27"},{"name":"side","image":"busybox"}]}}}}`

func TestPatchTypes(t *testing.T) {
	t.Parallel()
	c := setup(t)
	const base = "/apis/apps/v1/namespaces/default/deployments/"
	n := 0
	for _, tc := range []struct {
		name, ct, patch string
		code            int
		check           func(t *testing.T, r resp)
	}{
		{"merge adds and removes", "application/merge-patch+json", `{"metadata":{"labels":{"tier":"web"}},"spec":{"replicas":3,"paused":null}}`, 200, func(t *testing.T, r resp) {
			assert.Equal(t, "web", r.str("metadata.labels.tier"))
			assert.EqualValues(t, 3, r.get("spec.replicas"))
			assert.EqualValues(t, 2, r.get("metadata.generation"), "spec change bumps generation")
		}},
		{"merge replaces lists", "application/merge-patch+json", `{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"x"}]}}}}`, 200, func(t *testing.T, r resp) {
			assert.Len(t, r.get("spec.template.spec.containers"), 1)
		}},
		{"strategic merges containers by name", "application/strategic-merge-patch+json", `{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}`, 200, func(t *testing.T, r resp) {
			assert.Len(t, r.get("spec.template.spec.containers"), 2)
			assert.Equal(t, "nginx:1.28", r.str("spec.template.spec.containers.0.image"))
			assert.Equal(t, "busybox", r.str("spec.template.spec.containers.1.image"))
		}},
		{"strategic delete directive", "application/strategic-merge-patch+json", `{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}`, 200, func(t *testing.T, r resp) {
			assert.Len(t, r.get("spec.template.spec.containers"), 1)
		}},
		{"strategic $patch replace and delete on maps", "application/strategic-merge-patch+json", `{"metadata":{"labels":{"$patch":"replace","only":"this"}},"spec":{"strategy":{"$patch":"delete"}}}`, 200, func(t *testing.T, r resp) {
			assert.Equal(t, map[string]any{"only": "this"}, r.get("metadata.labels"))
			assert.Equal(t, "25%", r.str("spec.strategy.rollingUpdate.maxSurge"), "deleted, then defaulted again as on every write")
		}},
		{"json patch", "application/json-patch+json", `[{"op":"test","path":"/spec/template/spec/containers/0/name","value":"web"},{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:2"},{"op":"add","path":"/metadata/labels","value":{"a/b":"c"}},{"op":"remove","path":"/spec/template/spec/containers/1"}]`, 200, func(t *testing.T, r resp) {
			assert.Equal(t, "nginx:2", r.str("spec.template.spec.containers.0.image"))
			assert.Equal(t, "c", r.str("metadata.labels.a/b"))
			assert.Len(t, r.get("spec.template.spec.containers"), 1)
		}},
		{"json patch move and copy", "application/json-patch+json", `[{"op":"copy","from":"/spec/template/metadata/labels","path":"/metadata/labels"},{"op":"move","from":"/metadata/labels/app","path":"/metadata/labels/moved"}]`, 200, func(t *testing.T, r resp) {
			assert.Equal(t, "web", r.str("metadata.labels.moved"))
			assert.Nil(t, r.get("metadata.labels.app"))
		}},
		{"json patch failing test", "application/json-patch+json", `[{"op":"test","path":"/spec/replicas","value":7}]`, 422, func(t *testing.T, r resp) {
			assert.Equal(t, "Invalid", r.str("reason"))
			assert.Equal(t, "the server rejected our request due to an error in our request", r.str("message"))
		}},
		{"json patch missing path", "application/json-patch+json", `[{"op":"replace","path":"/nope/x","value":1}]`, 422, nil},
		{"json patch not a list", "application/json-patch+json", `{"op":"add"}`, 400, nil},
		{"unknown patch type", "text/plain", `x`, 415, func(t *testing.T, r resp) {
			assert.Equal(t, "UnsupportedMediaType", r.str("reason"))
		}},
		{"patch with stale resourceVersion", "application/merge-patch+json", `{"metadata":{"resourceVersion":"1"}}`, 409, func(t *testing.T, r resp) {
			assert.Equal(t, "Conflict", r.str("reason"))
		}},
		{"patch status field on main resource is ignored", "application/merge-patch+json", `{"status":{"replicas":9}}`, 200, func(t *testing.T, r resp) {
			assert.Nil(t, r.get("status.replicas"))
		}},
	} {
		n++
		name := fmt.Sprintf("d%d", n)
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, http.StatusCreated, c.do("POST", "/apis/apps/v1/namespaces/default/deployments", fmt.Sprintf(deployJSON, name)).code)
			r := c.do("PATCH", base+name, tc.patch, "Content-Type", tc.ct)
			assert.Equal(t, tc.code, r.code, string(r.raw))
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
	assert.Equal(t, http.StatusNotFound, c.do("PATCH", base+"missing", `{}`, "Content-Type", "application/merge-patch+json").code)
}

func TestApply(t *testing.T) {
	t.Parallel()
	c := setup(t)
	const p = "/api/v1/namespaces/default/configmaps/applied"
	ct := "application/apply-patch+yaml"
	cm := func(data string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n" + data
	}

	noManager := c.do("PATCH", p, cm("  a: \"1\"\n"), "Content-Type", ct)
	assert.Equal(t, http.StatusUnprocessableEntity, noManager.code)
	assert.Equal(t, "Invalid", noManager.str("reason"))
	assert.Equal(t, `PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch`, noManager.str("message"))

	created := c.do("PATCH", p+"?fieldManager=me", cm("  a: \"1\"\n"), "Content-Type", ct)
	require.Equal(t, http.StatusCreated, created.code, string(created.raw))
	assert.Equal(t, "1", created.str("data.a"))
	assert.Equal(t, "me", created.str("metadata.managedFields.0.manager"))
	assert.Equal(t, "Apply", created.str("metadata.managedFields.0.operation"))
	assert.Equal(t, "FieldsV1", created.str("metadata.managedFields.0.fieldsType"))
	assert.Equal(t, map[string]any{"f:data": map[string]any{"f:a": map[string]any{}}}, created.get("metadata.managedFields.0.fieldsV1"), "apply owns fields, not the maps holding them")

	again := c.do("PATCH", p+"?fieldManager=me", cm("  b: \"2\"\n"), "Content-Type", ct)
	require.Equal(t, http.StatusOK, again.code, string(again.raw))
	assert.Equal(t, "2", again.str("data.b"))
	assert.Nil(t, again.get("data.a"), "a field the manager stopped applying is removed")

	conflict := c.do("PATCH", p+"?fieldManager=other", cm("  b: \"3\"\n"), "Content-Type", ct)
	require.Equal(t, http.StatusConflict, conflict.code, string(conflict.raw))
	assert.Equal(t, "Conflict", conflict.str("reason"))
	assert.Equal(t, `Apply failed with 1 conflict: conflict with "me": .data.b`, conflict.str("message"))
	assert.Equal(t, "FieldManagerConflict", conflict.str("details.causes.0.reason"))
	assert.Equal(t, ".data.b", conflict.str("details.causes.0.field"))

	same := c.do("PATCH", p+"?fieldManager=other", cm("  b: \"2\"\n"), "Content-Type", ct)
	assert.Equal(t, http.StatusOK, same.code, "the same value is shared ownership, not a conflict")

	forced := c.do("PATCH", p+"?fieldManager=other&force=true", cm("  b: \"3\"\n"), "Content-Type", ct)
	require.Equal(t, http.StatusOK, forced.code, string(forced.raw))
	assert.Equal(t, "3", forced.str("data.b"))

	// A non-apply write makes its manager the owner of what it changed.
	edit := c.do("PATCH", p+"?fieldManager=editor", `{"data":{"c":"x"}}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusOK, edit.code)
	var editor map[string]any
	for _, e := range edit.get("metadata.managedFields").([]any) {
		if path(e, "manager") == "editor" {
			editor = e.(map[string]any)
		}
	}
	require.NotNil(t, editor)
	assert.Equal(t, "Update", editor["operation"])
	assert.Equal(t, map[string]any{"f:data": map[string]any{"f:c": map[string]any{}}}, editor["fieldsV1"])
	c2 := c.do("PATCH", p+"?fieldManager=me", cm("  c: \"y\"\n  d: \"z\"\n"), "Content-Type", ct)
	assert.Equal(t, http.StatusConflict, c2.code)
	assert.Contains(t, c2.str("message"), `conflict with "editor" using v1: .data.c`)

	put := c.do("PUT", p, mustJSON(t, edit.obj), "User-Agent", "kubectl/v1.37.2 (linux/amd64)")
	require.Equal(t, http.StatusOK, put.code, string(put.raw))
	assert.Equal(t, edit.get("metadata.managedFields"), put.get("metadata.managedFields"), "a no-op write changes no ownership")

	wrongName := c.do("PATCH", p+"?fieldManager=me", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n", "Content-Type", ct)
	assert.Equal(t, http.StatusBadRequest, wrongName.code)

	forceOnMerge := c.do("PATCH", p+"?force=true", `{}`, "Content-Type", "application/merge-patch+json")
	assert.Equal(t, http.StatusUnprocessableEntity, forceOnMerge.code)
}

func TestApplyKeyedLists(t *testing.T) {
	t.Parallel()
	c := setup(t)
	const p = "/apis/apps/v1/namespaces/default/deployments/web?fieldManager="
	ct := "application/apply-patch+yaml"
	r := c.do("PATCH", p+"ci", fmt.Sprintf(deployJSON, "web"), "Content-Type", ct)
	require.Equal(t, http.StatusCreated, r.code, string(r.raw))
	assert.Len(t, r.get("spec.template.spec.containers"), 2)

	// Another manager sets the image of one container by name.
	img := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:2"}]}}}}`
	conflict := c.do("PATCH", p+"bot", img, "Content-Type", ct)
	require.Equal(t, http.StatusConflict, conflict.code)
	assert.Equal(t, `.spec.template.spec.containers[name="web"].image`, conflict.str("details.causes.0.field"))
	forced := c.do("PATCH", p+"bot&force=true", img, "Content-Type", ct)
	require.Equal(t, http.StatusOK, forced.code, string(forced.raw))
	assert.Equal(t, "nginx:2", forced.str("spec.template.spec.containers.0.image"))
	assert.Equal(t, "busybox", forced.str("spec.template.spec.containers.1.image"), "list items merge by name")

	// ci drops the side container from its configuration: it goes.
	noSide := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web"}]}}}}`
	r2 := c.do("PATCH", p+"ci", noSide, "Content-Type", ct)
	require.Equal(t, http.StatusOK, r2.code, string(r2.raw))
	assert.Len(t, r2.get("spec.template.spec.containers"), 1)
	assert.Equal(t, "nginx:2", r2.str("spec.template.spec.containers.0.image"), "bot still owns the image")
}

func TestStatusSubresource(t *testing.T) {
	t.Parallel()
	c := setup(t)
	r := c.do("POST", "/apis/apps/v1/namespaces/default/deployments", `{"metadata":{"name":"d"},"status":{"replicas":5},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}`)
	require.Equal(t, http.StatusCreated, r.code, string(r.raw))
	assert.Equal(t, map[string]any{}, r.get("status"), "create resets the status of kinds with a status subresource")
	gen := r.get("metadata.generation")

	st := c.do("PATCH", "/apis/apps/v1/namespaces/default/deployments/d/status", `{"status":{"replicas":2},"spec":{"replicas":9}}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusOK, st.code, string(st.raw))
	assert.EqualValues(t, 2, st.get("status.replicas"))
	assert.EqualValues(t, 1, st.get("spec.replicas"), "a status write leaves spec alone")
	assert.Equal(t, gen, st.get("metadata.generation"))

	got := c.do("GET", "/apis/apps/v1/namespaces/default/deployments/d/status", "")
	require.Equal(t, http.StatusOK, got.code)
	assert.EqualValues(t, 2, got.get("status.replicas"))

	put := got.obj
	put["status"] = map[string]any{"replicas": 4}
	pu := c.do("PUT", "/apis/apps/v1/namespaces/default/deployments/d/status", mustJSON(t, put))
	require.Equal(t, http.StatusOK, pu.code, string(pu.raw))
	assert.EqualValues(t, 4, pu.get("status.replicas"))

	// A main-resource update cannot change the status.
	main := pu.obj
	main["status"] = map[string]any{"replicas": 100}
	mu := c.do("PUT", "/apis/apps/v1/namespaces/default/deployments/d", mustJSON(t, main))
	require.Equal(t, http.StatusOK, mu.code, string(mu.raw))
	assert.EqualValues(t, 4, mu.get("status.replicas"))
	assert.Equal(t, pu.str("metadata.resourceVersion"), mu.str("metadata.resourceVersion"), "a no-op update keeps the resourceVersion")

	// Configmaps have no status subresource.
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/api/v1/namespaces/default/configmaps/x/status", "").code)
}

func TestScale(t *testing.T) {
	t.Parallel()
	c := setup(t)
	require.Equal(t, http.StatusCreated, c.do("POST", "/apis/apps/v1/namespaces/default/deployments", fmt.Sprintf(deployJSON, "web")).code)
	const p = "/apis/apps/v1/namespaces/default/deployments/web/scale"
	s := c.do("GET", p, "")
	require.Equal(t, http.StatusOK, s.code)
	assert.Equal(t, "Scale", s.str("kind"))
	assert.Equal(t, "autoscaling/v1", s.str("apiVersion"))
	assert.EqualValues(t, 1, s.get("spec.replicas"))
	assert.Equal(t, "app=web", s.str("status.selector"))

	p2 := c.do("PATCH", p, `{"spec":{"replicas":4}}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusOK, p2.code, string(p2.raw))
	assert.EqualValues(t, 4, p2.get("spec.replicas"))

	s.obj["spec"] = map[string]any{"replicas": 6}
	stale := c.do("PUT", p, mustJSON(t, s.obj))
	assert.Equal(t, http.StatusConflict, stale.code)
	delete(s.obj["metadata"].(map[string]any), "resourceVersion")
	u := c.do("PUT", p, mustJSON(t, s.obj))
	require.Equal(t, http.StatusOK, u.code, string(u.raw))
	d := c.do("GET", "/apis/apps/v1/namespaces/default/deployments/web", "")
	assert.EqualValues(t, 6, d.get("spec.replicas"))
	bad := c.do("PATCH", p, `{"spec":{"replicas":-1}}`, "Content-Type", "application/merge-patch+json")
	assert.Equal(t, http.StatusUnprocessableEntity, bad.code)
}
