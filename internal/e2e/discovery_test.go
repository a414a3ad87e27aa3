package e2e_test

import (
	"net/http"
	"slices"
	"strconv"
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

// recorder records "<path> <status>" for every response whose path starts
// with prefix.
type recorder struct {
	prefix string
	mu     sync.Mutex
	got    []string
}

func (r *recorder) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		if err == nil && strings.HasPrefix(req.URL.Path, r.prefix) {
			r.mu.Lock()
			r.got = append(r.got, req.URL.Path+" "+strconv.Itoa(resp.StatusCode))
			r.mu.Unlock()
		}
		return resp, err
	})
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

// untilUnchanged runs round until it reports both discovery roots answered
// 304, at most 20 times: /apis changes whenever a parallel test installs or
// removes a CRD, /api never does.
func untilUnchanged(t *testing.T, round func() []string) {
	t.Helper()
	for range 20 {
		got := round()
		require.Contains(t, got, "/api 304", "the core group never changes")
		if slices.Contains(got, "/apis 304") {
			assert.ElementsMatch(t, []string{"/api 304", "/apis 304"}, got)
			return
		}
	}
	t.Fatal("/apis never answered 304")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func TestDiscoveryRevalidatesWith304(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	rec := &recorder{prefix: "/api"}
	cfg := config(t, "admin")
	cfg.WrapTransport = rec.wrap
	tc, err := transport.New(cfg)
	require.NoError(t, err)
	d := discovery.New(tc, &discovery.Options{TTL: -1}) // revalidate on every call

	first, err := d.Resources(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"/api 200", "/apis 200"}, rec.take(), "aggregated discovery: one request per root")

	var second []discovery.APIResource
	untilUnchanged(t, func() []string {
		second, err = d.Resources(ctx)
		require.NoError(t, err)
		return rec.take()
	})
	assert.NotEmpty(t, first)

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
	rec := &recorder{prefix: "/api"}
	cfg := config(t, "admin")
	cfg.WrapTransport = rec.wrap
	tc, err := transport.New(cfg)
	require.NoError(t, err)

	cold := discovery.New(tc, &discovery.Options{CacheDir: dir})
	_, err = cold.Resources(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"/api 200", "/apis 200"}, rec.take())

	// A new client (as in a new process) revalidates what the disk holds.
	var warm *discovery.Client
	untilUnchanged(t, func() []string {
		warm = discovery.New(tc, &discovery.Options{CacheDir: dir})
		_, err := warm.Resources(ctx)
		require.NoError(t, err)
		return rec.take()
	})
	r, err := warm.ResourceFor(ctx, "deploy")
	require.NoError(t, err)
	assert.Equal(t, "deployments", r.Resource)
	assert.Empty(t, rec.take(), "lookups are answered from the cache")
}

// With CacheDirTTL a new client (a new process) starts from the disk with no
// request at all, and a kind created since is still found: the miss
// refreshes from the server.
func TestDiscoveryDiskCacheTTL(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	dir := t.TempDir()
	rec := &recorder{prefix: "/api"}
	cfg := config(t, "admin")
	cfg.WrapTransport = rec.wrap
	tc, err := transport.New(cfg)
	require.NoError(t, err)
	opts := &discovery.Options{CacheDir: dir, CacheDirTTL: time.Hour, TTL: time.Hour}

	_, err = discovery.New(tc, opts).Resources(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"/api 200", "/apis 200"}, rec.take())

	warm := discovery.New(tc, opts)
	r, err := warm.ResourceFor(ctx, "deploy")
	require.NoError(t, err)
	assert.Equal(t, "deployments", r.Resource)
	assert.Empty(t, rec.take(), "the disk copies are trusted: no request")
	assert.Equal(t, int64(2), warm.Stats().DiskHits)

	group := installCRD(t, newClientFromConfig(t, config(t, "admin")))
	rec.take()
	r, err = warm.ResourceForKind(ctx, group+"/v1", "Widget")
	require.NoError(t, err, "a kind created after the disk copies is found by the refresh its miss causes")
	assert.Equal(t, "widgets", r.Resource)
	assert.Contains(t, rec.take(), "/apis 200", "the miss asked the server")
}

func TestOpenAPIV3(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	rec := &recorder{prefix: "/openapi/v3/"}
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
	fetched := rec.take()
	assert.Len(t, slices.DeleteFunc(fetched, func(s string) bool { return s != "/openapi/v3/apis/apps/v1 200" }), 1,
		"the apps/v1 document was fetched once for the three calls")

	// Hashed documents are immutable: a second read sends no request for
	// the document, only (at most) a revalidation of the index.
	_, err = d.OpenAPIV3(ctx, unstructured.GroupVersion{Group: "apps", Version: "v1"})
	require.NoError(t, err)
	assert.NotContains(t, rec.take(), "/openapi/v3/apis/apps/v1 200", "the hashed document is not downloaded again")

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
		if !r.HasVerb("list") || strings.HasSuffix(r.Group, ".example.com") {
			continue // CRDs of parallel tests come and go
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
