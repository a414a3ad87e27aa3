package resource

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

const contentTypeJSON = "application/json"

// doObject sends one request and parses the response body as an object.
func (c *Client) doObject(ctx context.Context, req *transport.Request) (unstructured.Object, error) {
	req.MaxResponseBytes = unstructured.MaxObjectBytes // refused while reading, not after
	resp, err := c.do(ctx, req)
	if err != nil {
		return unstructured.Object{}, err
	}
	obj, err := unstructured.Parse(resp.Body)
	if err != nil {
		return unstructured.Object{}, fmt.Errorf("decode response: %w", err)
	}
	return obj, nil
}

func jsonHeader(contentType string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	return h
}

// Get reads the named object (or its subresource, on a Subresource handle).
// A missing object gives an error matching transport.ErrNotFound.
func (h Handle) Get(ctx context.Context, name string, opts *GetOptions) (unstructured.Object, error) {
	const op = "get"
	t, err := h.bindNamed(ctx, op, verbGet, name, false)
	if err != nil {
		return unstructured.Object{}, err
	}
	return t.send(ctx, op, name, &transport.Request{
		Method: http.MethodGet,
		Path:   t.objectPath(name),
		Query:  opts.query(),
		Header: h.readHeader(false),
	})
}

// Create sends obj to the server (POST) and returns the object as stored. The
// namespace comes from the handle: an object without metadata.namespace gets
// it, one with a different namespace is refused (ErrNamespaceMismatch).
// apiVersion and kind are filled in when missing and must match the handle's
// resource when present (ErrKindMismatch). metadata.name may be empty when
// metadata.generateName is set. On a Subresource handle (such as
// pods/eviction) the object's metadata.name names the parent object.
func (h Handle) Create(ctx context.Context, obj unstructured.Object, opts *CreateOptions) (unstructured.Object, error) {
	const op = "create"
	name := obj.Name()
	// A name is optional (generateName) unless it names a subresource's
	// parent.
	t, body, err := h.bindObject(ctx, op, verbCreate, obj, h.subresource == "")
	if err != nil {
		return unstructured.Object{}, err
	}
	if err := t.validate(ctx, h.validationMode(callValidation(opts)), body, wholeObject); err != nil {
		return unstructured.Object{}, t.wrap(op, name, err)
	}
	path := t.collectionPath()
	if t.sub != "" {
		path = t.objectPath(name)
	}
	return t.send(ctx, op, name, &transport.Request{
		Method: http.MethodPost,
		Path:   path,
		Query:  opts.query(h.fieldManager()),
		Header: jsonHeader(contentTypeJSON),
		Body:   body.Bytes(),
		// A server-generated name (generateName) makes a repeated POST a
		// second object: transport retries it only after a 429.
		NoReplay: name == "",
	})
}

// Update replaces the object named by obj's metadata.name (PUT). The server
// compares obj's metadata.resourceVersion with the stored one: when the object
// changed since obj was read the error matches transport.ErrConflict; read it
// again and retry. An empty resourceVersion asks for an unconditional update,
// which some resources refuse. On a Subresource handle it replaces that
// subresource (such as scale). Namespace, apiVersion and kind are checked and
// filled as in Create.
func (h Handle) Update(ctx context.Context, obj unstructured.Object, opts *UpdateOptions) (unstructured.Object, error) {
	return h.update(ctx, "update", obj, opts)
}

// UpdateStatus replaces the status of the object named by obj's
// metadata.name (PUT to its status subresource); the server ignores changes
// outside status. It fails with ErrNoSubresource when discovery lists no
// status subresource for the resource.
func (h Handle) UpdateStatus(ctx context.Context, obj unstructured.Object, opts *UpdateOptions) (unstructured.Object, error) {
	return h.Subresource("status").update(ctx, "update status", obj, opts)
}

