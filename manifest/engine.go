package manifest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// DefaultConcurrency is how many objects are written at once when
// ApplyOptions.Concurrency is 0.
const DefaultConcurrency = 8

// DefaultFieldManager is the field manager of server-side apply when
// ApplyOptions.FieldManager is empty.
const DefaultFieldManager = "kubedyn"

// Engine applies, creates, deletes, diffs and waits for sets of manifests
// with one resource.Client. It keeps no state between calls; Engines are safe
// for concurrent use by multiple goroutines.
type Engine struct {
	c   *resource.Client
	log *slog.Logger
}

// New returns an Engine that works through c. It does no I/O.
func New(c *resource.Client) *Engine {
	return &Engine{c: c, log: slog.Default()}
}

// Action is what happened to one object.
type Action string

// The actions a Result reports.
const (
	// Created: the object did not exist and was created.
	Created Action = "created"
	// Configured: the object existed and changed (its resourceVersion moved).
	Configured Action = "configured"
	// Unchanged: the object existed and the write changed nothing (same
	// resourceVersion); for Delete, the object was already gone.
	Unchanged Action = "unchanged"
	// Deleted: the object was deleted (or its deletion started).
	Deleted Action = "deleted"
	// Pruned: the object left the ApplySet and was deleted.
	Pruned Action = "pruned"
	// Failed: the server (or a client-side check) refused the object; Err
	// says why, Causes lists the server's causes.
	Failed Action = "failed"
	// Skipped: not sent, because an object it depends on failed or was
	// skipped, or because FailFast stopped the run.
	Skipped Action = "skipped"
)

// Result is the outcome for one object. It is a plain value.
type Result struct {
	// Ref names the object.
	Ref Ref
	// Source is where it came from in the manifests (zero for pruned
	// objects, which come from the server).
	Source unstructured.Source
	// Action is what happened.
	Action Action
	// DryRun is true when nothing was persisted.
	DryRun bool
	// Object is the object as the server answered (zero when it failed).
	Object unstructured.Object
	// Err is the reason for Failed and Skipped; for a Created or
	// Configured CRD it may hold a failed wait for Established.
	Err error
	// Causes are the server's causes of a failure (field errors of a
	// 422, field manager conflicts), from *transport.APIError.
	Causes []transport.StatusCause
	// Note, when set, says how the result was reached when it is not the
	// server's answer: in a dry run, a custom resource whose CRD is new in
	// the same set was "checked client-side against the CRD ... in this
	// set, not by the server" (see Engine.Apply).
	Note string
	// Duration is how long the object's requests took.
	Duration time.Duration
}

// String is one line for the object: `deploy/app.yaml:2:1 ConfigMap shop/settings created`,
// with the error for Failed and Skipped.
func (r Result) String() string {
	s := r.Ref.String() + " " + string(r.Action)
	switch {
	case r.DryRun && r.Note != "":
		s += " (dry run; " + r.Note + ")"
	case r.DryRun:
		s += " (dry run)"
	case r.Note != "":
		s += " (" + r.Note + ")"
	}
	if src := r.Source.String(); r.Source != (unstructured.Source{}) && src != "" {
		s = src + " " + s
	}
	if r.Err != nil {
		s += ": " + r.Err.Error()
	}
	return s
}

// Report holds one Result per object of a run, in plan order, then the
// pruned objects. It is not modified after it is returned.
type Report struct {
	Results []Result
}

// Count returns how many results have the action.
func (r *Report) Count(a Action) int {
	n := 0
	for _, x := range r.Results {
		if x.Action == a {
			n++
		}
	}
	return n
}

// OK reports whether no object failed or was skipped.
func (r *Report) OK() bool { return r.Count(Failed) == 0 && r.Count(Skipped) == 0 }

// Summary is a line such as "3 created, 1 unchanged, 1 failed".
func (r *Report) Summary() string {
	s := ""
	for _, a := range []Action{Created, Configured, Unchanged, Deleted, Pruned, Failed, Skipped} {
		if n := r.Count(a); n > 0 {
			if s != "" {
				s += ", "
			}
			s += fmt.Sprintf("%d %s", n, a)
		}
	}
	if s == "" {
		return "no objects"
	}
	return s
}

// Mode chooses how Apply writes objects.
type Mode int

const (
	// ServerSideApply sends each object as a server-side apply patch with
	// the field manager (the default).
	ServerSideApply Mode = iota
	// CreateOnly creates each object, as the Python client's
	// create_from_yaml does: an existing object is Failed with an error
	// matching transport.ErrAlreadyExists. Objects that depend on it still
	// go ahead, since it exists.
	CreateOnly
)

