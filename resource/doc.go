// Package resource is the client programs hold: it reads and writes any
// resource a Kubernetes API server serves, built-in kinds and custom resources
// alike, as raw JSON objects (unstructured.Object), with no generated types.
//
// # Client and handles
//
// NewClient builds a Client from a transport.Config and does no network I/O.
// A Client hands out Handles bound to one resource:
//
//	c, err := resource.NewClient(cfg)
//	pods := c.Resource("v1", "Pod").Namespace("default") // by apiVersion and kind
//	deploy := c.ResourceFor("deploy")                      // by plural, singular, short name or "deployments.apps"
//
// A tool that works from manifests takes a handle for each object instead:
// ForObject reads apiVersion and kind from the object and chooses the scope
// once discovery has answered — the object's namespace, or the kubeconfig's
// default namespace, for a namespaced kind; none for a cluster-scoped one —
// and its errors name the object (`apply apps/v1 Deployment default/web:`):
//
//	for _, obj := range objs {
//		_, err := c.ForObject(obj).Apply(ctx, obj, &resource.ApplyOptions{FieldManager: "me"})
//	}
//
// A Handle is an immutable value: Namespace, AllNamespaces and Subresource
// return copies. The first call with a context resolves the resource through
// discovery (package discovery caches the answer, and refreshes once on a
// miss).
//
// # Custom resources
//
// The API server serves the kind of a new CustomResourceDefinition only once
// the CRD's Established condition is True — 0.2-0.4 s after it was created
// on a real server — so a custom resource sent right after its CRD fails as
// an unknown kind. WaitEstablished waits for the condition and refreshes
// discovery until the kind resolves:
//
//	_, err := crds.Create(ctx, crd, nil)
//	_, err = c.WaitEstablished(ctx, "widgets.example.com", nil)
//	_, err = c.ForObject(widget).Create(ctx, widget, nil) // the kind resolves
//
// The first write of a custom resource of a just-established CRD can still
// take about two seconds inside the server.
//
// WaitEstablished is for CRDs the caller created. For kinds that others
// install while a program runs, WatchDiscovery keeps discovery fresh: it
// watches CRDs and APIServices and invalidates discovery when what the
// server serves changes, so such kinds resolve at once even under a long
// discovery TTL:
//
//	go c.WatchDiscovery(ctx, nil) // until ctx ends
//
// # Subresources
//
// Subresource("status"), Subresource("scale") and the like bind a handle to
// one object's subresource. One rule says what such a handle may do, checked
// before the call's request: the collection calls (List, ListPage, ListAll,
// Table, Watch, DeleteCollection) are refused with ErrSubresourceNotAllowed,
// and so is any call whose verb discovery does not list for the subresource
// (Delete on "status", Get on "eviction").
//
// # Deletes
//
// Delete returns what the server answered: the object itself while the
// delete is pending (finalizers, a grace period, PropagationForeground),
// carrying metadata.deletionTimestamp, or a Status once the object is gone.
//
// # Namespaces
//
// Scope comes from discovery. A namespaced resource used without a namespace
// is an error (ErrNamespaceRequired), never a silent cluster-wide request;
// lists across all namespaces are asked for with AllNamespaces. A handle
// given a namespace for a cluster-scoped resource is refused with
// ErrClusterScoped. Create, Update and Apply take the namespace from the
// handle and fill it into an object that has none; an object with another
// namespace is refused. A cluster-scoped object that carries
// metadata.namespace (Helm charts produce them) is written without it, as
// the API server and kubectl do, and a warning says so.
//
// # Warnings
//
// The server's Warning headers go to transport.Config.WarningHandler, or to
// the logger when there is none. Warnings resource raises itself (Agent
// WarningAgent, such as a dropped namespace) go the same way. To learn which
// call a warning came from, make the call with a context from
// WithWarningHandler: it receives the warnings of that call alone.
//
// # Calls and options
//
// Every call that sends a request takes a context first and its options last,
// as a struct pointer where nil means the server's defaults (GetOptions,
// ListOptions, CreateOptions, UpdateOptions, PatchOptions, ApplyOptions,
// DeleteOptions); calls never modify the options. Every write carries
// DryRun, FieldManager and FieldValidation (deletes carry DryRun only); an
// empty FieldManager takes the client's WithFieldManager. Names, namespaces
// (the handle's and the object's metadata.namespace) and subresources that
// could change the URL (".", "..", containing "/" or "%") are refused with
// an error matching transport.ErrInvalidName before any request, discovery
// included.
//
// # Lists
//
// List returns an iter.Seq2 that pages with limit and continue; the first
// request is sent when the loop starts, each next one as soon as the page
// before it has arrived (one page ahead at most), and the one ahead is
// cancelled when the loop breaks. Without a Limit, the first page asks for
// DefaultPageSize objects and later ones for what fits ListPageBytes
// (ListAllPageBytes for ListAll) at the size of the objects seen. ResourceVersion and ResourceVersionMatch go with the first page
// only; selectors, limit and timeoutSeconds with every page. ListPage returns
// one raw page, ListAll every object at once, Table the server-rendered
// table kubectl prints. DeleteCollection takes the same selectors. A server
// that hands back a continue token already followed ends the list with
// ErrContinueRepeated rather than an endless loop.
//
// A Table's rows carry only each object's metadata (a
// PartialObjectMetadata) unless TableOptions.IncludeObject asks for the
// whole object (IncludeObject) or none (IncludeNone).
//
// # Watches
//
// Watch opens one watch request and yields its events (watch.Event: a type
// and a validated, immutable object) as an iter.Seq2; WatchOptions carry
// every parameter of the protocol (resourceVersion, resourceVersionMatch,
// allowWatchBookmarks, sendInitialEvents, timeoutSeconds, selectors). An
// ERROR event or a refused request is the loop's last element; a clean
// close by the server ends the loop. Watch does not reconnect: for that,
// hand ListWatcher(opts) to watch.NewWatcher, which lists (WatchList when
// the server has it), watches, resumes, and relists after 410 Gone.
//
// # Metadata-only reads
//
// A MetadataOnly handle reads objects as meta.k8s.io/v1
// PartialObjectMetadata — apiVersion, kind and metadata, without spec,
// status or data — for programs that need the names, labels and owners of
// many objects. Get, Watch, List, ListPage and ListAll send the Accept
// header AcceptPartialObjectMetadata (AcceptPartialObjectMetadataList for
// lists); writes are unaffected.
//
// # Patches and server-side apply
//
// The patch type is always explicit (JSONPatch, MergePatch,
// StrategicMergePatch, ApplyPatch). Strategic merge patch is refused client
// side for groups that are not built in (discovery.IsBuiltinGroup), because custom
// resources do not support it. Apply strips the fields the server owns
// (managedFields, resourceVersion, uid, creationTimestamp, ...) so an object
// read from the server can be applied back, and reports field-manager
// conflicts as an *ApplyConflictError naming each field and manager.
//
// Apply makes the field manager the owner of every field it sends. Applying
// an object read back from the server therefore takes over the server's
// defaults as well; Extract returns, from the object's managedFields, just
// the fields a manager applied, which is what to change and apply again:
//
//	cur, err := deploys.Get(ctx, "web", nil)
//	mine, err := resource.Extract(cur, "me", nil)
//	mine, err = mine.Set("spec.replicas", 5)
//	_, err = deploys.Apply(ctx, mine, &resource.ApplyOptions{FieldManager: "me"})
//
// # Errors
//
// Errors name the operation and the object, such as
// "get apps/v1 deployments default/web: ...", and wrap the cause: server
// errors are *transport.APIError values matched with errors.Is against
// transport.ErrNotFound, transport.ErrConflict and the other sentinels of
// package transport; client-side refusals match this package's sentinels
// (ErrNamespaceRequired, ErrClusterScoped, ErrPatchTypeUnsupported, ...).
//
// # Concurrency
//
// Clients and Handles are safe for concurrent use by multiple goroutines.
// Objects are immutable and may be shared freely.
package resource
