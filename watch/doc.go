// Package watch reads the API server's watch streams and keeps watching
// through failures: an event decoder, a resuming Watcher with WatchList,
// and (built on them) informers.
//
// It imports only transport and unstructured. What it needs from the layer
// above is the small ListWatcher interface, which resource.Handle's
// ListWatcher method implements.
//
// # Events
//
// An Event is a Type and an unstructured.Object. Objects are immutable raw
// JSON that own their memory, so events can be kept and shared freely. The
// server's types are Added, Modified, Deleted and Bookmark; an ERROR event
// never appears as an Event but as the *transport.APIError it carries (a
// 410 Expired matches transport.ErrGone). A Watcher adds two markers,
// Restarted and Synced. ObjectKey gives the Key an object is stored under.
//
// # Decoding a stream
//
// Decode(ctx, body) yields the events of one watch response as an
// iter.Seq2[Event, error], one per line of the stream, without buffering
// more than one event. Each event is validated by unstructured's strict
// scanner: a cut-off or malformed event is an error, never half an object.
// An error ends the sequence; a clean end of the stream ends it without
// one; the end of ctx closes the body and yields ctx's error.
//
//	for ev, err := range watch.Decode(ctx, resp.Body) { ... }
//
// resource.Handle.Watch opens one watch request and decodes it this way
// (resource.Handle.WatchMetadata asks for PartialObjectMetadata objects).
// Neither reconnects: that is the Watcher's job.
//
// # Watcher
//
// NewWatcher(lw, cfg).Events(ctx) lists, then watches, for as long as ctx
// lasts, and yields one ordered stream of changes:
//
//	Added... Synced                      the initial state, then
//	Added/Modified/Deleted/Bookmark...   live changes, and after a 410 Gone:
//	Restarted Added/Modified/Deleted... Synced
//
// It remembers the last resourceVersion (bookmarks included) and reconnects
// from it after a dropped connection, a server-side timeout (requested at a
// random 5-10 minutes, so watchers do not reconnect in step) or an idle
// deadline (Config.IdleTimeout, 3 minutes: no event and no bookmark for
// that long means a dead connection; kube-apiserver sends a quiet watch a
// bookmark a minute, the first after two). HTTP/2 pings, set up by
// transport, usually notice a dead connection sooner (45 s measured). Reconnects back off with jitter from
// 0.8 s to 30 s, doubling, reset after 2 minutes without failure. Errors it
// recovers from go to Config.OnError; only Config.Final errors and the end
// of ctx end the stream.
//
// When the watch cannot resume (410 Gone, as an ERROR event or an HTTP
// status), the Watcher yields Restarted and lists again. It compares the
// new list with the keys and resourceVersions it delivered (or those of
// Config.Known, such as an informer's store), so what follows is a diff:
// new objects Added, changed ones Modified, unchanged ones skipped, and
// objects that vanished meanwhile Deleted (their Object then carries only
// metadata.name, metadata.namespace and the list's resourceVersion). Nothing
// is skipped silently, and a relist never holds two copies of the state:
// objects are yielded page by page (each copied out of its page) and the
// consumer applies them in place.
//
// Config.Known lets a caller that holds the objects anyway (an informer's
// Store) answer the Watcher's questions (KeyStore: the resourceVersion held
// per Key, and every Key held), so the Watcher keeps no record of its own.
//
// # WatchList
//
// The initial state (and every relist) is read with a WatchList when the
// server supports it: a watch with sendInitialEvents=true,
// resourceVersionMatch=NotOlderThan and bookmarks, whose Added events are
// the current objects and whose Bookmark annotated k8s.io/initial-events-end
// marks the end of them; the same connection then goes on as the watch.
// The Watcher falls back to paged list + watch when the server refuses
// (any 4xx but 410 and 429; kube-apiserver with the WatchList gate off
// answers 422) and when the end bookmark does not come within
// Config.WatchListTimeout of the last event — a server that accepts the
// parameters but ignores them would otherwise leave the caller unsynced
// until the watch times out. Both are remembered per ListWatcher.Key
// (server and resource) for the life of the process, except a 401 or 403,
// which says nothing about WatchList; a server that closes a WatchList
// before its end makes only that run fall back.
//
// # Informers
//
// NewInformer(lw, opts) runs a Watcher with its Store as Config.Known and
// keeps the Store equal to the server's state of lw's collection (one
// resource, namespace and selector; metadata-only when lw comes from a
// resource.Handle.MetadataOnly handle). Handlers (AddHandler) get OnAdd,
// OnUpdate with old and new, and OnDelete with the last state, each on a
// goroutine and queue of its own: a slow handler delays only itself and
// sees each object's changes in order; a panic is recovered and reported
// as a *HandlerPanicError. HasSynced and WaitForSync tell when the first
// state is in; ResyncPeriod replays the store to handlers; Transform (such
// as DropManagedFields) rewrites objects before they are stored; indexes
// (DefaultIndexers, LabelIndex, FieldIndex, or any IndexFunc) answer
// Store.ByIndex; Compress holds the store's objects deflated, in a quarter
// of the memory of their JSON, for the time of compressing each write and
// decompressing each read. Run returns after every goroutine it started
// has ended. A Factory shares one informer per collection within a
// process.
//
// # Work queue
//
// Queue[K] is the work queue of controllers: a key is queued once however
// often it is added and never processed by two workers at once; a key
// added while it is processed is processed again after Done.
// AddRateLimited retries with per-key exponential backoff under an overall
// token bucket until Forget; ShutDownWithDrain lets workers finish what is
// queued. Queue.Run is the worker loop, with RequeueAfter for periodic work.
//
// # Testing
//
// Config.Clock replaces the wall clock and timers, so tests drive backoff,
// idle deadlines and WatchList bounds without sleeping; QueueOptions.Clock
// does the same for a Queue's delays.
package watch