// ApplyOptions tune Apply. Nil means defaults. Apply only reads them.
type ApplyOptions struct {
	// Mode is ServerSideApply (default) or CreateOnly.
	Mode Mode
	// FieldManager of the writes; empty means DefaultFieldManager.
	FieldManager string
	// Force takes over fields other managers own (server-side apply only).
	// Without it a conflict is Failed with the conflicting fields as Causes.
	Force bool
	// DryRun asks the server to check every write without persisting it.
	// CRDs are then not created, so a custom resource whose kind only a
	// CRD of the set defines (its kind not served yet) is validated
	// client-side against that CRD's schema, CEL rules included, instead:
	// Created with the object it would be (defaulted, namespaced), or
	// Failed with its field errors as Causes; Result.Note says so.
	DryRun bool
	// FieldValidation is resource.FieldValidationStrict (the default, as in
	// kubectl), Warn or Ignore: how the server treats fields the schema
	// does not have.
	FieldValidation string
	// Concurrency bounds how many objects are written at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// FailFast stops at the first failure: objects not yet started are
	// Skipped. By default every object is tried.
	FailFast bool
	// CRDTimeout bounds the wait for each CRD of the set to be Established
	// and served by discovery; 0 means one minute.
	CRDTimeout time.Duration
	// ApplySet, when set, labels every object as a member of the set and,
	// with Prune, deletes the members that left it (see ApplySet).
	ApplySet *ApplySet
	// Prune deletes the ApplySet's members that are not in this set, once
	// every object was applied without failure. Needs ApplySet.
	Prune bool
	// PruneDryRun reports what Prune would delete (deletes sent with
	// dryRun=All) and leaves the parent as it was.
	PruneDryRun bool
	// Wait, when set, waits for every applied object to be ready once the
	// writes are done (see Engine.Wait); the readiness of each is in
	// ApplyReport.Ready.
	Wait *WaitOptions
	// OnResult, when set, is called with each Result as soon as it is
	// known, one call at a time.
	OnResult func(Result)
}

// ApplyReport is the Report of Apply plus the readiness of the objects
// when ApplyOptions.Wait asked for it.
type ApplyReport struct {
	Report
	// Ready holds one WaitResult per created, configured or unchanged
	// object when ApplyOptions.Wait was set.
	Ready []WaitResult
}

