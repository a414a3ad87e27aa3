package discovery

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

func find(t *testing.T, rs []APIResource, group, version, resource string) APIResource {
	t.Helper()
	for _, r := range rs {
		if r.Group == group && r.Version == version && r.Resource == resource {
			return r
		}
	}
	require.Failf(t, "resource not found", "%s.%s.%s", resource, version, group)
	return APIResource{}
}

func gvrs(rs []APIResource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.GroupVersionResource().String()
	}
	return out
}

func TestAggregatedDiscovery(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	c := f.client(nil)

	rs, err := c.Resources(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, f.hitsFor("/api"))
	assert.Equal(t, 1, f.hitsFor("/apis"))
	assert.Equal(t, 2, f.totalHits(), "aggregated discovery takes one request per root")

	// Discovery order: the core group first, then the groups as listed,
	// each group's versions by preference.
	assert.Equal(t, []string{
		"bindings.v1", "configmaps.v1", "events.v1", "namespaces.v1", "nodes.v1", "pods.v1", "secrets.v1", "services.v1",
		"daemonsets.v1.apps", "deployments.v1.apps", "replicasets.v1.apps", "statefulsets.v1.apps",
		"events.v1.events.k8s.io",
		"horizontalpodautoscalers.v2.autoscaling", "horizontalpodautoscalers.v1.autoscaling",
		"cronjobs.v1.batch", "jobs.v1.batch",
		"ingresses.v1.networking.k8s.io", "ingresses.v1beta1.extensions",
		"customresourcedefinitions.v1.apiextensions.k8s.io",
		"crontabs.v1.stable.example.com", "crontabs.v1beta1.stable.example.com", "crontabhistories.v1beta1.stable.example.com",
		"crontabs.v1.batch.example.org",
	}, gvrs(rs))

	d := find(t, rs, "apps", "v1", "deployments")
	assert.Equal(t, APIResource{
		Group: "apps", Version: "v1", Resource: "deployments", Kind: "Deployment", SingularName: "deployment",
		Namespaced: true,
		Verbs:      []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"},
		ShortNames: []string{"deploy"},
		Categories: []string{"all"},
		Subresources: []Subresource{
			{Name: "scale", Kind: unstructured.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}, Verbs: []string{"get", "patch", "update"}},
			{Name: "status", Kind: unstructured.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, Verbs: []string{"get", "patch", "update"}},
		},
		Preferred: true,
	}, d)
	assert.True(t, d.HasVerb("watch"))
	assert.False(t, d.HasVerb("proxy"))
	scale, ok := d.Subresource("scale")
	assert.True(t, ok)
	assert.Equal(t, "Scale", scale.Kind.Kind)
	_, ok = d.Subresource("log")
	assert.False(t, ok)

	ns := find(t, rs, "", "v1", "namespaces")
	assert.False(t, ns.Namespaced)
	assert.Equal(t, "Namespace", ns.Kind)
	assert.Len(t, ns.Subresources, 2)
	pods := find(t, rs, "", "v1", "pods")
	assert.True(t, pods.Namespaced)
	ev, ok := pods.Subresource("eviction")
	require.True(t, ok)
	assert.Equal(t, unstructured.GroupVersionKind{Group: "policy", Version: "v1", Kind: "Eviction"}, ev.Kind)

	assert.True(t, find(t, rs, "autoscaling", "v2", "horizontalpodautoscalers").Preferred)
	assert.False(t, find(t, rs, "autoscaling", "v1", "horizontalpodautoscalers").Preferred)
	assert.False(t, find(t, rs, "stable.example.com", "v1beta1", "crontabhistories").Preferred)

	// The caller owns what it gets back.
	rs[0].Verbs[0] = "mutated"
	again, err := c.Resources(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "create", again[0].Verbs[0])
}

