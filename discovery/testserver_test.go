package discovery_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

const gadgetCRD = `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
 "metadata":{"name":"gadgets.example.com"},
 "spec":{"group":"example.com","scope":"Namespaced",
  "names":{"plural":"gadgets","singular":"gadget","kind":"Gadget","shortNames":["gd"],"categories":["all"]},
  "versions":[
   {"name":"v1","served":true,"storage":true,"subresources":{"status":{}},
    "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}},
   {"name":"v1beta1","served":true,"storage":false,
    "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}`

func testserverClients(t *testing.T) (*testserver.Server, *transport.Client, *discovery.Client) {
	t.Helper()
	srv := testserver.New(t)
	tc, err := transport.New(&transport.Config{
		Host:        srv.URL(),
		TLS:         transport.TLSConfig{CAData: srv.CAPEM()},
		BearerToken: srv.Token(),
	})
	require.NoError(t, err)
	// A TTL longer than any test: the request counts below then depend only
	// on the lookups, however slow the machine (a miss refreshes regardless).
	return srv, tc, discovery.New(tc, &discovery.Options{TTL: time.Hour})
}

// discoveryRequests returns the paths of the discovery requests the server
// saw, with the If-None-Match each carried.
func discoveryRequests(srv *testserver.Server) (paths, etags []string) {
	for _, r := range srv.Requests() {
		if r.Method == http.MethodGet && (r.Path == "/api" || r.Path == "/apis" ||
			strings.HasPrefix(r.Path, "/api/") || strings.HasPrefix(r.Path, "/apis/")) {
			paths = append(paths, r.Path)
			etags = append(etags, r.Header.Get("If-None-Match"))
		}
	}
	return paths, etags
}

func TestAgainstTestServer(t *testing.T) {
	t.Parallel()
	srv, tc, dc := testserverClients(t)
	ctx := context.Background()

	d, err := dc.ResourceFor(ctx, "deploy")
	require.NoError(t, err)
	assert.Equal(t, "deployments.v1.apps", d.GroupVersionResource().String())
	assert.Equal(t, "Deployment", d.Kind)
	assert.True(t, d.Namespaced)
	assert.True(t, d.Preferred)
	scale, ok := d.Subresource("scale")
	require.True(t, ok)
	assert.Equal(t, unstructured.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}, scale.Kind)

	for name, want := range map[string]string{
		"pods": "pods.v1", "cm": "configmaps.v1", "Namespace": "namespaces.v1", "secrets.v1": "secrets.v1",
		"customresourcedefinitions.apiextensions.k8s.io": "customresourcedefinitions.v1.apiextensions.k8s.io",
	} {
		r, err := dc.ResourceFor(ctx, name)
		require.NoError(t, err, name)
		assert.Equal(t, want, r.GroupVersionResource().String(), name)
	}
	ns, err := dc.ResourceForKind(ctx, "v1", "Namespace")
	require.NoError(t, err)
	assert.False(t, ns.Namespaced)

	paths, _ := discoveryRequests(srv)
	assert.Equal(t, []string{"/api", "/apis"}, sortedCopy(paths), "aggregated discovery: one request per root")

	// A CRD created now is found by the next lookup, which refreshes once.
	srv.ResetRequests()
	createGadgetCRD(t, tc)
	g, err := dc.ResourceFor(ctx, "gd")
	require.NoError(t, err)
	assert.Equal(t, "gadgets.v1.example.com", g.GroupVersionResource().String())
	assert.True(t, g.Preferred)
	assert.Equal(t, []string{"all"}, g.Categories)
	_, ok = g.Subresource("status")
	assert.True(t, ok)
	beta, err := dc.ResourceForKind(ctx, "example.com/v1beta1", "Gadget")
	require.NoError(t, err)
	assert.False(t, beta.Preferred)

	paths, etags := discoveryRequests(srv)
	assert.Equal(t, []string{"/api", "/apis"}, sortedCopy(paths))
	for _, e := range etags {
		assert.NotEmpty(t, e, "the refresh revalidated with If-None-Match")
	}

	all, err := dc.ResourcesInCategory(ctx, "all")
	require.NoError(t, err)
	var names []string
	for _, r := range all {
		names = append(names, r.GroupVersionResource().String())
	}
	assert.Contains(t, names, "gadgets.v1.example.com")
	assert.NotContains(t, names, "gadgets.v1beta1.example.com")

	v, err := dc.ServerVersion(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, v.GitVersion)
}

