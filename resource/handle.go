package resource

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// Handle is bound to one resource (and optionally a namespace and a
// subresource) of one Client. It is an immutable value: Namespace,
// AllNamespaces and Subresource return changed copies and leave the receiver
// as it was. Handles are safe for concurrent use and cheap to copy.
//
// A Handle does no I/O until a call with a context. Each such call resolves
// the resource through the Client's discovery (which caches, so only the first
// call costs a round trip) and then checks the scope: a namespaced resource
// needs a namespace (ErrNamespaceRequired), a cluster-scoped one refuses one
// (ErrClusterScoped). Names and namespaces that could change the URL are
// refused before any request is sent.
//
// The zero Handle is not usable: its calls return ErrInvalidHandle.
type Handle struct {
	c *Client
	// Either apiVersion and kind, or lookup (a kubectl-style name).
	apiVersion, kind string
	lookup           string

	namespace     string
	allNamespaces bool
	subresource   string
	// metadataOnly makes reads ask for PartialObjectMetadata (MetadataOnly).
	metadataOnly bool
	// byObject marks a handle made by ForObject: namespace is the object's
	// (or the client's default) and applies only if the resource turns out
	// to be namespaced; errors name the kind rather than the resource.
	byObject bool
}

// Namespace returns a copy of h bound to namespace ns. It replaces any
// earlier Namespace or AllNamespaces, and the scope ForObject chose.
func (h Handle) Namespace(ns string) Handle {
	h.namespace = ns
	h.allNamespaces = false
	h.byObject = false
	return h
}

// AllNamespaces returns a copy of h that lists (List, ListPage, ListAll,
// Table) across every namespace. Calls on one object still need Namespace.
func (h Handle) AllNamespaces() Handle {
	h.namespace = ""
	h.allNamespaces = true
	h.byObject = false
	return h
}

// Subresource returns a copy of h bound to the named subresource, such as
// "status" or "scale": Get, Create, Update, Patch, Apply and Delete then
// address <object>/<subresource>. Calls on a subresource that discovery does
// not list for the resource fail with ErrNoSubresource. One rule decides
// which calls a subresource takes, before their request is sent: a call
// whose verb discovery does not list for the subresource fails with
// ErrSubresourceNotAllowed (Delete on "status", Get on "eviction"), and so
// do the collection calls List, ListPage, ListAll, Table, Watch and
// DeleteCollection always, since a subresource belongs to one object.
// Subresource("") returns a handle on the main resource.
func (h Handle) Subresource(name string) Handle {
	h.subresource = name
	return h
}

// MetadataOnly returns a copy of h whose reads — Get, List, ListPage,
// ListAll, Watch and its ListWatcher — ask the server for metadata alone:
// each object comes back as a meta.k8s.io/v1 PartialObjectMetadata,
// apiVersion, kind and metadata (name, namespace, labels, annotations,
// ownerReferences, finalizers, resourceVersion, managedFields, ...) and no
// spec or status, a list page as a PartialObjectMetadataList, and each watch
// event's object as a PartialObjectMetadata. For users who need the names, labels
// or owners of many objects this cuts what the server sends and what the
// client holds by the size of the bodies left out. The objects carry the
// meta.k8s.io apiVersion and kind, not the resource's: Handle.Resolve tells
// the kind. Writes and Delete are unaffected and answer whole objects.
//
// Every built-in resource and custom resource serves it; a server (or an
// aggregated API) that cannot answers 406 Not Acceptable (a
// *transport.APIError with Code 406), and the call does not fall back to
// whole objects.
func (h Handle) MetadataOnly() Handle {
	h.metadataOnly = true
	return h
}

// The Accept headers of metadata-only reads: one object (Get, and each event
// of a watch) and a list page.
const (
	// AcceptPartialObjectMetadata asks for one object, or each watch event's
	// object, as a meta.k8s.io/v1 PartialObjectMetadata.
	AcceptPartialObjectMetadata = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
	// AcceptPartialObjectMetadataList asks for a list page as a
	// meta.k8s.io/v1 PartialObjectMetadataList.
	AcceptPartialObjectMetadataList = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
)

// readHeader is the header of a read request on h: nil for a handle that
// reads whole objects, else the metadata-only Accept header for one object
// (list false: Get, and Watch, whose events carry one object each) or for a
// list page. Every read of this package, a watch included, takes its Accept
// header from here.
func (h Handle) readHeader(list bool) http.Header {
	if !h.metadataOnly {
		return nil
	}
	if list {
		return http.Header{"Accept": {AcceptPartialObjectMetadataList}}
	}
	return http.Header{"Accept": {AcceptPartialObjectMetadata}}
}

// String describes the handle for logs, such as `apps/v1 Deployment
// namespace=default`; it does no I/O.
func (h Handle) String() string {
	var b strings.Builder
	b.WriteString(h.what())
	if h.subresource != "" {
		b.WriteString(" subresource=" + h.subresource)
	}
	switch {
	case h.allNamespaces:
		b.WriteString(" all-namespaces")
	case h.namespace != "" && h.byObject:
		b.WriteString(" namespace=" + h.namespace + " if namespaced")
	case h.namespace != "":
		b.WriteString(" namespace=" + h.namespace)
	}
	if h.metadataOnly {
		b.WriteString(" metadata-only")
	}
	return b.String()
}