// Apply writes a planned set to the server: each object once its
// dependencies are done (a CRD once it is Established and its kind served),
// independent objects concurrently, and returns a Result for every object of
// the plan in plan order. It never stops because one object failed, unless
// opts.FailFast: what succeeded stays applied.
//
// The error is for a run that could not go on (the context ended, the
// ApplySet parent could not be read or written); the Report then still holds
// what was done.
func (e *Engine) Apply(ctx context.Context, plan *Plan, opts *ApplyOptions) (*ApplyReport, error) {
	if plan == nil {
		return nil, errors.New("apply: nil plan (build one with Engine.Plan)")
	}
	var o ApplyOptions
	if opts != nil {
		o = *opts
	}
	if o.FieldManager == "" {
		o.FieldManager = DefaultFieldManager
	}
	if o.FieldValidation == "" {
		o.FieldValidation = resource.FieldValidationStrict
	}
	if o.CRDTimeout <= 0 {
		o.CRDTimeout = time.Minute
	}
	if o.Prune && o.ApplySet == nil {
		return nil, errors.New("apply: Prune needs an ApplySet")
	}
	items := plan.Items
	var set *applySetRun
	if o.ApplySet != nil {
		var err error
		set, err = e.beginApplySet(ctx, o.ApplySet, plan, &o)
		if err != nil {
			return &ApplyReport{}, err
		}
		items = set.items
	}
	var crds setCRDs
	if o.DryRun {
		crds = crdsOf(items)
	}
	results := e.run(ctx, items, false, o.Concurrency, o.FailFast, o.OnResult, func(ctx context.Context, it Item) Result {
		if lc, ok := e.checkLocally(ctx, crds, it); ok {
			return lc.result(Result{Ref: it.Ref, Source: it.Source, DryRun: true})
		}
		return e.applyOne(ctx, it, &o)
	})
	rep := &ApplyReport{Report: Report{Results: results}}
	if set != nil && o.Prune {
		if !rep.OK() {
			e.log.InfoContext(ctx, "manifest: prune skipped: some objects failed")
		} else {
			pruned, err := e.prune(ctx, set, &o)
			rep.Results = append(rep.Results, pruned...)
			if err != nil {
				return rep, err
			}
		}
	}
	if o.Wait != nil && !o.DryRun {
		var refs []Target
		for _, r := range results {
			if r.Action == Created || r.Action == Configured || r.Action == Unchanged {
				refs = append(refs, Target{Ref: r.Ref, Source: r.Source})
			}
		}
		rep.Ready = e.Wait(ctx, refs, o.Wait)
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	return rep, nil
}

// DeleteOptions tune Delete. Nil means defaults.
type DeleteOptions struct {
	// PropagationPolicy is resource.PropagationBackground (the default),
	// Foreground or Orphan.
	PropagationPolicy string
	// DryRun deletes nothing (dryRun=All).
	DryRun bool
	// Concurrency and FailFast are as in ApplyOptions.
	Concurrency int
	FailFast    bool
	// OnResult is as in ApplyOptions.
	OnResult func(Result)
}

// Delete deletes a planned set in reverse order: an object only once
// everything that depends on it is deleted (custom resources before their
// CRD, a namespace's objects before it). A missing object is Unchanged.
// Results are in plan order. A Deleted object may still be finishing
// (finalizers, a grace period): pass the Deleted results' Refs to Wait with
// ForDeletion to wait until they are gone.
func (e *Engine) Delete(ctx context.Context, plan *Plan, opts *DeleteOptions) (*Report, error) {
	if plan == nil {
		return nil, errors.New("delete: nil plan (build one with Engine.Plan)")
	}
	var o DeleteOptions
	if opts != nil {
		o = *opts
	}
	if o.PropagationPolicy == "" {
		o.PropagationPolicy = resource.PropagationBackground
	}
	results := e.run(ctx, plan.Items, true, o.Concurrency, o.FailFast, o.OnResult, func(ctx context.Context, it Item) Result {
		start := time.Now()
		r := Result{Ref: it.Ref, Source: it.Source, DryRun: o.DryRun}
		got, err := e.handle(it).Delete(ctx, it.Ref.Name, &resource.DeleteOptions{PropagationPolicy: o.PropagationPolicy, DryRun: o.DryRun})
		switch {
		case errors.Is(err, transport.ErrNotFound):
			r.Action = Unchanged
		case err != nil:
			r.fail(err)
		default:
			r.Action = Deleted
			r.Object = got
		}
		r.Duration = time.Since(start)
		return r
	})
	rep := &Report{Results: results}
	return rep, ctx.Err()
}

// handle returns the handle for an item, bound to its resolved namespace.
func (e *Engine) handle(it Item) resource.Handle {
	h := e.c.ForObject(it.Object)
	if it.Ref.Namespace != "" {
		h = h.Namespace(it.Ref.Namespace)
	}
	return h
}

// fail marks r Failed with err and the server's causes.
func (r *Result) fail(err error) {
	r.Action = Failed
	r.Err = err
	var ae *transport.APIError
	if errors.As(err, &ae) {
		r.Causes = ae.Causes()
	}
	var ce *resource.ApplyConflictError
	if errors.As(err, &ce) && len(r.Causes) == 0 {
		for _, c := range ce.Conflicts {
			r.Causes = append(r.Causes, transport.StatusCause{Type: "FieldManagerConflict", Field: c.Field, Message: c.Message})
		}
	}
}

// blocksDependents reports whether a result stops the objects that depend
// on it: failures and skips do, except a create that found the object there.
func (r Result) blocksDependents() bool {
	switch r.Action {
	case Failed:
		return !errors.Is(r.Err, transport.ErrAlreadyExists)
	case Skipped:
		return true
	}
	return false
}

// errFailFast is the reason of objects skipped after a failure with FailFast.
var errFailFast = errors.New("not sent: an earlier object failed and FailFast is set")

// run executes do for every item, each once its prerequisites are done:
// its dependencies, and every item earlier in the order of a lower kind
// rank (reverse: later, higher rank, and its dependents).
func (e *Engine) run(ctx context.Context, items []Item, reverse bool, concurrency int, failFast bool, onResult func(Result), do func(context.Context, Item) Result) []Result {
	n := len(items)
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	// prereq[i]: items that must finish first; hard[i]: those whose
	// failure skips i.
	prereq := make([][]int, n)
	hard := make([][]int, n)
	for i, it := range items {
		for _, d := range it.DependsOn {
			if reverse {
				prereq[d] = append(prereq[d], i)
			} else {
				prereq[i] = append(prereq[i], d)
				hard[i] = append(hard[i], d)
			}
		}
	}
	// The rank barrier: per rank, the items of lower rank before it.
	lowerBefore := func(i int) []int {
		var out []int
		if !reverse {
			for j := 0; j < i; j++ {
				if items[j].Rank < items[i].Rank {
					out = append(out, j)
				}
			}
		} else {
			for j := i + 1; j < n; j++ {
				if items[j].Rank > items[i].Rank {
					out = append(out, j)
				}
			}
		}
		return out
	}
	results := make([]Result, n)
	done := make([]chan struct{}, n)
	for i := range done {
		done[i] = make(chan struct{})
	}
	sem := make(chan struct{}, concurrency)
	var mu sync.Mutex // serialises onResult and failed
	failed := false
	report := func(i int, r Result) {
		results[i] = r
		mu.Lock()
		if r.Action == Failed {
			failed = true
		}
		if onResult != nil {
			onResult(r)
		}
		mu.Unlock()
		close(done[i])
	}
	var wg sync.WaitGroup
	for i := range items {
		wg.Go(func() {
			it := items[i]
			waitFor := append(prereq[i], lowerBefore(i)...)
			for _, j := range waitFor {
				select {
				case <-done[j]:
				case <-ctx.Done():
					<-done[j]
				}
			}
			for _, j := range hard[i] {
				if results[j].blocksDependents() {
					report(i, Result{Ref: it.Ref, Source: it.Source, Action: Skipped,
						Err: fmt.Errorf("depends on %s, which %s", items[j].Ref, results[j].Action)})
					return
				}
			}
			mu.Lock()
			stop := failFast && failed
			mu.Unlock()
			if stop {
				report(i, Result{Ref: it.Ref, Source: it.Source, Action: Skipped, Err: errFailFast})
				return
			}
			if err := ctx.Err(); err != nil {
				report(i, Result{Ref: it.Ref, Source: it.Source, Action: Skipped, Err: fmt.Errorf("not sent: %w", err)})
				return
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				report(i, Result{Ref: it.Ref, Source: it.Source, Action: Skipped, Err: fmt.Errorf("not sent: %w", ctx.Err())})
				return
			}
			r := do(ctx, it)
			<-sem
			report(i, r)
		})
	}
	wg.Wait()
	return results
}

// applyOne writes one object.
func (e *Engine) applyOne(ctx context.Context, it Item, o *ApplyOptions) Result {
	start := time.Now()
	r := Result{Ref: it.Ref, Source: it.Source, DryRun: o.DryRun}
	defer func() { r.Duration = time.Since(start) }()
	h := e.handle(it)
	switch o.Mode {
	case CreateOnly:
		got, err := h.Create(ctx, it.Object, &resource.CreateOptions{DryRun: o.DryRun, FieldManager: o.FieldManager, FieldValidation: o.FieldValidation})
		if err != nil {
			r.fail(err)
		} else {
			r.Action = Created
			r.Object = got
		}
	default:
		// The live object's metadata tells created from configured from
		// unchanged: server-side apply answers the same either way.
		before, err := h.MetadataOnly().Get(ctx, it.Ref.Name, nil)
		exists := err == nil
		if err != nil && !errors.Is(err, transport.ErrNotFound) {
			r.fail(err)
			return r
		}
		got, err := h.Apply(ctx, it.Object, &resource.ApplyOptions{FieldManager: o.FieldManager, Force: o.Force, DryRun: o.DryRun, FieldValidation: o.FieldValidation})
		switch {
		case err != nil:
			r.fail(err)
			return r
		case !exists:
			r.Action = Created
		case o.DryRun:
			r.Action = Configured
			if live, err := h.Get(ctx, it.Ref.Name, nil); err == nil && len(changes(live, got, false)) == 0 {
				r.Action = Unchanged
			}
		case got.ResourceVersion() == before.ResourceVersion():
			r.Action = Unchanged
		default:
			r.Action = Configured
		}
		r.Object = got
	}
	if isCRD(it.Ref) && (r.Action != Failed || errors.Is(r.Err, transport.ErrAlreadyExists)) && !o.DryRun {
		crd, err := e.establish(ctx, it.Ref.Name, o.CRDTimeout)
		if err != nil {
			r.Action = Failed
			r.Err = err
		} else if r.Action != Failed {
			r.Object = crd // established: the status the wait saw
		}
	}
	return r
}

func isCRD(r Ref) bool {
	return r.Kind == "CustomResourceDefinition" && r.Group() == "apiextensions.k8s.io"
}

// establish waits for a CRD to be Established, then for discovery to serve
// its kind: resource.Client.WaitEstablished, which reads the CRD once and
// watches it (one mechanism for the engine and the client).
func (e *Engine) establish(ctx context.Context, name string, timeout time.Duration) (unstructured.Object, error) {
	return e.c.WaitEstablished(ctx, name, &resource.WaitOptions{Timeout: timeout, Interval: 50 * time.Millisecond})
}
