package testserver

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// crdEstablished reports whether a CRD's Established condition is True.
func crdEstablished(obj map[string]any) bool {
	for _, c := range asSlice(getMap(obj, "status", false)["conditions"]) {
		if cm, ok := c.(map[string]any); ok && cm["type"] == "Established" {
			return cm["status"] == "True"
		}
	}
	return false
}

// pendingCRDStatus sets the status with which the real server answers the
// create of a CRD: no conditions and no accepted names yet, the storage
// version recorded.
func pendingCRDStatus(obj map[string]any) {
	defaultCRDSpec(obj)
	var stored []any
	for _, v := range asSlice(getMap(obj, "spec", true)["versions"]) {
		if vm, ok := v.(map[string]any); ok && vm["storage"] == true {
			stored = append(stored, vm["name"])
		}
	}
	obj["status"] = map[string]any{"conditions": nil, "acceptedNames": map[string]any{"plural": "", "kind": ""}, "storedVersions": stored}
}

// establishAfter establishes the CRD name (if it still exists with that
// uid) after delay, as the real server's controllers do a moment after
// the create: its status gets the conditions NamesAccepted and
// Established (a MODIFIED event) and its resources are served from then
// on.
func (s *Server) establishAfter(name, uid string, delay time.Duration) {
	time.AfterFunc(delay, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		select {
		case <-s.done:
			return
		default:
		}
		d := s.reg.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
		key := objKey("", name)
		old, ok := s.bucket(d)[key]
		if !ok || getString(old, "metadata", "uid") != uid || crdEstablished(old) {
			return
		}
		obj := copyObj(old)
		setCRDStatus(obj)
		trackUpdate(d, old, obj, "kube-apiserver", "status")
		meta(obj)["resourceVersion"] = s.nextRV()
		s.bucket(d)[key] = obj
		s.record("MODIFIED", d, obj, old)
		s.registerCRD(obj)
	})
}

// RealCRDEstablishDelay is about how long the real kube-apiserver takes to
// establish a new CRD (0.2-0.4 s were measured on loopback); pass it as
// Options.CRDEstablishDelay or to SetCRDEstablishDelay to meet that
// behaviour.
const RealCRDEstablishDelay = 300 * time.Millisecond

// SetCRDEstablishDelay sets how long CRDs created from now on take to
// become Established (see Options.CRDEstablishDelay); zero establishes
// them at once.
func (s *Server) SetCRDEstablishDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.crdDelay = d
}

// setCRDStatus sets the status a healthy CRD reaches at once: names
// accepted, established, and the stored versions.
func setCRDStatus(obj map[string]any) {
	defaultCRDSpec(obj)
	spec := getMap(obj, "spec", true)
	names := copyObj(getMap(spec, "names", true))
	status := getMap(obj, "status", true)
	now := nowRFC3339()
	oldConds := map[string]string{}
	for _, c := range asSlice(status["conditions"]) {
		if cm, ok := c.(map[string]any); ok {
			if t, _ := cm["lastTransitionTime"].(string); t != "" {
				oldConds[fmt.Sprint(cm["type"])] = t
			}
		}
	}
	at := func(t string) string {
		if v, ok := oldConds[t]; ok {
			return v
		}
		return now
	}
	status["conditions"] = []any{
		map[string]any{"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": at("NamesAccepted")},
		map[string]any{"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": at("Established")},
	}
	status["acceptedNames"] = names
	stored := asSlice(status["storedVersions"])
	for _, v := range asSlice(spec["versions"]) {
		vm, _ := v.(map[string]any)
		if vm["storage"] == true {
			found := false
			for _, s := range stored {
				found = found || s == vm["name"]
			}
			if !found {
				stored = append(stored, vm["name"])
			}
		}
	}
	status["storedVersions"] = stored
}

// defaultCRDSpec sets the defaults of a CRD's spec: the singular and list
// kind names and the conversion strategy.
func defaultCRDSpec(obj map[string]any) {
	spec := getMap(obj, "spec", true)
	names := getMap(spec, "names", true)
	kind, _ := names["kind"].(string)
	setDefault(names, "singular", strings.ToLower(kind))
	setDefault(names, "listKind", kind+"List")
	setDefault(spec, "conversion", map[string]any{"strategy": "None"})
}

