package resource_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

// hourClient returns a client of srv whose discovery trusts what it learned
// for an hour, and its discovery client.
func hourClient(t *testing.T, srv *testserver.Server) (*resource.Client, *discovery.Client) {
	t.Helper()
	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()}
	tc, err := transport.New(cfg)
	require.NoError(t, err)
	d := discovery.New(tc, &discovery.Options{TTL: time.Hour})
	c, err := resource.NewClient(cfg, resource.WithDiscovery(d))
	require.NoError(t, err)
	_, err = c.Resource("v1", "ConfigMap").Resolve(context.Background())
	require.NoError(t, err, "discovery loaded before anything changes")
	return c, d
}

// plainClient returns a client of srv with a discovery cache of its own.
func plainClient(t *testing.T, srv *testserver.Server) *resource.Client {
	t.Helper()
	c, err := resource.NewClient(&transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()})
	require.NoError(t, err)
	return c
}

// freshRun runs WatchDiscovery on c until the test ends and collects what
// it reports.
type freshRun struct {
	changes chan resource.DiscoveryChange
	mu      sync.Mutex
	errs    []error
}

func startFresh(t *testing.T, c *resource.Client) *freshRun {
	t.Helper()
	r := &freshRun{changes: make(chan resource.DiscoveryChange, 64)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- c.WatchDiscovery(ctx, &resource.DiscoveryWatchOptions{
			OnChange: func(ch resource.DiscoveryChange) { r.changes <- ch },
			OnError: func(err error) {
				r.mu.Lock()
				r.errs = append(r.errs, err)
				r.mu.Unlock()
			},
		})
	}()
	t.Cleanup(func() {
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled, "WatchDiscovery returns once ctx ends")
	})
	return r
}

// next returns the next change of a CRD (skipping "synced" of APIServices).
func (r *freshRun) next(t *testing.T) resource.DiscoveryChange {
	t.Helper()
	for {
		select {
		case ch := <-r.changes:
			if ch.Kind == "CustomResourceDefinition" {
				return ch
			}
		case <-time.After(30 * time.Second):
			require.FailNow(t, "no discovery change reported")
		}
	}
}

