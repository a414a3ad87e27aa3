package watch

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/kubedyn/kubedyn/unstructured"
)

// ErrInformerRunning is returned by Informer.Run when the informer is
// already running (or has run): an informer runs once.
var ErrInformerRunning = errors.New("watch: informer already started")

// InformerOptions configure an Informer. Nil means defaults. NewInformer
// copies the options; it does not modify them.
type InformerOptions struct {
	// Transform, if set, rewrites each object before it is stored (and
	// before handlers see it), for example DropManagedFields to save
	// memory. It must not keep or modify anything it is given other than
	// through its result. When it fails the object is stored as received
	// and the error reported.
	Transform func(unstructured.Object) (unstructured.Object, error)
	// Compress makes the store hold each object compressed: raw deflate
	// at level 9 against a preset dictionary made of the resource's first
	// objects (whole objects until it holds 4 KiB; those few stay as they
	// are). It trades time for memory: each object stored is compressed,
	// and every Store read (Get, List, ListNamespace, ByIndex) decompresses
	// into a new Object the caller owns. Handlers still get the objects as
	// received (OnUpdate's old and a relist's OnDelete are decompressed),
	// and ResourceVersionOf, which a relist asks of every object, reads a
	// copy kept beside the blob (5 bytes a ConfigMap) instead of
	// decompressing (0.08 µs instead of 4). Measured on a shared 2-core
	// machine (BenchmarkInformerHeap, BenchmarkStoreGet, medians of 6)
	// with 10,000 ConfigMaps of 780 B, managedFields dropped: 193 B per
	// object held instead of 975 (0.25x the JSON), about 4 µs per Get
	// instead of 0.07 µs (one allocation of the object's size), a sync of
	// 490 ms instead of 120 ms. Suited to large collections read by key or index now and then;
	// not to a store that is listed often (AddHandler and each resync list
	// it). While it is being written a compressed store also keeps a
	// pooled deflate writer of 1.6 MB, which the second garbage
	// collection after the writes end frees.
	Compress bool
	// Indexers are added to the store before the first object arrives.
	Indexers map[string]IndexFunc
	// ResyncPeriod, when positive, hands every stored object to every
	// handler's OnUpdate (old and new the same) once per period, so
	// controllers revisit objects whose external state may have drifted.
	// Resyncs never touch the server.
	ResyncPeriod time.Duration
	// Watcher configures the Watcher the informer runs on (backoff, idle
	// deadline, WatchList bound, clock). Its Known field is set by the
	// informer to its store.
	Watcher *Config
	// OnError receives errors the informer recovers from: watch errors the
	// Watcher retries, transform failures, and panics of handlers (as
	// *HandlerPanicError). Nil logs them: panics at Error level with their
	// stack, the rest at Warn.
	OnError func(error)
	// Logger logs what OnError is not given, and is the Watcher's logger
	// unless Watcher.Logger is set; nil means slog.Default().
	Logger *slog.Logger
}

// Handler receives an informer's changes. Nil functions are skipped. Every
// handler gets its own goroutine and queue: a slow handler delays only
// itself, never the watch or other handlers, and it sees the changes of each
// object in the order they happened. A panic in a handler is recovered and
// reported (a *HandlerPanicError to InformerOptions.OnError); the informer
// and the handler go on with the next change.
type Handler struct {
	// OnAdd is called for an object new to the store. initial is true for
	// the objects of the first list (and for every stored object when the
	// handler is added to an informer that already holds objects).
	OnAdd func(obj unstructured.Object, initial bool)
	// OnUpdate is called with the object's previous and new state. On a
	// resync both are the same object.
	OnUpdate func(old, obj unstructured.Object)
	// OnDelete is called with the object's last state: the server's final
	// state for a deletion seen on the watch, the last stored state for an
	// object found gone when the watcher relisted.
	OnDelete func(obj unstructured.Object)
}

