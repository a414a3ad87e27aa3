package e2e_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
)

// storeWatcher runs an informer for a test and waits, without polling, for
// its store to reach a state: every change pokes the waiter.
type storeWatcher struct {
	inf     *watch.Informer
	changed chan struct{}
}

func runInformer(t *testing.T, lw watch.ListWatcher, opts *watch.InformerOptions) *storeWatcher {
	t.Helper()
	w := &storeWatcher{inf: watch.NewInformer(lw, opts), changed: make(chan struct{}, 1)}
	poke := func() {
		select {
		case w.changed <- struct{}{}:
		default:
		}
	}
	w.inf.AddHandler(watch.Handler{
		OnAdd:    func(unstructured.Object, bool) { poke() },
		OnUpdate: func(_, _ unstructured.Object) { poke() },
		OnDelete: func(unstructured.Object) { poke() },
	})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { _ = w.inf.Run(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })
	return w
}

// until waits up to d for cond, checked after every change of the store.
func (w *storeWatcher) until(t testing.TB, d time.Duration, what string, cond func(s *watch.Store) bool) {
	t.Helper()
	timeout := time.After(d)
	for !cond(w.inf.Store()) {
		select {
		case <-w.changed:
		case <-timeout:
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
	}
}

// TestInformerConvergesUnderConcurrentWriters watches a namespace while
// concurrent writers create, update and delete 2,000 ConfigMaps, then checks
// the store against a fresh list: the same keys at the same
// resourceVersions.
func TestInformerConvergesUnderConcurrentWriters(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	c := admin(t)
	cms := c.Resource("v1", "ConfigMap").Namespace(ns)
	w := runInformer(t, cms.ListWatcher(nil), &watch.InformerOptions{Transform: watch.DropManagedFields})
	meta := runInformer(t, cms.MetadataOnly().ListWatcher(nil), nil)
	require.NoError(t, w.inf.WaitForSync(ctx))
	require.NoError(t, meta.inf.WaitForSync(ctx))

	const writers, perWriter = 8, 250
	var wg sync.WaitGroup
	for wr := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(wr), 1))
			for i := range perWriter {
				name := fmt.Sprintf("w%d-%d", wr, i)
				o := obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"`+name+`"},"data":{"v":"0"}}`)
				_, err := cms.Create(ctx, o, nil)
				if !assert.NoError(t, err) {
					return
				}
				switch rng.IntN(3) {
				case 0: // updated twice
					for v := range 2 {
						_, err := cms.Patch(ctx, name, resource.MergePatch, fmt.Appendf(nil, `{"data":{"v":"%d"}}`, v+1), nil)
						assert.NoError(t, err)
					}
				case 1: // deleted again
					_, err := cms.Delete(ctx, name, nil)
					assert.NoError(t, err)
				}
			}
		})
	}
	wg.Wait()
	// The marker is written after every other write: once the informer has
	// it, it has seen everything before it.
	_, err := cms.Create(ctx, obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"marker"}}`), nil)
	require.NoError(t, err)
	for _, w := range []*storeWatcher{w, meta} {
		w.until(t, time.Minute, "the marker", func(s *watch.Store) bool {
			_, ok := s.Get(watch.Key{Namespace: ns, Name: "marker"})
			return ok
		})
	}

	want := map[string]string{}
	for o, err := range cms.List(ctx, nil) {
		require.NoError(t, err)
		want[o.Name()] = o.ResourceVersion()
	}
	got := map[string]string{}
	for _, o := range w.inf.Store().List() {
		got[o.Name()] = o.ResourceVersion()
		assert.False(t, o.Get("metadata.managedFields").Exists(), "the transform ran on %s", o.Name())
	}
	assert.Equal(t, want, got)

	// The metadata-only informer holds the same keys and versions, as
	// PartialObjectMetadata without data.
	got = map[string]string{}
	for _, o := range meta.inf.Store().List() {
		got[o.Name()] = o.ResourceVersion()
		assert.False(t, o.Get("data").Exists(), "%s: metadata only", o.Name())
		assert.True(t, o.Get("metadata.uid").Exists())
	}
	assert.Equal(t, want, got)
	assert.Greater(t, len(want), writers*perWriter/2, "most objects survive")
}