func (r *freshRun) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// TestWatchDiscovery checks that with a one-hour discovery TTL a CRD that
// another client creates, changes and deletes is resolvable (or not) through
// a client running WatchDiscovery with no discovery request at lookup time,
// while a client without it keeps its stale view.
func TestWatchDiscovery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testserver.NewWithOptions(t, &testserver.Options{CRDEstablishDelay: testserver.RealCRDEstablishDelay})
	ours, ourDisc := hourClient(t, srv)
	_, staleDisc := hourClient(t, srv)
	other := plainClient(t, srv)

	run := startFresh(t, ours)
	require.Equal(t, resource.DiscoveryChange{Kind: "CustomResourceDefinition", Reason: "synced"}, run.next(t))

	// Created, not yet Established: nothing to do. A CRD created under a
	// one-hour delay never becomes Established, and the next change
	// reported is the second CRD's.
	srv.SetCRDEstablishDelay(time.Hour)
	widgetCRD(t, other, "pending.example.com")
	srv.SetCRDEstablishDelay(testserver.RealCRDEstablishDelay)
	av := widgetCRD(t, other, "fresh.example.com")

	ch := run.next(t)
	require.NoError(t, ch.Err)
	assert.Equal(t, resource.DiscoveryChange{Kind: "CustomResourceDefinition", Name: "widgets.fresh.example.com", Reason: "served"}, ch)

	before := ourDisc.Stats()
	r, err := ourDisc.ResourceForKind(ctx, av, "Widget")
	require.NoError(t, err)
	assert.Equal(t, "widgets", r.Resource)
	assert.Equal(t, before, ourDisc.Stats(), "resolved from the cache, no miss-triggered refresh")
	before = staleDisc.Stats()
	_, err = staleDisc.ResourceForKind(ctx, av, "Widget")
	require.NoError(t, err)
	assert.Greater(t, staleDisc.Stats().Requests, before.Requests, "without freshness the lookup misses and refreshes")

	t.Run("a served version added", func(t *testing.T) {
		crds := other.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
		_, err := crds.Patch(ctx, "widgets.fresh.example.com", resource.JSONPatch, []byte(`[{"op":"add","path":"/spec/versions/-","value":
{"name":"v2","served":true,"storage":false,"schema":{"openAPIV3Schema":{"type":"object"}}}}]`), nil)
		require.NoError(t, err)
		ch := run.next(t)
		require.NoError(t, ch.Err)
		assert.Equal(t, "changed", ch.Reason)
		before := ourDisc.Stats()
		_, err = ourDisc.ResourceForKind(ctx, "fresh.example.com/v2", "Widget")
		require.NoError(t, err)
		assert.Equal(t, before, ourDisc.Stats())
	})

	t.Run("a short name added", func(t *testing.T) {
		crds := other.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
		_, err := crds.Patch(ctx, "widgets.fresh.example.com", resource.JSONPatch, []byte(`[{"op":"add","path":"/spec/names/shortNames/-","value":"fwg"}]`), nil)
		require.NoError(t, err)
		ch := run.next(t)
		require.NoError(t, ch.Err)
		assert.Equal(t, "changed", ch.Reason)
		before := ourDisc.Stats()
		r, err := ourDisc.ResourceFor(ctx, "fwg")
		require.NoError(t, err)
		assert.Equal(t, "widgets", r.Resource)
		assert.Equal(t, before, ourDisc.Stats())
	})

	t.Run("a version no longer served", func(t *testing.T) {
		crds := other.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
		_, err := crds.Patch(ctx, "widgets.fresh.example.com", resource.JSONPatch, []byte(`[{"op":"replace","path":"/spec/versions/1/served","value":false}]`), nil)
		require.NoError(t, err)
		ch := run.next(t)
		require.NoError(t, ch.Err)
		assert.Equal(t, "changed", ch.Reason)
		_, err = ourDisc.ResourceForKind(ctx, "fresh.example.com/v2", "Widget")
		require.ErrorIs(t, err, discovery.ErrUnknownResource)
		before := ourDisc.Stats()
		_, err = ourDisc.ResourceForKind(ctx, av, "Widget")
		require.NoError(t, err)
		assert.Equal(t, before, ourDisc.Stats())
	})

	t.Run("deleted", func(t *testing.T) {
		_, err := other.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition").Delete(ctx, "widgets.fresh.example.com", nil)
		require.NoError(t, err)
		ch := run.next(t)
		require.NoError(t, ch.Err)
		assert.Equal(t, resource.DiscoveryChange{Kind: "CustomResourceDefinition", Name: "widgets.fresh.example.com", Reason: "deleted"}, ch)
		_, err = ourDisc.ResourceForKind(ctx, av, "Widget")
		require.ErrorIs(t, err, discovery.ErrUnknownResource, "a deleted CRD stops resolving")
		_, err = staleDisc.ResourceForKind(ctx, av, "Widget")
		assert.NoError(t, err, "without freshness the stale view still resolves it")
	})

	// The test server has no aggregation layer: APIServices are reported as
	// not watched, once, and CRDs are watched all the same.
	errs := run.errors()
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], discovery.ErrUnknownResource)
	assert.Contains(t, errs[0].Error(), "watch APIService for discovery: not watched")
}

