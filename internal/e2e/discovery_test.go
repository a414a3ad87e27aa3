package e2e_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
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
