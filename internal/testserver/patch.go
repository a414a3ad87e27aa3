package testserver

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

const (
	jsonPatchType      = "application/json-patch+json"
	mergePatchType     = "application/merge-patch+json"
	strategicPatchType = "application/strategic-merge-patch+json"
	applyPatchType     = "application/apply-patch+yaml"
)

func (s *Server) servePatch(w http.ResponseWriter, r *http.Request, req request) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	accepted := []string{jsonPatchType, mergePatchType, strategicPatchType, applyPatchType}
	if req.def.crd != "" {
		accepted = []string{jsonPatchType, mergePatchType, applyPatchType}
	}
	if !slices.Contains(accepted, ct) {
		writeStatus(w, errUnsupportedMediaType(strings.Join(accepted, ", ")))
		return
	}
	opts, err := parseWriteOptions(r, "PatchOptions")
	if err != nil {
		writeErr(w, err)
		return
	}
	if ct == applyPatchType && opts.fieldManager == "" {
		writeErr(w, errInvalid("meta.k8s.io", "PatchOptions", "", []statusCause{causeRequired("fieldManager", "is required for apply patch")}))
		return
	}
	if ct != applyPatchType && opts.force {
		writeErr(w, errInvalid("meta.k8s.io", "PatchOptions", "", []statusCause{{Reason: "FieldValueForbidden", Field: "force", Message: "Forbidden: may not be specified for non-apply patch"}}))
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.mu.Lock()
	code, out, err := s.patch(req, ct, body, opts)
	s.mu.Unlock()
	if err != nil {
		writeErr(w, err)
		return
	}
	writeWarnings(w, opts.warnings)
	writeJSON(w, code, out)
}

// patch applies a patch of type ct; callers hold s.mu.
func (s *Server) patch(req request, ct string, body []byte, opts *writeOptions) (int, map[string]any, error) {
	d := req.def
	var patchObj map[string]any
	if ct == applyPatchType {
		js, err := yaml.YAMLToJSON(body)
		if err != nil {
			return 0, nil, errBadRequest("error decoding YAML: " + err.Error())
		}
		if patchObj, err = decodeObject(js); err != nil {
			return 0, nil, err
		}
	}
	stored, exists := s.bucket(d)[objKey(req.namespace, req.name)]
	if !exists {
		if ct == applyPatchType && req.sub == "" {
			// Apply creates what does not exist yet.
			md := meta(patchObj)
			if n, _ := md["name"].(string); n != req.name {
				return 0, nil, errBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", n, req.name))
			}
			if err := checkTypeMeta(d, patchObj); err != nil {
				return 0, nil, err
			}
			if err := applyTypeError(d, patchObj); err != nil {
				return 0, nil, err
			}
			merged, err := applyConfig(d, nil, patchObj, opts.fieldManager, "", opts.force)
			if err != nil {
				return 0, nil, err
			}
			opts.applied = true
			out, err := s.create(req, merged, opts)
			return http.StatusCreated, out, err
		}
		return 0, nil, errNotFound(d.group, d.resource, req.name)
	}
	cur := output(d, stored)
	if req.sub == "scale" {
		cur = scaleFor(d, cur)
	}
	var patched any
	switch ct {
	case jsonPatchType:
		ops, err := decodeJSON(body)
		if err != nil {
			return 0, nil, errBadRequest("the body of the request could not be decoded: " + err.Error())
		}
		list, ok := ops.([]any)
		if !ok {
			return 0, nil, errBadRequest("json: cannot unmarshal a JSON patch that is not an array of operations")
		}
		if patched, err = applyJSONPatch(cur, list); err != nil {
			return 0, nil, errPatchFailed(err)
		}
	case mergePatchType, strategicPatchType:
		p, err := decodeJSON(body)
		if err != nil {
			return 0, nil, errBadRequest("the body of the request could not be decoded: " + err.Error())
		}
		if _, ok := p.(map[string]any); !ok {
			return 0, nil, errBadRequest("the patch must be a JSON object")
		}
		patched = mergePatch(cur, p, ct == strategicPatchType)
	case applyPatchType:
		if av, _ := patchObj["apiVersion"].(string); av != "" && av != cur["apiVersion"] {
			return 0, nil, errBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)", av, cur["apiVersion"]))
		}
		md := meta(patchObj)
		if n, _ := md["name"].(string); n != "" && n != req.name {
			return 0, nil, errBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", n, req.name))
		}
		if req.sub == "scale" {
			patched = mergePatch(cur, patchObj, true)
			break
		}
		if err := applyTypeError(d, patchObj); err != nil {
			return 0, nil, err
		}
		// An applied configuration carries no resourceVersion precondition
		// unless it sets one.
		merged, err := applyConfig(d, cur, patchObj, opts.fieldManager, req.sub, opts.force)
		if err != nil {
			return 0, nil, err
		}
		opts.applied = true
		patched = merged
	}
	obj, ok := patched.(map[string]any)
	if !ok {
		return 0, nil, errBadRequest("the patched object is not a JSON object")
	}
	if req.sub == "scale" {
		out, err := s.updateScale(req, obj, opts)
		return http.StatusOK, out, err
	}
	if ct != applyPatchType && req.sub == "" {
		if err := patchTypeError(d, obj); err != nil {
			return 0, nil, err
		}
	}
	out, err := s.update(req, obj, opts, false)
	return http.StatusOK, out, err
}