// TestWatchDiscoveryRefused checks that a watch the caller may not make is
// reported and retried, not fatal: once allowed, freshness starts.
func TestWatchDiscoveryRefused(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	srv.Inject(testserver.Fault{Method: http.MethodGet, PathPrefix: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
		Status: http.StatusForbidden, Times: 1})
	ours, ourDisc := hourClient(t, srv)
	run := startFresh(t, ours)
	require.Equal(t, "synced", run.next(t).Reason)
	var forbidden []error
	for _, err := range run.errors() {
		if errors.Is(err, transport.ErrForbidden) {
			forbidden = append(forbidden, err)
		}
	}
	require.Len(t, forbidden, 1, "reported, then retried")
	assert.Contains(t, forbidden[0].Error(), "watch CustomResourceDefinition for discovery: ")

	other := plainClient(t, srv)
	av := widgetCRD(t, other, "allowed.example.com")
	ch := run.next(t)
	require.NoError(t, ch.Err)
	assert.Equal(t, "served", ch.Reason)
	before := ourDisc.Stats()
	_, err := ourDisc.ResourceForKind(context.Background(), av, "Widget")
	require.NoError(t, err)
	assert.Equal(t, before, ourDisc.Stats())
}

// TestWatchDiscoveryBurst installs 20 CRDs at once, as an operator's chart
// does: discovery is refreshed for batches of them, not once per CRD, and
// every kind resolves from the cache once its change is reported.
func TestWatchDiscoveryBurst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testserver.NewWithOptions(t, &testserver.Options{CRDEstablishDelay: testserver.RealCRDEstablishDelay})
	ours, ourDisc := hourClient(t, srv)
	other := plainClient(t, srv)
	run := startFresh(t, ours)
	require.Equal(t, "synced", run.next(t).Reason)

	const n = 20
	before := ourDisc.Stats()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { widgetCRD(t, other, fmt.Sprintf("burst%d.example.com", i)) })
	}
	wg.Wait()
	for range n {
		ch := run.next(t)
		require.NoError(t, ch.Err)
		assert.Equal(t, "served", ch.Reason)
	}
	during := ourDisc.Stats().Requests - before.Requests
	t.Logf("%d CRDs established: %d discovery requests", n, during)
	// One refresh is two requests (/api and /apis); one per CRD would be 2n.
	assert.Less(t, during, int64(2*n), "refreshed for batches, not per CRD")

	before = ourDisc.Stats()
	for i := range n {
		_, err := ourDisc.ResourceForKind(ctx, fmt.Sprintf("burst%d.example.com/v1", i), "Widget")
		require.NoError(t, err)
	}
	assert.Equal(t, before, ourDisc.Stats())
}

// freshGoroutines returns the stacks of goroutines running WatchDiscovery's
// or its watchers' code.
func freshGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, frame := range []string{"resource.(*freshness)", "resource.(*Client).WatchDiscovery", "watch.(*run)", "watch.(*deadline)", "watch.Decode"} {
			if strings.Contains(g, frame) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// TestWatchDiscoveryLeavesNoGoroutines ends WatchDiscovery while it watches
// and while it backs off from a refused watch, and checks that every
// goroutine it started has ended when it returns. It is not parallel, so
// that no other test's watchers run meanwhile.
func TestWatchDiscoveryLeavesNoGoroutines(t *testing.T) {
	for _, refused := range []bool{false, true} {
		srv := testserver.New(t)
		if refused {
			srv.Inject(testserver.Fault{Method: http.MethodGet, PathPrefix: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", Status: http.StatusForbidden})
		}
		ours, _ := hourClient(t, srv)
		require.Empty(t, freshGoroutines())
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan struct{}, 2)
		done := make(chan error, 1)
		go func() {
			done <- ours.WatchDiscovery(ctx, &resource.DiscoveryWatchOptions{
				OnChange: func(ch resource.DiscoveryChange) {
					if ch.Reason == "synced" {
						select {
						case ready <- struct{}{}:
						default:
						}
					}
				},
				OnError: func(err error) {
					if errors.Is(err, transport.ErrForbidden) {
						select {
						case ready <- struct{}{}:
						default:
						}
					}
				},
			})
		}()
		<-ready
		require.NotEmpty(t, freshGoroutines())
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		assert.Empty(t, freshGoroutines(), "refused: %v", refused)
	}
}
