package watch

import (
	"context"
	"iter"

	"github.com/kubedyn/kubedyn/unstructured"
)

// ListWatcher lists and watches one collection: one resource, in one
// namespace or all, with fixed label and field selectors. It is what a
// Watcher (and an informer) needs from the layer above, declared here so
// watch does not import it: resource.Handle.ListWatcher returns one.
// Implementations must be safe for concurrent use.
type ListWatcher interface {
	// List sends one list request and returns the page. Items may share
	// the page's memory.
	List(ctx context.Context, req *ListRequest) (unstructured.List, error)
	// Watch opens one watch as Decode describes it: the request is sent
	// when the loop starts, an error (an ERROR event, a non-2xx status as a
	// *transport.APIError) ends the sequence, and a clean close by the
	// server ends it without error.
	Watch(ctx context.Context, req *WatchRequest) iter.Seq2[Event, error]
	// Key names the server and resource, such as
	// "https://10.0.0.1:6443 apps/v1 Deployment", without namespace or
	// selectors. Watchers remember per key that a server refused WatchList,
	// so later watchers of the same resource skip straight to list + watch.
	// An empty key remembers nothing.
	Key() string
}

// ListRequest holds the query parameters of one list request. It is a
// plain value; ListWatchers only read it.
type ListRequest struct {
	// Limit is the page size; 0 sends none.
	Limit int64
	// Continue is the token of the page before; "" asks for the first.
	Continue string
	// ResourceVersion and ResourceVersionMatch go with the first page only.
	ResourceVersion      string
	ResourceVersionMatch string
}

// WatchRequest holds the query parameters of one watch request. It is a
// plain value; ListWatchers only read it.
type WatchRequest struct {
	// ResourceVersion is where the watch starts: events after it. "" and
	// "0" start with the current objects as Added events.
	ResourceVersion string
	// ResourceVersionMatch is "NotOlderThan" with SendInitialEvents, else
	// empty.
	ResourceVersionMatch string
	// AllowWatchBookmarks asks for Bookmark events.
	AllowWatchBookmarks bool
	// SendInitialEvents, when set, sends sendInitialEvents=true or false:
	// true starts the watch with the current objects and, with bookmarks,
	// an initial-events-end Bookmark (WatchList).
	SendInitialEvents *bool
	// TimeoutSeconds asks the server to end the watch cleanly after this
	// long; 0 sends none.
	TimeoutSeconds int64
}