func TestLegacyFallback(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "legacy")
	c := f.client(nil)

	rs, err := c.Resources(context.Background())
	require.NoError(t, err)
	for _, p := range []string{"/api", "/apis", "/api/v1", "/apis/apps/v1", "/apis/batch/v1",
		"/apis/metrics.k8s.io/v1beta1", "/apis/stable.example.com/v1", "/apis/stable.example.com/v1beta1"} {
		assert.Equal(t, 1, f.hitsFor(p), p)
	}
	assert.Equal(t, 8, f.totalHits())

	assert.Equal(t, []string{
		"configmaps.v1", "namespaces.v1", "pods.v1", "services.v1",
		"deployments.v1.apps", "replicasets.v1.apps",
		"cronjobs.v1.batch", "jobs.v1.batch",
		"nodes.v1beta1.metrics.k8s.io", "pods.v1beta1.metrics.k8s.io",
		// Listed v1beta1 first, but v1 is the preferred version.
		"crontabs.v1beta1.stable.example.com", "crontabs.v1.stable.example.com",
	}, gvrs(rs))

	d := find(t, rs, "apps", "v1", "deployments")
	assert.Equal(t, "Deployment", d.Kind)
	assert.Equal(t, "deployment", d.SingularName)
	assert.Equal(t, []string{"deploy"}, d.ShortNames)
	assert.Equal(t, []string{"all"}, d.Categories)
	assert.True(t, d.Preferred)
	assert.Equal(t, []Subresource{
		{Name: "scale", Kind: unstructured.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}, Verbs: []string{"get", "patch", "update"}},
		{Name: "status", Kind: unstructured.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, Verbs: []string{"get", "patch", "update"}},
	}, d.Subresources)

	pods := find(t, rs, "", "v1", "pods")
	var names []string
	for _, s := range pods.Subresources {
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"attach", "eviction", "exec", "log", "status"}, names)
	ev, _ := pods.Subresource("eviction")
	assert.Equal(t, unstructured.GroupVersionKind{Group: "policy", Version: "v1", Kind: "Eviction"}, ev.Kind)
	log, _ := pods.Subresource("log")
	assert.Equal(t, unstructured.GroupVersionKind{Version: "v1", Kind: "Pod"}, log.Kind)
	assert.False(t, find(t, rs, "", "v1", "namespaces").Namespaced)

	assert.True(t, find(t, rs, "stable.example.com", "v1", "crontabs").Preferred)
	assert.False(t, find(t, rs, "stable.example.com", "v1beta1", "crontabs").Preferred)

	// Lookups work over the legacy form too.
	r, err := c.ResourceFor(context.Background(), "ct")
	require.NoError(t, err)
	assert.Equal(t, "v1", r.Version)
}

func TestLegacyPartialFailure(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "legacy")
	f.fail("/apis/metrics.k8s.io/v1beta1", http.StatusServiceUnavailable)
	c := f.client(nil)
	ctx := context.Background()

	rs, err := c.Resources(ctx)
	require.Error(t, err)
	var pe *PartialError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, []unstructured.GroupVersion{{Group: "metrics.k8s.io", Version: "v1beta1"}}, pe.GroupVersions())
	assert.ErrorIs(t, err, transport.ErrServiceUnavailable)
	var apiErr *transport.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusServiceUnavailable, apiErr.StatusCode)
	assert.Contains(t, err.Error(), "metrics.k8s.io/v1beta1")

	// Everything else was discovered.
	assert.Len(t, rs, 10)
	find(t, rs, "apps", "v1", "deployments")
	for _, r := range rs {
		assert.NotEqual(t, "metrics.k8s.io", r.Group)
	}

	// A lookup that succeeds is not an error; one that misses names both
	// the miss and the incomplete discovery.
	d, err := c.ResourceFor(ctx, "deploy")
	require.NoError(t, err)
	assert.Equal(t, "deployments", d.Resource)
	_, err = c.ResourceForKind(ctx, "metrics.k8s.io/v1beta1", "PodMetrics")
	assert.ErrorIs(t, err, ErrUnknownResource)
	assert.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, transport.ErrServiceUnavailable)

	// Once the group answers again, the next refresh is complete.
	f.recover("/apis/metrics.k8s.io/v1beta1")
	c.Invalidate()
	rs, err = c.Resources(ctx)
	require.NoError(t, err)
	assert.Len(t, rs, 12)
	_, err = c.ResourceForKind(ctx, "metrics.k8s.io/v1beta1", "PodMetrics")
	assert.NoError(t, err)
}