func (h Handle) update(ctx context.Context, op string, obj unstructured.Object, opts *UpdateOptions) (unstructured.Object, error) {
	name := obj.Name()
	t, body, err := h.bindObject(ctx, op, verbUpdate, obj, false)
	if err != nil {
		return unstructured.Object{}, err
	}
	if err := t.validate(ctx, h.validationMode(callValidation(opts)), body, wholeObject); err != nil {
		return unstructured.Object{}, t.wrap(op, name, err)
	}
	return t.send(ctx, op, name, &transport.Request{
		Method: http.MethodPut,
		Path:   t.objectPath(name),
		Query:  opts.query(h.fieldManager()),
		Header: jsonHeader(contentTypeJSON),
		Body:   body.Bytes(),
	})
}

// Patch applies data, a patch of type pt, to the named object (or to the
// handle's subresource, such as Subresource("scale")) and returns the result.
// The patch type is always explicit. StrategicMergePatch on a resource whose
// group is not built in (a custom resource, see discovery.IsBuiltinGroup) is refused
// before any request with ErrPatchTypeUnsupported. ApplyPatch needs a field
// manager (ErrFieldManagerRequired) and reports conflicts as
// *ApplyConflictError; the Apply method is the convenient form.
func (h Handle) Patch(ctx context.Context, name string, pt PatchType, data []byte, opts *PatchOptions) (unstructured.Object, error) {
	const op = "patch"
	t := target{h: h, sub: h.subresource}
	if err := checkName(name); err != nil {
		return unstructured.Object{}, t.wrap(op, name, err)
	}
	if !pt.valid() {
		return unstructured.Object{}, t.wrap(op, name, fmt.Errorf("%w: unknown patch type %q", ErrPatchTypeUnsupported, string(pt)))
	}
	if opts != nil && opts.Force && pt != ApplyPatch {
		return unstructured.Object{}, t.wrap(op, name, fmt.Errorf("%w: PatchOptions.Force is for ApplyPatch only, not %s", ErrPatchTypeUnsupported, string(pt)))
	}
	q := opts.query(h.fieldManager())
	if pt == ApplyPatch && q.Get("fieldManager") == "" {
		return unstructured.Object{}, t.wrap(op, name, ErrFieldManagerRequired)
	}
	// The name was checked above: bind the handle directly.
	t, err := h.bind(ctx, scopeObject, verbPatch)
	if err != nil {
		return unstructured.Object{}, t.wrap(op, name, err)
	}
	if pt == StrategicMergePatch && !discovery.IsBuiltinGroup(t.r.Group) {
		return unstructured.Object{}, t.wrap(op, name, fmt.Errorf(
			"%w: strategic merge patch needs a built-in type and %s is served by group %q (a custom resource); use MergePatch, JSONPatch or ApplyPatch",
			ErrPatchTypeUnsupported, t.r.Kind, t.r.Group))
	}
	if err := t.validatePatch(ctx, h.validationMode(callValidation(opts)), name, pt, data); err != nil {
		return unstructured.Object{}, t.wrap(op, name, err)
	}
	req := &transport.Request{
		Method: http.MethodPatch,
		Path:   t.objectPath(name),
		Query:  q,
		Header: jsonHeader(string(pt)),
		Body:   data,
	}
	if pt == ApplyPatch {
		return t.sendApply(ctx, op, name, req)
	}
	return t.send(ctx, op, name, req)
}

// serverOwned are the metadata fields the server sets, which an apply
// configuration must not carry (the server refuses managedFields outright).
var serverOwned = []string{
	"metadata.managedFields",
	"metadata.uid",
	"metadata.creationTimestamp",
	"metadata.generation",
	"metadata.selfLink",
	"metadata.deletionTimestamp",
	"metadata.deletionGracePeriodSeconds",
}