// HandlerPanicError reports a panic recovered from a handler.
type HandlerPanicError struct {
	Value any    // what the handler panicked with
	Stack []byte // the goroutine's stack at the panic
}

func (e *HandlerPanicError) Error() string {
	return fmt.Sprintf("informer handler panicked: %v", e.Value)
}

// Informer keeps a Store of one collection (a ListWatcher: one resource,
// namespace and selector) in step with the server through a Watcher: it
// lists (or WatchLists), then watches, relists after 410 Gone applying only
// the difference (all of it at once, when the relist is complete, so the
// store never mixes states from before and after it), and hands every
// change to its handlers.
//
// An Informer is safe for concurrent use by multiple goroutines. It runs
// once (Run); its goroutines end when Run's context does, and Run returns
// after they have.
type Informer struct {
	lw     ListWatcher
	opts   InformerOptions
	store  *Store
	logger *slog.Logger

	// source yields the watcher's events; tests replace it.
	source  func(ctx context.Context) iter.Seq2[Event, error]
	watcher atomic.Pointer[Watcher] // set when Run starts watching

	// mu orders changes to the store with the notifications they cause
	// and with handler registration, so each handler sees a consistent
	// sequence.
	mu         sync.Mutex
	handlers   []*handlerRunner
	started    bool
	runCtx     context.Context
	runWG      sync.WaitGroup
	restarting bool
	// pending holds a relist's changes, from Restarted to Synced, to be
	// applied together: readers of the store see the state before the
	// relist or after it, never a mix (a new object beside one that was
	// deleted while the informer could not watch). Only the goroutine
	// that applies events touches it.
	pending  []Event
	synced   bool
	syncedCh chan struct{}
}

// NewInformer returns an informer of lw's collection. It does no I/O
// until Run.
func NewInformer(lw ListWatcher, opts *InformerOptions) *Informer {
	inf := &Informer{lw: lw, syncedCh: make(chan struct{})}
	if opts != nil {
		inf.opts = *opts
	}
	if inf.opts.Compress {
		inf.store = newCompressedStore()
	} else {
		inf.store = newStore()
	}
	inf.logger = inf.opts.Logger
	if inf.logger == nil {
		inf.logger = slog.Default()
	}
	if len(inf.opts.Indexers) > 0 {
		// The store is empty: this cannot fail but on a nil func.
		if err := inf.store.AddIndexers(inf.opts.Indexers); err != nil {
			inf.logger.Error("informer: indexers not added", "err", err)
		}
	}
	inf.source = inf.watch
	return inf
}

// watch runs a Watcher over lw with the store as its known state.
func (inf *Informer) watch(ctx context.Context) iter.Seq2[Event, error] {
	var cfg Config
	if inf.opts.Watcher != nil {
		cfg = *inf.opts.Watcher
	}
	cfg.Known = inf.store
	if cfg.OnError == nil {
		cfg.OnError = inf.report
	}
	if cfg.Logger == nil {
		cfg.Logger = inf.opts.Logger
	}
	w := NewWatcher(inf.lw, &cfg)
	inf.watcher.Store(w)
	return w.Events(ctx)
}

// ResourceVersion returns the last resourceVersion the informer's Watcher
// reached (client-go's LastSyncResourceVersion): "" before Run has listed.
func (inf *Informer) ResourceVersion() string {
	if w := inf.watcher.Load(); w != nil {
		return w.ResourceVersion()
	}
	return ""
}

// Stats returns what the informer's Watcher has done (lists, watches,
// relists, failures), for metrics; the zero Stats before Run.
func (inf *Informer) Stats() Stats {
	if w := inf.watcher.Load(); w != nil {
		return w.Stats()
	}
	return Stats{}
}

// Store returns the informer's store. It fills as the informer runs; check
// HasSynced (or WaitForSync) before trusting that it is complete.
func (inf *Informer) Store() *Store { return inf.store }