// what names the resource as the user gave it.
func (h Handle) what() string {
	if h.lookup != "" {
		return h.lookup
	}
	return h.apiVersion + " " + h.kind
}

// Resolve finds the resource h is bound to through discovery. A name or kind
// unknown to the cached discovery refreshes it once before failing.
func (h Handle) Resolve(ctx context.Context) (discovery.APIResource, error) {
	if h.c == nil {
		return discovery.APIResource{}, ErrInvalidHandle
	}
	if h.lookup != "" {
		return h.c.disc.ResourceFor(ctx, h.lookup)
	}
	if h.byObject && (h.apiVersion == "" || h.kind == "") {
		return discovery.APIResource{}, fmt.Errorf("resource: the object needs an apiVersion and a kind, got %q and %q", h.apiVersion, h.kind)
	}
	if h.apiVersion == "" || h.kind == "" {
		return discovery.APIResource{}, fmt.Errorf("resource: handle needs an apiVersion and a kind, got %q and %q", h.apiVersion, h.kind)
	}
	return h.c.disc.ResourceForKind(ctx, h.apiVersion, h.kind)
}

// scope says what a call needs from the handle's namespace.
type scope int

const (
	// scopeObject: one object, or creating one; a namespaced resource needs a
	// namespace.
	scopeObject scope = iota
	// scopeList: a read of the collection; a namespaced resource needs a
	// namespace or AllNamespaces.
	scopeList
)

// target is a handle resolved for one call.
type target struct {
	h        Handle
	r        discovery.APIResource
	resolved bool
	// ns is the namespace in the URL: empty for cluster-scoped resources and
	// for lists across all namespaces.
	ns  string
	sub string
}

// bind checks the handle's namespace and subresource, resolves the resource
// and checks the scope and, on a Subresource handle, that the subresource
// serves verb (see allowSubVerb). Names and namespaces are checked before
// discovery is asked anything. The returned target is usable for error
// messages even when err is set.
func (h Handle) bind(ctx context.Context, sc scope, verb string) (target, error) {
	sub := h.subresource
	t := target{h: h, sub: sub}
	if h.c == nil {
		return t, ErrInvalidHandle
	}
	if h.namespace != "" {
		if err := transport.ValidatePathSegment("namespace", h.namespace); err != nil {
			return t, err
		}
	}
	if sub != "" {
		if err := transport.ValidatePathSegment("subresource", sub); err != nil {
			return t, err
		}
		if verb == verbList || verb == verbWatch || verb == verbDeleteCollection {
			// No discovery needed: no subresource has a collection.
			return t, fmt.Errorf("%w: subresource %q belongs to one object and has no collection to %s; use the handle without Subresource",
				ErrSubresourceNotAllowed, sub, verb)
		}
	}
	// The error names the handle once: the caller's wrap says what it was
	// about.
	r, err := h.Resolve(ctx)
	if err != nil {
		return t, err
	}
	t.r, t.resolved = r, true
	if sub != "" {
		s, ok := r.Subresource(sub)
		if !ok {
			return t, fmt.Errorf("%w: %s has no %q subresource", ErrNoSubresource, r.Kind, sub)
		}
		if err := allowSubVerb(r, s, verb); err != nil {
			return t, err
		}
	}
	if !r.Namespaced {
		if h.namespace != "" && !h.byObject {
			return t, fmt.Errorf("%w: %s (%s) takes no namespace, but the handle has namespace %q",
				ErrClusterScoped, r.Kind, r.GroupVersionResource().GroupResource(), h.namespace)
		}
		return t, nil
	}
	if h.namespace == "" {
		if sc == scopeList && h.allNamespaces {
			return t, nil
		}
		if sc == scopeList {
			return t, fmt.Errorf("%w: %s is namespaced; use Namespace(ns) or AllNamespaces()", ErrNamespaceRequired, r.Kind)
		}
		return t, fmt.Errorf("%w: %s is namespaced; use Namespace(ns)", ErrNamespaceRequired, r.Kind)
	}
	t.ns = h.namespace
	return t, nil
}

// The verbs calls need, as discovery spells them.
const (
	verbGet              = "get"
	verbList             = "list"
	verbWatch            = "watch"
	verbCreate           = "create"
	verbUpdate           = "update"
	verbPatch            = "patch"
	verbDelete           = "delete"
	verbDeleteCollection = "deletecollection"
)

// allowSubVerb is the one rule for calls on one object's subresource (bind
// has already refused the collection verbs, list, watch and deletecollection, which
// have no URL on a subresource and would address the main resource's
// collection). The verb must be among the verbs discovery lists for the
// subresource; when discovery lists none for it (an old server), get,
// create, update and patch are let through for the server to decide, and
// delete is refused.
func allowSubVerb(r discovery.APIResource, s discovery.Subresource, verb string) error {
	name := r.Resource + "/" + s.Name
	if len(s.Verbs) == 0 {
		if verb == verbDelete {
			return fmt.Errorf("%w: discovery lists no verbs for %s, so delete is not sent", ErrSubresourceNotAllowed, name)
		}
		return nil
	}
	for _, v := range s.Verbs {
		if v == verb {
			return nil
		}
	}
	return fmt.Errorf("%w: %s does not serve %s (discovery lists %s)", ErrSubresourceNotAllowed, name, verb, strings.Join(s.Verbs, ", "))
}