// errPatchFailed is the real server's answer to a JSON patch that does not
// apply: 422 with a generic message.
func errPatchFailed(err error) error {
	st := newStatus(http.StatusUnprocessableEntity, "Invalid", "the server rejected our request due to an error in our request", &statusDetails{})
	_ = err
	return st
}

// mergePatch applies an RFC 7386 merge patch. With strategic set, lists
// merge by their keys the way strategic merge patch merges the built-in
// kinds (containers, volumes and env by name, volume mounts by mountPath,
// ports by port and protocol, finalizers as a set), other lists of objects
// that all have a "name" merge by name, an element with "$patch": "delete"
// removes its match, and other "$" directives are dropped.
func mergePatch(target, patch any, strategic bool) any {
	return mergeValue(target, patch, strategic, "")
}

func mergeValue(target, patch any, strategic bool, name string) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		if strategic {
			if pl, ok := patch.([]any); ok {
				if tl, ok := target.([]any); ok {
					keys := listKeys(name, append(append([]any(nil), tl...), pl...))
					if keys == nil && namedList(pl) && namedList(tl) {
						keys = []string{"name"}
					}
					if keys != nil {
						return mergeKeyedLists(tl, pl, keys)
					}
				}
			}
		}
		return deepCopy(patch)
	}
	if strategic && pm["$patch"] == "replace" {
		out := copyObj(pm)
		delete(out, "$patch")
		return out
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	} else {
		tm = copyObj(tm)
	}
	for k, v := range pm {
		if strategic && strings.HasPrefix(k, "$") {
			continue
		}
		if vm, ok := v.(map[string]any); ok && strategic && vm["$patch"] == "delete" {
			delete(tm, k)
			continue
		}
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergeValue(tm[k], v, strategic, k)
	}
	return tm
}

func namedList(l []any) bool {
	for _, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := m["name"].(string); !ok {
			return false
		}
	}
	return true
}

func mergeKeyedLists(target, patch []any, keys []string) []any {
	out := deepCopy(target).([]any)
	for _, p := range patch {
		seg, ok := itemSegment(p, keys)
		if !ok {
			out = append(out, deepCopy(p))
			continue
		}
		idx := -1
		for i, t := range out {
			if itemMatches(t, seg) {
				idx = i
			}
		}
		if pm, ok := p.(map[string]any); ok && pm["$patch"] == "delete" {
			if idx >= 0 {
				out = append(out[:idx], out[idx+1:]...)
			}
			continue
		}
		switch {
		case idx >= 0 && strings.HasPrefix(seg, "v:"):
		case idx >= 0:
			out[idx] = mergeValue(out[idx], p, true, "")
		default:
			out = append(out, mergeValue(nil, p, true, ""))
		}
	}
	return out
}

