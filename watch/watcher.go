package watch

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// Defaults of Config.
const (
	// DefaultPageSize is the page size of a Watcher's lists.
	DefaultPageSize = 500
	// DefaultIdleTimeout is how long a watch may stay silent (no event, no
	// bookmark) before the Watcher takes its connection for dead. On a
	// quiet watch kube-apiserver 1.37 sends its first bookmark after about
	// two minutes and then one a minute (measured), so three minutes leave
	// a margin even on a fresh connection.
	DefaultIdleTimeout = 3 * time.Minute
	// DefaultWatchListTimeout is how long a WatchList may stay silent
	// before its initial-events-end bookmark.
	DefaultWatchListTimeout = 10 * time.Second
	// DefaultMinWatchTimeout and DefaultMaxWatchTimeout bound the random
	// server-side timeout each watch request asks for.
	DefaultMinWatchTimeout = 5 * time.Minute
	DefaultMaxWatchTimeout = 10 * time.Minute
)

// KeyStore is what a Watcher needs to know of the objects its caller holds:
// after a relist it compares the listed objects with them. An informer
// passes its store so the Watcher keeps no copy of the keys. The Watcher
// calls it only from the goroutine ranging over its events, between events.
type KeyStore interface {
	// ResourceVersionOf returns the resourceVersion of the object held
	// under k, and whether one is held.
	ResourceVersionOf(k Key) (rv string, ok bool)
	// Keys returns the key of every object held.
	Keys() []Key
}

// Config tunes a Watcher. Nil means the defaults. It is a plain value:
// NewWatcher copies it, and its functions are called from the goroutine
// ranging over the Watcher's events.
type Config struct {
	// PageSize is the page size of lists; 0 means DefaultPageSize.
	PageSize int64
	// IdleTimeout is how long a watch may go without any event or bookmark
	// before its connection is taken for dead and replaced; 0 means
	// DefaultIdleTimeout, a negative value none. Keep it above the server's
	// bookmark interval (a minute on kube-apiserver, two before a new
	// watch's first bookmark).
	IdleTimeout time.Duration
	// WatchListTimeout bounds the wait for the initial-events-end bookmark
	// of a WatchList: silence this long before it makes the Watcher fall
	// back to list + watch (and remember that for the resource). 0 means
	// DefaultWatchListTimeout.
	WatchListTimeout time.Duration
	// DisableWatchList always lists with paged list requests.
	DisableWatchList bool
	// MinWatchTimeout and MaxWatchTimeout bound the server-side timeout
	// each watch asks for, chosen at random between them so that many
	// watchers do not reconnect in step; 0 means the defaults (5 and 10
	// minutes).
	MinWatchTimeout, MaxWatchTimeout time.Duration
	// Backoff is the schedule of reconnects after failures; zero fields
	// take DefaultBackoff's.
	Backoff Backoff
	// Known, when set, is the caller's record of the objects delivered
	// (see KeyStore); without it the Watcher keeps the key and
	// resourceVersion of every object it delivered.
	Known KeyStore
	// OnError receives every error the Watcher recovers from (by
	// reconnecting, relisting or falling back); nil logs them to Logger at
	// Warn level. It is called from the ranging goroutine.
	OnError func(error)
	// Final, when set, decides which errors end the events: the error is
	// yielded and the sequence ends. Nil retries every error.
	Final func(error) bool
	// Logger receives debug and warning logs; nil means slog.Default().
	Logger *slog.Logger
	// Clock replaces the wall clock (tests).
	Clock Clock
}

// Stats counts what a Watcher did. It is a plain value.
type Stats struct {
	// Lists is the number of paged lists started (initial and relists).
	Lists int
	// WatchLists is the number of WatchList requests.
	WatchLists int
	// Watches is the number of plain watch requests.
	Watches int
	// Restarts is the number of Restarted events (410 Gone).
	Restarts int
	// Failures is the number of errors recovered from (each reported to
	// OnError), idle deadlines included.
	Failures int
	// IdleTimeouts is the number of connections dropped for silence.
	IdleTimeouts int
	// WatchListFallbacks is the number of times WatchList was given up for
	// list + watch.
	WatchListFallbacks int
}

// Watcher lists and watches one collection for as long as its caller wants,
// resuming after failures; see the package documentation. Its Events may be
// ranged over by one goroutine at a time; ResourceVersion and Stats may be
// called from any goroutine.
type Watcher struct {
	lw  ListWatcher
	cfg Config

	mu    sync.Mutex
	rv    string
	stats Stats
}

// refusedWatchList remembers the ListWatcher keys whose server refused
// WatchList, for the life of the process.
var refusedWatchList sync.Map

