package testserver

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func findByField(list any, field, value string) map[string]any {
	items, _ := list.([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok && path(m, field) == value {
			return m
		}
	}
	return nil
}

func TestLegacyDiscovery(t *testing.T) {
	t.Parallel()
	c := setup(t)

	api := c.do("GET", "/api", "")
	require.Equal(t, http.StatusOK, api.code)
	assert.Equal(t, "APIVersions", api.str("kind"))
	assert.Equal(t, []any{"v1"}, api.get("versions"))

	v1 := c.do("GET", "/api/v1", "")
	require.Equal(t, http.StatusOK, v1.code)
	assert.Equal(t, "APIResourceList", v1.str("kind"))
	assert.Equal(t, "v1", v1.str("groupVersion"))
	pods := findByField(v1.get("resources"), "name", "pods")
	require.NotNil(t, pods)
	assert.Equal(t, true, pods["namespaced"])
	assert.Equal(t, "Pod", pods["kind"])
	assert.Equal(t, "pod", pods["singularName"])
	assert.Equal(t, []any{"po"}, pods["shortNames"])
	assert.Contains(t, pods["verbs"], "watch")
	assert.NotNil(t, findByField(v1.get("resources"), "name", "pods/status"))
	ns := findByField(v1.get("resources"), "name", "namespaces")
	require.NotNil(t, ns)
	assert.Equal(t, false, ns["namespaced"])

	apis := c.do("GET", "/apis", "")
	require.Equal(t, http.StatusOK, apis.code)
	assert.Equal(t, "APIGroupList", apis.str("kind"))
	apps := findByField(apis.get("groups"), "name", "apps")
	require.NotNil(t, apps)
	assert.Equal(t, "apps/v1", path(apps, "preferredVersion.groupVersion"))

	av1 := c.do("GET", "/apis/apps/v1", "")
	require.Equal(t, http.StatusOK, av1.code)
	assert.Equal(t, "v1", av1.str("apiVersion"))
	scale := findByField(av1.get("resources"), "name", "deployments/scale")
	require.NotNil(t, scale)
	assert.Equal(t, "autoscaling", scale["group"])
	assert.Equal(t, "Scale", scale["kind"])

	g := c.do("GET", "/apis/rbac.authorization.k8s.io", "")
	require.Equal(t, http.StatusOK, g.code)
	assert.Equal(t, "APIGroup", g.str("kind"))

	assert.Equal(t, http.StatusNotFound, c.do("GET", "/apis/nope.example.com/v1", "").code)
}

func TestAggregatedDiscovery(t *testing.T) {
	t.Parallel()
	c := setup(t)
	accept := "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"

	r := c.do("GET", "/apis", "", "Accept", accept)
	require.Equal(t, http.StatusOK, r.code)
	assert.Equal(t, aggregatedContentType, r.header.Get("Content-Type"))
	assert.Equal(t, "APIGroupDiscoveryList", r.str("kind"))
	assert.Equal(t, "apidiscovery.k8s.io/v2", r.str("apiVersion"))
	apps := findByField(r.get("items"), "metadata.name", "apps")
	require.NotNil(t, apps)
	deploy := findByField(path(apps, "versions.0.resources"), "resource", "deployments")
	require.NotNil(t, deploy)
	assert.Equal(t, "Namespaced", deploy["scope"])
	assert.Equal(t, "deployment", deploy["singularResource"])
	assert.Equal(t, map[string]any{"group": "", "version": "", "kind": "Deployment"}, deploy["responseKind"], "the enclosing group-version is left out")
	assert.Equal(t, "Current", path(apps, "versions.0.freshness"))
	scale := findByField(deploy["subresources"], "subresource", "scale")
	require.NotNil(t, scale)
	assert.Equal(t, "Scale", path(scale, "responseKind.kind"))
	crds := findByField(r.get("items"), "metadata.name", "apiextensions.k8s.io")
	require.NotNil(t, crds)
	crd := findByField(path(crds, "versions.0.resources"), "resource", "customresourcedefinitions")
	assert.Equal(t, "Cluster", crd["scope"])

	core := c.do("GET", "/api", "", "Accept", accept)
	require.Equal(t, http.StatusOK, core.code)
	assert.Equal(t, "APIGroupDiscoveryList", core.str("kind"))
	pods := findByField(core.get("items.0.versions.0.resources"), "resource", "pods")
	require.NotNil(t, pods)
	assert.Equal(t, "", path(pods, "responseKind.group"))

	// Without the aggregated media type the legacy document comes back.
	legacy := c.do("GET", "/apis", "", "Accept", "application/json")
	assert.Equal(t, "APIGroupList", legacy.str("kind"))
}

func TestDiscoveryETag(t *testing.T) {
	t.Parallel()
	c := setup(t)
	accept := "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
	for _, p := range []string{"/api/v1", "/apis/apps/v1", "/apis/apps"} {
		r := c.do("GET", p, "")
		require.Equal(t, http.StatusOK, r.code)
		assert.Empty(t, r.header.Get("ETag"), "legacy discovery has no ETag, as with the real server")
		assert.Equal(t, "no-cache, private", r.header.Get("Cache-Control"))
	}
	for _, p := range []string{"/apis", "/api"} {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			r := c.do("GET", p, "", "Accept", accept)
			require.Equal(t, http.StatusOK, r.code)
			assert.Equal(t, "public", r.header.Get("Cache-Control"))
			etag := r.header.Get("ETag")
			require.NotEmpty(t, etag)
			again := c.do("GET", p, "", "Accept", accept, "If-None-Match", etag)
			assert.Equal(t, http.StatusNotModified, again.code)
			assert.Empty(t, again.raw)
			assert.Equal(t, etag, again.header.Get("ETag"))
			other := c.do("GET", p, "", "Accept", accept, "If-None-Match", `"stale"`)
			assert.Equal(t, http.StatusOK, other.code)
		})
	}
}
