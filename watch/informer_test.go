package watch

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/unstructured"
)

// fakeSource feeds an informer events by hand. Sends are unbuffered, so
// once send returns for event n+1, event n has been applied.
type fakeSource struct{ ch chan Event }

func newFakeSource() *fakeSource { return &fakeSource{ch: make(chan Event)} }

func (f *fakeSource) events(ctx context.Context) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-f.ch:
				if !yield(ev, nil) {
					return
				}
			}
		}
	}
}

func (f *fakeSource) send(t *testing.T, evs ...Event) {
	t.Helper()
	for _, ev := range evs {
		select {
		case f.ch <- ev:
		case <-time.After(10 * time.Second):
			t.Fatal("informer does not take events")
		}
	}
}

// flush returns once every event sent before has been applied.
func (f *fakeSource) flush(t *testing.T) {
	t.Helper()
	f.send(t, Event{Type: Bookmark, Object: unstructured.MustParse(`{"metadata":{"resourceVersion":"0"}}`)})
}

func added(o unstructured.Object) Event    { return Event{Type: Added, Object: o} }
func modified(o unstructured.Object) Event { return Event{Type: Modified, Object: o} }
func deleted(o unstructured.Object) Event  { return Event{Type: Deleted, Object: o} }
func synced() Event {
	return Event{Type: Synced, Object: unstructured.MustParse(`{"metadata":{"resourceVersion":"1"}}`)}
}

// recorder is a Handler that writes what it gets, one line per call.
type recorder struct {
	mu    sync.Mutex
	lines []string
	got   chan struct{} // one send per call, buffered generously
}

func newRecorder() *recorder { return &recorder{got: make(chan struct{}, 100000)} }

func (r *recorder) handler() Handler {
	return Handler{
		OnAdd: func(o unstructured.Object, initial bool) {
			r.add(fmt.Sprintf("add %s rv=%s initial=%v", ObjectKey(o), o.ResourceVersion(), initial))
		},
		OnUpdate: func(old, o unstructured.Object) {
			r.add(fmt.Sprintf("update %s rv=%s->%s", ObjectKey(o), old.ResourceVersion(), o.ResourceVersion()))
		},
		OnDelete: func(o unstructured.Object) {
			r.add(fmt.Sprintf("delete %s rv=%s", ObjectKey(o), o.ResourceVersion()))
		},
	}
}

func (r *recorder) add(line string) {
	r.mu.Lock()
	r.lines = append(r.lines, line)
	r.mu.Unlock()
	r.got <- struct{}{}
}

// wait blocks until n more calls have happened and returns every line.
func (r *recorder) wait(t *testing.T, n int) []string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for range n {
		select {
		case <-r.got:
		case <-timeout:
			t.Fatalf("handler calls missing; have %v", r.snapshot())
		}
	}
	return r.snapshot()
}

func (r *recorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

// startInformer runs inf on src until the test ends; it returns a
// function that stops it and returns Run's error.
func startInformer(t *testing.T, inf *Informer, src *fakeSource) (stop func() error) {
	t.Helper()
	inf.source = src.events
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- inf.Run(ctx) }()
	stopped := false
	var err error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			err = <-done
		}
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// forInformerModes runs f as a parallel subtest with a plain store and
// with a compressed one.
func forInformerModes(t *testing.T, f func(t *testing.T, compress bool)) {
	t.Helper()
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
			t.Parallel()
			f(t, compress)
		})
	}
}

// newModeInformer is NewInformer with or without Compress. A compressed
// store fixes its dictionary after the first object here, so the tests'
// few small objects are compressed from the second on.
func newModeInformer(compress bool, opts *InformerOptions) *Informer {
	o := InformerOptions{}
	if opts != nil {
		o = *opts
	}
	o.Compress = compress
	inf := NewInformer(nil, &o)
	if compress {
		inf.store.pack.dictMin = 1
	}
	return inf
}

func TestInformerAppliesEventsAndNotifiesInOrder(t *testing.T) {
	t.Parallel()
	forInformerModes(t, testInformerAppliesEventsAndNotifiesInOrder)
}