// NewWatcher returns a Watcher of lw. It does no I/O.
func NewWatcher(lw ListWatcher, cfg *Config) *Watcher {
	w := &Watcher{lw: lw}
	if cfg != nil {
		w.cfg = *cfg
	}
	c := &w.cfg
	if c.PageSize <= 0 {
		c.PageSize = DefaultPageSize
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.WatchListTimeout <= 0 {
		c.WatchListTimeout = DefaultWatchListTimeout
	}
	if c.MinWatchTimeout <= 0 {
		c.MinWatchTimeout = DefaultMinWatchTimeout
	}
	if c.MaxWatchTimeout < c.MinWatchTimeout {
		c.MaxWatchTimeout = max(c.MinWatchTimeout, DefaultMaxWatchTimeout)
	}
	c.Backoff = c.Backoff.withDefaults()
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	return w
}

// ResourceVersion returns the last resourceVersion the Watcher reached (of
// a list, an event or a bookmark); "" before the first list.
func (w *Watcher) ResourceVersion() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rv
}

// Stats returns what the Watcher has done so far.
func (w *Watcher) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

func (w *Watcher) count(f func(*Stats)) {
	w.mu.Lock()
	f(&w.stats)
	w.mu.Unlock()
}

func (w *Watcher) setRV(rv string) {
	if rv == "" {
		return
	}
	w.mu.Lock()
	w.rv = rv
	w.mu.Unlock()
}

// Events lists, then watches, until ctx ends, and yields the changes as the
// package documentation describes: the initial state as Added events and
// Synced, then live Added, Modified, Deleted and Bookmark events, and after
// a 410 Gone a Restarted marker, a diff against what was delivered, and
// Synced. Every Object owns its memory (list items are copied out of their
// pages); list items of built-in kinds get the apiVersion and kind their
// list implies, as watch events carry them.
//
// Failures are retried: the Watcher reconnects from the last
// resourceVersion with backoff and reports each error to Config.OnError.
// The sequence ends without error when ctx ends or the loop breaks, and
// with the error when Config.Final says an error is final. Leaving the
// loop closes every connection; the Watcher leaves no goroutine behind.
func (w *Watcher) Events(ctx context.Context) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		r := &run{w: w, ctx: ctx, yield: yield, needList: true}
		if w.cfg.Known == nil {
			r.keys = map[Key]string{}
		}
		r.loop()
	}
}

// run is one ranging over Events.
type run struct {
	w     *Watcher
	ctx   context.Context
	yield func(Event, error) bool

	rv       string
	needList bool // the next connection must list
	synced   bool // a list has been delivered in full
	restart  bool // a Restarted marker is due before the next list
	stopped  bool // the consumer left the loop

	noWatchList bool // this run fell back to list + watch

	keys map[Key]string // resourceVersion by key, when Config.Known is nil
	seen map[Key]struct{}

	attempt     int       // failures in a row, for backoff
	lastFailure time.Time // when the last failure happened
}

// Errors that end one connection on the Watcher's own initiative.
var (
	errIdle           = errors.New("watch: no event or bookmark within the idle timeout; the connection is taken for dead")
	errNoInitialEnd   = errors.New("watch: WatchList: no initial-events-end bookmark within the bound")
	errClosedAtOnce   = errors.New("watch: the server closed the watch at once")
	errStopped        = errors.New("watch: the consumer stopped")
	errEndedInInitial = errors.New("watch: WatchList: the server ended the watch before its initial-events-end bookmark")
)

// watchListRefused wraps the server's refusal of a WatchList.
type watchListRefused struct{ err error }

func (e *watchListRefused) Error() string { return "watch: WatchList refused: " + e.err.Error() }
func (e *watchListRefused) Unwrap() error { return e.err }

func (r *run) loop() {
	cfg := &r.w.cfg
	for r.ctx.Err() == nil {
		started := cfg.Clock.Now()
		var err error
		events := 0
		switch {
		case r.needList && r.restart:
			r.restart = false
			r.w.count(func(s *Stats) { s.Restarts++ })
			if !r.emit(Event{Type: Restarted}) {
				return
			}
			continue
		case r.needList && r.useWatchList():
			events, err = r.watchList()
		case r.needList:
			err = r.list()
			if err == nil {
				events, err = r.watch()
			}
		default:
			events, err = r.watch()
		}
		if r.stopped || r.ctx.Err() != nil {
			return
		}
		if err == nil {
			// A server-side timeout: reconnect at once, unless the server
			// closes watches as soon as they open.
			if events > 0 || cfg.Clock.Now().Sub(started) >= time.Second {
				continue
			}
			err = errClosedAtOnce
		}
		if !r.recover(err) {
			return
		}
	}
}

