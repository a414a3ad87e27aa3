package resource

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
)

// Defaults of WaitOptions.
const (
	// DefaultWaitInterval is WaitEstablished's pause before it reads a CRD
	// again after its watch ended, and between two discovery refreshes.
	DefaultWaitInterval = 100 * time.Millisecond
	// DefaultWaitTimeout bounds WaitEstablished when WaitOptions.Timeout is
	// zero.
	DefaultWaitTimeout = time.Minute
)

// ErrCRDNotEstablished is matched (errors.Is) by the error WaitEstablished
// returns when the CustomResourceDefinition cannot become established: its
// names were refused (NamesAccepted False, such as a plural another CRD
// already uses), it is being deleted, or the wait timed out.
var ErrCRDNotEstablished = errors.New("custom resource definition not established")

// WaitOptions bound a wait. Nil means defaults. Calls only read options, so
// one value may be shared by concurrent calls.
type WaitOptions struct {
	// Timeout bounds the whole wait; 0 means DefaultWaitTimeout. The
	// context's deadline applies too.
	Timeout time.Duration
	// Interval is the pause before reading again after a watch ended early,
	// and between discovery refreshes; 0 means DefaultWaitInterval.
	Interval time.Duration
}

// crdAPIVersion and crdKind name the CustomResourceDefinition resource.
const (
	crdAPIVersion = "apiextensions.k8s.io/v1"
	crdKind       = "CustomResourceDefinition"
)

// WaitEstablished waits until the CustomResourceDefinition called name (such
// as "widgets.example.com") is served, and returns it as last read.
//
// The API server serves a CRD's resources only once its Established
// condition is True, 0.2-0.4 s after the CRD was created on a real server;
// a custom resource sent before that fails as an unknown kind, and a Create
// right after the CRD is not enough. WaitEstablished reads the CRD once and,
// unless it is Established already, watches it (a watch of this one name,
// from the version read) until Established is True, so it learns of the
// change as soon as the server makes it, with no polling. When that watch
// ends early (the server closed it, its version was compacted away, or the
// caller may read CRDs but not watch them) it reads the CRD again after
// opts.Interval and watches anew. Then it refreshes discovery (every
// opts.Interval) until every served version of the CRD's kind resolves, so
// that Resource(kind), ResourceFor(plural) and ForObject find it as soon
// as it returns. The first write of a custom resource of a
// just-established CRD may still take about two seconds inside the server;
// later ones are fast.
//
// It fails at once, with an error matching ErrCRDNotEstablished, when the
// server refuses the CRD's names (NamesAccepted False; the message is the
// server's) or the CRD is being deleted; with transport.ErrNotFound when
// there is no such CRD (and with both when it is deleted during the wait);
// and with ErrCRDNotEstablished after opts.Timeout, or with the context's
// error when ctx ends first.
func (c *Client) WaitEstablished(ctx context.Context, name string, opts *WaitOptions) (unstructured.Object, error) {
	var o WaitOptions
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultWaitTimeout
	}
	if o.Interval <= 0 {
		o.Interval = DefaultWaitInterval
	}
	wrap := func(err error) error { return fmt.Errorf("wait for %s %s to be established: %w", crdKind, name, err) }
	if err := checkName(name); err != nil {
		return unstructured.Object{}, wrap(err)
	}
	errBound := errors.New("wait bound reached")
	ctx, cancel := context.WithTimeoutCause(ctx, o.Timeout, errBound)
	defer cancel()
	// timedOut tells the wait's own bound from the caller's context.
	timedOut := func(last string) error {
		if errors.Is(context.Cause(ctx), errBound) {
			return wrap(fmt.Errorf("%w after %s: %s", ErrCRDNotEstablished, o.Timeout, last))
		}
		return wrap(ctx.Err())
	}

	crds := c.Resource(crdAPIVersion, crdKind)
	var crd unstructured.Object
	last := "the CRD could not be read"
	for {
		// A read, then a watch of this one CRD from the version read: the
		// read answers at once for a CRD that is missing, refused or being
		// deleted; the watch reports the change to Established as it
		// happens. When the watch ends (the server closed it, the version
		// is too old, or watching is not allowed) the loop reads again.
		got, err := crds.Get(ctx, name, nil)
		if err != nil {
			if ctx.Err() != nil {
				return crd, timedOut(last)
			}
			return crd, wrap(err)
		}
		crd = got
		last = "Established is not True yet"
		done, err := crdEstablished(crd)
		if err != nil {
			return crd, wrap(err)
		}
		if done {
			break
		}
		crd, done, err = watchEstablished(ctx, crds, crd)
		if err != nil {
			return crd, wrap(err)
		}
		if done {
			break
		}
		if err := pause(ctx, o.Interval); err != nil {
			return crd, timedOut(last)
		}
	}

	// Discovery lists the resource within about 0.1 s of Established; a
	// refresh before that misses, so refresh until every version resolves.
	group := crd.Get("spec.group").String()
	kind := crd.Get("spec.names.kind").String()
	var versions []string
	for _, v := range crd.Get("spec.versions").Array() {
		if v.Get("served").Bool() {
			versions = append(versions, v.Get("name").String())
		}
	}
	for _, v := range versions {
		av := group + "/" + v
		for {
			_, err := c.disc.ResourceForKind(ctx, av, kind)
			if err == nil {
				break
			}
			if !errors.Is(err, discovery.ErrUnknownResource) {
				if ctx.Err() != nil {
					return crd, timedOut(fmt.Sprintf("discovery does not list %s %s yet", av, kind))
				}
				return crd, wrap(err)
			}
			if err := pause(ctx, o.Interval); err != nil {
				return crd, timedOut(fmt.Sprintf("discovery does not list %s %s yet", av, kind))
			}
			// Forget the miss, so the next lookup asks the server.
			c.disc.Invalidate()
		}
	}
	return crd, nil
}

