package e2e_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// recorder records the status code of every response whose path starts
// with /api.
type recorder struct {
	mu    sync.Mutex
	codes []int
}

func (r *recorder) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		if err == nil && strings.HasPrefix(req.URL.Path, "/api") {
			r.mu.Lock()
			r.codes = append(r.codes, resp.StatusCode)
			r.mu.Unlock()
		}
		return resp, err
	})
}

func (r *recorder) take() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.codes
	r.codes = nil
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func TestDiscoveryRevalidatesWith304(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	rec := &recorder{}
	cfg := config(t, "admin")
	cfg.WrapTransport = rec.wrap
	tc, err := transport.New(cfg)
	require.NoError(t, err)
	d := discovery.New(tc, &discovery.Options{TTL: -1}) // revalidate on every call

	first, err := d.Resources(ctx)
	require.NoError(t, err)
	codes := rec.take()
	assert.Equal(t, []int{200, 200}, codes, "aggregated discovery: one request per root")

	second, err := d.Resources(ctx)
	require.NoError(t, err)
	assert.Equal(t, []int{304, 304}, rec.take(), "unchanged roots answer 304")
	assert.Equal(t, len(first), len(second))

	var kinds []string
	for _, r := range second {
		if r.Group == "apps" && r.Version == "v1" {
			kinds = append(kinds, r.Kind)
		}
	}
	assert.Subset(t, kinds, []string{"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ControllerRevision"})

	v, err := d.ServerVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, "1", v.Major)
	assert.Equal(t, "37", v.Minor)
	assert.Equal(t, "v1.37.2", v.GitVersion)
}

func TestDiscoveryDiskCacheWarmStart(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	dir := t.TempDir()
	rec := &recorder{}
	cfg := config(t, "admin")
	cfg.WrapTransport = rec.wrap
	tc, err := transport.New(cfg)
	require.NoError(t, err)

	cold := discovery.New(tc, &discovery.Options{CacheDir: dir})
	first, err := cold.Resources(ctx)
	require.NoError(t, err)
	assert.Equal(t, []int{200, 200}, rec.take())

	// A new client (as in a new process) revalidates what the disk holds.
	warm := discovery.New(tc, &discovery.Options{CacheDir: dir})
	second, err := warm.Resources(ctx)
	require.NoError(t, err)
	assert.Equal(t, []int{304, 304}, rec.take(), "a warm start downloads nothing")
	assert.Equal(t, len(first), len(second))
	r, err := warm.ResourceFor(ctx, "deploy")
	require.NoError(t, err)
	assert.Equal(t, "deployments", r.Resource)
	assert.Empty(t, rec.take(), "lookups are answered from the cache")
}

func TestOpenAPIV3(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	rec := &recorder{}
	cfg := config(t, "admin")
	cfg.WrapTransport = rec.wrap
	c := newClientFromConfig(t, cfg)
	d := c.Discovery()

	paths, err := d.OpenAPIV3Paths(ctx)
	require.NoError(t, err)
	assert.Subset(t, paths, []string{"api/v1", "apis/apps/v1", "apis/rbac.authorization.k8s.io/v1"})

	name, schema, err := d.OpenAPIV3Schema(ctx, unstructured.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"})
	require.NoError(t, err)
	assert.Equal(t, "io.k8s.api.apps.v1.Deployment", name)
	assert.Equal(t, "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec", gjson.GetBytes(schema, "properties.spec.allOf.0.$ref").String())

	doc, err := d.OpenAPIV3Document(ctx, unstructured.GroupVersion{Group: "apps", Version: "v1"})
	require.NoError(t, err)
	assert.NotNil(t, doc.GetComponents().GetSchemas())
	rec.take()

	// Hashed documents are immutable: a second read sends no request for
	// the document, only (at most) a revalidation of the index.
	_, err = d.OpenAPIV3(ctx, unstructured.GroupVersion{Group: "apps", Version: "v1"})
	require.NoError(t, err)
	for _, code := range rec.take() {
		assert.NotEqual(t, 200, code, "the apps/v1 document was downloaded again")
	}

	// A CRD's schema is published under its group version.
	group := installCRD(t, c)
	gv := unstructured.GroupVersion{Group: group, Version: "v1"}
	var crdSchema []byte
	eventually(t, time.Minute, "the CRD's OpenAPI document", func() bool {
		_, crdSchema, err = d.OpenAPIV3Schema(ctx, gv.WithKind("Widget"))
		return err == nil
	})
	assert.Equal(t, `["small","large"]`, gjson.GetBytes(crdSchema, "properties.spec.properties.size.enum").Raw)
}

func TestCategoryAll(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	all, err := admin(t).Discovery().ResourcesInCategory(ctx, "all")
	require.NoError(t, err)
	var names []string
	for _, r := range all {
		names = append(names, r.GroupVersionResource().GroupResource().String())
	}
	assert.Subset(t, names, []string{"pods", "services", "deployments.apps", "replicasets.apps", "statefulsets.apps",
		"daemonsets.apps", "jobs.batch", "cronjobs.batch", "horizontalpodautoscalers.autoscaling"})
	assert.NotContains(t, names, "configmaps")
	assert.NotContains(t, names, "secrets")
}

// TestEveryServedResourceLists lists every listable resource the server
// discovers, through handles made from discovery's own answers: the mapper
// and URL building agree with the real server on every built-in kind.
func TestEveryServedResourceLists(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := admin(t)
	all, err := c.Discovery().Resources(ctx)
	require.NoError(t, err)
	require.Greater(t, len(all), 40)
	var listed int
	for _, r := range all {
		if !r.HasVerb("list") {
			continue
		}
		h := c.Resource(r.GroupVersionKind().APIVersion(), r.Kind)
		if r.Namespaced {
			h = h.AllNamespaces()
		}
		page, err := h.ListPage(ctx, &resource.ListOptions{Limit: 1})
		if !assert.NoError(t, err, "%s %s", r.GroupVersionKind(), r.Resource) {
			continue
		}
		assert.True(t, strings.HasSuffix(page.Kind(), "List"), "%s: kind %q", r.Resource, page.Kind())
		listed++
	}
	assert.Greater(t, listed, 40)
}
