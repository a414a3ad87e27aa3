package resource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
)

// DefaultSettleTimeout bounds how long WatchDiscovery checks that discovery
// agrees with one CRD change when DiscoveryWatchOptions.SettleTimeout is
// zero.
const DefaultSettleTimeout = 10 * time.Second

// apiServiceAPIVersion and apiServiceKind name the APIService resource of
// the aggregation layer.
const (
	apiServiceAPIVersion = "apiregistration.k8s.io/v1"
	apiServiceKind       = "APIService"
)

// DiscoveryWatchOptions configure WatchDiscovery. Nil means defaults. It is
// read once, when WatchDiscovery is called; its functions are called from
// WatchDiscovery's goroutines, one change at a time per watched kind, and
// must be safe for concurrent use.
type DiscoveryWatchOptions struct {
	// OnChange, when set, is called after each change handled: once
	// discovery has been invalidated and, for a CRD, has been seen to
	// agree (or SettleTimeout passed; Err then says so). It is also called
	// with Reason "synced" when a watch has read the current state, so a
	// caller knows from when on changes are caught.
	OnChange func(DiscoveryChange)
	// OnError receives the errors WatchDiscovery recovers from: a watch
	// the caller's RBAC does not allow (retried with backoff: granting it
	// later starts freshness), a dropped connection, a kind the server
	// does not serve (that watch stops), and discovery that did not agree
	// with a change in time. Nil logs them at Warn level to slog.Default().
	OnError func(error)
	// SettleTimeout bounds how long discovery is refreshed after a CRD
	// change until it agrees (the kind resolves, or no longer resolves);
	// zero means DefaultSettleTimeout.
	SettleTimeout time.Duration
}

// DiscoveryChange is one change WatchDiscovery handled. It is a plain value.
type DiscoveryChange struct {
	// Kind is "CustomResourceDefinition" or "APIService".
	Kind string
	// Name is the object's name; empty with Reason "synced".
	Name string
	// Reason is "synced" (the current state was read; discovery was
	// invalidated, since it may have changed before), "served" (a CRD
	// became Established, or an APIService Available), "changed" (served
	// versions, names or scope of an established CRD changed),
	// "unserved" (a CRD no longer Established, or an APIService no longer
	// Available) or "deleted".
	Reason string
	// Err is set when discovery did not agree with a CRD change within
	// SettleTimeout. APIService changes only invalidate: Err stays nil.
	Err error
}

// WatchDiscovery keeps the Client's discovery fresh until ctx ends: it
// watches CustomResourceDefinitions and APIServices and invalidates
// discovery (discovery.Client.Invalidate, which also forgets the lookups
// that missed) whenever what the server serves changes, so a kind that
// someone else creates resolves at once, without waiting for the
// discovery TTL or paying for a lookup that misses first. It returns ctx's
// error once both watches have ended.
//
// A CRD counts when it becomes Established (not when it is created: the
// server serves a kind only once it is Established), when the served
// versions, names or scope of an established CRD change, when it stops
// being Established, and when it is deleted. After such a change
// WatchDiscovery refreshes discovery until it agrees (every served version
// of the kind resolves, or a kind no longer served stops resolving; the
// server updates discovery a moment after the CRD), so the first lookup
// after OnChange needs no request at all. Changes that arrive while it
// waits are checked together afterwards: 20 CRDs installed at once cost
// 6-9 refreshes on the test server, not 20. An APIService counts when its
// Available condition, group, version or service change; it invalidates
// discovery, which the next lookup refreshes.
//
// Both watches resume after failures as watch.Watcher does. A watch the
// caller's RBAC refuses is reported to opts.OnError and retried with
// backoff, not fatal: the other watch and discovery itself go on. A
// server that does not serve APIServices (no aggregation layer) is
// reported once, and only CRDs are watched. Run it on a goroutine of its
// own; one per discovery cache is enough (clients sharing a
// discovery.Client through WithDiscovery share its freshness).
func (c *Client) WatchDiscovery(ctx context.Context, opts *DiscoveryWatchOptions) error {
	var o DiscoveryWatchOptions
	if opts != nil {
		o = *opts
	}
	if o.SettleTimeout <= 0 {
		o.SettleTimeout = DefaultSettleTimeout
	}
	if o.OnError == nil {
		o.OnError = func(err error) { slog.Default().WarnContext(ctx, "resource: discovery watch", "error", err) }
	}
	if o.OnChange == nil {
		o.OnChange = func(DiscoveryChange) {}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		f := &freshness{c: c, o: &o, kind: crdKind, state: map[string]servedState{}}
		f.run(ctx, c.Resource(crdAPIVersion, crdKind), crdServed)
	})
	wg.Go(func() {
		f := &freshness{c: c, o: &o, kind: apiServiceKind, state: map[string]servedState{}}
		f.run(ctx, c.Resource(apiServiceAPIVersion, apiServiceKind), apiServiceServed)
	})
	wg.Wait()
	return ctx.Err()
}

