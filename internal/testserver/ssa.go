package testserver

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// Field ownership, the part of server-side apply clients observe: every
// write records which manager set which fields in metadata.managedFields
// (FieldsV1), an apply that changes a field another manager owns fails
// with 409 Conflict unless forced, and fields a manager stops applying are
// removed when nobody else owns them. Simplifications: lists of objects
// that all have a "name" are keyed by name, every other list is atomic;
// only generateName, labels, annotations, finalizers and ownerReferences
// of metadata are tracked; there is no version conversion of field sets.

// A field path is a list of FieldsV1 segments ("f:spec", `k:{"name":"web"}`,
// "." for a keyed list item itself) joined by pathSep.
const pathSep = "\x1f"

// dotFields are the built-in fields whose own presence is owned (a "."
// entry in FieldsV1): maps, optional structs and optional lists.
var dotFields = map[string]bool{
	"labels": true, "annotations": true, "data": true, "binaryData": true, "nodeSelector": true,
	"rollingUpdate": true, "ports": true, "env": true, "envFrom": true, "volumes": true,
	"volumeMounts": true, "imagePullSecrets": true, "finalizers": true, "ownerReferences": true,
	"conversion": true, "podIPs": true, "hostIPs": true, "conditions": true,
}

// atomicFields are the built-in maps and structs owned whole, as their
// schemas' x-kubernetes-map-type atomic says: selectors (a Service's map
// and a LabelSelector alike) and object references.
var atomicFields = map[string]bool{"selector": true, "involvedObject": true, "related": true}

// listKeys returns the keys that identify the items of a built-in list
// field ("" for a set of scalars), or nil for an atomic list.
func listKeys(name string, items []any) []string {
	switch name {
	case "containers", "initContainers", "ephemeralContainers", "volumes", "env", "imagePullSecrets":
		return []string{"name"}
	case "volumeMounts":
		return []string{"mountPath"}
	case "ownerReferences":
		return []string{"uid"}
	case "conditions":
		return []string{"type"}
	case "podIPs", "hostIPs":
		return []string{"ip"}
	case "finalizers":
		return []string{""}
	case "ports":
		if len(items) > 0 {
			if m, ok := items[0].(map[string]any); ok {
				if _, ok := m["containerPort"]; ok {
					return []string{"containerPort", "protocol"}
				}
			}
		}
		return []string{"port", "protocol"}
	}
	return nil
}

// schemaListKeys reads a CRD schema's list type: keys for a map list, ""
// for a set, nil for an atomic list.
func schemaListKeys(sch map[string]any) []string {
	switch sch["x-kubernetes-list-type"] {
	case "map":
		var keys []string
		for _, k := range asSlice(sch["x-kubernetes-list-map-keys"]) {
			keys = append(keys, fmt.Sprint(k))
		}
		return keys
	case "set":
		return []string{""}
	}
	return nil
}

// itemSegment is the FieldsV1 segment of a list item: k:{...} by keys or
// v:<value> in a set; ok is false when an item lacks a key.
func itemSegment(item any, keys []string) (string, bool) {
	if len(keys) == 1 && keys[0] == "" {
		b, _ := json.Marshal(item)
		return "v:" + string(b), true
	}
	m, ok := item.(map[string]any)
	if !ok {
		return "", false
	}
	key := map[string]any{}
	for _, k := range keys {
		v, ok := m[k]
		if !ok && k == "protocol" {
			// A port's protocol key defaults to TCP, also in an
			// applied configuration that leaves it out.
			v, ok = "TCP", true
		}
		if !ok {
			return "", false
		}
		key[k] = v
	}
	b, _ := json.Marshal(key)
	return "k:" + string(b), true
}

// leafWalker collects the owned-able leaf paths of an object.
type leafWalker struct {
	crd bool
	out map[string]any
}

func join(prefix, seg string) string {
	if prefix == "" {
		return seg
	}
	return prefix + pathSep + seg
}

