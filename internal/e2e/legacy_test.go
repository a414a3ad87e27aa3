package e2e_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

// TestDiscoveryLegacyFallback makes the real server answer /api and /apis in
// the legacy form (the Accept header no longer asks for aggregated
// discovery, as with a server older than 1.26) and checks that the client
// walks the group versions and finds what aggregated discovery finds.
func TestDiscoveryLegacyFallback(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	rec := &recorder{prefix: "/api"}
	cfg := config(t, "admin")
	cfg.WrapTransport = func(next http.RoundTripper) http.RoundTripper {
		return rec.wrap(roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.URL.Path == "/api" || req.URL.Path == "/apis" {
				req = req.Clone(req.Context())
				req.Header.Set("Accept", "application/json")
			}
			return next.RoundTrip(req)
		}))
	}
	tc, err := transport.New(cfg)
	require.NoError(t, err)
	legacy, err := discovery.New(tc, &discovery.Options{TTL: time.Hour}).Resources(ctx)
	require.NoError(t, err)
	wire := rec.take()
	assert.Contains(t, wire, "/api/v1 200", "the legacy walk fetches each group version")
	assert.Contains(t, wire, "/apis/apps/v1 200")

	aggregated, err := admin(t).Discovery().Resources(ctx)
	require.NoError(t, err)
	// CRDs come and go with parallel tests: compare the built-in groups.
	builtin := func(rs []discovery.APIResource) []discovery.APIResource {
		var out []discovery.APIResource
		for _, r := range rs {
			if discovery.IsBuiltinGroup(r.Group) {
				out = append(out, r)
			}
		}
		return out
	}
	require.NotEmpty(t, builtin(legacy))
	assert.ElementsMatch(t, builtin(aggregated), builtin(legacy))
}

// TestListResourceVersionMatch checks that ListOptions.ResourceVersion with
// ResourceVersionMatch=Exact lists the collection as it was at that version,
// and NotOlderThan as it is now.
func TestListResourceVersionMatch(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	c := admin(t)
	cms := c.Resource("v1", "ConfigMap").Namespace(ns)
	create := func(name string) {
		_, err := cms.Create(ctx, obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"`+name+`"}}`), nil)
		require.NoError(t, err)
	}
	names := func(opts *resource.ListOptions) []string {
		var out []string
		for o, err := range cms.List(ctx, opts) {
			require.NoError(t, err)
			out = append(out, o.Name())
		}
		return out
	}

	create("first")
	_, rv, err := cms.ListAll(ctx, nil)
	require.NoError(t, err)
	require.NotEmpty(t, rv)
	create("second")

	assert.Equal(t, []string{"first"}, names(&resource.ListOptions{ResourceVersion: rv, ResourceVersionMatch: resource.ResourceVersionMatchExact}))
	assert.Equal(t, []string{"first", "second"}, names(&resource.ListOptions{ResourceVersion: rv, ResourceVersionMatch: resource.ResourceVersionMatchNotOlderThan}))
	// Exact at a version paged with a small limit still gives that snapshot.
	assert.Equal(t, []string{"first"}, names(&resource.ListOptions{Limit: 1, ResourceVersion: rv, ResourceVersionMatch: resource.ResourceVersionMatchExact}))

	// A match without a version is refused by the server as Invalid.
	errs := 0
	for _, err := range cms.List(ctx, &resource.ListOptions{ResourceVersionMatch: resource.ResourceVersionMatchExact}) {
		require.Error(t, err)
		assert.ErrorIs(t, err, transport.ErrInvalid)
		errs++
	}
	assert.Equal(t, 1, errs, "the refusal ends the list with one error")
}
