package manifest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
)

// Defaults of WaitOptions.
const (
	// DefaultWaitTimeout bounds a whole Wait when WaitOptions.Timeout is 0.
	DefaultWaitTimeout = 5 * time.Minute
	// DefaultNoStatusGrace is how long a custom resource without any status
	// counts as InProgress before it is taken as Current (its controller may
	// not write a status at all).
	DefaultNoStatusGrace = 10 * time.Second
	// DefaultFailedAfter is how long Failed must persist before a wait
	// reports it: controllers often report a failure on the way to success.
	DefaultFailedAfter = 3 * time.Second
)

// Target is one object to wait for. It is a plain value.
type Target struct {
	Ref    Ref
	Source unstructured.Source
}

// WaitFor says what a wait waits for.
type WaitFor int

const (
	// ForCurrent waits until the object is Current (the default).
	ForCurrent WaitFor = iota
	// ForDeletion waits until the object is gone.
	ForDeletion
)

// WaitOptions tune Wait. Nil means defaults. Wait only reads them.
type WaitOptions struct {
	// For is ForCurrent (default) or ForDeletion.
	For WaitFor
	// Timeout bounds the whole wait; 0 means DefaultWaitTimeout.
	Timeout time.Duration
	// ObjectTimeout bounds the wait for each object; 0 means Timeout.
	ObjectTimeout time.Duration
	// Rules replace the built-in rules for the kinds they name.
	Rules []Rule
	// NoStatusGrace is how long a custom resource with no status stays
	// InProgress before it counts as Current; 0 means DefaultNoStatusGrace,
	// negative means it never does (it must write a status).
	NoStatusGrace time.Duration
	// FailedAfter is how long Failed must last, uninterrupted, to end the
	// wait for the object; 0 means DefaultFailedAfter, negative means at once.
	FailedAfter time.Duration
	// OnChange, when set, is called with every change of an object's status
	// or message (progress lines); calls for one object come one at a time,
	// calls for different objects may come at once.
	OnChange func(WaitResult)
}

// WaitResult is the last known status of one object of a Wait. It is a plain
// value.
type WaitResult struct {
	Target
	// Status is the last status: Current (or NotFound for ForDeletion) when
	// the wait succeeded.
	Status Status
	// Message explains it (`1 of 2 replicas available`).
	Message string
	// Object is the object as last seen (zero when never seen).
	Object unstructured.Object
	// Err is why the wait ended without success: the object's timeout, the
	// overall timeout, a watch that could not be opened (unknown kind,
	// forbidden).
	Err error
	// Duration is how long the wait for it lasted.
	Duration time.Duration
}

// Ready reports whether the wait for the object succeeded.
func (r WaitResult) Ready() bool {
	return r.Err == nil && (r.Status == StatusCurrent || r.Status == StatusNotFound)
}

// ErrWaitTimeout is matched (errors.Is) by WaitResult.Err when a timeout
// ended the wait.
var ErrWaitTimeout = errors.New("timed out")

// Wait waits, all objects at once, until each is Current (or gone, with
// ForDeletion), Failed for FailedAfter, or its time is up, and returns one
// WaitResult per target in order. It is driven by watches (one per object,
// by name), never by polling; time-based rules re-evaluate on timers.
//
// The rules: the built-in kinds follow kstatus (Deployment, StatefulSet,
// DaemonSet, ReplicaSet: rolled out and available at the current generation;
// Job: Complete, Failed when its Failed condition is True; Pod: Running and
// Ready or Succeeded; PersistentVolumeClaim: Bound; Service: an address for
// a LoadBalancer; CustomResourceDefinition: Established; Namespace: Active);
// kinds without status are Current at once. Other objects are read through
// their conditions: Stalled or Failed True is Failed, Ready (or Available,
// Succeeded) True is Current, False InProgress (Failed when its reason says
// so), Unknown never ready, and a condition whose observedGeneration is behind
// the object's generation counts for nothing. A custom resource with no status
// at all is InProgress for NoStatusGrace, then Current. opts.Rules take the
// place of all this for their kinds.
func (e *Engine) Wait(ctx context.Context, targets []Target, opts *WaitOptions) []WaitResult {
	var o WaitOptions
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultWaitTimeout
	}
	if o.ObjectTimeout <= 0 || o.ObjectTimeout > o.Timeout {
		o.ObjectTimeout = o.Timeout
	}
	if o.NoStatusGrace == 0 {
		o.NoStatusGrace = DefaultNoStatusGrace
	}
	if o.FailedAfter == 0 {
		o.FailedAfter = DefaultFailedAfter
	}
	ctx, cancel := context.WithTimeoutCause(ctx, o.Timeout, fmt.Errorf("%w after %s (overall)", ErrWaitTimeout, o.Timeout))
	defer cancel()
	out := make([]WaitResult, len(targets))
	if err := checkRules(o.Rules); err != nil {
		for i, t := range targets {
			out[i] = WaitResult{Target: t, Status: StatusUnknown, Err: err}
		}
		return out
	}
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() { out[i] = e.waitOne(ctx, t, &o) })
	}
	wg.Wait()
	return out
}