// walk records v at prefix; name is its field name and sch its CRD schema
// (nil for built-ins).
func (w *leafWalker) walk(v any, prefix, name string, sch map[string]any, depth int) {
	// Metadata follows the built-in rules in custom resources too.
	builtin := !w.crd || strings.HasPrefix(prefix, "f:metadata")
	switch t := v.(type) {
	case map[string]any:
		if builtin && atomicFields[name] {
			w.out[prefix] = t
			return
		}
		if len(t) == 0 && prefix != "" && !w.crd {
			w.out[prefix] = t
			return
		}
		if prefix != "" && ((!builtin && name != "metadata") || dotFields[name]) {
			w.out[join(prefix, ".")] = true
		}
		for k, e := range t {
			var child map[string]any
			if sch != nil {
				if ps, ok := getMap(sch, "properties", false)[k].(map[string]any); ok {
					child = ps
				} else if as, ok := sch["additionalProperties"].(map[string]any); ok {
					child = as
				}
			}
			w.walk(e, join(prefix, "f:"+k), k, child, depth+1)
		}
	case []any:
		var keys []string
		if builtin {
			keys = listKeys(name, t)
		} else {
			keys = schemaListKeys(sch)
		}
		segs := make([]string, len(t))
		for i, e := range t {
			seg, ok := itemSegment(e, keys)
			if keys == nil || !ok {
				w.out[prefix] = t // atomic
				return
			}
			segs[i] = seg
		}
		if len(t) == 0 {
			w.out[prefix] = t
			return
		}
		if dotFields[name] || !builtin {
			w.out[join(prefix, ".")] = true
		}
		var items map[string]any
		if sch != nil {
			items, _ = sch["items"].(map[string]any)
		}
		for i, e := range t {
			item := join(prefix, segs[i])
			if strings.HasPrefix(segs[i], "v:") {
				w.out[item] = true
				continue
			}
			w.out[join(item, ".")] = true
			for k, f := range e.(map[string]any) {
				var child map[string]any
				if ps, ok := getMap(items, "properties", false)[k].(map[string]any); ok {
					child = ps
				}
				w.walk(f, join(item, "f:"+k), k, child, depth+2)
			}
		}
	default:
		w.out[prefix] = v
	}
}

// ownedView is the part of obj whose fields are tracked for a write to the
// main resource (sub "") or to a subresource.
func ownedView(d *resourceDef, obj map[string]any, sub string) map[string]any {
	out := map[string]any{}
	if sub == "scale" {
		p := ".spec.replicas"
		if d.scalePaths != nil {
			p = d.scalePaths[0]
		}
		if v := pathValue(obj, p); v != nil {
			setPathValue(out, p, v)
		}
		return out
	}
	if sub == "status" {
		if st, ok := obj["status"].(map[string]any); ok {
			st = copyObj(st)
			if d.resource == "customresourcedefinitions" {
				delete(st, "storedVersions") // set with the object, owned by nobody
			}
			out["status"] = st
		}
		return out
	}
	for k, v := range obj {
		switch {
		case k == "apiVersion" || k == "kind":
		case k == "status" && d.status:
		case k == "spec" && d.group == "" && d.resource == "namespaces":
			// Set by the server after ownership is recorded.
		case d.group == "" && d.resource == "events" && (k == "eventTime" || k == "reportingComponent" || k == "reportingInstance") && (v == nil || v == ""):
			// Written as null or "" by the real server's encoder, not
			// set by anyone.
		case k == "metadata":
			md := map[string]any{}
			for _, f := range []string{"generateName", "labels", "annotations", "finalizers", "ownerReferences"} {
				if fv, ok := v.(map[string]any)[f]; ok {
					md[f] = fv
				}
			}
			if len(md) > 0 {
				out["metadata"] = md
			}
		default:
			out[k] = v
		}
	}
	return out
}

func leavesOf(d *resourceDef, obj map[string]any, sub string) map[string]any {
	w := &leafWalker{crd: d.crd != "", out: map[string]any{}}
	if obj != nil {
		w.walk(ownedView(d, obj, sub), "", "", d.schema, 0)
	}
	return w.out
}