func TestAgainstTestServerConcurrentMisses(t *testing.T) {
	t.Parallel()
	srv, tc, dc := testserverClients(t)
	ctx := context.Background()
	_, err := dc.Resources(ctx)
	require.NoError(t, err)
	createGadgetCRD(t, tc)
	srv.ResetRequests()

	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, errs[i] = dc.ResourceFor(ctx, "gadgets") })
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
	paths, _ := discoveryRequests(srv)
	assert.Equal(t, []string{"/api", "/apis"}, sortedCopy(paths), "concurrent misses share one refresh")
}

// createGadgetCRD creates gadgetCRD on the server behind tc.
func createGadgetCRD(t *testing.T, tc *transport.Client) {
	t.Helper()
	_, err := tc.Do(context.Background(), &transport.Request{
		Method: http.MethodPost,
		Path:   "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   []byte(gadgetCRD),
	})
	require.NoError(t, err)
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// plainAccept rewrites the Accept header of root discovery requests to
// plain JSON, as an old client would send, so the test server answers in
// the legacy form.
type plainAccept struct{ next http.RoundTripper }

func (p plainAccept) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/api" || r.URL.Path == "/apis" {
		r = r.Clone(r.Context())
		r.Header.Set("Accept", "application/json")
	}
	return p.next.RoundTrip(r)
}

func TestAgainstTestServerLegacyAndPartial(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	tc, err := transport.New(&transport.Config{
		Host:          srv.URL(),
		TLS:           transport.TLSConfig{CAData: srv.CAPEM()},
		BearerToken:   srv.Token(),
		MaxRetries:    -1,
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper { return plainAccept{rt} },
	})
	require.NoError(t, err)
	ctx := context.Background()

	agg, err := discovery.New(mustTransport(t, srv), nil).Resources(ctx)
	require.NoError(t, err)

	srv.ResetRequests()
	srv.Inject(testserver.Fault{Method: http.MethodGet, PathPrefix: "/apis/rbac.authorization.k8s.io/v1", Status: http.StatusServiceUnavailable})
	dc := discovery.New(tc, &discovery.Options{TTL: time.Hour})
	legacy, err := dc.Resources(ctx)
	var pe *discovery.PartialError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, []unstructured.GroupVersion{{Group: "rbac.authorization.k8s.io", Version: "v1"}}, pe.GroupVersions())
	assert.ErrorIs(t, err, transport.ErrServiceUnavailable)

	paths, _ := discoveryRequests(srv)
	assert.Contains(t, paths, "/api/v1")
	assert.Contains(t, paths, "/apis/apps/v1")

	// The legacy walk finds what the aggregated form lists, less the
	// failed group, with the same details.
	var want []discovery.APIResource
	for _, r := range agg {
		if r.Group != "rbac.authorization.k8s.io" {
			want = append(want, r)
		}
	}
	assert.ElementsMatch(t, gvrStrings(want), gvrStrings(legacy))
	for _, r := range legacy {
		for _, w := range want {
			if w.GroupVersionResource() == r.GroupVersionResource() {
				assert.Equal(t, w, r, r.GroupVersionResource().String())
			}
		}
	}

	// The failed group is missing from lookups; the rest answer.
	_, err = dc.ResourceFor(ctx, "clusterroles")
	assert.ErrorIs(t, err, discovery.ErrUnknownResource)
	assert.ErrorAs(t, err, &pe)
	_, err = dc.ResourceFor(ctx, "deploy")
	assert.NoError(t, err)
}

func mustTransport(t *testing.T, srv *testserver.Server) *transport.Client {
	t.Helper()
	tc, err := transport.New(&transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()})
	require.NoError(t, err)
	return tc
}

func gvrStrings(rs []discovery.APIResource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.GroupVersionResource().String()
	}
	return out
}