// applyJSONPatch applies RFC 6902 operations to a copy of doc.
func applyJSONPatch(doc any, ops []any) (any, error) {
	doc = deepCopy(doc)
	for i, o := range ops {
		op, ok := o.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("operation %d is not an object", i)
		}
		kind, _ := op["op"].(string)
		path, ok := op["path"].(string)
		if !ok {
			return nil, fmt.Errorf("operation %d (%s) has no path", i, kind)
		}
		toks, err := pointerTokens(path)
		if err != nil {
			return nil, err
		}
		value, hasValue := op["value"]
		switch kind {
		case "add", "replace", "test":
			if !hasValue {
				return nil, fmt.Errorf("%s operation has no value", kind)
			}
		}
		switch kind {
		case "add", "remove", "replace":
			doc, err = patchAt(doc, toks, kind, deepCopy(value), path)
		case "test":
			var got any
			if got, err = pointerGet(doc, toks, path); err == nil && !jsonValueEqual(got, value) {
				err = fmt.Errorf("testing value %s failed: test failed", path)
			}
		case "move", "copy":
			from, _ := op["from"].(string)
			ftoks, ferr := pointerTokens(from)
			if ferr != nil {
				return nil, ferr
			}
			var v any
			if v, err = pointerGet(doc, ftoks, from); err != nil {
				return nil, err
			}
			v = deepCopy(v)
			if kind == "move" {
				if doc, err = patchAt(doc, ftoks, "remove", nil, from); err != nil {
					return nil, err
				}
			}
			doc, err = patchAt(doc, toks, "add", v, path)
		default:
			err = fmt.Errorf("unexpected kind: %s", kind)
		}
		if err != nil {
			return nil, err
		}
	}
	return doc, nil
}

func pointerTokens(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("JSON pointer %q must start with /", p)
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

func pointerGet(doc any, toks []string, path string) (any, error) {
	cur := doc
	for _, t := range toks {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok {
				return nil, fmt.Errorf("doc is missing path: %q", path)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("doc is missing path: %q", path)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("doc is missing path: %q", path)
		}
	}
	return cur, nil
}

// patchAt applies add, remove or replace at toks and returns the new doc.
func patchAt(doc any, toks []string, op string, value any, path string) (any, error) {
	missing := fmt.Errorf("%s operation does not apply: doc is missing path: %q", op, path)
	if len(toks) == 0 {
		if op == "remove" {
			return nil, fmt.Errorf("remove operation does not apply: cannot remove the whole document")
		}
		return value, nil
	}
	t := toks[0]
	last := len(toks) == 1
	switch c := doc.(type) {
	case map[string]any:
		if last {
			_, ok := c[t]
			switch op {
			case "add":
				c[t] = value
			case "replace":
				if !ok {
					return nil, missing
				}
				c[t] = value
			case "remove":
				if !ok {
					return nil, missing
				}
				delete(c, t)
			}
			return c, nil
		}
		child, ok := c[t]
		if !ok {
			return nil, missing
		}
		nc, err := patchAt(child, toks[1:], op, value, path)
		if err != nil {
			return nil, err
		}
		c[t] = nc
		return c, nil
	case []any:
		if last && op == "add" && t == "-" {
			return append(c, value), nil
		}
		i, err := strconv.Atoi(t)
		if err != nil || i < 0 || i > len(c) || (i == len(c) && !(last && op == "add")) {
			return nil, missing
		}
		if !last {
			nc, err := patchAt(c[i], toks[1:], op, value, path)
			if err != nil {
				return nil, err
			}
			c[i] = nc
			return c, nil
		}
		switch op {
		case "add":
			c = append(c, nil)
			copy(c[i+1:], c[i:])
			c[i] = value
		case "replace":
			c[i] = value
		case "remove":
			c = append(c[:i], c[i+1:]...)
		}
		return c, nil
	}
	return nil, missing
}

// jsonValueEqual compares JSON values, numbers by value.
func jsonValueEqual(a, b any) bool {
	ab, err1 := json.Marshal(normalizeNumbers(a))
	bb, err2 := json.Marshal(normalizeNumbers(b))
	return err1 == nil && err2 == nil && string(ab) == string(bb)
}

func normalizeNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = normalizeNumbers(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normalizeNumbers(e)
		}
		return out
	case json.Number:
		if f, err := t.Float64(); err == nil {
			return f
		}
	}
	return v
}

// pathValue reads a simple JSON path such as .spec.replicas (the leading
// dot is optional, as in a field selector's metadata.name).
func pathValue(obj map[string]any, p string) any {
	var cur any = obj
	for _, seg := range strings.Split(strings.TrimPrefix(p, "."), ".") {
		m, _ := cur.(map[string]any)
		cur = m[seg]
	}
	return cur
}

