package watch_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
)

// informerRig is an informer of the test server's ConfigMaps in one
// namespace, with a way to wait for its store without polling.
type informerRig struct {
	srv     *testserver.Server
	cms     resource.Handle
	inf     *watch.Informer
	changed chan struct{}
	errs    chan error
	ns      string
}

func newInformerRig(t *testing.T, cfg *watch.Config) *informerRig {
	t.Helper()
	return newInformerRigCompress(t, cfg, false)
}

// newInformerRigCompress is newInformerRig with InformerOptions.Compress
// as given.
func newInformerRigCompress(t *testing.T, cfg *watch.Config, compress bool) *informerRig {
	t.Helper()
	srv := testserver.New(t)
	c, err := resource.NewClient(&transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()})
	require.NoError(t, err)
	r := &informerRig{srv: srv, changed: make(chan struct{}, 1), errs: make(chan error, 1000), ns: "default"}
	r.cms = c.Resource("v1", "ConfigMap").Namespace(r.ns)
	r.inf = watch.NewInformer(r.cms.ListWatcher(nil), &watch.InformerOptions{
		Watcher:  cfg,
		Compress: compress,
		OnError: func(err error) {
			select {
			case r.errs <- err:
			default:
			}
		},
	})
	poke := func() {
		select {
		case r.changed <- struct{}{}:
		default:
		}
	}
	r.inf.AddHandler(watch.Handler{
		OnAdd:    func(unstructured.Object, bool) { poke() },
		OnUpdate: func(_, _ unstructured.Object) { poke() },
		OnDelete: func(unstructured.Object) { poke() },
	})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { _ = r.inf.Run(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })
	require.NoError(t, r.inf.WaitForSync(t.Context()))
	return r
}

func (r *informerRig) create(t *testing.T, name string) {
	t.Helper()
	_, err := r.cms.Create(t.Context(), unstructured.MustParse(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"`+name+`"},"data":{"v":"0"}}`), nil)
	require.NoError(t, err)
}

func (r *informerRig) update(t *testing.T, name, v string) {
	t.Helper()
	_, err := r.cms.Patch(t.Context(), name, resource.MergePatch, []byte(`{"data":{"v":"`+v+`"}}`), nil)
	require.NoError(t, err)
}

func (r *informerRig) delete(t *testing.T, name string) {
	t.Helper()
	_, err := r.cms.Delete(t.Context(), name, nil)
	require.NoError(t, err)
}

// converge writes a marker, waits until the store has it (so the store
// has seen every write before it) and checks the store against a fresh
// list: the same keys at the same resourceVersions.
func (r *informerRig) converge(t *testing.T, marker string) {
	t.Helper()
	r.create(t, marker)
	timeout := time.After(30 * time.Second)
	for {
		if _, ok := r.inf.Store().Get(watch.Key{Namespace: r.ns, Name: marker}); ok {
			break
		}
		select {
		case <-r.changed:
		case <-timeout:
			t.Fatalf("the store never got %s", marker)
		}
	}
	want := map[string]string{}
	for o, err := range r.cms.List(t.Context(), nil) {
		require.NoError(t, err)
		want[o.Name()] = o.ResourceVersion()
	}
	got := map[string]string{}
	for _, o := range r.inf.Store().List() {
		got[o.Name()] = o.ResourceVersion()
	}
	require.Equal(t, want, got, "after %s", marker)
}

// TestInformerConvergesAfterFaults injects every watch fault the test
// server has, with writes before and after each, and checks after each that
// the store holds exactly the server's state.
func TestInformerConvergesAfterFaults(t *testing.T) {
	t.Parallel()
	forCompress(t, testInformerConvergesAfterFaults)
}

func testInformerConvergesAfterFaults(t *testing.T, compress bool) {
	r := newInformerRigCompress(t, fastWatcher(), compress)
	for i := range 5 {
		r.create(t, fmt.Sprintf("base-%d", i))
	}
	r.converge(t, "m-start")
	faults := []struct {
		name   string
		inject func()
	}{
		{"end watches", r.srv.EndWatches},
		{"drop watches", r.srv.DropWatches},
		{"cut mid-event", r.srv.CutWatches},
		{"compact then drop (410 on resume)", func() { r.srv.Compact(); r.srv.DropWatches() }},
		{"410 status on the next watch", func() {
			r.srv.Inject(testserver.Fault{Method: "GET", Query: "watch=true", Status: 410, Times: 1})
			r.srv.DropWatches()
		}},
		{"500 then drop", func() {
			r.srv.Inject(testserver.Fault{Method: "GET", Query: "watch=true", Status: 500, Times: 2})
			r.srv.DropWatches()
		}},
		{"list fails during relist", func() {
			r.srv.Compact()
			r.srv.Inject(testserver.Fault{Method: "GET", PathPrefix: "/api/v1/namespaces/default/configmaps", Drop: true, Times: 2})
			r.srv.DropWatches()
		}},
	}
	for i, f := range faults {
		// Changes before the fault, during it and after it: creates,
		// updates and deletes, some of objects the store already holds.
		r.create(t, fmt.Sprintf("before-%d", i))
		r.update(t, fmt.Sprintf("base-%d", i%5), fmt.Sprint(i))
		f.inject()
		r.create(t, fmt.Sprintf("after-%d", i))
		if i > 0 {
			r.delete(t, fmt.Sprintf("before-%d", i-1))
		}
		r.converge(t, fmt.Sprintf("m-%d", i))
		t.Logf("converged after %s", f.name)
	}
}

// TestInformerRelistDeliversDeletes checks that objects deleted while the
// informer could not watch (a compaction forced a relist) reach handlers
// as deletes with their last known state.
func TestInformerRelistDeliversDeletes(t *testing.T) {
	t.Parallel()
	forCompress(t, testInformerRelistDeliversDeletes)
}

func testInformerRelistDeliversDeletes(t *testing.T, compress bool) {
	r := newInformerRigCompress(t, fastWatcher(), compress)
	deletes := make(chan unstructured.Object, 10)
	r.inf.AddHandler(watch.Handler{OnDelete: func(o unstructured.Object) { deletes <- o }})
	r.create(t, "doomed")
	r.converge(t, "m-0")
	held, ok := r.inf.Store().Get(watch.Key{Namespace: "default", Name: "doomed"})
	require.True(t, ok)

	// Break the watch so it cannot resume, delete meanwhile, and compact
	// the history away.
	r.srv.Inject(testserver.Fault{Method: "GET", Query: "watch=true", Status: 503, Times: 1})
	r.srv.DropWatches()
	r.delete(t, "doomed")
	r.srv.Compact()
	r.converge(t, "m-1")
	select {
	case o := <-deletes:
		assert.Equal(t, "doomed", o.Name())
		assert.Equal(t, held.ResourceVersion(), o.ResourceVersion())
	case <-time.After(30 * time.Second):
		t.Fatal("no delete delivered")
	}
}

// TestInformerBurst sends 10,000 changes as fast as the server takes them
// and checks that the store and a counting handler end with the server.
func TestInformerBurst(t *testing.T) {
	t.Parallel()
	r := newInformerRig(t, fastWatcher())
	var adds atomic.Int64
	done := make(chan struct{})
	r.inf.AddHandler(watch.Handler{OnAdd: func(o unstructured.Object, _ bool) {
		if adds.Add(1) == 10001 {
			close(done)
		}
	}})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < 10000; i += 8 {
				_, err := r.cms.Create(t.Context(), unstructured.MustParse(fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"burst-%05d"}}`, i)), nil)
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	r.converge(t, "m-burst")
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("handler saw %d adds", adds.Load())
	}
	assert.Equal(t, 10001, r.inf.Store().Len())
}

