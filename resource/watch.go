package resource

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
)

// WatchOptions are the query parameters of Watch and WatchMetadata. Nil
// means defaults: a watch from now on, without bookmarks. Calls only read
// options (Watch copies them when called), so one value may be shared by
// concurrent calls.
type WatchOptions struct {
	// LabelSelector filters by labels, such as "app=web,tier!=db".
	LabelSelector string
	// FieldSelector filters by fields, such as "metadata.name=web".
	FieldSelector string
	// ResourceVersion is where the watch starts: events after this version.
	// "" and "0" start with the current objects as Added events.
	ResourceVersion string
	// ResourceVersionMatch is ResourceVersionMatchNotOlderThan together
	// with SendInitialEvents, else empty (the server refuses it with 422).
	ResourceVersionMatch string
	// AllowWatchBookmarks asks for Bookmark events, which carry the
	// resourceVersion the watch has reached (about once a minute on a
	// quiet watch).
	AllowWatchBookmarks bool
	// SendInitialEvents, when non-nil, sends sendInitialEvents: true starts
	// the watch with the current objects as Added events, followed (with
	// AllowWatchBookmarks) by a Bookmark annotated
	// k8s.io/initial-events-end — a list streamed over the watch
	// (WatchList). It needs ResourceVersionMatchNotOlderThan.
	SendInitialEvents *bool
	// TimeoutSeconds asks the server to end the watch cleanly after this
	// long; 0 leaves the server's default (a random 30-60 minutes on
	// kube-apiserver).
	TimeoutSeconds int64
}

func (o *WatchOptions) query() url.Values {
	q := url.Values{"watch": {"true"}}
	if o == nil {
		return q
	}
	if o.LabelSelector != "" {
		q.Set("labelSelector", o.LabelSelector)
	}
	if o.FieldSelector != "" {
		q.Set("fieldSelector", o.FieldSelector)
	}
	if o.ResourceVersion != "" {
		q.Set("resourceVersion", o.ResourceVersion)
	}
	if o.ResourceVersionMatch != "" {
		q.Set("resourceVersionMatch", o.ResourceVersionMatch)
	}
	if o.AllowWatchBookmarks {
		q.Set("allowWatchBookmarks", "true")
	}
	if o.SendInitialEvents != nil {
		q.Set("sendInitialEvents", strconv.FormatBool(*o.SendInitialEvents))
	}
	if o.TimeoutSeconds > 0 {
		q.Set("timeoutSeconds", strconv.FormatInt(o.TimeoutSeconds, 10))
	}
	return q
}

// Watch watches the objects the options select and yields their changes in
// order, as watch.Decode describes: the request is sent when the loop
// starts and closed when the loop ends; each event's object is validated
// and owns its memory; an ERROR event, a refused request (a
// *transport.APIError: 410 Gone for a resourceVersion too old, 422 for a
// bad combination of options) or a broken stream is yielded once as the
// last element; a clean close by the server (its timeout) ends the loop
// without error. opts is copied when Watch is called. A MetadataOnly handle
// watches PartialObjectMetadata objects.
//
// Watch is one connection: it does not reconnect, remember where it was or
// relist. watch.NewWatcher(h.ListWatcher(nil), nil) does. A namespaced
// resource needs Namespace(ns) or AllNamespaces() (ErrNamespaceRequired).
//
// For callers that need to select on other channels, iter.Pull2 turns the
// sequence into a next function.
func (h Handle) Watch(ctx context.Context, opts *WatchOptions) iter.Seq2[watch.Event, error] {
	q := opts.query()
	return func(yield func(watch.Event, error) bool) {
		t, err := h.bind(ctx, scopeList, verbWatch)
		if err != nil {
			yield(watch.Event{}, t.wrap("watch", "", err))
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		resp, err := h.c.stream(ctx, &transport.Request{Method: http.MethodGet, Path: t.collectionPath(),
			Query: q, Header: h.readHeader(false)})
		if err != nil {
			yield(watch.Event{}, t.wrap("watch", "", err))
			return
		}
		for ev, err := range watch.Decode(ctx, resp.Body) {
			if err != nil {
				yield(watch.Event{}, t.wrap("watch", "", err))
				return
			}
			if !yield(ev, nil) {
				return
			}
		}
	}
}

// WatchMetadata is h.MetadataOnly().Watch: objects come as meta.k8s.io/v1
// PartialObjectMetadata, kind, apiVersion and metadata only (names,
// labels, annotations, owner references), which is all many controllers
// need and a fraction of the bytes.
func (h Handle) WatchMetadata(ctx context.Context, opts *WatchOptions) iter.Seq2[watch.Event, error] {
	return h.MetadataOnly().Watch(ctx, opts)
}

// ListWatcherOptions choose the collection a ListWatcher lists and
// watches. Nil means every object of the handle's namespace (or all
// namespaces). It is read once, by ListWatcher.
type ListWatcherOptions struct {
	// LabelSelector filters by labels.
	LabelSelector string
	// FieldSelector filters by fields.
	FieldSelector string
}

// ListWatcher returns h, with the selectors of opts, as the
// watch.ListWatcher that watch.NewWatcher and informers need. It does no
// I/O; each List and Watch resolves the handle as other calls do. On a
// MetadataOnly handle it lists and watches PartialObjectMetadata.
func (h Handle) ListWatcher(opts *ListWatcherOptions) watch.ListWatcher {
	lw := handleListWatcher{h: h}
	if opts != nil {
		lw.o = *opts
	}
	return lw
}

// handleListWatcher is Handle as a watch.ListWatcher. It is an immutable
// value, safe for concurrent use.
type handleListWatcher struct {
	h Handle
	o ListWatcherOptions
}

// List sends one list request.
func (lw handleListWatcher) List(ctx context.Context, req *watch.ListRequest) (unstructured.List, error) {
	t, err := lw.h.bind(ctx, scopeList, verbList)
	if err != nil {
		return unstructured.List{}, t.wrap("list", "", err)
	}
	var r watch.ListRequest
	if req != nil {
		r = *req
	}
	page, err := t.page(ctx, &ListOptions{LabelSelector: lw.o.LabelSelector, FieldSelector: lw.o.FieldSelector,
		Limit: r.Limit, ResourceVersion: r.ResourceVersion, ResourceVersionMatch: r.ResourceVersionMatch}, r.Continue, 0)
	if err != nil {
		return unstructured.List{}, t.wrap("list", "", err)
	}
	return page, nil
}

// Watch opens one watch with the ListWatcher's selectors.
func (lw handleListWatcher) Watch(ctx context.Context, req *watch.WatchRequest) iter.Seq2[watch.Event, error] {
	o := &WatchOptions{LabelSelector: lw.o.LabelSelector, FieldSelector: lw.o.FieldSelector}
	if req != nil {
		o.ResourceVersion = req.ResourceVersion
		o.ResourceVersionMatch = req.ResourceVersionMatch
		o.AllowWatchBookmarks = req.AllowWatchBookmarks
		o.SendInitialEvents = req.SendInitialEvents
		o.TimeoutSeconds = req.TimeoutSeconds
	}
	return lw.h.Watch(ctx, o)
}

// Key names the server and the resource as the handle names it.
func (lw handleListWatcher) Key() string {
	if lw.h.c == nil {
		return ""
	}
	return lw.h.c.tc.Host() + " " + lw.h.what()
}