// servedState is what one CRD or APIService makes the server serve, as far
// as discovery is concerned.
type servedState struct {
	// fingerprint changes whenever discovery would; "" when the object
	// makes nothing served.
	fingerprint string
	// kinds are what a served CRD makes resolvable, one
	// "apiVersion kind plural shortNames categories" entry (lists
	// comma-separated) per served version; none for APIServices.
	kinds []string
}

// freshness follows one kind of object for WatchDiscovery. run's
// goroutine reads the watch and queues changes; a settler goroutine waits
// for discovery to agree with all changes queued meanwhile at once (a burst
// of CRDs installed together costs one wait, not one each) and reports
// them in order.
type freshness struct {
	c     *Client
	o     *DiscoveryWatchOptions
	kind  string
	state map[string]servedState // used by run's goroutine only

	mu      sync.Mutex
	pending []pendingChange
	kick    chan struct{} // capacity 1: changes are pending
}

// pendingChange is a change handled but not yet reported: the object went
// from old to now.
type pendingChange struct {
	ch       DiscoveryChange
	old, now servedState
}

// run watches h until ctx ends or the kind turns out not to be served.
func (f *freshness) run(ctx context.Context, h Handle, served func(unstructured.Object) servedState) {
	f.kick = make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(f.kick)
	wg.Go(func() { f.settler(ctx) })

	w := watch.NewWatcher(h.ListWatcher(nil), &watch.Config{
		OnError: func(err error) { f.o.OnError(fmt.Errorf("watch %s for discovery: %w", f.kind, err)) },
		Final:   func(err error) bool { return errors.Is(err, discovery.ErrUnknownResource) },
	})
	synced := false
	for ev, err := range w.Events(ctx) {
		if err != nil {
			if ctx.Err() == nil {
				f.o.OnError(fmt.Errorf("watch %s for discovery: not watched: %w", f.kind, err))
			}
			return
		}
		switch ev.Type {
		case watch.Synced:
			synced = true
			f.changed("", "synced", servedState{}, servedState{})
		case watch.Added, watch.Modified:
			name := ev.Object.Name()
			old, had := f.state[name]
			now := served(ev.Object)
			f.state[name] = now
			if !synced || now.fingerprint == old.fingerprint {
				continue
			}
			reason := "changed"
			switch {
			case now.fingerprint == "":
				reason = "unserved"
			case !had || old.fingerprint == "":
				reason = "served"
			}
			f.changed(name, reason, old, now)
		case watch.Deleted:
			name := ev.Object.Name()
			old, had := f.state[name]
			delete(f.state, name)
			if !synced || !had {
				continue
			}
			f.changed(name, "deleted", old, servedState{})
		}
	}
}

