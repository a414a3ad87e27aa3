package e2e_test

import (
	"context"
	"log/slog"
	"slices"
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
	// Both syncs, in whichever order the two watches reach them (waiting
	// for one then the other would drop the second if it came first).
	for synced := map[string]bool{}; len(synced) < 2; {
		select {
		case ch := <-changes:
			if ch.Name == "" {
				synced[ch.Kind] = true
			}
		case <-ctx.Done():
			require.FailNow(t, "no sync reported", "CustomResourceDefinition and APIService")
		}
	}

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

	// A short name added: the server accepts it (status.acceptedNames) and
	// discovery lists it a moment later; it resolves from the cache.
	short := strings.ReplaceAll(uniqueName("fw"), "-", "")
	_, err = crds.Patch(ctx, name, resource.JSONPatch, []byte(`[{"op":"add","path":"/spec/names/shortNames/-","value":"`+short+`"}]`), nil)
	require.NoError(t, err)
	ch = waitFor("CustomResourceDefinition", name)
	require.NoError(t, ch.Err)
	assert.Equal(t, "changed", ch.Reason)
	before = ourDisc.Stats()
	r, err = ourDisc.ResourceFor(ctx, short)
	require.NoError(t, err)
	assert.Equal(t, "widgets", r.Resource)
	assert.Equal(t, before, ourDisc.Stats(), "the new short name resolves from the cache")

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

// TestDiscoveryFreshAPIServices checks on the real server that an
// APIService counts once it is Available, and when it is deleted; one that
// never becomes Available (its service does not exist) changes nothing. It
// is not parallel: the APIServices it adds show in every client's
// discovery while they exist.
func TestDiscoveryFreshAPIServices(t *testing.T) {
	ctx := testContext(t)
	c := admin(t)
	svcs := c.Resource("apiregistration.k8s.io/v1", "APIService")
	changes := make(chan resource.DiscoveryChange, 256)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- c.WatchDiscovery(wctx, &resource.DiscoveryWatchOptions{
			OnChange: func(ch resource.DiscoveryChange) { changes <- ch },
			OnError:  func(error) {},
		})
	}()
	t.Cleanup(func() {
		stop()
		assert.ErrorIs(t, <-done, context.Canceled)
	})
	// next returns the next APIService change of one of names, "" for sync.
	next := func(names ...string) resource.DiscoveryChange {
		t.Helper()
		for {
			select {
			case ch := <-changes:
				if ch.Kind == "APIService" && slices.Contains(names, ch.Name) {
					return ch
				}
			case <-ctx.Done():
				require.FailNow(t, "no APIService change reported")
			}
		}
	}
	next("")

	id := uniqueName("e2e-freshsvc")
	// Backed by a service that does not exist: never Available.
	unavailable := "v1." + id + "-remote.example.com"
	_, err := svcs.Create(ctx, obj(t, `{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"`+unavailable+`"},
"spec":{"group":"`+id+`-remote.example.com","version":"v1","groupPriorityMinimum":100,"versionPriority":10,
 "insecureSkipTLSVerify":true,"service":{"namespace":"default","name":"`+id+`"}}}`), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = svcs.Delete(context.Background(), unavailable, nil) })
	// Local (no service): Available at once.
	local := "v1." + id + ".example.com"
	_, err = svcs.Create(ctx, obj(t, `{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"`+local+`"},
"spec":{"group":"`+id+`.example.com","version":"v1","groupPriorityMinimum":100,"versionPriority":10}}`), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = svcs.Delete(context.Background(), local, nil) })

	ch := next(unavailable, local)
	assert.Equal(t, resource.DiscoveryChange{Kind: "APIService", Name: local, Reason: "served"}, ch,
		"the unavailable one, created first, changes nothing")
	_, err = svcs.Delete(ctx, local, nil)
	require.NoError(t, err)
	assert.Equal(t, resource.DiscoveryChange{Kind: "APIService", Name: local, Reason: "deleted"}, next(unavailable, local))
}

// TestDiscoveryFreshForbidden runs WatchDiscovery as a user that may not
// list or watch CRDs and APIServices: both refusals are reported (and
// retried), WatchDiscovery keeps running and ends with its context.
func TestDiscoveryFreshForbidden(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	nobody := newClient(t, "nobody")
	errs := make(chan error, 64)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- nobody.WatchDiscovery(wctx, &resource.DiscoveryWatchOptions{OnError: func(err error) { errs <- err }})
	}()
	refused := map[string]bool{}
	for len(refused) < 2 {
		select {
		case err := <-errs:
			require.ErrorIs(t, err, transport.ErrForbidden)
			for _, kind := range []string{"CustomResourceDefinition", "APIService"} {
				if strings.Contains(err.Error(), "watch "+kind+" for discovery: ") {
					refused[kind] = true
				}
			}
		case err := <-done:
			require.FailNow(t, "WatchDiscovery ended on a refusal", "%v", err)
		case <-ctx.Done():
			require.FailNow(t, "refusals not reported")
		}
	}
	select {
	case err := <-done:
		require.FailNow(t, "WatchDiscovery ended on a refusal", "%v", err)
	default:
	}
	stop()
	assert.ErrorIs(t, <-done, context.Canceled)
}