// recover handles a failed connection; it reports whether to go on.
func (r *run) recover(err error) bool {
	cfg := &r.w.cfg
	if cfg.Final != nil && cfg.Final(err) {
		r.yield(Event{}, err)
		return false
	}
	r.w.count(func(s *Stats) { s.Failures++ })
	var refused *watchListRefused
	switch {
	case errors.Is(err, errEndedInInitial):
		// Not proof that the server lacks WatchList (it may be shutting
		// down): fall back for this run only.
		r.noWatchList = true
		r.w.count(func(s *Stats) { s.WatchListFallbacks++ })
		r.report(err)
		return true
	case errors.As(err, &refused) || errors.Is(err, errNoInitialEnd):
		if key := r.w.lw.Key(); key != "" && !isAuthError(err) {
			refusedWatchList.Store(key, struct{}{})
		}
		r.noWatchList = true
		r.w.count(func(s *Stats) { s.WatchListFallbacks++ })
		r.report(err)
		return true // fall back at once
	case errors.Is(err, transport.ErrGone):
		r.needList = true
		if r.synced {
			r.restart = true
		}
		r.report(err)
		if r.attempt == 0 {
			// The first 410 relists at once; a relist that fails again backs off.
			r.attempt++
			r.lastFailure = cfg.Clock.Now()
			return true
		}
	case errors.Is(err, errIdle):
		r.w.count(func(s *Stats) { s.IdleTimeouts++ })
	}
	if !errors.Is(err, transport.ErrGone) {
		r.report(err)
	}
	now := cfg.Clock.Now()
	if !r.lastFailure.IsZero() && now.Sub(r.lastFailure) >= cfg.Backoff.ResetAfter {
		r.attempt = 0
	}
	d := cfg.Backoff.Step(r.attempt, randFloat())
	r.attempt++
	r.lastFailure = now
	cfg.Logger.DebugContext(r.ctx, "watch: reconnecting", "key", r.w.lw.Key(), "wait", d, "attempt", r.attempt)
	return r.sleep(d)
}

func isAuthError(err error) bool {
	return errors.Is(err, transport.ErrUnauthorized) || errors.Is(err, transport.ErrForbidden)
}

// report hands a recovered error to OnError or the logger.
func (r *run) report(err error) {
	if f := r.w.cfg.OnError; f != nil {
		f(err)
		return
	}
	r.w.cfg.Logger.WarnContext(r.ctx, "watch: recovering", "key", r.w.lw.Key(), "error", err)
}

// sleep waits d or until ctx ends; it reports whether d passed.
func (r *run) sleep(d time.Duration) bool {
	done := make(chan struct{})
	stop := r.w.cfg.Clock.AfterFunc(d, func() { close(done) })
	select {
	case <-done:
		return true
	case <-r.ctx.Done():
		stop()
		return false
	}
}

func (r *run) useWatchList() bool {
	if r.w.cfg.DisableWatchList || r.noWatchList {
		return false
	}
	_, refused := refusedWatchList.Load(r.w.lw.Key())
	return !refused
}

// timeoutSeconds picks the server-side timeout of one watch.
func (r *run) timeoutSeconds() int64 {
	c := &r.w.cfg
	d := c.MinWatchTimeout + time.Duration(randFloat()*float64(c.MaxWatchTimeout-c.MinWatchTimeout))
	return max(int64(d/time.Second), 1)
}

// emit yields ev, keeping the Watcher's own key record; it reports whether
// the consumer wants more.
func (r *run) emit(ev Event) bool {
	if r.keys != nil {
		switch ev.Type {
		case Added, Modified:
			r.keys[cloneKey(ev.Object)] = strings.Clone(ev.Object.ResourceVersion())
		case Deleted:
			delete(r.keys, ObjectKey(ev.Object))
		}
	}
	if !r.yield(ev, nil) {
		r.stopped = true
		return false
	}
	return true
}

// cloneKey is ObjectKey in memory of its own, so a kept key does not keep
// its object alive.
func cloneKey(obj unstructured.Object) Key {
	return Key{Namespace: strings.Clone(obj.Namespace()), Name: strings.Clone(obj.Name())}
}

func (r *run) knownRV(key Key) (string, bool) {
	if r.keys != nil {
		rv, ok := r.keys[key]
		return rv, ok
	}
	return r.w.cfg.Known.ResourceVersionOf(key)
}