func TestAggregatedStaleIsPartial(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	f.appendItem("/apis", "items", `{"metadata":{"name":"metrics.k8s.io"},"versions":[
		{"version":"v1beta1","freshness":"Stale","resources":[
			{"resource":"pods","responseKind":{"group":"metrics.k8s.io","version":"v1beta1","kind":"PodMetrics"},"scope":"Namespaced","verbs":["get","list"]}]}]}`)
	c := f.client(nil)

	rs, err := c.Resources(context.Background())
	var pe *PartialError
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, ErrStale)
	assert.Equal(t, []unstructured.GroupVersion{{Group: "metrics.k8s.io", Version: "v1beta1"}}, pe.GroupVersions())
	assert.Len(t, rs, 24)
	for _, r := range rs {
		assert.NotEqual(t, "metrics.k8s.io", r.Group)
	}
}

func TestRootFailureFailsTheCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	f.fail("/apis", http.StatusInternalServerError)
	c := f.client(nil)

	rs, err := c.Resources(context.Background())
	assert.Nil(t, rs)
	require.Error(t, err)
	var pe *PartialError
	assert.False(t, errors.As(err, &pe))
	assert.ErrorIs(t, err, transport.ErrInternalError)

	_, err = c.ResourceFor(context.Background(), "pods")
	assert.ErrorIs(t, err, transport.ErrInternalError)
}

func TestMalformedDocuments(t *testing.T) {
	t.Parallel()
	const aggHead = `{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","items":[`
	for name, tc := range map[string]struct {
		path, body string
		want       error // nil: any error
	}{
		"not json":          {"/apis", `<html>502 Bad Gateway</html>`, unstructured.ErrMalformed},
		"truncated":         {"/apis", aggHead, unstructured.ErrMalformed},
		"unknown kind":      {"/api", `{"kind":"Pod","apiVersion":"v1"}`, nil},
		"wrong apiVersion":  {"/apis", `{"kind":"APIGroupDiscoveryList","apiVersion":"v1","items":[]}`, nil},
		"empty version":     {"/apis", aggHead + `{"metadata":{"name":"x"},"versions":[{"version":""}]}]}`, nil},
		"nameless resource": {"/apis", aggHead + `{"metadata":{"name":"x"},"versions":[{"version":"v1","resources":[{"scope":"Cluster"}]}]}]}`, nil},
		// gjson reads the first of two equal keys, encoding/json the last:
		// the fast and legacy decoders would disagree, so neither is asked.
		"duplicate group name": {"/apis", aggHead + `{"metadata":{"name":"apps","name":"evil.example.com"},"versions":[{"version":"v1","resources":[]}]}]}`, unstructured.ErrDuplicateKey},
		"duplicate kind":       {"/api", `{"kind":"APIVersions","kind":"APIGroupDiscoveryList","versions":["v1"]}`, unstructured.ErrDuplicateKey},
		"too deep":             {"/apis", aggHead + strings.Repeat("[", unstructured.MaxDepth) + strings.Repeat("]", unstructured.MaxDepth) + `]}`, unstructured.ErrTooDeep},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, "aggregated")
			f.set(tc.path, []byte(tc.body))
			_, err := f.client(nil).Resources(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.path)
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
			}
		})
	}
}