// managedEntry is one element of metadata.managedFields.
type managedEntry struct {
	manager, operation, apiVersion, time, subresource string
	fields                                            map[string]bool
}

func readManaged(obj map[string]any) []*managedEntry {
	var out []*managedEntry
	for _, e := range asSlice(meta(obj)["managedFields"]) {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		me := &managedEntry{
			manager: getString(m, "manager"), operation: getString(m, "operation"), apiVersion: getString(m, "apiVersion"),
			time: getString(m, "time"), subresource: getString(m, "subresource"), fields: map[string]bool{},
		}
		treeToPaths(getMap(m, "fieldsV1", false), "", me.fields)
		out = append(out, me)
	}
	return out
}

func treeToPaths(tree map[string]any, prefix string, out map[string]bool) {
	for k, v := range tree {
		p := k
		if prefix != "" {
			p = prefix + pathSep + k
		}
		child, _ := v.(map[string]any)
		if len(child) == 0 {
			out[p] = true
			continue
		}
		treeToPaths(child, p, out)
	}
}

func pathsToTree(paths map[string]bool) map[string]any {
	tree := map[string]any{}
	for p := range paths {
		node := tree
		for _, seg := range strings.Split(p, pathSep) {
			next, ok := node[seg].(map[string]any)
			if !ok {
				next = map[string]any{}
				node[seg] = next
			}
			node = next
		}
	}
	collapseDots(tree)
	return tree
}

// collapseDots writes a map or list owned without any of its children as
// the real field manager does, {} instead of {".": {}}.
func collapseDots(node map[string]any) {
	for k, v := range node {
		child, _ := v.(map[string]any)
		if len(child) == 1 && child["."] != nil && len(child["."].(map[string]any)) == 0 {
			node[k] = map[string]any{}
			continue
		}
		collapseDots(child)
	}
}

// readManagedOf reads obj's managedFields as leavesOf names the fields: a
// collapsed {} (see collapseDots) of a map or list the object has is its
// "." path again.
func readManagedOf(d *resourceDef, obj map[string]any) []*managedEntry {
	entries := readManaged(obj)
	leaves := leavesOf(d, obj, "")
	for p, v := range leavesOf(d, obj, "status") {
		leaves[p] = v
	}
	for _, e := range entries {
		for p := range e.fields {
			if _, ok := leaves[p]; ok {
				continue
			}
			if _, ok := leaves[p+pathSep+"."]; ok {
				delete(e.fields, p)
				e.fields[p+pathSep+"."] = true
			}
		}
	}
	return entries
}

func writeManaged(obj map[string]any, entries []*managedEntry) {
	// The real field manager sorts the entries: Apply before Update, then
	// by time (to the second), manager, apiVersion and subresource.
	entries = slices.Clone(entries)
	slices.SortStableFunc(entries, func(a, b *managedEntry) int {
		return cmp.Or(cmp.Compare(a.operation, b.operation), cmp.Compare(a.time, b.time),
			cmp.Compare(a.manager, b.manager), cmp.Compare(a.apiVersion, b.apiVersion), cmp.Compare(a.subresource, b.subresource))
	})
	var list []any
	for _, e := range entries {
		if len(e.fields) == 0 {
			continue
		}
		m := map[string]any{"manager": e.manager, "operation": e.operation, "apiVersion": e.apiVersion,
			"time": e.time, "fieldsType": "FieldsV1", "fieldsV1": pathsToTree(e.fields)}
		if e.subresource != "" {
			m["subresource"] = e.subresource
		}
		list = append(list, m)
	}
	if len(list) == 0 {
		delete(meta(obj), "managedFields")
		return
	}
	meta(obj)["managedFields"] = list
}

func findEntry(entries []*managedEntry, manager, operation, sub string) ([]*managedEntry, *managedEntry) {
	for _, e := range entries {
		if e.manager == manager && e.operation == operation && e.subresource == sub {
			return entries, e
		}
	}
	e := &managedEntry{manager: manager, operation: operation, subresource: sub, fields: map[string]bool{}}
	return append(entries, e), e
}