// setPathValue writes v at a simple JSON path, creating objects on the way.
func setPathValue(obj map[string]any, p string, v any) {
	segs := strings.Split(strings.TrimPrefix(p, "."), ".")
	cur := obj
	for _, seg := range segs[:len(segs)-1] {
		cur = getMap(cur, seg, true)
	}
	cur[segs[len(segs)-1]] = v
}

// scaleFor is the autoscaling/v1 Scale of a deployment, or of a custom
// resource with a scale subresource (d carries its paths).
func scaleFor(d *resourceDef, obj map[string]any) map[string]any {
	if d != nil && d.scalePaths != nil {
		md := meta(obj)
		smd := map[string]any{}
		for _, f := range []string{"name", "namespace", "uid", "resourceVersion", "creationTimestamp"} {
			if v, ok := md[f]; ok {
				smd[f] = v
			}
		}
		replicas := pathValue(obj, d.scalePaths[0])
		if replicas == nil {
			replicas = 0
		}
		status := map[string]any{"replicas": 0}
		if d.scalePaths[1] != "" {
			if v := pathValue(obj, d.scalePaths[1]); v != nil {
				status["replicas"] = v
			}
		}
		if d.scalePaths[2] != "" {
			if v, ok := pathValue(obj, d.scalePaths[2]).(string); ok {
				status["selector"] = v
			}
		}
		return map[string]any{"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": smd,
			"spec": map[string]any{"replicas": replicas}, "status": status}
	}
	md := meta(obj)
	spec := getMap(obj, "spec", true)
	status := getMap(obj, "status", false)
	replicas := spec["replicas"]
	if replicas == nil {
		replicas = json.Number("1")
	}
	stReplicas := status["replicas"]
	if stReplicas == nil {
		stReplicas = 0
	}
	smd := map[string]any{}
	for _, f := range []string{"name", "namespace", "uid", "resourceVersion", "creationTimestamp"} {
		if v, ok := md[f]; ok {
			smd[f] = v
		}
	}
	return map[string]any{
		"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": smd,
		"spec":   map[string]any{"replicas": replicas},
		"status": map[string]any{"replicas": stReplicas, "selector": formatLabelSelector(getMap(spec, "selector", false))},
	}
}

// updateScale sets a deployment's replicas from a Scale; callers hold s.mu.
func (s *Server) updateScale(req request, scale map[string]any, opts *writeOptions) (map[string]any, error) {
	d := req.def
	stored, ok := s.bucket(d)[objKey(req.namespace, req.name)]
	if !ok {
		return nil, errNotFound(d.group, d.resource, req.name)
	}
	// The body must be a Scale: another kind cannot be converted to one
	// and is refused before anything is read from it.
	if k, _ := scale["kind"].(string); k != "" && k != "Scale" {
		gv, _ := scale["apiVersion"].(string)
		version := gv[strings.LastIndex(gv, "/")+1:]
		return nil, errBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a Scale: converting (%s.%s) to (autoscaling.Scale): unknown conversion", k, version, version, k))
	}
	if err := checkTypeMeta(&resourceDef{group: "autoscaling", version: "v1", kind: "Scale"}, scale); err != nil {
		return nil, err
	}
	replicas, ok := getMap(scale, "spec", true)["replicas"].(json.Number)
	if n, err := replicas.Int64(); !ok || err != nil || n < 0 {
		return nil, errInvalid("autoscaling", "Scale", req.name, []statusCause{causeInvalid("spec.replicas", getMap(scale, "spec", true)["replicas"], "must be greater than or equal to 0")})
	}
	obj := output(d, stored)
	if rv := getString(scale, "metadata", "resourceVersion"); rv != "" {
		meta(obj)["resourceVersion"] = rv
	}
	if d.scalePaths != nil {
		setPathValue(obj, d.scalePaths[0], replicas)
	} else {
		getMap(obj, "spec", true)["replicas"] = replicas
	}
	out, err := s.update(request{def: d, namespace: req.namespace, name: req.name, sub: "scale"}, obj, opts, false)
	if err != nil {
		return nil, err
	}
	return scaleFor(d, out), nil
}
