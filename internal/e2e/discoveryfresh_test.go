package e2e_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/watch"
)

// missCounter is a slog handler that counts discovery's "lookup missed"
// debug records: each is a refresh a lookup had to cause.
type missCounter struct{ n atomic.Int64 }

func (m *missCounter) Enabled(context.Context, slog.Level) bool { return true }
func (m *missCounter) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "lookup missed") {
		m.n.Add(1)
	}
	return nil
}
func (m *missCounter) WithAttrs([]slog.Attr) slog.Handler { return m }
func (m *missCounter) WithGroup(string) slog.Handler      { return m }

// TestDiscoveryFresh runs WatchDiscovery on a client whose discovery trusts
// what it learned for an hour, and checks against the real server that a
// CRD created by another client resolves through it with no request at
// lookup time (a client without freshness misses and refreshes), and that
// a deleted CRD stops resolving (the client without freshness still
// resolves it). It is not parallel: it counts discovery requests, which
// other tests' CRDs would add to.
func TestDiscoveryFresh(t *testing.T) {
	ctx := testContext(t)
	other := admin(t)
	crds := other.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")

	hourClient := func(log *slog.Logger) (*resource.Client, *discovery.Client) {
		tc, err := transport.New(config(t, "admin"))
		require.NoError(t, err)
		d := discovery.New(tc, &discovery.Options{TTL: time.Hour, Logger: log})
		c := newClientFromConfig(t, nil, resource.WithTransport(tc), resource.WithDiscovery(d))
		_, err = c.Resource("v1", "ConfigMap").Resolve(ctx)
		require.NoError(t, err)
		return c, d
	}
	misses := &missCounter{}
	ours, ourDisc := hourClient(slog.New(misses))
	_, staleDisc := hourClient(nil)

	changes := make(chan resource.DiscoveryChange, 256)
	var errMu sync.Mutex
	var errs []error
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- ours.WatchDiscovery(wctx, &resource.DiscoveryWatchOptions{
			OnChange: func(ch resource.DiscoveryChange) { changes <- ch },
			OnError: func(err error) {
				errMu.Lock()
				errs = append(errs, err)
				errMu.Unlock()
			},
		})
	}()
	t.Cleanup(func() {
		stop()
		assert.ErrorIs(t, <-done, context.Canceled)
	})
	// waitFor returns the first change of kind and name (name "" for a sync).
	waitFor := func(kind, name string) resource.DiscoveryChange {
		t.Helper()
		for {
			select {
			case ch := <-changes:
				if ch.Kind == kind && ch.Name == name {
					return ch
				}
			case <-ctx.Done():
				require.FailNow(t, "no change reported", "%s %s", kind, name)
			}
		}
	}
	waitFor("CustomResourceDefinition", "")
	waitFor("APIService", "")

	group := uniqueName("e2e-fresh") + ".example.com"
	name := "widgets." + group
	av := group + "/v1"
	start := time.Now()
	_, err := crds.Create(ctx, obj(t, crdManifest(group)), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = crds.Delete(context.Background(), name, nil) })

	ch := waitFor("CustomResourceDefinition", name)
	t.Logf("create to discovery settled (served): %s", time.Since(start).Round(time.Millisecond))
	require.NoError(t, ch.Err)
	assert.Equal(t, "served", ch.Reason)
	before := ourDisc.Stats()
	r, err := ourDisc.ResourceForKind(ctx, av, "Widget")
	require.NoError(t, err)
	assert.Equal(t, "widgets", r.Resource)
	assert.Equal(t, before, ourDisc.Stats(), "resolved from the cache: no request at lookup time")
	assert.Zero(t, misses.n.Load(), "no lookup of ours ever missed")
	// Through a handle too: the kind is served and a custom resource is
	// created at the first try.
	ns := newNamespace(t)
	_, err = ours.Resource(av, "Widget").Namespace(ns).Create(ctx, obj(t, `{"metadata":{"name":"w"},"spec":{"size":"small"}}`), nil)
	require.NoError(t, err)

	// The control: the same lookup through a client without freshness
	// misses its hour-old view and refreshes.
	before = staleDisc.Stats()
	_, err = staleDisc.ResourceForKind(ctx, av, "Widget")
	require.NoError(t, err)
	assert.Greater(t, staleDisc.Stats().Requests, before.Requests)

	start = time.Now()
	_, err = crds.Delete(ctx, name, nil)
	require.NoError(t, err)
	ch = waitFor("CustomResourceDefinition", name)
	t.Logf("delete to discovery settled (deleted): %s", time.Since(start).Round(time.Millisecond))
	require.NoError(t, ch.Err)
	assert.Equal(t, "deleted", ch.Reason)
	_, err = ourDisc.ResourceForKind(ctx, av, "Widget")
	require.ErrorIs(t, err, discovery.ErrUnknownResource, "a deleted CRD stops resolving")
	_, err = staleDisc.ResourceForKind(ctx, av, "Widget")
	assert.NoError(t, err, "without freshness the hour-old view still resolves it")

	errMu.Lock()
	defer errMu.Unlock()
	assert.Empty(t, errs, "the admin may watch both kinds")
}

// TestWaitEstablishedWatches checks on the real server that WaitEstablished
// reads the CRD once and then watches it, returning within half a second
// of the moment an independent watch sees Established.
func TestWaitEstablishedWatches(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	other := admin(t)
	crds := other.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
	rec := &recorder{prefix: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"}
	cfg := config(t, "admin")
	cfg.WrapTransport = rec.wrap
	c := newClientFromConfig(t, cfg)
	_, err := c.Resource("v1", "ConfigMap").Resolve(ctx)
	require.NoError(t, err)

	for i := range 3 {
		group := uniqueName("e2e-waitwatch") + ".example.com"
		name := "widgets." + group
		created, err := crds.Create(ctx, obj(t, crdManifest(group)), nil)
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = crds.Delete(context.Background(), name, nil) })
		// An independent watch, from the version created, notes when the
		// change to Established reaches a client.
		seen := make(chan time.Time, 1)
		wctx, stop := context.WithCancel(ctx)
		go func() {
			opts := &resource.WatchOptions{FieldSelector: "metadata.name=" + name, ResourceVersion: created.ResourceVersion()}
			for ev, err := range crds.Watch(wctx, opts) {
				if err != nil {
					return
				}
				if ev.Type == watch.Modified && establishedStatus(ev.Object) == "True" {
					seen <- time.Now()
					return
				}
			}
		}()
		rec.take()
		crd, err := c.WaitEstablished(ctx, name, nil)
		returned := time.Now()
		require.NoError(t, err)
		assert.Equal(t, "True", establishedStatus(crd))
		var established time.Time
		select {
		case established = <-seen:
		case <-ctx.Done():
			require.FailNow(t, "the independent watch never saw Established")
		}
		stop()
		lag := returned.Sub(established)
		t.Logf("run %d: WaitEstablished returned %s after an independent watch saw Established", i, lag.Round(time.Millisecond))
		assert.Less(t, lag, 500*time.Millisecond)
		assert.Equal(t, []string{"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + name + " 200"}, rec.take(),
			"read once, never polled (a watch goes to the collection)")
	}
}