// managerFor is the field manager of a non-apply write: the fieldManager
// parameter, else the User-Agent up to its first "/", as the real server
// does.
func managerFor(r *http.Request) string {
	if m := r.URL.Query().Get("fieldManager"); m != "" {
		return m
	}
	ua, _, _ := strings.Cut(r.UserAgent(), "/")
	if ua == "" {
		return "unknown"
	}
	return ua
}

// trackUpdate records a non-apply write of obj over old (nil on create):
// the manager takes the fields it added or changed from everyone else, and
// removed fields leave every set. Callers hold s.mu.
func trackUpdate(d *resourceDef, old, obj map[string]any, manager, sub string) {
	var entries []*managedEntry
	if old != nil {
		entries = readManagedOf(d, old)
	}
	before, after := leavesOf(d, old, sub), leavesOf(d, obj, sub)
	changed := map[string]bool{}
	for p, v := range after {
		if ov, ok := before[p]; !ok || !jsonValueEqual(ov, v) {
			changed[p] = true
		}
		// A list or map that was there as null is not new: its own
		// presence does not change hands (a CRD's conditions).
		if parent, ok := strings.CutSuffix(p, pathSep+"."); ok {
			if ov, was := before[parent]; was && ov == nil {
				delete(changed, p)
			}
		}
	}
	// Changed fields change hands and removed fields leave every set,
	// whichever subresource recorded them.
	for _, e := range entries {
		for p := range e.fields {
			_, was := before[p]
			_, is := after[p]
			if changed[p] || (was && !is) {
				delete(e.fields, p)
			}
		}
	}
	if len(changed) > 0 {
		var e *managedEntry
		entries, e = findEntry(entries, manager, "Update", sub)
		for p := range changed {
			e.fields[p] = true
		}
		e.apiVersion, e.time = d.groupVersion(), nowRFC3339()
	}
	writeManaged(obj, entries)
}

// displayPath renders a field path the way apply conflicts name fields:
// .spec.template.spec.containers[name="web"].image.
func displayPath(p string) string {
	var b strings.Builder
	for _, seg := range strings.Split(p, pathSep) {
		switch {
		case strings.HasPrefix(seg, "f:"):
			b.WriteString("." + seg[2:])
		case strings.HasPrefix(seg, "k:"):
			var key map[string]any
			_ = json.Unmarshal([]byte(seg[2:]), &key)
			var parts []string
			for _, k := range sortedKeys(key) {
				if str, ok := key[k].(string); ok {
					parts = append(parts, fmt.Sprintf("%s=%q", k, str))
				} else {
					parts = append(parts, fmt.Sprintf("%s=%v", k, key[k]))
				}
			}
			b.WriteString("[" + strings.Join(parts, ",") + "]")
		case strings.HasPrefix(seg, "v:"):
			b.WriteString("[" + seg[2:] + "]")
		}
	}
	return b.String()
}