// HasSynced reports whether the store holds the whole initial state.
func (inf *Informer) HasSynced() bool {
	select {
	case <-inf.syncedCh:
		return true
	default:
		return false
	}
}

// WaitForSync blocks until the store holds the whole initial state, or ctx
// ends (then it returns ctx's error).
func (inf *Informer) WaitForSync(ctx context.Context) error {
	select {
	case <-inf.syncedCh:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for informer sync: %w", ctx.Err())
	}
}

// Run lists and watches until ctx ends, keeping the store and the handlers
// up to date, and returns ctx's error (or the Watcher's final error) once
// every goroutine it started has ended. A second Run fails with
// ErrInformerRunning.
func (inf *Informer) Run(ctx context.Context) error {
	inf.mu.Lock()
	if inf.started {
		inf.mu.Unlock()
		return ErrInformerRunning
	}
	inf.started = true
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	inf.runCtx = ctx
	for _, r := range inf.handlers {
		inf.startHandler(r)
	}
	if inf.opts.ResyncPeriod > 0 {
		inf.runWG.Go(func() { inf.resyncLoop(ctx) })
	}
	inf.mu.Unlock()

	var final error
	for ev, err := range inf.source(ctx) {
		if err != nil {
			final = err
			break
		}
		inf.apply(ev)
	}
	if final == nil {
		final = ctx.Err()
	}
	cancel()
	inf.runWG.Wait()
	if final == nil {
		final = context.Canceled
	}
	return final
}

