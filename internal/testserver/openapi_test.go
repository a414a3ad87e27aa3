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
	assert.Equal(t, "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec", path(dep, "properties.spec.allOf.0.$ref"))
	assert.Equal(t, []any{"spec"}, dep["required"])
	for _, name := range []string{"io.k8s.api.apps.v1.DeploymentSpec", "io.k8s.api.core.v1.PodTemplateSpec", "io.k8s.api.core.v1.PodSpec",
		"io.k8s.api.core.v1.Container", "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
		"io.k8s.apimachinery.pkg.util.intstr.IntOrString", "io.k8s.api.apps.v1.DeploymentList", "io.k8s.api.autoscaling.v1.Scale"} {
		assert.Contains(t, schemas, name, "referenced definitions are included")
	}
	assert.Equal(t, "integer", path(schemas["io.k8s.api.apps.v1.DeploymentSpec"], "properties.replicas.type"))
	gvk := func(g, v, k string) any { return map[string]any{"group": g, "version": v, "kind": k} }
	assert.Equal(t, []any{gvk("", "v1", "DeleteOptions"), gvk("apps", "v1", "DeleteOptions")},
		path(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"], "x-kubernetes-group-version-kind"), "core v1 and the document's group-version")
	assert.Equal(t, []any{gvk("", "v1", "Status")}, path(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Status"], "x-kubernetes-group-version-kind"))
	assert.Equal(t, []any{gvk("autoscaling", "v1", "Scale")}, path(schemas["io.k8s.api.autoscaling.v1.Scale"], "x-kubernetes-group-version-kind"))
	assert.Equal(t, "map", path(schemas["io.k8s.api.core.v1.Container"], "properties.ports.x-kubernetes-list-type"))
	assert.Nil(t, path(schemas["io.k8s.api.apps.v1.DeploymentCondition"], "required"), "apps/v1 DeploymentCondition requires nothing on kube-apiserver 1.37")
	docPaths, _ := doc.get("paths").(map[string]any)
	item, _ := docPaths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"].(map[string]any)
	require.NotNil(t, item)
	for _, verb := range []string{"get", "put", "patch", "delete"} {
		assert.Contains(t, item, verb)
	}
	assert.Equal(t, "readAppsV1NamespacedDeployment", path(item, "get.operationId"))
	assert.Equal(t, "apps_v1", path(item, "get.tags.0"))
	assert.Contains(t, docPaths, "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale")

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
	delKinds, _ := path(crs["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"], "x-kubernetes-group-version-kind").([]any)
	require.NotEmpty(t, delKinds)
	assert.Equal(t, gvk("", "v1", "DeleteOptions"), delKinds[0])
	assert.Contains(t, delKinds, gvk("apps", "v1beta1", "DeleteOptions"), "a custom resource group's document names every group-version of the kube scheme")
	assert.NotContains(t, delKinds, gvk("example.com", "v1", "DeleteOptions"), "but not its own")

	core := c.do("GET", "/openapi/v3/api/v1", "")
	require.Equal(t, http.StatusOK, core.code)
	coreSchemas, _ := core.get("components.schemas").(map[string]any)
	assert.Equal(t, []any{gvk("", "v1", "DeleteOptions")}, path(coreSchemas["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"], "x-kubernetes-group-version-kind"), "the core document names core v1 once")
	for _, status := range []string{"NamespaceStatus", "PodStatus", "ServiceStatus"} {
		conds := path(coreSchemas["io.k8s.api.core.v1."+status], "properties.conditions")
		assert.Equal(t, "array", path(conds, "type"), status)
		assert.Equal(t, "map", path(conds, "x-kubernetes-list-type"), status)
		assert.Equal(t, []any{"type"}, path(conds, "x-kubernetes-list-map-keys"), status)
	}
	cs := path(coreSchemas["io.k8s.api.core.v1.PodStatus"], "properties.containerStatuses")
	assert.Equal(t, "array", path(cs, "type"))
	assert.Equal(t, "#/components/schemas/io.k8s.api.core.v1.ContainerStatus", path(cs, "items.$ref"))
	assert.Contains(t, coreSchemas, "io.k8s.api.core.v1.ContainerStatus", "referenced definitions are included")
	assert.Contains(t, coreSchemas, "io.k8s.apimachinery.pkg.apis.meta.v1.Condition", "referenced definitions are included")
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/openapi/v3/apis/nope/v1", "").code)
}
