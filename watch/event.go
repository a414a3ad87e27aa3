package watch

import (
	"github.com/kubedyn/kubedyn/unstructured"
)

// EventType is the type of a watch event: one of the wire types the server
// sends (Added, Modified, Deleted, Bookmark, Error) or one of the markers a
// Watcher adds (Restarted, Synced). It is a plain string value.
type EventType string

// Event types sent by the server.
const (
	// Added: an object was created, or (with a selector) came into view.
	Added EventType = "ADDED"
	// Modified: an object changed.
	Modified EventType = "MODIFIED"
	// Deleted: an object was deleted, or (with a selector) left the view;
	// the object is its last state.
	Deleted EventType = "DELETED"
	// Bookmark: no object changed; the object carries only kind, apiVersion
	// and metadata.resourceVersion, the point the watch has reached. The
	// bookmark that ends the initial events of a WatchList carries the
	// annotation k8s.io/initial-events-end: "true".
	Bookmark EventType = "BOOKMARK"
	// Error is the wire type of an event carrying a Status. Decode never
	// yields an Event of this type: it yields the *transport.APIError the
	// Status describes.
	Error EventType = "ERROR"
)

// Event types a Watcher adds to the server's.
const (
	// Restarted: the Watcher lost its place in the server's history (410
	// Gone) and is listing again. Until the next Synced, the Added, Modified
	// and Deleted events that follow bring the caller from what it held to
	// the listed state: objects that are new are Added, objects that changed
	// are Modified, objects unchanged are not repeated, and objects that
	// disappeared meanwhile are Deleted. The Object is zero.
	Restarted EventType = "RESTARTED"
	// Synced: the listed state (the first list, or the one after
	// Restarted) has been delivered in full. The Object is a bookmark-like
	// object whose metadata.resourceVersion is the list's.
	Synced EventType = "SYNCED"
)

// InitialEventsEndAnnotation is the annotation the server puts on the
// Bookmark that ends the initial events of a watch with sendInitialEvents
// (and of a plain watch from resourceVersion "" or "0" with bookmarks).
const InitialEventsEndAnnotation = "k8s.io/initial-events-end"

var initialEventsEndPath = unstructured.Path("metadata", "annotations", InitialEventsEndAnnotation)

// Event is one event of a watch. Object is immutable raw JSON that owns its
// memory (it shares nothing with the stream's buffers), so an Event may be
// kept, shared and read by several goroutines without copying.
type Event struct {
	// Type says what happened.
	Type EventType
	// Object is the object the event is about: its new state for Added and
	// Modified, its last state for Deleted, a resourceVersion carrier for
	// Bookmark and Synced, zero for Restarted.
	Object unstructured.Object
}

// ResourceVersion returns the resourceVersion the event carries
// (metadata.resourceVersion of its object), "" when there is none.
func (e Event) ResourceVersion() string { return e.Object.ResourceVersion() }

// IsInitialEventsEnd reports whether e is the Bookmark that ends a watch's
// initial events (annotation k8s.io/initial-events-end: "true").
func (e Event) IsInitialEventsEnd() bool {
	return e.Type == Bookmark && e.Object.Get(initialEventsEndPath).String() == "true"
}