// initObject delivers one object of a listed state: Added when new,
// Modified when changed, nothing when unchanged.
func (r *run) initObject(obj unstructured.Object) bool {
	key := ObjectKey(obj)
	if r.seen == nil {
		r.seen = map[Key]struct{}{}
	}
	r.seen[cloneKey(obj)] = struct{}{}
	rv, ok := r.knownRV(key)
	switch {
	case !ok:
		return r.emit(Event{Type: Added, Object: obj})
	case rv != obj.ResourceVersion():
		return r.emit(Event{Type: Modified, Object: obj})
	}
	return true
}

// initDone ends a listed state at resourceVersion rv: objects held but not
// listed are Deleted, then Synced.
func (r *run) initDone(rv string) bool {
	var gone []Key
	if r.keys != nil {
		for k := range r.keys {
			if _, ok := r.seen[k]; !ok {
				gone = append(gone, k)
			}
		}
	} else {
		for _, k := range r.w.cfg.Known.Keys() {
			if _, ok := r.seen[k]; !ok {
				gone = append(gone, k)
			}
		}
	}
	r.seen = nil
	r.rv = rv
	r.w.setRV(rv)
	r.needList, r.synced = false, true
	for _, k := range gone {
		if !r.emit(Event{Type: Deleted, Object: tombstone(k, rv)}) {
			return false
		}
	}
	return r.emit(Event{Type: Synced, Object: tombstone(Key{}, rv)})
}

// tombstone is the object of a Deleted event for an object that vanished
// while the Watcher was not watching (only its key is known), and of
// Synced (the zero Key).
func tombstone(key Key, rv string) unstructured.Object {
	b := unstructured.NewBuilder("", "")
	if key.Name != "" {
		b.Set("metadata.name", key.Name)
	}
	if key.Namespace != "" {
		b.Set("metadata.namespace", key.Namespace)
	}
	b.Set("metadata.resourceVersion", rv)
	obj, err := b.Object()
	if err != nil {
		panic(fmt.Sprintf("watch: tombstone for %q: %v", key, err)) // strings always encode
	}
	return obj
}

// list reads the state with paged list requests and delivers it.
func (r *run) list() error {
	r.w.count(func(s *Stats) { s.Lists++ })
	r.seen = nil
	req := &ListRequest{Limit: r.w.cfg.PageSize}
	listRV := ""
	for {
		page, err := r.w.lw.List(r.ctx, req)
		if err != nil {
			if req.Continue != "" && errors.Is(err, transport.ErrGone) {
				// The snapshot expired between pages: list it all again.
				r.report(fmt.Errorf("watch: list continue token expired, listing again: %w", err))
				r.seen = nil
				req, listRV = &ListRequest{Limit: r.w.cfg.PageSize}, ""
				continue
			}
			return err
		}
		if listRV == "" {
			listRV = strings.Clone(page.ResourceVersion()) // a substring would keep the whole page alive
		}
		apiVersion, kind := page.APIVersion(), strings.TrimSuffix(page.Kind(), "List")
		for _, item := range page.Items() {
			obj, err := ownItem(item, apiVersion, kind)
			if err != nil {
				return fmt.Errorf("watch: list item: %w", err)
			}
			if !r.initObject(obj) {
				return errStopped
			}
		}
		if page.Continue() == "" {
			break
		}
		req = &ListRequest{Limit: r.w.cfg.PageSize, Continue: page.Continue()}
	}
	if !r.initDone(listRV) {
		return errStopped
	}
	return nil
}

// ownItem copies a list item out of its page, adding the apiVersion and
// kind the list implies when the item has neither.
func ownItem(item unstructured.Object, apiVersion, kind string) (unstructured.Object, error) {
	if kind == "" || apiVersion == "" || item.Get("kind").Exists() || item.Get("apiVersion").Exists() {
		return item.Clone(), nil
	}
	s := item.String()
	var b strings.Builder
	b.Grow(len(s) + len(apiVersion) + len(kind) + 28)
	b.WriteString(`{"apiVersion":`)
	b.WriteString(quote(apiVersion))
	b.WriteString(`,"kind":`)
	b.WriteString(quote(kind))
	if rest := strings.TrimSpace(s[1:]); rest != "}" {
		b.WriteByte(',')
	}
	b.WriteString(s[1:])
	return unstructured.ParseString(b.String())
}

// quote writes s as a JSON string.
func quote(s string) string {
	o := unstructured.New(s, "")
	return o.Get("apiVersion").Raw
}