// forCompress runs f as a parallel subtest with a plain and with a
// compressed informer store.
func forCompress(t *testing.T, f func(t *testing.T, compress bool)) {
	t.Helper()
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
			t.Parallel()
			f(t, compress)
		})
	}
}

// fastWatcher reconnects within milliseconds, so fault tests do not wait
// for the real backoff schedule.
func fastWatcher() *watch.Config {
	return &watch.Config{Backoff: watch.Backoff{Initial: time.Millisecond, Max: 20 * time.Millisecond}}
}

// TestInformerRelistIsIncremental forces a relist (compaction, then a
// broken watch) while nothing changes: handlers get no change at all, and
// the store keeps the very objects it held (no second copy was made).
func TestInformerRelistIsIncremental(t *testing.T) {
	t.Parallel()
	forCompress(t, testInformerRelistIsIncremental)
}

func testInformerRelistIsIncremental(t *testing.T, compress bool) {
	r := newInformerRigCompress(t, fastWatcher(), compress)
	for i := range 50 {
		r.create(t, fmt.Sprintf("o-%02d", i))
	}
	r.converge(t, "m-0")
	before := map[string]*byte{}
	for _, o := range r.inf.Store().List() {
		before[o.Name()] = unsafe.StringData(o.String())
	}
	var changes atomic.Int64
	r.inf.AddHandler(watch.Handler{
		OnUpdate: func(old, obj unstructured.Object) { changes.Add(1) },
		OnDelete: func(unstructured.Object) { changes.Add(1) },
	})

	r.srv.Compact()
	r.srv.Inject(testserver.Fault{Method: "GET", Query: "watch=true", Status: 410, Times: 1})
	r.srv.DropWatches()
	r.converge(t, "m-1")

	relisted := false
	for len(r.errs) > 0 {
		if err := <-r.errs; errors.Is(err, transport.ErrGone) {
			relisted = true
		}
	}
	require.True(t, relisted, "the watcher was told 410 Gone and relisted")
	assert.GreaterOrEqual(t, r.inf.Stats().Restarts, 1, "Stats counts the relist")
	assert.NotEmpty(t, r.inf.ResourceVersion())
	assert.Zero(t, changes.Load(), "unchanged objects are not delivered again by a relist")
	if compress {
		return // every read of a compressed store is a new copy
	}
	for _, o := range r.inf.Store().List() {
		if p, ok := before[o.Name()]; ok {
			assert.Same(t, p, unsafe.StringData(o.String()), "%s was replaced by a relist", o.Name())
		}
	}
}
