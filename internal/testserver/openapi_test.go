package testserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenAPIV3(t *testing.T) {
	t.Parallel()
	c := setup(t)
	root := c.do("GET", "/openapi/v3", "")
	require.Equal(t, http.StatusOK, root.code)
	assert.Equal(t, "text/plain; charset=utf-8", root.header.Get("Content-Type"), "as the real server labels it")
	require.NoError(t, json.Unmarshal(root.raw, &root.obj))
	paths, _ := root.get("paths").(map[string]any)
	require.Contains(t, paths, "api/v1")
	require.Contains(t, paths, "apis/apps/v1")
	u := path(paths["apis/apps/v1"], "serverRelativeURL").(string)
	assert.True(t, strings.HasPrefix(u, "/openapi/v3/apis/apps/v1?hash="), u)

	doc := c.do("GET", u, "")
	require.Equal(t, http.StatusOK, doc.code)
	assert.Contains(t, doc.header.Get("Cache-Control"), "immutable")
	assert.Equal(t, "3.0.0", doc.str("openapi"))
	schemas, _ := doc.get("components.schemas").(map[string]any)
	dep, ok := schemas["io.k8s.api.apps.v1.Deployment"].(map[string]any)
	require.True(t, ok)
	assert.Equal(t, "Deployment", path(dep, "x-kubernetes-group-version-kind.0.kind"))
	assert.NotNil(t, path(dep, "properties.spec.properties.replicas"))
	assert.Contains(t, schemas, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")

	same := c.do("GET", u, "", "If-None-Match", doc.header.Get("ETag"))
	assert.Equal(t, http.StatusNotModified, same.code)

	stale := c.do("GET", "/openapi/v3/apis/apps/v1?hash=OLD", "")
	assert.Equal(t, http.StatusOK, stale.code, "an old hash redirects to the current document")
	assert.Equal(t, "3.0.0", stale.str("openapi"))

	// A CRD adds its group-version with its schema.
	require.Equal(t, http.StatusCreated, c.do("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widgetCRD).code)
	root2 := c.do("GET", "/openapi/v3", "")
	require.NoError(t, json.Unmarshal(root2.raw, &root2.obj))
	p2, _ := root2.get("paths").(map[string]any)
	require.Contains(t, p2, "apis/example.com/v1")
	cr := c.do("GET", path(p2["apis/example.com/v1"], "serverRelativeURL").(string), "")
	require.Equal(t, http.StatusOK, cr.code)
	crs, _ := cr.get("components.schemas").(map[string]any)
	w, ok := crs["com.example.v1.Widget"].(map[string]any)
	require.True(t, ok, "schemas: %v", crs)
	assert.Equal(t, "integer", path(w, "properties.spec.properties.size.type"))
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/openapi/v3/apis/nope/v1", "").code)
}