// registerCRD (re)registers the resources a CRD serves; callers hold s.mu.
func (s *Server) registerCRD(obj map[string]any) {
	name := getString(obj, "metadata", "name")
	s.reg.removeCRD(name)
	spec := getMap(obj, "spec", true)
	names := getMap(spec, "names", true)
	group, _ := spec["group"].(string)
	for _, v := range asSlice(spec["versions"]) {
		vm, _ := v.(map[string]any)
		if vm["served"] != true {
			continue
		}
		d := &resourceDef{
			group: group, version: fmt.Sprint(vm["name"]),
			resource: fmt.Sprint(names["plural"]), kind: fmt.Sprint(names["kind"]),
			singular:   getString(names, "singular"),
			namespaced: spec["scope"] == "Namespaced",
			generation: true, crd: name,
		}
		for _, sn := range asSlice(names["shortNames"]) {
			d.shortNames = append(d.shortNames, fmt.Sprint(sn))
		}
		for _, c := range asSlice(names["categories"]) {
			d.categories = append(d.categories, fmt.Sprint(c))
		}
		subs := getMap(vm, "subresources", false)
		d.status = subs["status"] != nil
		if sc := getMap(subs, "scale", false); sc != nil {
			d.scale = true
			d.scalePaths = []string{getString(sc, "specReplicasPath"), getString(sc, "statusReplicasPath"), getString(sc, "labelSelectorPath")}
		}
		if sch := getMap(getMap(vm, "schema", false), "openAPIV3Schema", false); sch != nil {
			d.schema = sch
		}
		s.reg.add(d)
	}
}

// validateCRD checks what a CRD needs to be served.
func validateCRD(obj, old map[string]any) []statusCause {
	var causes []statusCause
	spec := getMap(obj, "spec", true)
	names := getMap(spec, "names", true)
	group, _ := spec["group"].(string)
	plural, _ := names["plural"].(string)
	if group == "" {
		causes = append(causes, causeRequired("spec.group", ""))
	} else if !strings.Contains(group, ".") {
		causes = append(causes, causeInvalid("spec.group", group, "should be a domain with at least one dot"))
	}
	if plural == "" {
		causes = append(causes, causeRequired("spec.names.plural", ""))
	}
	if k, _ := names["kind"].(string); k == "" {
		causes = append(causes, causeRequired("spec.names.kind", ""))
	}
	name := getString(obj, "metadata", "name")
	if plural != "" && group != "" && name != plural+"."+group {
		causes = append(causes, causeInvalid("metadata.name", name, "must be spec.names.plural+\".\"+spec.group"))
	}
	switch spec["scope"] {
	case "Namespaced", "Cluster":
	default:
		causes = append(causes, causeUnsupported("spec.scope", spec["scope"], []string{"Cluster", "Namespaced"}))
	}
	versions := asSlice(spec["versions"])
	if len(versions) == 0 {
		causes = append(causes, causeRequired("spec.versions", "must have exactly one version marked as storage version"))
	}
	storage := 0
	for _, v := range versions {
		if vm, ok := v.(map[string]any); ok && vm["storage"] == true {
			storage++
		}
	}
	if len(versions) > 0 && storage != 1 {
		causes = append(causes, causeInvalid("spec.versions", storage, "must have exactly one version marked as storage version"))
	}
	if old != nil {
		if og := getString(old, "spec", "group"); og != group {
			causes = append(causes, causeInvalid("spec.group", group, "field is immutable"))
		}
	}
	return causes
}