func testInformerAppliesEventsAndNotifiesInOrder(t *testing.T, compress bool) {
	src := newFakeSource()
	inf := newModeInformer(compress, nil)
	rec := newRecorder()
	reg := inf.AddHandler(rec.handler())
	startInformer(t, inf, src)

	assert.False(t, inf.HasSynced())
	src.send(t, added(cm("ns", "a", "1", nil)), added(cm("ns", "b", "2", nil)), synced())
	require.NoError(t, inf.WaitForSync(t.Context()))
	require.NoError(t, reg.WaitForSync(t.Context()))
	assert.Equal(t, []string{"add ns/a rv=1 initial=true", "add ns/b rv=2 initial=true"}, rec.snapshot(),
		"the handler has processed the initial state when its registration says it has synced")

	src.send(t, modified(cm("ns", "a", "3", nil)), added(cm("ns", "c", "4", nil)), deleted(cm("ns", "b", "5", nil)))
	// A delete of an object the store does not hold notifies nobody.
	src.send(t, deleted(cm("ns", "never", "6", nil)))
	// After a restart, deletions carry only the key: the handler gets the
	// last stored state.
	src.send(t, Event{Type: Restarted}, added(cm("ns", "d", "7", nil)),
		deleted(unstructured.MustParse(`{"metadata":{"namespace":"ns","name":"c","resourceVersion":"8"}}`)), synced())
	src.flush(t)

	assert.Equal(t, []string{
		"add ns/a rv=1 initial=true", "add ns/b rv=2 initial=true",
		"update ns/a rv=1->3", "add ns/c rv=4 initial=false", "delete ns/b rv=5",
		"add ns/d rv=7 initial=false", "delete ns/c rv=4",
	}, rec.wait(t, 7))
	assert.Equal(t, []Key{{"ns", "a"}, {"ns", "d"}}, inf.Store().Keys())
}

// A relist's changes reach the store together at Synced: while the diff
// streams in, readers and handlers still see the state before the relist,
// never a new object beside one deleted while the informer could not
// watch.
func TestInformerAppliesARelistAtOnce(t *testing.T) {
	t.Parallel()
	forInformerModes(t, testInformerAppliesARelistAtOnce)
}

func testInformerAppliesARelistAtOnce(t *testing.T, compress bool) {
	src := newFakeSource()
	inf := newModeInformer(compress, nil)
	rec := newRecorder()
	inf.AddHandler(rec.handler())
	startInformer(t, inf, src)
	src.send(t, added(cm("ns", "a", "1", nil)), added(cm("ns", "gone", "2", nil)), synced())
	require.NoError(t, inf.WaitForSync(t.Context()))
	rec.wait(t, 2)

	src.send(t, Event{Type: Restarted}, added(cm("ns", "new", "5", nil)), modified(cm("ns", "a", "6", nil)),
		deleted(unstructured.MustParse(`{"metadata":{"namespace":"ns","name":"gone"}}`)))
	src.flush(t)
	assert.Equal(t, []Key{{"ns", "a"}, {"ns", "gone"}}, inf.Store().Keys(), "the relist is not applied before Synced")
	a, ok := inf.Store().Get(Key{"ns", "a"})
	require.True(t, ok)
	assert.Equal(t, "1", a.ResourceVersion())
	assert.Len(t, rec.snapshot(), 2, "no handler call before Synced")

	src.send(t, synced())
	src.flush(t)
	assert.Equal(t, []Key{{"ns", "a"}, {"ns", "new"}}, inf.Store().Keys())
	a, _ = inf.Store().Get(Key{"ns", "a"})
	assert.Equal(t, "6", a.ResourceVersion())
	assert.Equal(t, []string{"add ns/a rv=1 initial=true", "add ns/gone rv=2 initial=true",
		"add ns/new rv=5 initial=false", "update ns/a rv=1->6", "delete ns/gone rv=2"}, rec.wait(t, 3))

	// A relist cut short (another Restarted before Synced) starts over:
	// what the first attempt sent is dropped.
	src.send(t, Event{Type: Restarted}, deleted(unstructured.MustParse(`{"metadata":{"namespace":"ns","name":"a"}}`)),
		Event{Type: Restarted}, added(cm("ns", "b", "7", nil)), synced())
	src.flush(t)
	assert.Equal(t, []Key{{"ns", "a"}, {"ns", "b"}, {"ns", "new"}}, inf.Store().Keys())
}

func TestInformerRunsOnce(t *testing.T) {
	t.Parallel()
	inf := NewInformer(nil, nil)
	startInformer(t, inf, newFakeSource())
	inf.mu.Lock()
	for inf.runCtx == nil {
		inf.mu.Unlock()
		runtime.Gosched()
		inf.mu.Lock()
	}
	inf.mu.Unlock()
	assert.ErrorIs(t, inf.Run(t.Context()), ErrInformerRunning)
}