// applyConfig merges an applied configuration into live (nil when the
// object does not exist yet) for manager and returns the new object, or a
// 409 Conflict listing the fields other managers own with other values.
func applyConfig(d *resourceDef, live, config map[string]any, manager, sub string, force bool) (map[string]any, error) {
	entries := []*managedEntry{}
	var current map[string]any
	if live != nil {
		entries = readManagedOf(d, live)
		current = live
		// The real field manager, applying to an object nobody manages
		// (one an apply created without owning a field, such as a
		// Namespace that names only itself), first records the object's
		// fields as an Update by "before-first-apply": that apply writes
		// the object and moves its resourceVersion even when it changes
		// nothing else.
		if len(entries) == 0 && sub == "" {
			e := &managedEntry{manager: "before-first-apply", operation: "Update", apiVersion: d.groupVersion(), time: nowRFC3339(), fields: map[string]bool{}}
			// Unlike on create, a Namespace's spec (its finalizer) is
			// there by now and goes with the rest.
			view := ownedView(d, live, "")
			if sp, ok := live["spec"]; ok && d.group == "" && d.resource == "namespaces" {
				view["spec"] = sp
			}
			w := &leafWalker{crd: d.crd != "", out: map[string]any{}}
			w.walk(view, "", "", d.schema, 0)
			atomic := "f:spec" + pathSep + "f:finalizers" // an atomic list in the real schema
			for p := range w.out {
				if d.group == "" && d.resource == "namespaces" && strings.HasPrefix(p, atomic+pathSep) {
					p = atomic
				}
				e.fields[p] = true
			}
			entries = append(entries, e)
		}
	}
	applied := leavesOf(d, config, sub)
	// An applied configuration owns the items of keyed lists, not the
	// maps that hold its fields.
	for p := range applied {
		if rest, ok := strings.CutSuffix(p, pathSep+"."); ok {
			if i := strings.LastIndex(rest, pathSep); !strings.HasPrefix(rest[i+1:], "k:") {
				delete(applied, p)
			}
		}
	}
	liveLeaves := leavesOf(d, current, sub)

	var conflicts []applyConflict
	for _, e := range entries {
		if e.manager == manager && e.operation == "Apply" {
			continue
		}
		for p := range e.fields {
			cv, inConfig := applied[p]
			if !inConfig {
				continue
			}
			if lv, ok := liveLeaves[p]; ok && jsonValueEqual(lv, cv) {
				continue // the same value: shared ownership
			}
			version := ""
			if e.operation == "Update" {
				version = e.apiVersion
			}
			conflicts = append(conflicts, applyConflict{e.manager, version, p})
		}
	}
	if len(conflicts) > 0 && !force {
		sort.Slice(conflicts, func(i, j int) bool {
			if conflicts[i].manager != conflicts[j].manager {
				return conflicts[i].manager < conflicts[j].manager
			}
			return displayPath(conflicts[i].path) < displayPath(conflicts[j].path)
		})
		return nil, errApplyConflict(conflicts)
	}
	for _, c := range conflicts { // forced: the fields change hands
		for _, e := range entries {
			if e.manager == c.manager {
				delete(e.fields, c.path)
			}
		}
	}

	var prev *managedEntry
	entries, prev = findEntry(entries, manager, "Apply", sub)
	// Fields this manager applied before and no longer does go, unless
	// someone else owns them too.
	var drop []string
	for p := range prev.fields {
		if _, still := applied[p]; still {
			continue
		}
		// Shared: another manager owns the field, or (for a map or list
		// item) something beneath it.
		container := strings.TrimSuffix(p, ".")
		shared := false
		for _, e := range entries {
			if e == prev {
				continue
			}
			for q := range e.fields {
				shared = shared || q == p || (container != p && strings.HasPrefix(q, container))
			}
		}
		if !shared {
			drop = append(drop, p)
		}
	}
	result := map[string]any{}
	if current != nil {
		result = copyObj(current)
	}
	// Whole list items go first; the key field of an item that stays is
	// kept, or the item could no longer be found.
	sort.Slice(drop, func(i, j int) bool {
		di, dj := strings.HasSuffix(drop[i], pathSep+"."), strings.HasSuffix(drop[j], pathSep+".")
		if di != dj {
			return di
		}
		return drop[i] > drop[j]
	})
	for _, p := range drop {
		segs := strings.Split(p, pathSep)
		if n := len(segs); n >= 2 && segs[n-1] == "f:name" && strings.HasPrefix(segs[n-2], "k:") {
			continue
		}
		result = removePath(result, segs).(map[string]any)
	}
	merged := mergePatch(result, config, true).(map[string]any)
	oldFields, oldAPIVersion, oldTime := prev.fields, prev.apiVersion, prev.time
	prev.fields = map[string]bool{}
	for p := range applied {
		prev.fields[p] = true
	}
	prev.apiVersion, prev.time = d.groupVersion(), nowRFC3339()
	// An apply that changes neither the object nor what the manager owns
	// keeps the entry's time, as the real field manager does, so the
	// object is not written and its resourceVersion does not move.
	if live != nil && oldTime != "" && oldAPIVersion == prev.apiVersion && maps.Equal(oldFields, prev.fields) &&
		jsonValueEqual(withoutManaged(live), withoutManaged(merged)) {
		prev.time = oldTime
	}
	writeManaged(merged, entries)
	return merged, nil
}

