package testserver

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// request is one resource request after routing.
type request struct {
	def       *resourceDef
	namespace string
	name      string
	sub       string // "", "status" or "scale"
}

// serveAPI routes /api/v1/... and /apis/<group>/<version>/... requests.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if s.serveProxy(w, r) {
		return
	}
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var group, version string
	var rest []string
	if segs[0] == "api" {
		version, rest = segs[1], segs[2:]
	} else {
		if len(segs) == 2 {
			s.serveGroup(w, r, segs[1])
			return
		}
		group, version, rest = segs[1], segs[2], segs[3:]
	}
	if !s.servesGroupVersion(group, version) {
		// Paths under a group-version nobody serves fall through to the
		// real server's plain-text 404.
		http.NotFound(w, r)
		return
	}
	if len(rest) == 0 {
		s.serveGroupVersion(w, r, group, version)
		return
	}
	req, err := s.resolve(group, version, rest)
	if err != nil {
		writeErr(w, err)
		return
	}
	if req.sub != "" && req.sub != "status" && req.sub != "scale" {
		s.serveConnect(w, r, req)
		return
	}
	if !acceptable(r) {
		writeStatus(w, newStatus(http.StatusNotAcceptable, "NotAcceptable", "406: Not Acceptable\n\nAvailable representations: application/json", &statusDetails{}))
		return
	}
	if req.name == "" {
		switch r.Method {
		case http.MethodGet:
			if isWatch(r) {
				s.serveWatch(w, r, req)
				return
			}
			s.serveList(w, r, req)
		case http.MethodPost:
			if req.def.namespaced && req.namespace == "" {
				// The all-namespaces path serves only list and watch.
				writeStatus(w, errMethodNotAllowed())
				return
			}
			s.serveCreate(w, r, req)
		case http.MethodDelete:
			if req.def.noDeleteCollection || (req.def.namespaced && req.namespace == "") {
				writeStatus(w, errMethodNotAllowed())
				return
			}
			s.serveDeleteCollection(w, r, req)
		default:
			writeStatus(w, errMethodNotAllowed())
		}
		return
	}
	switch r.Method {
	case http.MethodGet:
		// As with the real server, watch=true on an object's path is
		// ignored: watching one object takes a fieldSelector on the list.
		s.serveGet(w, r, req)
	case http.MethodPut:
		s.serveUpdate(w, r, req)
	case http.MethodPatch:
		s.servePatch(w, r, req)
	case http.MethodDelete:
		if req.sub != "" {
			writeStatus(w, errMethodNotAllowed())
			return
		}
		s.serveDelete(w, r, req)
	default:
		writeStatus(w, errMethodNotAllowed())
	}
}

// resolve maps the path after the group-version to a resource request.
func (s *Server) resolve(group, version string, rest []string) (request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var req request
	if rest[0] == "namespaces" && len(rest) >= 3 {
		if d := s.reg.lookup(group, version, rest[2]); d != nil && d.namespaced {
			if len(rest) > 5 {
				return req, errNoResource()
			}
			req.def, req.namespace = d, rest[1]
			if len(rest) > 3 {
				req.name = rest[3]
			}
			if len(rest) > 4 {
				req.sub = rest[4]
			}
			return req, s.checkSub(req)
		}
	}
	d := s.reg.lookup(group, version, rest[0])
	if d == nil || len(rest) > 3 || (d.namespaced && len(rest) > 1) {
		return req, errNoResource()
	}
	req.def = d
	if len(rest) > 1 {
		req.name = rest[1]
	}
	if len(rest) > 2 {
		req.sub = rest[2]
	}
	return req, s.checkSub(req)
}

func (s *Server) checkSub(req request) error {
	switch {
	case req.name == "" && req.sub == "":
		return nil
	case req.name == "" || req.name == "." || req.name == "..":
		return errNoResource()
	case req.sub == "" || req.def.hasSub(req.sub):
		return nil
	}
	return errNoResource()
}