func TestLegacyMalformedGroupVersionIsPartial(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		// The answer names another group version than the one asked for.
		"other group version": `{"kind":"APIResourceList","groupVersion":"batch/v2","resources":[]}`,
		// encoding/json would keep the last of two equal keys, gjson the first.
		"duplicate key": `{"kind":"APIResourceList","groupVersion":"batch/v1","resources":[{"name":"jobs","name":"pods","kind":"Job","verbs":["get"]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, "legacy")
			f.set("/apis/batch/v1", []byte(body))
			rs, err := f.client(nil).Resources(context.Background())
			var pe *PartialError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, []unstructured.GroupVersion{{Group: "batch", Version: "v1"}}, pe.GroupVersions())
			assert.Len(t, rs, 10)
		})
	}
}

func TestETagRevalidationSkipsParsing(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"aggregated", "legacy"} {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, dir)
			c := f.client(&Options{TTL: -1}) // revalidate on every call
			ctx := context.Background()

			first, err := c.Resources(ctx)
			require.NoError(t, err)
			docs := f.totalHits()
			n := int64(docs)
			assert.Equal(t, Stats{Requests: n, Parses: n}, c.Stats(), "every document requested and parsed once")
			assert.Empty(t, f.ifNoneMatch("/apis"))

			second, err := c.Resources(ctx)
			require.NoError(t, err)
			assert.Equal(t, first, second)
			assert.Equal(t, 2*docs, f.totalHits(), "a negative TTL revalidates every document")
			assert.Equal(t, Stats{Requests: 2 * n, NotModified: n, Parses: n}, c.Stats(), "304 answers are not parsed")
			assert.Equal(t, []string{f.etag("/apis")}, f.ifNoneMatch("/apis"))
			assert.Equal(t, []string{f.etag("/api")}, f.ifNoneMatch("/api"))

			// A changed document is parsed again, the others are not.
			if dir == "aggregated" {
				f.appendItem("/apis", "items", `{"metadata":{"name":"example.com"},"versions":[{"version":"v1","freshness":"Current","resources":[
					{"resource":"widgets","responseKind":{"group":"example.com","version":"v1","kind":"Widget"},"scope":"Cluster","singularResource":"widget","verbs":["get"]}]}]}`)
			} else {
				f.appendItem("/apis/batch/v1", "resources", `{"name":"widgets","singularName":"widget","namespaced":false,"kind":"Widget","verbs":["get"]}`)
			}
			third, err := c.Resources(ctx)
			require.NoError(t, err)
			assert.Len(t, third, len(first)+1)
			assert.Equal(t, Stats{Requests: 3 * n, NotModified: 2*n - 1, Parses: n + 1}, c.Stats(), "only the changed document is parsed")
		})
	}
}

// fakeClock is a settable clock for TTL tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestTTLAndInvalidate(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	c := f.client(nil) // DefaultTTL
	clock := f.clock
	ctx := context.Background()

	_, err := c.Resources(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, f.totalHits())

	// Within the TTL no request at all, whatever the call.
	clock.Advance(DefaultTTL - time.Second)
	_, err = c.Resources(ctx)
	require.NoError(t, err)
	_, err = c.ResourceFor(ctx, "deployments")
	require.NoError(t, err)
	assert.Equal(t, 2, f.totalHits())

	// Past the TTL every document is revalidated; nothing is re-parsed.
	clock.Advance(2 * time.Second)
	_, err = c.Resources(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, f.totalHits())
	assert.Equal(t, Stats{Requests: 4, NotModified: 2, Parses: 2}, c.Stats())
	assert.Equal(t, []string{f.etag("/apis")}, f.ifNoneMatch("/apis"))

	// Invalidate forces revalidation within the TTL, once.
	c.Invalidate()
	assert.Equal(t, 4, f.totalHits(), "Invalidate does no I/O")
	_, err = c.Resources(ctx)
	require.NoError(t, err)
	assert.Equal(t, 6, f.totalHits())
	_, err = c.Resources(ctx)
	require.NoError(t, err)
	assert.Equal(t, 6, f.totalHits())
	assert.Equal(t, Stats{Requests: 6, NotModified: 4, Parses: 2}, c.Stats())
}

func TestConcurrentColdCallsShareOneRefresh(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "legacy")
	c := f.client(nil)
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = c.ResourceFor(context.Background(), "deployments")
		})
		// Stats may be read while the refresh runs; what it shows never
		// counts an answer without its request.
		wg.Go(func() {
			s := c.Stats()
			assert.LessOrEqual(t, s.NotModified+s.Parses, s.Requests, "%+v", s)
		})
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, 8, f.totalHits(), "one refresh for all callers")
	assert.Equal(t, Stats{Requests: 8, Parses: 8}, c.Stats())
}

func TestServerVersion(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	f.set("/version", []byte(`{"major":"1","minor":"37","gitVersion":"v1.37.2","gitCommit":"abc","gitTreeState":"clean","buildDate":"2026-10-01T00:00:00Z","goVersion":"go1.26.1","compiler":"gc","platform":"linux/amd64"}`))
	c := f.client(nil)
	v, err := c.ServerVersion(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Stats{Requests: 1}, c.Stats(), "a request, not a cached document")
	assert.Equal(t, "v1.37.2", v.GitVersion)
	assert.Equal(t, "37", v.Minor)
	assert.Equal(t, "linux/amd64", v.Platform)

	f.set("/version", []byte(`{}`))
	_, err = f.client(nil).ServerVersion(context.Background())
	assert.Error(t, err)

	// Held to unstructured's rules like every other document.
	f.set("/version", []byte(`{"major":"1","gitVersion":"v1.37.2","gitVersion":"v9.9.9"}`))
	_, err = f.client(nil).ServerVersion(context.Background())
	assert.ErrorIs(t, err, unstructured.ErrDuplicateKey)
}

// A document decoded during a refresh that then failed must not be hidden
// by the reuse of the previous snapshot once every answer is a 304.
func TestFailedRefreshDoesNotHideChanges(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	c := f.client(nil)
	ctx := context.Background()
	_, err := c.Resources(ctx)
	require.NoError(t, err)

	f.appendItem("/api", "items.0.versions.0.resources", `{"resource":"limitranges","responseKind":{"group":"","version":"","kind":"LimitRange"},"scope":"Namespaced","singularResource":"limitrange","shortNames":["limits"],"verbs":["get","list"]}`)
	f.fail("/apis", http.StatusInternalServerError)
	c.Invalidate()
	_, err = c.Resources(ctx)
	require.ErrorIs(t, err, transport.ErrInternalError)

	f.recover("/apis")
	c.Invalidate()
	r, err := c.ResourceFor(ctx, "limits")
	require.NoError(t, err)
	assert.Equal(t, "limitranges.v1", r.GroupVersionResource().String())
	assert.Equal(t, []string{f.etag("/api")}, f.ifNoneMatch("/api")[1:], "the last /api answer was a 304")
}

// Discovery never queues behind user traffic on the client-side rate
// limiter: with one token spent and the next one hours away, every
// discovery request still goes out at once.
func TestDiscoveryBypassesRateLimiter(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "legacy")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	tc, err := transport.New(&transport.Config{Host: f.srv.URL, TLS: transport.TLSConfig{CAData: ca}, MaxRetries: -1, QPS: 0.0001, Burst: 1})
	require.NoError(t, err)
	// The deadline only has to come before the next token (10,000 s away):
	// an hour leaves the slowest machine ample time for the test itself.
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()

	// User traffic takes the only token; the next would come in hours, so
	// a rate-limited request fails at once against the deadline.
	_, err = tc.Do(ctx, &transport.Request{Method: http.MethodGet, Path: "/api/v1"})
	require.NoError(t, err)
	_, err = tc.Do(ctx, &transport.Request{Method: http.MethodGet, Path: "/api/v1"})
	require.Error(t, err, "the limiter is in force")

	c := New(tc, nil)
	rs, err := c.Resources(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, rs)
	f.set("/version", []byte(`{"major":"1","minor":"37","gitVersion":"v1.37.2"}`))
	_, err = c.ServerVersion(ctx)
	assert.NoError(t, err)
	_, err = c.OpenAPIV3Paths(ctx)
	assert.ErrorIs(t, err, transport.ErrNotFound, "the legacy fixture has no OpenAPI, but the request was sent")
}

// Group and version names come from the server. One that would change the
// URL of its legacy document (a "..", a "/", a "%") fails that group
// version alone, before any request is sent for it.
func TestLegacyHostileNamesArePartial(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ group, version string }{
		{"..", "v1"}, {"apps", ".."}, {"a/b", "v1"}, {"apps", "v1/../../api"}, {"x%2Fy", "v1"}, {".", "v1"},
	} {
		t.Run(tc.group+" "+tc.version, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, "legacy")
			f.appendItem("/apis", "groups", fmt.Sprintf(`{"name":%q,"versions":[{"groupVersion":%q,"version":%q}]}`,
				tc.group, tc.group+"/"+tc.version, tc.version))
			before := f.totalHits()
			rs, err := f.client(nil).Resources(context.Background())
			var pe *PartialError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, []unstructured.GroupVersion{{Group: tc.group, Version: tc.version}}, pe.GroupVersions())
			assert.ErrorIs(t, err, transport.ErrInvalidName)
			assert.Len(t, rs, 12, "the other groups were discovered")
			assert.Equal(t, before+8, f.totalHits(), "nothing was sent for the hostile group version")
		})
	}
}

// The same holds for the aggregated form and for a legacy resource list:
// a group version with a name that could change a URL (its group, version,
// a resource or a subresource) is left out and reported; the rest is
// discovered.
func TestHostileNamesInDocumentsArePartial(t *testing.T) {
	t.Parallel()
	agg := func(group, version, resource, sub string) string {
		return fmt.Sprintf(`{"metadata":{"name":%q},"versions":[{"version":%q,"freshness":"Current","resources":[
			{"resource":%q,"responseKind":{"group":%q,"version":%q,"kind":"Thing"},"scope":"Namespaced","verbs":["get"],
			 "subresources":[{"subresource":%q,"verbs":["get"]}]}]}]}`, group, version, resource, group, version, sub)
	}
	for name, tc := range map[string]struct {
		dir, path, array, item string
		gv                     unstructured.GroupVersion
		want                   int // resources discovered
	}{
		"aggregated group":       {"aggregated", "/apis", "items", agg("a/b", "v1", "things", "status"), unstructured.GroupVersion{Group: "a/b", Version: "v1"}, 24},
		"aggregated version":     {"aggregated", "/apis", "items", agg("example.com", "..", "things", "status"), unstructured.GroupVersion{Group: "example.com", Version: ".."}, 24},
		"aggregated resource":    {"aggregated", "/apis", "items", agg("example.com", "v1", "..", "status"), unstructured.GroupVersion{Group: "example.com", Version: "v1"}, 24},
		"aggregated subresource": {"aggregated", "/apis", "items", agg("example.com", "v1", "things", "%2e%2e"), unstructured.GroupVersion{Group: "example.com", Version: "v1"}, 24},
		"legacy resource":        {"legacy", "/apis/batch/v1", "resources", `{"name":"..","namespaced":true,"kind":"Job","verbs":["get"]}`, unstructured.GroupVersion{Group: "batch", Version: "v1"}, 10},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.dir)
			f.appendItem(tc.path, tc.array, tc.item)
			c := f.client(nil)
			rs, err := c.Resources(context.Background())
			var pe *PartialError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, []unstructured.GroupVersion{tc.gv}, pe.GroupVersions())
			assert.ErrorIs(t, err, transport.ErrInvalidName)
			assert.Len(t, rs, tc.want, "the rest was discovered")
			_, err = c.ResourceFor(context.Background(), "deploy")
			assert.NoError(t, err)
		})
	}
}

// /api serves the core group alone and /apis only named groups: a nameless
// group under /apis would shadow the core group's resources, so it is left
// out and reported.
func TestStrayGroupsArePartial(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ path, item, group string }{
		"nameless group under /apis": {"/apis", `{"metadata":{"name":""},"versions":[{"version":"v9","freshness":"Current","resources":[
			{"resource":"pods","responseKind":{"group":"","version":"v9","kind":"Pod"},"scope":"Namespaced","verbs":["get"]}]}]}`, ""},
		"named group under /api": {"/api", `{"metadata":{"name":"apps"},"versions":[{"version":"v9","freshness":"Current","resources":[
			{"resource":"deployments","responseKind":{"group":"apps","version":"v9","kind":"Deployment"},"scope":"Namespaced","verbs":["get"]}]}]}`, "apps"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, "aggregated")
			f.appendItem(tc.path, "items", tc.item)
			c := f.client(nil)
			rs, err := c.Resources(context.Background())
			var pe *PartialError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, []unstructured.GroupVersion{{Group: tc.group, Version: "v9"}}, pe.GroupVersions())
			assert.ErrorIs(t, err, transport.ErrInvalidName)
			assert.Len(t, rs, 24)
			r, err := c.ResourceFor(context.Background(), "pods")
			require.NoError(t, err)
			assert.Equal(t, "pods.v1", r.GroupVersionResource().String())
		})
	}
}