// Apply does a server-side apply of obj (a PATCH of type ApplyPatch) and
// returns the object as stored. obj is the caller's intent: Apply strips the
// fields the server owns — metadata.managedFields, uid, creationTimestamp,
// generation, selfLink, deletionTimestamp, deletionGracePeriodSeconds,
// resourceVersion (unless opts.KeepResourceVersion) and, on the main
// resource, status — so an object read from the server can be applied back.
// Namespace, apiVersion and kind are checked and filled as in Create.
//
// A field manager is required: opts.FieldManager, or the client's
// WithFieldManager. When other managers own fields obj sets, the error is an
// *ApplyConflictError listing each field and manager (and it matches
// transport.ErrConflict); set opts.Force to take them over.
//
// Apply sends every field obj holds, and the manager becomes the owner of
// each. An object read back from the server holds the server's defaults
// (strategy, revisionHistoryLimit, each container's imagePullPolicy, ...),
// so applying it makes the manager own those too: it can no longer drop
// them by leaving them out, and it conflicts with whoever else sets them.
// Apply only what you mean to own: your manifest, or what Extract returns
// for your manager from the object read back.
func (h Handle) Apply(ctx context.Context, obj unstructured.Object, opts *ApplyOptions) (unstructured.Object, error) {
	const op = "apply"
	var o ApplyOptions
	if opts != nil {
		o = *opts
	}
	name := obj.Name()
	q := o.query(h.fieldManager())
	if q.Get("fieldManager") == "" {
		t := target{h: h, sub: h.subresource}
		return unstructured.Object{}, t.wrap(op, name, ErrFieldManagerRequired)
	}
	t, body, err := h.bindObject(ctx, op, verbPatch, obj, false)
	if err != nil {
		return unstructured.Object{}, err
	}
	body, err = stripServerOwned(body, t.sub == "", o.KeepResourceVersion)
	if err != nil {
		return unstructured.Object{}, t.wrap(op, name, err)
	}
	if err := t.validate(ctx, h.validationMode(o.Validation), body, applyConfiguration); err != nil {
		return unstructured.Object{}, t.wrap(op, name, err)
	}
	return t.sendApply(ctx, op, name, &transport.Request{
		Method: http.MethodPatch,
		Path:   t.objectPath(name),
		Query:  q,
		Header: jsonHeader(string(ApplyPatch)),
		Body:   body.Bytes(),
	})
}

// stripServerOwned removes the fields an apply configuration must not carry.
func stripServerOwned(obj unstructured.Object, mainResource, keepRV bool) (unstructured.Object, error) {
	b := obj.Builder()
	for _, p := range serverOwned {
		if obj.Get(p).Exists() {
			b.Delete(p)
		}
	}
	if !keepRV && obj.Get("metadata.resourceVersion").Exists() {
		b.Delete("metadata.resourceVersion")
	}
	if mainResource && obj.Get("status").Exists() {
		b.Delete("status")
	}
	return b.Object()
}

// Delete deletes the named object and returns what the server answered:
// either the object itself or a meta.k8s.io/v1 Status (check Kind()). The
// object comes back when the delete is not yet complete — it has finalizers,
// a grace period, or PropagationForeground was asked for — carrying
// metadata.deletionTimestamp and its finalizers, and for some resources
// (pods, for one) also when it is gone at once. Most resources answer a
// Status with status "Success" and details naming the object once it is
// gone. A missing object gives an error matching transport.ErrNotFound;
// failed preconditions one matching transport.ErrConflict; on error the
// returned Object is zero.
func (h Handle) Delete(ctx context.Context, name string, opts *DeleteOptions) (unstructured.Object, error) {
	const op = "delete"
	q, body, err := opts.request()
	if err != nil {
		t := target{h: h, sub: h.subresource}
		return unstructured.Object{}, t.wrap(op, name, err)
	}
	t, err := h.bindNamed(ctx, op, verbDelete, name, false)
	if err != nil {
		return unstructured.Object{}, err
	}
	return t.sendDelete(ctx, op, name, t.objectPath(name), q, body)
}