func TestInformerHandlerAddedLaterGetsTheStoreFirst(t *testing.T) {
	t.Parallel()
	forInformerModes(t, testInformerHandlerAddedLaterGetsTheStoreFirst)
}

func testInformerHandlerAddedLaterGetsTheStoreFirst(t *testing.T, compress bool) {
	src := newFakeSource()
	inf := newModeInformer(compress, nil)
	startInformer(t, inf, src)
	src.send(t, added(cm("ns", "a", "1", nil)), synced())
	src.flush(t)

	rec := newRecorder()
	reg := inf.AddHandler(rec.handler())
	require.NoError(t, reg.WaitForSync(t.Context()))
	src.send(t, modified(cm("ns", "a", "2", nil)))
	assert.Equal(t, []string{"add ns/a rv=1 initial=true", "update ns/a rv=1->2"}, rec.wait(t, 2))

	reg.Remove()
	src.send(t, modified(cm("ns", "a", "3", nil)))
	src.flush(t)
	assert.Len(t, rec.snapshot(), 2, "a removed handler gets nothing more")
}

func TestInformerSlowHandlerDelaysOnlyItself(t *testing.T) {
	t.Parallel()
	const n = 10000
	src := newFakeSource()
	inf := NewInformer(nil, nil)
	release := make(chan struct{})
	var slowSeen []string
	slowDone := make(chan struct{})
	inf.AddHandler(Handler{OnAdd: func(o unstructured.Object, _ bool) {
		<-release
		slowSeen = append(slowSeen, o.Name())
		if len(slowSeen) == n {
			close(slowDone)
		}
	}})
	fast := newRecorder()
	inf.AddHandler(fast.handler())
	startInformer(t, inf, src)

	// A burst of 10,000 events passes while the slow handler is stuck on
	// its first call.
	for i := range n {
		src.send(t, added(cm("ns", fmt.Sprintf("o%05d", i), fmt.Sprint(i+1), nil)))
	}
	src.send(t, synced())
	require.NoError(t, inf.WaitForSync(t.Context()))
	assert.Equal(t, n, inf.Store().Len())
	lines := fast.wait(t, n)
	assert.Equal(t, "add ns/o09999 rv=10000 initial=true", lines[n-1])

	close(release)
	<-slowDone
	for i, name := range slowSeen {
		if !assert.Equal(t, fmt.Sprintf("o%05d", i), name, "the slow handler sees every change in order") {
			break
		}
	}
}

func TestInformerHandlerPanicIsReported(t *testing.T) {
	t.Parallel()
	src := newFakeSource()
	errs := make(chan error, 10)
	inf := NewInformer(nil, &InformerOptions{OnError: func(err error) { errs <- err }})
	rec := newRecorder()
	inf.AddHandler(Handler{OnAdd: func(o unstructured.Object, _ bool) {
		if o.Name() == "bad" {
			panic("handler bug")
		}
		rec.add("add " + o.Name())
	}})
	other := newRecorder()
	inf.AddHandler(other.handler())
	startInformer(t, inf, src)
	src.send(t, added(cm("ns", "bad", "1", nil)), added(cm("ns", "good", "2", nil)))

	var pe *HandlerPanicError
	require.ErrorAs(t, <-errs, &pe)
	assert.Equal(t, "handler bug", pe.Value)
	assert.Contains(t, string(pe.Stack), "informer_test.go")
	assert.Equal(t, []string{"add good"}, rec.wait(t, 1), "the panicking handler goes on with the next change")
	assert.Len(t, other.wait(t, 2), 2, "other handlers are not affected")
	assert.Equal(t, 2, inf.Store().Len())
}

func TestInformerTransform(t *testing.T) {
	t.Parallel()
	forInformerModes(t, testInformerTransform)
}

func testInformerTransform(t *testing.T, compress bool) {
	src := newFakeSource()
	errs := make(chan error, 10)
	inf := newModeInformer(compress, &InformerOptions{
		OnError: func(err error) { errs <- err },
		Transform: func(o unstructured.Object) (unstructured.Object, error) {
			if o.Name() == "refused" {
				return unstructured.Object{}, errors.New("nope")
			}
			return DropManagedFields(o)
		},
	})
	startInformer(t, inf, src)
	withMF := func(name string) unstructured.Object {
		o, err := cm("ns", name, "1", nil).Set("metadata.managedFields", []any{map[string]any{"manager": "kubectl"}})
		require.NoError(t, err)
		return o
	}
	src.send(t, added(withMF("a")), added(withMF("refused")))
	src.flush(t)
	a, ok := inf.Store().Get(Key{"ns", "a"})
	require.True(t, ok)
	assert.False(t, a.Get("metadata.managedFields").Exists())
	assert.Equal(t, "a", a.Name())
	r, ok := inf.Store().Get(Key{"ns", "refused"})
	require.True(t, ok, "an object the transform refuses is stored as received")
	assert.True(t, r.Get("metadata.managedFields").Exists())
	assert.ErrorContains(t, <-errs, "transform ns/refused: nope")
}