// watchEstablished watches the CRD crd from its resourceVersion until it
// is Established (done), until the watch ends (not done, no error: the
// caller reads again) or until it cannot become Established (an error).
// It returns the CRD as last seen.
func watchEstablished(ctx context.Context, crds Handle, crd unstructured.Object) (unstructured.Object, bool, error) {
	opts := &WatchOptions{
		FieldSelector:       "metadata.name=" + crd.Name(),
		ResourceVersion:     crd.ResourceVersion(),
		AllowWatchBookmarks: true,
	}
	for ev, err := range crds.Watch(ctx, opts) {
		if err != nil {
			// Ended by ctx, a 410 for a version compacted away, a refused
			// watch or a broken connection: the caller reads again.
			return crd, false, nil
		}
		switch ev.Type {
		case watch.Added, watch.Modified:
			if ev.Object.Name() != crd.Name() {
				continue
			}
			crd = ev.Object
			done, err := crdEstablished(crd)
			if err != nil || done {
				return crd, done, err
			}
		case watch.Deleted:
			if ev.Object.Name() == crd.Name() {
				return crd, false, fmt.Errorf("%w: it was deleted while waiting (%w)", ErrCRDNotEstablished, transport.ErrNotFound)
			}
		}
	}
	return crd, false, nil
}

// crdEstablished reads a CRD's conditions: true when Established is True,
// an error when it never will be (names refused, or being deleted).
func crdEstablished(crd unstructured.Object) (bool, error) {
	if crd.IsDeleting() {
		return false, fmt.Errorf("%w: it is being deleted", ErrCRDNotEstablished)
	}
	var established bool
	var refused string
	crd.Get("status.conditions").ForEach(func(_, c gjson.Result) bool {
		switch c.Get("type").String() {
		case "Established":
			established = c.Get("status").String() == "True"
		case "NamesAccepted":
			if c.Get("status").String() == "False" {
				refused = c.Get("reason").String() + ": " + c.Get("message").String()
			}
		}
		return true
	})
	if refused != "" {
		return false, fmt.Errorf("%w: the server refused its names (%s)", ErrCRDNotEstablished, refused)
	}
	return established, nil
}

// pause waits d or until ctx ends, whichever comes first.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