// changed invalidates discovery at once, so the next lookup refreshes,
// and queues the change for the settler.
func (f *freshness) changed(name, reason string, old, now servedState) {
	f.c.disc.Invalidate()
	f.mu.Lock()
	f.pending = append(f.pending, pendingChange{ch: DiscoveryChange{Kind: f.kind, Name: name, Reason: reason}, old: old, now: now})
	f.mu.Unlock()
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// settler reports the queued changes, each batch once discovery agrees
// with it (or SettleTimeout passed), until kick is closed and drained.
func (f *freshness) settler(ctx context.Context) {
	for range f.kick {
		f.mu.Lock()
		batch := f.pending
		f.pending = nil
		f.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		// Per object, what it served before the batch and what it serves
		// after it.
		first := map[string]servedState{}
		last := map[string]servedState{}
		var names []string
		for _, p := range batch {
			if p.ch.Name == "" {
				continue
			}
			if _, ok := first[p.ch.Name]; !ok {
				first[p.ch.Name] = p.old
				names = append(names, p.ch.Name)
			}
			last[p.ch.Name] = p.now
		}
		var want, gone []string
		for _, n := range names {
			want = append(want, last[n].kinds...)
		}
		for _, n := range names {
			for _, k := range first[n].kinds {
				served := func(w string) bool { return kindKey(w) == kindKey(k) }
				if !slices.ContainsFunc(want, served) && !slices.ContainsFunc(gone, served) {
					gone = append(gone, k)
				}
			}
		}
		var err error
		if len(want) > 0 || len(gone) > 0 {
			err = f.settle(ctx, want, gone)
			if err != nil && ctx.Err() == nil {
				f.o.OnError(err)
			}
		}
		for _, p := range batch {
			if p.ch.Name != "" {
				p.ch.Err = err
			}
			f.o.OnChange(p.ch)
		}
	}
}

// settle refreshes discovery until every entry of want resolves (to its
// plural, short names and categories) and the kind of none of gone does,
// or SettleTimeout passes.
func (f *freshness) settle(ctx context.Context, want, gone []string) error {
	ctx, cancel := context.WithTimeout(ctx, f.o.SettleTimeout)
	defer cancel()
	wait := 20 * time.Millisecond
	for {
		pending, err := f.disagreement(ctx, want, gone)
		if err == nil && pending == "" {
			return nil
		}
		if err == nil {
			err = errors.New(pending)
		}
		if perr := pause(ctx, wait); perr != nil {
			return fmt.Errorf("discovery did not agree within %s: %w", f.o.SettleTimeout, err)
		}
		wait = min(2*wait, time.Second)
		f.c.disc.Invalidate()
	}
}

// disagreement returns what discovery does not yet agree with, "" when
// nothing.
func (f *freshness) disagreement(ctx context.Context, want, gone []string) (string, error) {
	for _, k := range want {
		av, kind, plural, shortNames, categories := splitServed(k)
		r, err := f.c.disc.ResourceForKind(ctx, av, kind)
		if errors.Is(err, discovery.ErrUnknownResource) {
			return fmt.Sprintf("discovery does not list %s %s yet", av, kind), nil
		}
		if err != nil {
			return "", err
		}
		if r.Resource != plural || strings.Join(r.ShortNames, ",") != shortNames || strings.Join(r.Categories, ",") != categories {
			return fmt.Sprintf("discovery lists %s %s as %q (short names %v, categories %v), not as %q (%s; %s) yet",
				av, kind, r.Resource, r.ShortNames, r.Categories, plural, shortNames, categories), nil
		}
	}
	for _, k := range gone {
		av, kind, _, _, _ := splitServed(k)
		_, err := f.c.disc.ResourceForKind(ctx, av, kind)
		if err == nil {
			return fmt.Sprintf("discovery still lists %s %s", av, kind), nil
		}
		if !errors.Is(err, discovery.ErrUnknownResource) {
			return "", err
		}
	}
	return "", nil
}

// splitServed takes a servedState.kinds entry apart.
func splitServed(k string) (apiVersion, kind, plural, shortNames, categories string) {
	f := strings.SplitN(k, " ", 5)
	for len(f) < 5 {
		f = append(f, "")
	}
	return f[0], f[1], f[2], f[3], f[4]
}

// kindKey is the "apiVersion kind" of a servedState.kinds entry.
func kindKey(k string) string {
	av, kind, _, _, _ := splitServed(k)
	return av + " " + kind
}

// crdServed reads what a CRD makes the server serve: nothing unless it is
// Established; else its group, scope, accepted names and served versions
// (with their subresources), each of which discovery lists.
func crdServed(crd unstructured.Object) servedState {
	established := false
	crd.Get("status.conditions").ForEach(func(_, c gjson.Result) bool {
		if c.Get("type").String() == "Established" {
			established = c.Get("status").String() == "True"
		}
		return true
	})
	if !established {
		return servedState{}
	}
	group := crd.Get("spec.group").String()
	names := crd.Get("status.acceptedNames")
	if !names.Get("kind").Exists() {
		names = crd.Get("spec.names")
	}
	kind, plural := names.Get("kind").String(), names.Get("plural").String()
	var b strings.Builder
	b.WriteString(group + "\x00" + crd.Get("spec.scope").String() + "\x00" + names.Raw)
	var s servedState
	crd.Get("spec.versions").ForEach(func(_, v gjson.Result) bool {
		if !v.Get("served").Bool() {
			return true
		}
		name := v.Get("name").String()
		b.WriteString("\x00" + name + "\x00" + v.Get("subresources").Raw)
		s.kinds = append(s.kinds, group+"/"+name+" "+kind+" "+plural+" "+joinStrings(names.Get("shortNames"))+" "+joinStrings(names.Get("categories")))
		return true
	})
	s.fingerprint = b.String()
	return s
}

// apiServiceServed reads what an APIService makes the server serve: its
// group version and backing service while Available is True, else nothing.
func apiServiceServed(svc unstructured.Object) servedState {
	available := false
	svc.Get("status.conditions").ForEach(func(_, c gjson.Result) bool {
		if c.Get("type").String() == "Available" {
			available = c.Get("status").String() == "True"
		}
		return true
	})
	if !available {
		return servedState{}
	}
	return servedState{fingerprint: svc.Get("spec.group").String() + "/" + svc.Get("spec.version").String() + "\x00" + svc.Get("spec.service").Raw}
}

// joinStrings joins a JSON array of strings with commas, as
// disagreement compares discovery's lists.
func joinStrings(a gjson.Result) string {
	var out []string
	for _, v := range a.Array() {
		out = append(out, v.String())
	}
	return strings.Join(out, ",")
}