// untimed is a copy of managedFields entries without their times.
func untimed(managed any) any {
	entries := asSlice(deepCopy(managed))
	for _, e := range entries {
		if em, ok := e.(map[string]any); ok {
			delete(em, "time")
		}
	}
	return entries
}

// withoutManaged is a copy of obj without metadata.managedFields.
func withoutManaged(obj map[string]any) map[string]any {
	c := copyObj(obj)
	if m, ok := c["metadata"].(map[string]any); ok {
		delete(m, "managedFields")
	}
	return c
}

// removePath deletes the field a FieldsV1 path names; "." removes a keyed
// list item.
func removePath(v any, segs []string) any {
	if len(segs) == 0 {
		return v
	}
	seg := segs[0]
	switch t := v.(type) {
	case map[string]any:
		if !strings.HasPrefix(seg, "f:") {
			return v
		}
		k := seg[2:]
		if len(segs) == 1 || (len(segs) == 2 && segs[1] == ".") {
			delete(t, k)
			return t
		}
		if child, ok := t[k]; ok {
			t[k] = removePath(child, segs[1:])
		}
		return t
	case []any:
		for i, e := range t {
			if !itemMatches(e, seg) {
				continue
			}
			if strings.HasPrefix(seg, "v:") || (len(segs) == 2 && segs[1] == ".") {
				return append(t[:i:i], t[i+1:]...)
			}
			t[i] = removePath(e, segs[1:])
			return t
		}
	}
	return v
}

// itemMatches reports whether a list item is the one a k: or v: segment
// names.
func itemMatches(item any, seg string) bool {
	switch {
	case strings.HasPrefix(seg, "v:"):
		var want any
		_ = json.Unmarshal([]byte(seg[2:]), &want)
		return jsonValueEqual(item, want)
	case strings.HasPrefix(seg, "k:"):
		m, ok := item.(map[string]any)
		if !ok {
			return false
		}
		var key map[string]any
		_ = json.Unmarshal([]byte(seg[2:]), &key)
		for k, v := range key {
			if !jsonValueEqual(m[k], v) {
				return false
			}
		}
		return true
	}
	return false
}

// applyConflict is a field (path in the managedFields form) that an apply
// would take from another manager; apiVersion is set for Update managers.
type applyConflict struct{ manager, apiVersion, path string }

// errApplyConflict is the 409 of an apply without force, listing the
// conflicts (sorted by the caller) grouped by manager.
func errApplyConflict(conflicts []applyConflict) error {
	var causes []statusCause
	byManager := map[string][]string{}
	var order []string
	for _, c := range conflicts {
		// Update managers are named with their version, apply managers
		// by name alone.
		who := fmt.Sprintf("%q", c.manager)
		if c.apiVersion != "" {
			who += " using " + c.apiVersion
		}
		if _, ok := byManager[who]; !ok {
			order = append(order, who)
		}
		field := displayPath(c.path)
		byManager[who] = append(byManager[who], field)
		causes = append(causes, statusCause{Reason: "FieldManagerConflict", Message: "conflict with " + who, Field: field})
	}
	n := len(conflicts)
	msg := fmt.Sprintf("Apply failed with %d conflict", n)
	if n > 1 {
		msg += "s"
	}
	msg += ": "
	if n == 1 {
		msg += "conflict with " + order[0] + ": " + byManager[order[0]][0]
	} else {
		var lines []string
		for _, who := range order {
			lines = append(lines, "conflicts with "+who+":")
			for _, p := range byManager[who] {
				lines = append(lines, "- "+p)
			}
		}
		msg += strings.Join(lines, "\n")
	}
	return newStatus(http.StatusConflict, "Conflict", msg, &statusDetails{Causes: causes})
}