func objKey(namespace, name string) string { return namespace + "/" + name }

func (s *Server) servesGroupVersion(group, version string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reg.inGroupVersion(group, version)) > 0
}

func (s *Server) bucket(d *resourceDef) map[string]map[string]any {
	b := s.store[d.storageKey()]
	if b == nil {
		b = map[string]map[string]any{}
		s.store[d.storageKey()] = b
	}
	return b
}

// nextRV hands out the next resourceVersion; callers hold s.mu.
func (s *Server) nextRV() string {
	s.rv++
	return strconv.FormatInt(s.rv, 10)
}

// output is a copy of a stored object as served through d's version.
func output(d *resourceDef, obj map[string]any) map[string]any {
	out := copyObj(obj)
	out["apiVersion"] = d.groupVersion()
	out["kind"] = d.kind
	return out
}

// writeOptions are the query parameters common to create, update and patch.
type writeOptions struct {
	dryRun          bool
	fieldValidation string // Ignore, Warn or Strict
	fieldManager    string
	force           bool
	warnings        []string
	manager         string // the field manager of a non-apply write
	applied         bool   // managedFields were computed by an apply
}

func parseWriteOptions(r *http.Request, optsKind string) (*writeOptions, error) {
	q := r.URL.Query()
	o := &writeOptions{fieldValidation: "Warn", fieldManager: q.Get("fieldManager"), manager: managerFor(r)}
	if len(o.fieldManager) > 128 {
		return nil, errInvalid("meta.k8s.io", optsKind, "", []statusCause{{Reason: "FieldValueTooLong", Field: "fieldManager", Message: "Too long: may not be more than 128 bytes"}})
	}
	for _, v := range q["dryRun"] {
		if v != "All" {
			return nil, errInvalid("meta.k8s.io", optsKind, "", []statusCause{causeUnsupported("dryRun", rawValue(fmt.Sprintf("[%q]", v)), []string{"All"})})
		}
		o.dryRun = true
	}
	if v := q.Get("fieldValidation"); v != "" {
		switch v {
		case "Ignore", "Warn", "Strict":
			o.fieldValidation = v
		default:
			return nil, errInvalid("meta.k8s.io", optsKind, "", []statusCause{causeUnsupported("fieldValidation", v, []string{"", "Ignore", "Strict", "Warn"})})
		}
	}
	if v := q.Get("force"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, errBadRequest(fmt.Sprintf("force: Invalid value: %q", v))
		}
		o.force = b
	}
	return o, nil
}

func writeWarnings(w http.ResponseWriter, warnings []string) {
	for _, msg := range warnings {
		w.Header().Add("Warning", "299 - "+strconv.Quote(msg))
	}
}

// namespaceExists reports whether the namespace is stored; callers hold s.mu.
func (s *Server) namespaceExists(ns string) bool {
	_, ok := s.store["namespaces."][objKey("", ns)]
	return ok
}

func (s *Server) seedNamespace(name string) {
	d := s.reg.lookup("", "v1", "namespaces")
	obj := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name}}
	s.applyCreateDefaults(d, obj)
	md := meta(obj)
	md["uid"], md["creationTimestamp"], md["resourceVersion"] = newUID(), nowRFC3339(), s.nextRV()
	s.bucket(d)[objKey("", name)] = obj
}