func TestInformerResync(t *testing.T) {
	t.Parallel()
	forInformerModes(t, testInformerResync)
}

func testInformerResync(t *testing.T, compress bool) {
	clk := NewFakeClock()
	src := newFakeSource()
	inf := newModeInformer(compress, &InformerOptions{ResyncPeriod: time.Minute, Watcher: &Config{Clock: clk}})
	rec := newRecorder()
	inf.AddHandler(rec.handler())
	startInformer(t, inf, src)
	src.send(t, added(cm("ns", "a", "1", nil)), synced())
	src.flush(t)
	rec.wait(t, 1)
	waitTimers(t, clk, 1)
	clk.Step(time.Minute)
	assert.Equal(t, []string{"add ns/a rv=1 initial=true", "update ns/a rv=1->1"}, rec.wait(t, 1))
	waitTimers(t, clk, 1)
	clk.Step(time.Minute)
	assert.Len(t, rec.wait(t, 1), 3, "resync repeats every period")
}

// waitTimers waits until clk has n timers armed.
func waitTimers(t *testing.T, clk *FakeClock, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for clk.pending() < n {
		if time.Now().After(deadline) {
			t.Fatal("timer never armed")
		}
		runtime.Gosched()
	}
}

func TestInformerIndexers(t *testing.T) {
	t.Parallel()
	forInformerModes(t, testInformerIndexers)
}

func testInformerIndexers(t *testing.T, compress bool) {
	src := newFakeSource()
	inf := newModeInformer(compress, &InformerOptions{Indexers: DefaultIndexers()})
	startInformer(t, inf, src)
	src.send(t, added(cm("ns", "a", "1", nil, "owner-1")), added(cm("ns", "b", "1", nil, "owner-2")), synced())
	src.flush(t)
	keys, err := inf.Store().KeysByIndex(IndexOwnerUID, "owner-1")
	require.NoError(t, err)
	assert.Equal(t, []Key{{"ns", "a"}}, keys)
}

// informerGoroutines counts the goroutines running informer code.
func informerGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		// A goroutine that has not started yet shows only WaitGroup.Go's
		// closure; the informer starts its goroutines with WaitGroup.Go.
		if strings.Contains(g, "/watch/informer.go") || strings.Contains(g, "created by sync.(*WaitGroup).Go") {
			n++
		}
	}
	return n
}

// Not parallel: it counts goroutines.
func TestInformerGoroutinesEndWithContext(t *testing.T) {
	src := newFakeSource()
	inf := NewInformer(nil, &InformerOptions{ResyncPeriod: time.Hour})
	release := make(chan struct{})
	inf.AddHandler(Handler{OnAdd: func(unstructured.Object, bool) { <-release }})
	inf.AddHandler(Handler{})
	stop := startInformer(t, inf, src)
	src.send(t, added(cm("ns", "a", "1", nil)), synced())
	src.flush(t)
	inf.AddHandler(Handler{}) // added while running
	assert.Equal(t, 5, informerGoroutines(), "Run, three handlers and the resync loop")
	close(release)
	assert.ErrorIs(t, stop(), context.Canceled)
	assert.Zero(t, informerGoroutines(), "Run returns after every goroutine it started has ended")
}

// syncWriter is a bytes.Buffer for a logger written from other goroutines.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestInformerHandlerPanicIsLoggedWithoutOnError(t *testing.T) {
	t.Parallel()
	var logs syncWriter
	src := newFakeSource()
	inf := NewInformer(nil, &InformerOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	rec := newRecorder()
	inf.AddHandler(Handler{OnAdd: func(o unstructured.Object, _ bool) {
		if o.Name() == "bad" {
			panic("handler bug")
		}
		rec.add(o.Name())
	}})
	startInformer(t, inf, src)
	src.send(t, added(cm("ns", "bad", "1", nil)), added(cm("ns", "good", "2", nil)))
	rec.wait(t, 1) // the panic was handled before the next change
	assert.Contains(t, logs.String(), `level=ERROR msg="informer: handler panicked" panic="handler bug"`)
	assert.Contains(t, logs.String(), "informer_test.go", "the stack is logged")
}