// DeleteCollection deletes every object of the resource in the handle's
// namespace that lopts selects (label and field selectors; nil selects all;
// lopts.Continue is not used). A namespaced resource needs a namespace:
// DeleteCollection never deletes across all namespaces. It is refused on a
// Subresource handle (ErrSubresourceNotAllowed), whose collection would be
// the main resource's.
func (h Handle) DeleteCollection(ctx context.Context, dopts *DeleteOptions, lopts *ListOptions) error {
	const op = "delete collection"
	t := target{h: h, sub: h.subresource}
	q, body, err := dopts.request()
	if err != nil {
		return t.wrap(op, "", err)
	}
	t, err = h.bind(ctx, scopeObject, verbDeleteCollection)
	if err != nil {
		return t.wrap(op, "", err)
	}
	_, err = t.sendDelete(ctx, op, "", t.collectionPath(), mergeQuery(lopts.query("", 0), q), body)
	return err
}

// bindNamed checks name (unless it is optional and empty), then binds the
// handle for a call (verb) on one object or its subresource. Its errors are
// already wrapped with op.
func (h Handle) bindNamed(ctx context.Context, op, verb, name string, nameOptional bool) (target, error) {
	t := target{h: h, sub: h.subresource}
	if name != "" || !nameOptional {
		if err := checkName(name); err != nil {
			return t, t.wrap(op, name, err)
		}
	}
	t, err := h.bind(ctx, scopeObject, verb)
	if err != nil {
		return t, t.wrap(op, name, err)
	}
	return t, nil
}

// bindObject is bindNamed for a write that sends obj: it also refuses a
// metadata.namespace that could change a URL before any request, and
// returns obj checked and filled in by prepare.
func (h Handle) bindObject(ctx context.Context, op, verb string, obj unstructured.Object, nameOptional bool) (target, unstructured.Object, error) {
	name := obj.Name()
	if ns := obj.Namespace(); ns != "" {
		if err := transport.ValidatePathSegment("metadata.namespace", ns); err != nil {
			t := target{h: h, sub: h.subresource}
			return t, obj, t.wrap(op, name, err)
		}
	}
	t, err := h.bindNamed(ctx, op, verb, name, nameOptional)
	if err != nil {
		return t, obj, err
	}
	body, warning, err := t.prepare(obj)
	if err != nil {
		return t, obj, t.wrap(op, name, err)
	}
	if warning != "" {
		h.c.warn(ctx, warning)
	}
	return t, body, nil
}

// send runs req and returns the object in the response, wrapping errors
// with op.
func (t target) send(ctx context.Context, op, name string, req *transport.Request) (unstructured.Object, error) {
	out, err := t.h.c.doObject(ctx, req)
	if err != nil {
		return unstructured.Object{}, t.wrap(op, name, err)
	}
	return out, nil
}

// sendApply is send for an apply patch: a field-manager conflict becomes an
// *ApplyConflictError.
func (t target) sendApply(ctx context.Context, op, name string, req *transport.Request) (unstructured.Object, error) {
	out, err := t.h.c.doObject(ctx, req)
	if err != nil {
		return unstructured.Object{}, t.wrap(op, name, applyConflict(err))
	}
	return out, nil
}

// sendDelete sends a DELETE to path with the encoded DeleteOptions and
// returns the object or Status the server answered (zero for an empty body).
func (t target) sendDelete(ctx context.Context, op, name, path string, q url.Values, body []byte) (unstructured.Object, error) {
	req := &transport.Request{Method: http.MethodDelete, Path: path, Query: q}
	if body != nil {
		req.Header = jsonHeader(contentTypeJSON)
		req.Body = body
	}
	resp, err := t.h.c.do(ctx, req)
	if err != nil {
		return unstructured.Object{}, t.wrap(op, name, err)
	}
	if len(resp.Body) == 0 {
		return unstructured.Object{}, nil
	}
	out, err := unstructured.Parse(resp.Body)
	if err != nil {
		return unstructured.Object{}, t.wrap(op, name, fmt.Errorf("decode response: %w", err))
	}
	return out, nil
}

// mergeQuery is url.Values union; later values win.
func mergeQuery(qs ...url.Values) url.Values {
	out := url.Values{}
	for _, q := range qs {
		for k, v := range q {
			out[k] = v
		}
	}
	return out
}