// collectionPath is the URL path of the resource's collection.
func (t target) collectionPath() string {
	segs := make([]string, 0, 7)
	if t.r.Group == "" {
		segs = append(segs, "api", t.r.Version)
	} else {
		segs = append(segs, "apis", t.r.Group, t.r.Version)
	}
	if t.ns != "" {
		segs = append(segs, "namespaces", t.ns)
	}
	segs = append(segs, t.r.Resource)
	return transport.JoinPath(segs...)
}

// objectPath is the URL path of the named object, or of its subresource.
func (t target) objectPath(name string) string {
	p := t.collectionPath() + transport.JoinPath(name)
	if t.sub != "" {
		p += transport.JoinPath(t.sub)
	}
	return p
}

// fieldManager is the client's default field manager ("" on the zero
// Handle, whose calls fail with ErrInvalidHandle).
func (h Handle) fieldManager() string {
	if h.c == nil {
		return ""
	}
	return h.c.fieldManager
}

// wrap adds the operation and what it was about to err, such as
// `get apps/v1 deployments default/web: ...`.
func (t target) wrap(op, name string, err error) error {
	var b strings.Builder
	b.WriteString(op)
	b.WriteByte(' ')
	switch {
	case t.resolved && t.h.byObject:
		// A handle for an object: name it as a manifest does.
		b.WriteString(t.r.GroupVersionResource().GroupVersion().String())
		b.WriteByte(' ')
		b.WriteString(t.r.Kind)
	case t.resolved:
		b.WriteString(t.r.GroupVersionResource().GroupVersion().String())
		b.WriteByte(' ')
		b.WriteString(t.r.Resource)
	default:
		b.WriteString(t.h.what())
	}
	if t.sub != "" {
		b.WriteString("/" + t.sub)
	}
	ns := t.ns
	if ns == "" && (!t.resolved || !t.h.byObject) {
		ns = t.h.namespace
	}
	switch {
	case name != "" && ns != "":
		b.WriteString(" " + ns + "/" + name)
	case name != "":
		b.WriteString(" " + name)
	case ns != "":
		b.WriteString(" in namespace " + ns)
	case t.h.allNamespaces:
		b.WriteString(" in all namespaces")
	}
	return fmt.Errorf("%s: %w", b.String(), err)
}

// checkName refuses names that could change the URL.
func checkName(name string) error {
	if name == "" {
		return ErrNameRequired
	}
	return transport.ValidatePathSegment("name", name)
}

// prepare checks obj against the resource t is bound to and fills in what it
// lacks: apiVersion and kind (for the main resource and status), and
// metadata.namespace from the handle. A metadata.namespace on a
// cluster-scoped object is dropped, as the API server and kubectl do; the
// returned warning says so (empty when nothing was dropped).
func (t target) prepare(obj unstructured.Object) (unstructured.Object, string, error) {
	if obj.IsZero() {
		return obj, "", errors.New("empty object")
	}
	b := obj.Builder()
	changed := false
	if t.sub == "" || t.sub == "status" {
		wantAV := t.r.GroupVersionResource().GroupVersion().String()
		switch av := obj.APIVersion(); av {
		case "":
			b.Set("apiVersion", wantAV)
			changed = true
		case wantAV:
		default:
			return obj, "", fmt.Errorf("%w: object has apiVersion %q, the handle is bound to %s", ErrKindMismatch, av, wantAV)
		}
		switch k := obj.Kind(); k {
		case "":
			b.Set("kind", t.r.Kind)
			changed = true
		case t.r.Kind:
		default:
			return obj, "", fmt.Errorf("%w: object has kind %q, the handle is bound to %s", ErrKindMismatch, k, t.r.Kind)
		}
	}
	var warning string
	objNS := obj.Namespace()
	switch {
	case !t.r.Namespaced && obj.Get("metadata.namespace").Exists():
		// Helm charts and kustomize output put namespaces on cluster-scoped
		// objects; the server ignores them.
		b.Delete("metadata.namespace")
		changed = true
		if objNS != "" {
			warning = fmt.Sprintf("metadata.namespace %q dropped from %s %q: %s is cluster-scoped",
				objNS, t.r.Kind, obj.Name(), t.r.GroupVersionResource().GroupResource())
		}
	case t.r.Namespaced && objNS == "":
		b.Set("metadata.namespace", t.ns)
		changed = true
	case t.r.Namespaced && objNS != t.ns:
		return obj, "", fmt.Errorf("%w: object has namespace %q, the handle %q", ErrNamespaceMismatch, objNS, t.ns)
	}
	if !changed {
		return obj, "", nil
	}
	out, err := b.Object()
	return out, warning, err
}