// report hands a recovered error to OnError, or logs it.
func (inf *Informer) report(err error) {
	if inf.opts.OnError != nil {
		inf.opts.OnError(err)
		return
	}
	if pe, ok := errors.AsType[*HandlerPanicError](err); ok {
		inf.logger.Error("informer: handler panicked", "panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
		return
	}
	inf.logger.Warn("informer: recovering", "err", err)
}

// prepare turns a received object into the one stored: transformed, in
// memory of its own and of exactly its size.
func (inf *Informer) prepare(obj unstructured.Object) unstructured.Object {
	if inf.opts.Transform == nil {
		return obj // the Watcher's objects own their memory
	}
	out, err := inf.opts.Transform(obj)
	if err != nil {
		inf.report(fmt.Errorf("transform %s: %w (stored as received)", ObjectKey(obj), err))
		return obj
	}
	if unsafe.StringData(out.String()) == unsafe.StringData(obj.String()) {
		return out
	}
	// A rewritten object may sit in a larger buffer than it needs.
	return out.Clone()
}

// apply brings one event into the store and queues its notifications.
// The changes of a relist (Restarted to Synced) are held back and applied
// at Synced in one step under inf.mu, as client-go's Replace is.
func (inf *Informer) apply(ev Event) {
	switch ev.Type {
	case Added, Modified, Deleted:
		// Live deletions carry the server's final state; those of a relist
		// carry only the key, and the last stored state stands in.
		if ev.Type != Deleted || !inf.restarting {
			ev.Object = inf.prepare(ev.Object)
		}
		if inf.restarting {
			inf.pending = append(inf.pending, ev)
			return
		}
		inf.mu.Lock()
		inf.change(ev, ev.Type == Deleted)
		inf.mu.Unlock()
	case Restarted:
		inf.restarting = true
		inf.pending = inf.pending[:0]
	case Synced:
		inf.mu.Lock()
		for i, p := range inf.pending {
			inf.change(p, false)
			inf.pending[i] = Event{}
		}
		inf.pending = inf.pending[:0]
		inf.restarting = false
		if !inf.synced {
			inf.synced = true
			for _, r := range inf.handlers {
				r.markSynced()
			}
			close(inf.syncedCh)
		}
		inf.mu.Unlock()
	}
}

// change applies one Added, Modified or Deleted event (its object already
// prepared) to the store and queues its notifications; inf.mu held.
// final says a deletion carries the object's final state; otherwise the
// last stored state is what handlers get.
func (inf *Informer) change(ev Event, final bool) {
	switch ev.Type {
	case Added, Modified:
		old, existed := inf.store.putOld(ev.Object, len(inf.handlers) > 0)
		if existed {
			inf.notify(notification{kind: notifyUpdate, old: old, obj: ev.Object})
		} else {
			inf.notify(notification{kind: notifyAdd, obj: ev.Object, initial: !inf.synced})
		}
	case Deleted:
		var last unstructured.Object
		if final {
			last = ev.Object
		}
		if old, existed := inf.store.removeOld(ObjectKey(ev.Object), last.IsZero() && len(inf.handlers) > 0); existed {
			if last.IsZero() {
				last = old
			}
			inf.notify(notification{kind: notifyDelete, obj: last})
		}
	}
}

// notify queues n for every handler; inf.mu held.
func (inf *Informer) notify(n notification) {
	for _, r := range inf.handlers {
		r.push(n)
	}
}

// resyncLoop queues a resync of every object once per period.
func (inf *Informer) resyncLoop(ctx context.Context) {
	clock := inf.clock()
	for {
		tick := make(chan struct{})
		stop := clock.AfterFunc(inf.opts.ResyncPeriod, func() { close(tick) })
		select {
		case <-ctx.Done():
			stop()
			return
		case <-tick:
		}
		inf.mu.Lock()
		if inf.synced {
			for _, obj := range inf.store.List() {
				inf.notify(notification{kind: notifyUpdate, old: obj, obj: obj})
			}
		}
		inf.mu.Unlock()
	}
}

func (inf *Informer) clock() Clock {
	if inf.opts.Watcher != nil && inf.opts.Watcher.Clock != nil {
		return inf.opts.Watcher.Clock
	}
	return realClock{}
}

// AddHandler registers h. If the store already holds objects, h first
// gets an OnAdd (initial true) for each of them; from then on it gets every
// change. The Registration tells when h has processed the initial state
// and removes h.
func (inf *Informer) AddHandler(h Handler) *Registration {
	r := &handlerRunner{inf: inf, h: h, wake: make(chan struct{}, 1), stop: make(chan struct{}), syncedCh: make(chan struct{}), syncAt: -1}
	inf.mu.Lock()
	defer inf.mu.Unlock()
	for _, obj := range inf.store.List() {
		r.push(notification{kind: notifyAdd, obj: obj, initial: true})
	}
	if inf.synced {
		r.markSynced()
	}
	inf.handlers = append(inf.handlers, r)
	if inf.runCtx != nil {
		inf.startHandler(r)
	}
	return &Registration{r: r}
}

// startHandler starts r's goroutine; inf.mu held and the informer running.
func (inf *Informer) startHandler(r *handlerRunner) {
	ctx := inf.runCtx
	if ctx.Err() != nil {
		return
	}
	inf.runWG.Go(func() { r.run(ctx) })
}

// Registration is a handler added to an informer. It is safe for
// concurrent use by multiple goroutines.
type Registration struct{ r *handlerRunner }

// HasSynced reports whether the handler has processed the informer's
// initial state (every OnAdd of the first list).
func (g *Registration) HasSynced() bool {
	select {
	case <-g.r.syncedCh:
		return true
	default:
		return false
	}
}

// WaitForSync blocks until HasSynced, or ctx ends (then ctx's error).
func (g *Registration) WaitForSync(ctx context.Context) error {
	select {
	case <-g.r.syncedCh:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for handler sync: %w", ctx.Err())
	}
}

// Remove stops the handler: it gets no further changes (a call in
// progress finishes) and its goroutine ends.
func (g *Registration) Remove() {
	inf := g.r.inf
	inf.mu.Lock()
	for i, r := range inf.handlers {
		if r == g.r {
			inf.handlers = append(inf.handlers[:i:i], inf.handlers[i+1:]...)
			break
		}
	}
	inf.mu.Unlock()
	g.r.remove()
}

type notifyKind uint8

const (
	notifyAdd notifyKind = iota
	notifyUpdate
	notifyDelete
)

type notification struct {
	kind    notifyKind
	initial bool
	old     unstructured.Object
	obj     unstructured.Object
}

// handlerRunner is one handler's unbounded queue and goroutine.
type handlerRunner struct {
	inf *Informer
	h   Handler

	mu        sync.Mutex
	buf       []notification
	head      int
	pushed    int // notifications ever queued
	processed int // notifications handled
	syncAt    int // synced once processed reaches it; -1 until known
	removed   bool
	wake      chan struct{} // cap 1: something was pushed
	stop      chan struct{} // closed by remove
	syncedCh  chan struct{}
	syncOnce  sync.Once
}

func (r *handlerRunner) push(n notification) {
	r.mu.Lock()
	if r.removed {
		r.mu.Unlock()
		return
	}
	r.buf = append(r.buf, n)
	r.pushed++
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// markSynced records that everything queued so far is the initial state.
func (r *handlerRunner) markSynced() {
	r.mu.Lock()
	r.syncAt = r.pushed
	done := r.processed >= r.syncAt
	r.mu.Unlock()
	if done {
		r.syncOnce.Do(func() { close(r.syncedCh) })
	}
}

func (r *handlerRunner) remove() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.removed {
		return
	}
	r.removed = true
	r.buf, r.head = nil, 0
	close(r.stop)
}

// next returns the next notification, or false when the handler is removed
// or ctx ends.
func (r *handlerRunner) next(ctx context.Context) (notification, bool) {
	for {
		r.mu.Lock()
		if r.removed {
			r.mu.Unlock()
			return notification{}, false
		}
		if r.head < len(r.buf) {
			n := r.buf[r.head]
			r.buf[r.head] = notification{}
			r.head++
			if r.head == len(r.buf) {
				// Drained: keep a small buffer, give a large one (the
				// initial burst of a big list) back to the collector.
				if cap(r.buf) > 1024 {
					r.buf = nil
				}
				r.buf, r.head = r.buf[:0], 0
			} else if r.head > 256 && r.head*2 > len(r.buf) {
				k := copy(r.buf, r.buf[r.head:])
				clear(r.buf[k:])
				r.buf, r.head = r.buf[:k], 0
			}
			r.mu.Unlock()
			return n, true
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return notification{}, false
		case <-r.stop:
			return notification{}, false
		case <-r.wake:
		}
	}
}

func (r *handlerRunner) run(ctx context.Context) {
	for {
		n, ok := r.next(ctx)
		if !ok {
			return
		}
		r.call(n)
		r.mu.Lock()
		r.processed++
		done := r.syncAt >= 0 && r.processed >= r.syncAt
		r.mu.Unlock()
		if done {
			r.syncOnce.Do(func() { close(r.syncedCh) })
		}
	}
}

// call runs the handler function for n, recovering a panic.
func (r *handlerRunner) call(n notification) {
	defer func() {
		if v := recover(); v != nil {
			r.inf.report(&HandlerPanicError{Value: v, Stack: debug.Stack()})
		}
	}()
	switch n.kind {
	case notifyAdd:
		if r.h.OnAdd != nil {
			r.h.OnAdd(n.obj, n.initial)
		}
	case notifyUpdate:
		if r.h.OnUpdate != nil {
			r.h.OnUpdate(n.old, n.obj)
		}
	case notifyDelete:
		if r.h.OnDelete != nil {
			r.h.OnDelete(n.obj)
		}
	}
}

// DropManagedFields is a Transform that removes metadata.managedFields,
// which is often half of an object's size and which few controllers read.
func DropManagedFields(obj unstructured.Object) (unstructured.Object, error) {
	if !obj.Get("metadata.managedFields").Exists() {
		return obj, nil
	}
	return obj.Delete("metadata.managedFields")
}