// finalWatchError tells errors a watch cannot recover from.
func finalWatchError(err error) bool {
	for _, s := range []error{discovery.ErrUnknownResource, transport.ErrForbidden, transport.ErrUnauthorized,
		transport.ErrNotFound, transport.ErrBadRequest, transport.ErrInvalid, transport.ErrInvalidName,
		resource.ErrNamespaceRequired, resource.ErrClusterScoped, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// waitOne waits for one object.
func (e *Engine) waitOne(ctx context.Context, t Target, o *WaitOptions) WaitResult {
	start := time.Now()
	res := WaitResult{Target: t, Status: StatusUnknown}
	ctx, cancel := context.WithTimeoutCause(ctx, o.ObjectTimeout, fmt.Errorf("%w after %s", ErrWaitTimeout, o.ObjectTimeout))
	defer cancel()
	h := e.c.Resource(t.Ref.APIVersion, t.Ref.Kind)
	if t.Ref.Namespace != "" {
		h = h.Namespace(t.Ref.Namespace)
	}
	lw := h.ListWatcher(&resource.ListWatcherOptions{FieldSelector: "metadata.name=" + t.Ref.Name})
	events := make(chan watch.Event)
	errc := make(chan error, 1)
	go func() {
		w := watch.NewWatcher(lw, &watch.Config{Final: finalWatchError, OnError: func(error) {}})
		for ev, err := range w.Events(ctx) {
			if err != nil {
				errc <- err
				return
			}
			select {
			case events <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	var (
		obj          unstructured.Object
		synced       bool
		firstNoStat  time.Time
		failedSince  time.Time
		timer        *time.Timer
		timerC       <-chan time.Time
		lastReported Status
		lastMessage  string
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	schedule := func(d time.Duration) {
		if timer != nil {
			timer.Stop()
		}
		timer = time.NewTimer(d)
		timerC = timer.C
	}
	for {
		// Evaluate when the state is known.
		if synced {
			v := evaluate(obj, o.Rules)
			now := time.Now()
			status, msg := v.status, v.message
			if v.noStatus {
				if firstNoStat.IsZero() {
					firstNoStat = now
				}
				if o.NoStatusGrace > 0 {
					if left := o.NoStatusGrace - now.Sub(firstNoStat); left <= 0 {
						status, msg = StatusCurrent, "no status after "+o.NoStatusGrace.String()+"; taken as ready"
					} else {
						schedule(left)
					}
				}
			} else {
				firstNoStat = time.Time{}
			}
			if status == StatusFailed {
				if failedSince.IsZero() {
					failedSince = now
				}
				if left := o.FailedAfter - now.Sub(failedSince); left > 0 {
					schedule(left)
					msg += " (failing for " + now.Sub(failedSince).Round(time.Millisecond).String() + ")"
					status = StatusInProgress
				}
			} else {
				failedSince = time.Time{}
			}
			res.Status, res.Message, res.Object = status, msg, obj
			if (status != lastReported || msg != lastMessage) && o.OnChange != nil {
				lastReported, lastMessage = status, msg
				r := res
				r.Duration = time.Since(start)
				o.OnChange(r)
			}
			done := false
			switch o.For {
			case ForDeletion:
				done = status == StatusNotFound
			default:
				done = status == StatusCurrent || status == StatusFailed
			}
			if done {
				res.Duration = time.Since(start)
				if status == StatusFailed {
					res.Err = fmt.Errorf("%s failed: %s", t.Ref, msg)
				}
				return res
			}
		}
		select {
		case ev := <-events:
			switch ev.Type {
			case watch.Added, watch.Modified:
				obj = ev.Object
			case watch.Deleted:
				obj = unstructured.Object{}
			case watch.Synced:
				synced = true
			case watch.Restarted:
				synced = false
			}
		case <-timerC:
			timerC = nil
		case err := <-errc:
			res.Err = fmt.Errorf("watch %s: %w", t.Ref, err)
			res.Duration = time.Since(start)
			return res
		case <-ctx.Done():
			res.Err = fmt.Errorf("%s is %s (%s): %w", t.Ref, res.Status, res.Message, context.Cause(ctx))
			res.Duration = time.Since(start)
			return res
		}
	}
}