func (s *Server) serveGet(w http.ResponseWriter, r *http.Request, req request) {
	s.mu.Lock()
	obj, ok := s.bucket(req.def)[objKey(req.namespace, req.name)]
	var out map[string]any
	if ok {
		out = output(req.def, obj)
	}
	s.mu.Unlock()
	if !ok {
		writeStatus(w, errNotFound(req.def.group, req.def.resource, req.name))
		return
	}
	if req.sub == "scale" {
		writeJSON(w, http.StatusOK, scaleFor(req.def, out))
		return
	}
	if v, ok := acceptsAs(r, "Table", "meta.k8s.io", "v1", "v1beta1"); ok {
		s.writeTable(w, r, req.def, v, []map[string]any{out}, getString(out, "metadata", "resourceVersion"), "")
		return
	}
	if v, ok := acceptsAs(r, "PartialObjectMetadata", "meta.k8s.io", "v1", "v1beta1"); ok {
		writeJSON(w, http.StatusOK, partialMetadata(out, v))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// partialMetadata is an object reduced to its metadata, as the real server
// answers Accept: application/json;as=PartialObjectMetadata;g=meta.k8s.io.
func partialMetadata(obj map[string]any, version string) map[string]any {
	return map[string]any{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/" + version, "metadata": obj["metadata"]}
}

// readWrite reads what a create or update sends: its query options (of
// kind optsKind) and its body decoded as an object of the request's kind.
func readWrite(r *http.Request, req request, optsKind string) (*writeOptions, map[string]any, error) {
	opts, err := parseWriteOptions(r, optsKind)
	if err != nil {
		return nil, nil, err
	}
	data, err := readBody(r)
	if err != nil {
		return nil, nil, err
	}
	obj, err := decodeBodyAs(r, req.def.kind, data)
	if err != nil {
		return nil, nil, err
	}
	return opts, obj, nil
}

func (s *Server) serveCreate(w http.ResponseWriter, r *http.Request, req request) {
	if req.sub != "" {
		writeStatus(w, errMethodNotAllowed())
		return
	}
	opts, obj, err := readWrite(r, req, "CreateOptions")
	if err != nil {
		writeErr(w, err)
		return
	}
	s.mu.Lock()
	out, err := s.create(req, obj, opts)
	s.mu.Unlock()
	if err != nil {
		writeErr(w, err)
		return
	}
	writeWarnings(w, opts.warnings)
	writeJSON(w, http.StatusCreated, out)
}

// checkTypeMeta checks the apiVersion and kind of a body against the URL;
// missing ones are filled in, as the real server defaults them.
func checkTypeMeta(d *resourceDef, obj map[string]any) error {
	if av, ok := obj["apiVersion"]; ok && av != d.groupVersion() {
		return errBadRequest(fmt.Sprintf("the API version in the data (%v) does not match the expected API version (%s)", av, d.groupVersion()))
	}
	if k, ok := obj["kind"]; ok && k != d.kind {
		return errBadRequest(fmt.Sprintf("the kind in the data (%v) does not match the expected kind (%s)", k, d.kind))
	}
	obj["apiVersion"], obj["kind"] = d.groupVersion(), d.kind
	return nil
}

// setNamespace fills in the request's namespace on a namespaced object's
// metadata md, or drops one from a cluster-scoped object; a namespace in the
// body that differs from the request's is a 400.
func setNamespace(d *resourceDef, md map[string]any, namespace string) error {
	if !d.namespaced {
		delete(md, "namespace")
		return nil
	}
	switch ns, _ := md["namespace"].(string); ns {
	case "":
		md["namespace"] = namespace
	case namespace:
	default:
		return errBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	return nil
}

// create stores a new object; callers hold s.mu.
func (s *Server) create(req request, obj map[string]any, opts *writeOptions) (map[string]any, error) {
	d := req.def
	if err := checkTypeMeta(d, obj); err != nil {
		return nil, err
	}
	if err := typeError(d, obj); err != nil {
		return nil, err
	}
	md, ok := obj["metadata"].(map[string]any)
	if !ok {
		md = map[string]any{}
		obj["metadata"] = md
	}
	if err := setNamespace(d, md, req.namespace); err != nil {
		return nil, err
	}
	if rv, _ := md["resourceVersion"].(string); rv != "" {
		return nil, errBadRequest("resourceVersion should not be set on objects to be created")
	}
	if err := s.fieldCheck(d, obj, opts); err != nil {
		return nil, err
	}
	if d.status {
		delete(obj, "status")
	}
	// As on the real server, the field manager records the object after
	// its decoding defaults and before the name is generated and what
	// the registry and admission add on create (allocated addresses,
	// priority, tolerations), which nobody owns.
	s.normalize(d, obj)
	if !opts.applied {
		delete(md, "managedFields")
		trackUpdate(d, nil, obj, opts.manager, "")
	}
	name, _ := md["name"].(string)
	if name == "" {
		if gen, _ := md["generateName"].(string); gen != "" {
			name = gen + randomSuffix(5)
			md["name"] = name
		}
	}
	s.admitCreate(d, obj)
	if causes := s.validate(d, obj, nil); len(causes) > 0 {
		return nil, errInvalid(d.group, d.kind, name, causes)
	}
	if d.namespaced && !s.namespaceExists(req.namespace) {
		return nil, errNotFound("", "namespaces", req.namespace)
	}
	key := objKey(req.namespace, name)
	if _, exists := s.bucket(d)[key]; exists {
		return nil, errAlreadyExists(d.group, d.resource, name)
	}
	for _, f := range []string{"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "selfLink"} {
		delete(md, f)
	}
	md["uid"] = newUID()
	md["creationTimestamp"] = nowRFC3339()
	if d.generation {
		md["generation"] = 1
	}
	isCRD := d.resource == "customresourcedefinitions"
	switch {
	case isCRD && s.crdDelay > 0:
		pendingCRDStatus(obj)
	case isCRD:
		// The server's own controller owns the status it sets over the
		// pending one, as when it is established later.
		before := copyObj(obj)
		pendingCRDStatus(before)
		setCRDStatus(obj)
		trackUpdate(d, before, obj, "kube-apiserver", "status")
	}
	if opts.dryRun {
		return output(d, obj), nil
	}
	md["resourceVersion"] = s.nextRV()
	s.bucket(d)[key] = obj
	s.record("ADDED", d, obj, nil)
	switch {
	case isCRD && s.crdDelay > 0:
		s.establishAfter(name, getString(md, "uid"), s.crdDelay)
	case isCRD:
		s.registerCRD(obj)
	}
	return output(d, obj), nil
}

func (s *Server) serveUpdate(w http.ResponseWriter, r *http.Request, req request) {
	opts, obj, err := readWrite(r, req, "UpdateOptions")
	if err != nil {
		writeErr(w, err)
		return
	}
	s.mu.Lock()
	var out map[string]any
	if req.sub == "scale" {
		out, err = s.updateScale(req, obj, opts)
	} else {
		out, err = s.update(req, obj, opts, true)
	}
	s.mu.Unlock()
	if err != nil {
		writeErr(w, err)
		return
	}
	writeWarnings(w, opts.warnings)
	writeJSON(w, http.StatusOK, out)
}

// registryKey is the key under which the real server's storage keeps an
// object, as its storage errors quote it: /registry/<resource>/... for the
// built-in kinds (services under services/specs), with the group in front
// for custom resources.
func registryKey(d *resourceDef, namespace, name string) string {
	parts := []string{"", "registry"}
	switch {
	case d.crd != "":
		parts = append(parts, d.group, d.resource)
	case d.group == "" && d.resource == "services":
		parts = append(parts, "services", "specs")
	default:
		parts = append(parts, d.resource)
	}
	if d.namespaced {
		parts = append(parts, namespace)
	}
	return strings.Join(append(parts, name), "/")
}

// update replaces the stored object with obj (main resource or status);
// put says obj came from a PUT rather than a patch. Callers hold s.mu.
func (s *Server) update(req request, obj map[string]any, opts *writeOptions, put bool) (map[string]any, error) {
	d := req.def
	key := objKey(req.namespace, req.name)
	old, ok := s.bucket(d)[key]
	if !ok {
		return nil, errNotFound(d.group, d.resource, req.name)
	}
	if err := checkTypeMeta(d, obj); err != nil {
		return nil, err
	}
	if put {
		if err := typeError(d, obj); err != nil {
			return nil, err
		}
	}
	md := meta(obj)
	if n, _ := md["name"].(string); n != req.name {
		switch {
		case n == "" && !put:
			md["name"] = req.name
		case n == "":
			return nil, errBadRequest(fmt.Sprintf("the name of the object (%s based on URL) was undeterminable: name must be provided", req.name))
		default:
			return nil, errBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", n, req.name))
		}
	}
	if err := setNamespace(d, md, req.namespace); err != nil {
		return nil, err
	}
	oldMD := meta(old)
	// A uid in the object is a precondition of a PUT, checked by the
	// storage before anything else; a patch that changes it fails
	// validation instead (uid is immutable).
	sentUID, _ := md["uid"].(string)
	if sentUID == oldMD["uid"] {
		sentUID = ""
	}
	if sentUID != "" && put {
		return nil, errConflict(d.group, d.resource, req.name, fmt.Sprintf(
			"StorageError: invalid object, Code: 4, Key: %s, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: %s, UID in object meta: %v",
			registryKey(d, req.namespace, req.name), sentUID, oldMD["uid"]))
	}
	oldRV, _ := oldMD["resourceVersion"].(string)
	switch rv, _ := md["resourceVersion"].(string); {
	case rv != "" && rv != oldRV:
		return nil, errConflict(d.group, d.resource, req.name, conflictModified)
	case rv == "" && put && !d.unconditionalUpdate:
		// The real server names the resource here, not the kind.
		st := errInvalid("", qualified(d.group, d.resource), req.name, []statusCause{causeInvalid("metadata.resourceVersion", rawValue("0"), "must be specified for an update")})
		st.s.Details.Group, st.s.Details.Kind = d.group, d.resource
		return nil, st
	}
	if err := s.fieldCheck(d, obj, opts); err != nil {
		return nil, err
	}
	switch {
	case req.sub == "status":
		next := copyObj(old)
		if st, ok := obj["status"]; ok {
			next["status"] = st
		} else {
			delete(next, "status")
		}
		obj = next
		md = meta(obj)
	case d.status:
		if st, ok := old["status"]; ok {
			obj["status"] = deepCopy(st)
		} else {
			delete(obj, "status")
		}
	}
	for _, f := range []string{"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"} {
		if v, ok := oldMD[f]; ok {
			md[f] = v
		} else {
			delete(md, f)
		}
	}
	if oldMD["deletionTimestamp"] != nil {
		if added := newFinalizers(oldMD, md); len(added) > 0 {
			return nil, errForbiddenFinalizer(d, req.name, added)
		}
	}
	md["resourceVersion"] = oldRV
	if d.group == "" && d.resource == "pods" && req.sub == "" {
		// Admission on update keeps what it added on create: the
		// priority and the default tolerations.
		spec, oldSpec := getMap(obj, "spec", true), getMap(old, "spec", true)
		for _, f := range []string{"priority", "preemptionPolicy"} {
			if _, ok := spec[f]; !ok && oldSpec[f] != nil {
				spec[f] = deepCopy(oldSpec[f])
			}
		}
		addDefaultTolerations(spec)
	}
	if d.group == "" && d.resource == "services" {
		// An update that leaves out the allocated address or IP
		// families keeps them.
		spec, oldSpec := getMap(obj, "spec", true), getMap(old, "spec", true)
		for _, f := range []string{"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"} {
			if _, ok := spec[f]; !ok && oldSpec[f] != nil {
				spec[f] = deepCopy(oldSpec[f])
			}
		}
	}
	if !opts.applied {
		if mf, ok := oldMD["managedFields"]; ok {
			md["managedFields"] = deepCopy(mf)
		} else {
			delete(md, "managedFields")
		}
	}
	s.normalize(d, obj)
	causes := s.validate(d, obj, old)
	if sentUID != "" {
		causes = append([]statusCause{causeInvalid("metadata.uid", sentUID, "field is immutable")}, causes...)
	}
	if len(causes) > 0 {
		return nil, errInvalid(d.group, d.kind, req.name, causes)
	}
	if d.resource == "customresourcedefinitions" && crdEstablished(old) {
		// A CRD not yet established keeps its pending status until
		// establishAfter sets it.
		setCRDStatus(obj)
	}
	if !opts.applied {
		trackUpdate(d, old, obj, opts.manager, req.sub)
	}
	if opts.applied && equalJSON(withoutManaged(obj), withoutManaged(old)) &&
		equalJSON(untimed(md["managedFields"]), untimed(oldMD["managedFields"])) {
		// An apply that, once defaulted, changes neither the object nor
		// who owns what keeps the entries' times: nothing is written.
		if mf, ok := oldMD["managedFields"]; ok {
			md["managedFields"] = deepCopy(mf)
		} else {
			delete(md, "managedFields")
		}
	}
	if equalJSON(obj, old) {
		return output(d, old), nil
	}
	if d.generation && specChanged(old, obj) {
		g, _ := strconv.ParseInt(fmt.Sprint(oldMD["generation"]), 10, 64)
		md["generation"] = g + 1
	}
	if opts.dryRun {
		return output(d, obj), nil
	}
	md["resourceVersion"] = s.nextRV()
	if md["deletionTimestamp"] != nil && len(asSlice(md["finalizers"])) == 0 {
		delete(s.bucket(d), key)
		s.record("DELETED", d, obj, old)
		s.afterDelete(d, obj)
		return output(d, obj), nil
	}
	s.bucket(d)[key] = obj
	s.record("MODIFIED", d, obj, old)
	if d.resource == "customresourcedefinitions" && crdEstablished(obj) {
		s.registerCRD(obj)
	}
	return output(d, obj), nil
}

func newFinalizers(oldMD, md map[string]any) []string {
	had := map[string]bool{}
	for _, f := range asSlice(oldMD["finalizers"]) {
		had[fmt.Sprint(f)] = true
	}
	var added []string
	for _, f := range asSlice(md["finalizers"]) {
		if !had[fmt.Sprint(f)] {
			added = append(added, fmt.Sprint(f))
		}
	}
	return added
}

func errForbiddenFinalizer(d *resourceDef, name string, added []string) error {
	quoted := make([]string, len(added))
	for i, f := range added {
		quoted[i] = fmt.Sprintf("%q", f)
	}
	return errInvalid(d.group, d.kind, name, []statusCause{{Reason: "FieldValueForbidden", Field: "metadata.finalizers",
		Message: "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{" + strings.Join(quoted, ", ") + "}"}})
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// specChanged reports whether anything but metadata and status differs.
func specChanged(a, b map[string]any) bool {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	for k := range keys {
		if k == "metadata" || k == "status" {
			continue
		}
		if !equalJSON(a[k], b[k]) {
			return true
		}
	}
	return false
}

// deleteOptions is the DeleteOptions body or query parameters.
type deleteOptions struct {
	dryRun            bool
	propagationPolicy string
	preUID, preRV     string
}

// parseDeleteOptions reads the DeleteOptions of a DELETE from its body, if
// any, and its query parameters.
func parseDeleteOptions(r *http.Request) (*deleteOptions, error) {
	data, err := readBody(r)
	if err != nil {
		return nil, err
	}
	var body map[string]any
	if len(strings.TrimSpace(string(data))) > 0 {
		if body, err = decodeObject(data); err != nil {
			return nil, err
		}
	}
	return deleteOptionsFrom(body, r.URL.Query())
}

// deleteOptionsFrom checks a decoded DeleteOptions body (nil when none was
// sent) together with the query q; a query parameter wins over the body's.
func deleteOptionsFrom(body map[string]any, q url.Values) (*deleteOptions, error) {
	o := &deleteOptions{}
	if body != nil {
		o.propagationPolicy, _ = body["propagationPolicy"].(string)
		o.preUID = getString(body, "preconditions", "uid")
		o.preRV = getString(body, "preconditions", "resourceVersion")
		for _, v := range asSlice(body["dryRun"]) {
			q.Add("dryRun", fmt.Sprint(v))
		}
	}
	if v := q.Get("propagationPolicy"); v != "" {
		o.propagationPolicy = v
	}
	for _, v := range q["dryRun"] {
		if v != "All" {
			return nil, errInvalid("meta.k8s.io", "DeleteOptions", "", []statusCause{causeUnsupported("dryRun", rawValue(fmt.Sprintf("[%q]", v)), []string{"All"})})
		}
		o.dryRun = true
	}
	switch o.propagationPolicy {
	case "", "Orphan", "Background", "Foreground":
	default:
		return nil, errInvalid("meta.k8s.io", "DeleteOptions", "", []statusCause{causeUnsupported("propagationPolicy", o.propagationPolicy, []string{"Foreground", "Background", "Orphan", "nil"})})
	}
	return o, nil
}

func (s *Server) serveDelete(w http.ResponseWriter, r *http.Request, req request) {
	opts, err := parseDeleteOptions(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.mu.Lock()
	code, out, err := s.delete(req.def, req.namespace, req.name, opts)
	s.mu.Unlock()
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, code, out)
}

// delete removes one object, or marks it deleted when it has finalizers;
// callers hold s.mu.
func (s *Server) delete(d *resourceDef, namespace, name string, opts *deleteOptions) (int, any, error) {
	key := objKey(namespace, name)
	obj, ok := s.bucket(d)[key]
	if !ok {
		return 0, nil, errNotFound(d.group, d.resource, name)
	}
	md := meta(obj)
	// A failed precondition names the Kind, not the resource, in both
	// the message and details.kind, as the real server's check does.
	if opts.preUID != "" && opts.preUID != md["uid"] {
		return 0, nil, errConflict(d.group, d.kind, name, fmt.Sprintf(
			"the UID in the precondition (%s) does not match the UID in record (%v). The object might have been deleted and then recreated", opts.preUID, md["uid"]))
	}
	if opts.preRV != "" && opts.preRV != md["resourceVersion"] {
		return 0, nil, errConflict(d.group, d.kind, name, fmt.Sprintf(
			"the ResourceVersion in the precondition (%s) does not match the ResourceVersion in record (%v). The object might have been modified", opts.preRV, md["resourceVersion"]))
	}
	next := copyObj(obj)
	nmd := meta(next)
	// Foreground and Orphan propagation add the garbage collector's
	// finalizer: the real server answers with the object so marked.
	gcFinalizer := map[string]string{"Foreground": "foregroundDeletion", "Orphan": "orphan"}[opts.propagationPolicy]
	if gcFinalizer != "" && !slices.Contains(asSlice(nmd["finalizers"]), any(gcFinalizer)) {
		nmd["finalizers"] = append(asSlice(nmd["finalizers"]), gcFinalizer)
	}
	if len(asSlice(nmd["finalizers"])) > 0 {
		// Kept until its finalizers are removed.
		if nmd["deletionTimestamp"] == nil || gcFinalizer != "" {
			if nmd["deletionTimestamp"] == nil {
				nmd["deletionTimestamp"] = nowRFC3339()
				nmd["deletionGracePeriodSeconds"] = 0
				if g := intField(next, "metadata", "generation"); g > 0 {
					nmd["generation"] = g + 1
				}
			}
			if !opts.dryRun {
				nmd["resourceVersion"] = s.nextRV()
				s.bucket(d)[key] = next
				s.record("MODIFIED", d, next, obj)
				if gcFinalizer != "" {
					s.collectGarbage(d, key, next, gcFinalizer)
				}
			}
		}
		return http.StatusOK, output(d, next), nil
	}
	if opts.dryRun {
		return http.StatusOK, s.deleteAnswer(d, next), nil
	}
	delete(s.bucket(d), key)
	nmd["resourceVersion"] = s.nextRV()
	switch {
	case d.group == "" && d.resource == "namespaces":
		nmd["deletionTimestamp"] = nowRFC3339()
		getMap(next, "status", true)["phase"] = "Terminating"
	case d.group == "apiextensions.k8s.io" && d.resource == "customresourcedefinitions":
		// The real server answers with the CRD as its cleanup begins.
		nmd["deletionTimestamp"] = nowRFC3339()
		nmd["finalizers"] = []any{"customresourcecleanup.apiextensions.k8s.io"}
		st := getMap(next, "status", true)
		st["conditions"] = append(asSlice(st["conditions"]), map[string]any{
			"type": "Terminating", "status": "True", "reason": "InstanceDeletionPending", "lastTransitionTime": nowRFC3339(),
			"message": "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon"})
	case d.group == "" && d.resource == "pods":
		// A pod on no node goes at once, marked as gracefully deleted.
		nmd["deletionTimestamp"] = nowRFC3339()
		nmd["deletionGracePeriodSeconds"] = 0
		nmd["generation"] = intField(next, "metadata", "generation") + 1
	}
	s.record("DELETED", d, next, obj)
	s.afterDelete(d, next)
	return http.StatusOK, s.deleteAnswer(d, next), nil
}

// collectGarbage stands in for the garbage collector, which the test server
// does not run: there are no dependents to wait for, so the collector's
// finalizer comes off at once, and the object goes when no other finalizer
// holds it (DELETED follows MODIFIED). obj is the stored, marked object; it
// is not changed, as it is the answer. Callers hold s.mu.
func (s *Server) collectGarbage(d *resourceDef, key string, obj map[string]any, finalizer string) {
	next := copyObj(obj)
	nmd := meta(next)
	var left []any
	for _, f := range asSlice(nmd["finalizers"]) {
		if f != finalizer {
			left = append(left, f)
		}
	}
	nmd["resourceVersion"] = s.nextRV()
	if len(left) > 0 {
		nmd["finalizers"] = left
		s.bucket(d)[key] = next
		s.record("MODIFIED", d, next, obj)
		return
	}
	delete(nmd, "finalizers")
	delete(s.bucket(d), key)
	s.record("DELETED", d, next, obj)
	s.afterDelete(d, next)
}

func (s *Server) deleteAnswer(d *resourceDef, obj map[string]any) any {
	if d.returnDeleted {
		return output(d, obj)
	}
	st := apiStatus{Kind: "Status", APIVersion: "v1", Status: "Success", Details: &statusDetails{
		Name: getString(obj, "metadata", "name"), Group: d.group, Kind: d.resource, UID: getString(obj, "metadata", "uid"),
	}}
	return st
}

// afterDelete cascades: a namespace takes its objects with it, a CRD its
// resources and their objects. Callers hold s.mu.
func (s *Server) afterDelete(d *resourceDef, obj map[string]any) {
	name := getString(obj, "metadata", "name")
	switch {
	case d.resource == "namespaces" && d.group == "":
		for _, def := range s.reg.defs {
			if !def.namespaced {
				continue
			}
			b := s.store[def.storageKey()]
			for _, k := range sortedKeys(b) {
				if strings.HasPrefix(k, name+"/") {
					o := b[k]
					delete(b, k)
					meta(o)["resourceVersion"] = s.nextRV()
					s.record("DELETED", def, o, o)
				}
			}
		}
	case d.resource == "customresourcedefinitions" && d.group == "apiextensions.k8s.io":
		var defs []*resourceDef
		for _, def := range s.reg.defs {
			if def.crd == name {
				defs = append(defs, def)
			}
		}
		if len(defs) > 0 {
			b := s.store[defs[0].storageKey()]
			for _, k := range sortedKeys(b) {
				o := b[k]
				meta(o)["resourceVersion"] = s.nextRV()
				s.record("DELETED", defs[0], o, o)
			}
			delete(s.store, defs[0].storageKey())
		}
		s.reg.removeCRD(name)
	}
}