// watchList reads the state with a WatchList and goes on watching on the
// same connection; it returns the number of events and how the connection
// ended.
func (r *run) watchList() (int, error) {
	r.w.count(func(s *Stats) { s.WatchLists++ })
	yes := true
	return r.stream(&WatchRequest{SendInitialEvents: &yes, ResourceVersionMatch: "NotOlderThan",
		AllowWatchBookmarks: true, TimeoutSeconds: r.timeoutSeconds()}, true)
}

// watch watches from the last resourceVersion.
func (r *run) watch() (int, error) {
	r.w.count(func(s *Stats) { s.Watches++ })
	return r.stream(&WatchRequest{ResourceVersion: r.rv, AllowWatchBookmarks: true, TimeoutSeconds: r.timeoutSeconds()}, false)
}

// stream runs one watch connection. With initial, its Added events up to
// the initial-events-end bookmark are a listed state.
func (r *run) stream(req *WatchRequest, initial bool) (int, error) {
	cfg := &r.w.cfg
	ctx, cancel := context.WithCancelCause(r.ctx)
	defer cancel(nil)
	bound, cause := cfg.IdleTimeout, errIdle
	if initial {
		bound, cause = cfg.WatchListTimeout, errNoInitialEnd
		r.seen = nil
	}
	dl := newDeadline(cfg.Clock, cancel)
	defer dl.close()
	dl.set(bound, cause)
	n := 0
	for ev, err := range r.w.lw.Watch(ctx, req) {
		if err != nil {
			if c := context.Cause(ctx); r.ctx.Err() == nil && (c == errIdle || c == errNoInitialEnd) {
				return n, fmt.Errorf("%w (%v)", c, bound)
			}
			var ae *transport.APIError
			if initial && errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 &&
				ae.StatusCode != http.StatusTooManyRequests && ae.StatusCode != http.StatusGone {
				return n, &watchListRefused{err: err}
			}
			return n, err
		}
		n++
		dl.touch(true)
		switch ev.Type {
		case Bookmark:
			if initial && ev.IsInitialEventsEnd() {
				initial = false
				bound, cause = cfg.IdleTimeout, errIdle
				dl.set(bound, cause)
				if !r.initDone(ev.ResourceVersion()) {
					return n, errStopped
				}
			} else if !initial {
				r.rv = ev.ResourceVersion()
				r.w.setRV(r.rv)
				if !r.emit(ev) {
					return n, errStopped
				}
			}
		case Added, Modified, Deleted:
			if initial {
				if ev.Type != Added {
					return n, fmt.Errorf("watch: WatchList: %s event among the initial events", ev.Type)
				}
				if !r.initObject(ev.Object) {
					return n, errStopped
				}
				break
			}
			r.rv = ev.ResourceVersion()
			r.w.setRV(r.rv)
			if !r.emit(ev) {
				return n, errStopped
			}
		}
		dl.touch(false)
	}
	if c := context.Cause(ctx); r.ctx.Err() == nil && (c == errIdle || c == errNoInitialEnd) {
		return n, fmt.Errorf("%w (%v)", c, bound)
	}
	if initial {
		return n, errEndedInInitial
	}
	return n, nil
}

// deadline ends a connection that stays silent for too long. Time spent by
// the consumer on an event does not count as silence. It is used by the
// ranging goroutine and its own timer's goroutine.
type deadline struct {
	clock  Clock
	cancel context.CancelCauseFunc

	mu    sync.Mutex
	bound time.Duration // <= 0: none
	cause error
	last  time.Time // the last event, or when the bound was set
	busy  bool      // the consumer holds an event
	stop  func() bool
	done  bool
}

func newDeadline(clock Clock, cancel context.CancelCauseFunc) *deadline {
	return &deadline{clock: clock, cancel: cancel}
}

// set starts a new bound, from now.
func (d *deadline) set(bound time.Duration, cause error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.bound, d.cause, d.last = bound, cause, d.clock.Now()
	if d.stop != nil {
		d.stop()
		d.stop = nil
	}
	if bound > 0 && !d.done {
		d.stop = d.clock.AfterFunc(bound, d.fire)
	}
}

// touch records an event (busy: the consumer is about to handle it) or the
// end of its handling.
func (d *deadline) touch(busy bool) {
	d.mu.Lock()
	d.last, d.busy = d.clock.Now(), busy
	d.mu.Unlock()
}

func (d *deadline) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done || d.bound <= 0 {
		return
	}
	left := d.bound - d.clock.Now().Sub(d.last)
	if d.busy {
		left = d.bound
	}
	if left > 0 {
		d.stop = d.clock.AfterFunc(left, d.fire)
		return
	}
	d.cancel(d.cause)
}

func (d *deadline) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.done = true
	if d.stop != nil {
		d.stop()
	}
}