// validateSchema checks types, required fields and enums against a
// structural schema; path is the JSON path of v ("" at the root).
func validateSchema(v any, sch map[string]any, path string) []statusCause {
	var causes []statusCause
	if v == nil {
		return nil
	}
	typ, _ := sch["type"].(string)
	field := strings.TrimPrefix(path, ".")
	if typ != "" && sch["x-kubernetes-int-or-string"] != true && !hasType(v, typ) {
		return []statusCause{{Reason: "FieldValueTypeInvalid", Field: field,
			Message: fmt.Sprintf("Invalid value: %q: %s in body must be of type %s: %q", jsonType(v), field, typ, jsonType(v))}}
	}
	if enum := asSlice(sch["enum"]); len(enum) > 0 {
		ok := false
		var allowed []string
		for _, e := range enum {
			ok = ok || fmt.Sprint(e) == fmt.Sprint(v)
			allowed = append(allowed, fmt.Sprint(e))
		}
		if !ok {
			causes = append(causes, causeUnsupported(field, v, allowed))
		}
	}
	causes = append(causes, boundsCauses(v, sch, field)...)
	switch t := v.(type) {
	case map[string]any:
		props := getMap(sch, "properties", false)
		for _, r := range asSlice(sch["required"]) {
			if path == "" && (r == "apiVersion" || r == "kind" || r == "metadata") {
				continue
			}
			if _, ok := t[fmt.Sprint(r)]; !ok {
				causes = append(causes, causeRequired(strings.TrimPrefix(path+"."+fmt.Sprint(r), "."), ""))
			}
		}
		for _, k := range sortedKeys(t) {
			if path == "" && (k == "apiVersion" || k == "kind" || k == "metadata") {
				continue
			}
			if ps, ok := props[k].(map[string]any); ok {
				causes = append(causes, validateSchema(t[k], ps, path+"."+k)...)
			} else if as, ok := sch["additionalProperties"].(map[string]any); ok {
				causes = append(causes, validateSchema(t[k], as, path+"."+k)...)
			}
		}
	case []any:
		if items, ok := sch["items"].(map[string]any); ok {
			for i, e := range t {
				causes = append(causes, validateSchema(e, items, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return causes
}

// boundsCauses checks a value against its schema's minimum, maximum,
// length, pattern and item-count limits, in the real server's words.
func boundsCauses(v any, sch map[string]any, field string) []statusCause {
	num := func(key string) (float64, string, bool) {
		n, ok := sch[key].(json.Number)
		if !ok {
			return 0, "", false
		}
		f, err := n.Float64()
		return f, n.String(), err == nil
	}
	var causes []statusCause
	switch t := v.(type) {
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return nil
		}
		if min, s, ok := num("minimum"); ok {
			switch {
			case sch["exclusiveMinimum"] == true && f <= min:
				causes = append(causes, causeInvalid(field, rawValue(t.String()), fmt.Sprintf("%s in body should be greater than %s", field, s)))
			case f < min:
				causes = append(causes, causeInvalid(field, rawValue(t.String()), fmt.Sprintf("%s in body should be greater than or equal to %s", field, s)))
			}
		}
		if max, s, ok := num("maximum"); ok {
			switch {
			case sch["exclusiveMaximum"] == true && f >= max:
				causes = append(causes, causeInvalid(field, rawValue(t.String()), fmt.Sprintf("%s in body should be less than %s", field, s)))
			case f > max:
				causes = append(causes, causeInvalid(field, rawValue(t.String()), fmt.Sprintf("%s in body should be less than or equal to %s", field, s)))
			}
		}
	case string:
		if max, s, ok := num("maxLength"); ok && float64(utf8.RuneCountInString(t)) > max {
			// Too long: the pattern is not checked.
			return append(causes, statusCause{Reason: "FieldValueTooLong", Field: field, Message: "Too long: may not be more than " + s + " bytes"})
		}
		if min, s, ok := num("minLength"); ok && float64(utf8.RuneCountInString(t)) < min {
			causes = append(causes, causeInvalid(field, t, fmt.Sprintf("%s in body should be at least %s chars long", field, s)))
		}
		if p, ok := sch["pattern"].(string); ok {
			if re, err := regexp.Compile(p); err == nil && !re.MatchString(t) {
				causes = append(causes, causeInvalid(field, t, fmt.Sprintf("%s in body should match '%s'", field, p)))
			}
		}
	case []any:
		if max, s, ok := num("maxItems"); ok && float64(len(t)) > max {
			causes = append(causes, statusCause{Reason: "FieldValueTooMany", Field: field, Message: fmt.Sprintf("Too many: %d: must have at most %s items", len(t), s)})
		}
		if min, s, ok := num("minItems"); ok && float64(len(t)) < min {
			causes = append(causes, causeInvalid(field, rawValue(compactJSON(t)), fmt.Sprintf("%s in body should have at least %s items", field, s)))
		}
	}
	return causes
}

func hasType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	}
	return true
}

func jsonType(v any) string {
	switch t := v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := t.Int64(); err == nil {
			return "integer"
		}
		return "number"
	}
	return "null"
}

// pruneSchema removes the fields a structural schema does not declare (the
// real server's pruning) and returns their paths.
func pruneSchema(v any, sch map[string]any, path string, root bool) []string {
	var unknown []string
	preserve := sch["x-kubernetes-preserve-unknown-fields"] == true
	embedded := sch["x-kubernetes-embedded-resource"] == true
	switch t := v.(type) {
	case map[string]any:
		props := getMap(sch, "properties", false)
		addl := sch["additionalProperties"]
		for _, k := range sortedKeys(t) {
			if (root || embedded) && (k == "apiVersion" || k == "kind" || k == "metadata") {
				continue
			}
			p := strings.TrimPrefix(path+"."+k, ".")
			if ps, ok := props[k].(map[string]any); ok {
				unknown = append(unknown, pruneSchema(t[k], ps, p, false)...)
				continue
			}
			if as, ok := addl.(map[string]any); ok {
				unknown = append(unknown, pruneSchema(t[k], as, p, false)...)
				continue
			}
			if addl == true || preserve {
				continue
			}
			unknown = append(unknown, p)
			delete(t, k)
		}
	case []any:
		if items, ok := sch["items"].(map[string]any); ok {
			for i, e := range t {
				unknown = append(unknown, pruneSchema(e, items, fmt.Sprintf("%s[%d]", path, i), false)...)
			}
		}
	}
	return unknown
}
