package testserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Field ownership, the part of server-side apply clients observe: every
// write records which manager set which fields in metadata.managedFields
// (FieldsV1), an apply that changes a field another manager owns fails
// with 409 Conflict unless forced, and fields a manager stops applying are
// removed when nobody else owns them. Simplifications: lists of objects
// that all have a "name" are keyed by name, every other list is atomic;
// only labels, annotations, finalizers and ownerReferences of metadata are
// tracked; there is no version conversion of field sets.

// A field path is a list of FieldsV1 segments ("f:spec", `k:{"name":"web"}`,
// "." for a keyed list item itself) joined by pathSep.
const pathSep = "\x1f"

// fieldLeaves maps each owned-able leaf path of v to its value.
func fieldLeaves(v any, prefix string, out map[string]any) {
	join := func(seg string) string {
		if prefix == "" {
			return seg
		}
		return prefix + pathSep + seg
	}
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 && prefix != "" {
			out[prefix] = t
			return
		}
		for k, e := range t {
			fieldLeaves(e, join("f:"+k), out)
		}
	case []any:
		if len(t) > 0 && namedList(t) {
			for _, e := range t {
				m := e.(map[string]any)
				key, _ := json.Marshal(map[string]any{"name": m["name"]})
				item := join("k:" + string(key))
				out[item+pathSep+"."] = true
				fieldLeaves(m, item, out)
			}
			return
		}
		out[prefix] = t
	default:
		out[prefix] = v
	}
}

// ownedView is the part of obj whose fields are tracked for a write to the
// main resource (sub "") or to a subresource.
func ownedView(d *resourceDef, obj map[string]any, sub string) map[string]any {
	out := map[string]any{}
	if sub == "status" {
		if st, ok := obj["status"]; ok {
			out["status"] = st
		}
		return out
	}
	for k, v := range obj {
		switch {
		case k == "apiVersion" || k == "kind":
		case k == "status" && d.status:
		case k == "metadata":
			md := map[string]any{}
			for _, f := range []string{"labels", "annotations", "finalizers", "ownerReferences"} {
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
	out := map[string]any{}
	if obj != nil {
		fieldLeaves(ownedView(d, obj, sub), "", out)
	}
	return out
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
	return tree
}

func writeManaged(obj map[string]any, entries []*managedEntry) {
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
		entries = readManaged(old)
	}
	before, after := leavesOf(d, old, sub), leavesOf(d, obj, sub)
	changed := map[string]bool{}
	for p, v := range after {
		if ov, ok := before[p]; !ok || !jsonValueEqual(ov, v) {
			changed[p] = true
		}
	}
	for _, e := range entries {
		if e.subresource != sub && !(sub == "" && e.subresource == "") {
			continue
		}
		for p := range e.fields {
			if _, ok := after[p]; !ok || changed[p] {
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
			fmt.Fprintf(&b, "[name=%q]", fmt.Sprint(key["name"]))
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
		entries = readManaged(live)
		current = live
	}
	applied := leavesOf(d, config, sub)
	liveLeaves := leavesOf(d, current, sub)

	type conflict struct{ manager, apiVersion, path string }
	var conflicts []conflict
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
			conflicts = append(conflicts, conflict{e.manager, version, p})
		}
	}
	if len(conflicts) > 0 && !force {
		sort.Slice(conflicts, func(i, j int) bool {
			if conflicts[i].manager != conflicts[j].manager {
				return conflicts[i].manager < conflicts[j].manager
			}
			return displayPath(conflicts[i].path) < displayPath(conflicts[j].path)
		})
		return nil, errApplyConflict(d, getString(config, "metadata", "name"), conflicts[0].manager, func() [][3]string {
			out := make([][3]string, len(conflicts))
			for i, c := range conflicts {
				out[i] = [3]string{c.manager, c.apiVersion, displayPath(c.path)}
			}
			return out
		}())
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
		shared := false
		for _, e := range entries {
			shared = shared || (e != prev && e.fields[p])
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
	prev.fields = map[string]bool{}
	for p := range applied {
		prev.fields[p] = true
	}
	prev.apiVersion, prev.time = d.groupVersion(), nowRFC3339()
	writeManaged(merged, entries)
	return merged, nil
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
		if len(segs) == 1 {
			delete(t, k)
			return t
		}
		if child, ok := t[k]; ok {
			t[k] = removePath(child, segs[1:])
		}
		return t
	case []any:
		if !strings.HasPrefix(seg, "k:") {
			return v
		}
		var key map[string]any
		_ = json.Unmarshal([]byte(seg[2:]), &key)
		for i, e := range t {
			m, ok := e.(map[string]any)
			if !ok || fmt.Sprint(m["name"]) != fmt.Sprint(key["name"]) {
				continue
			}
			if len(segs) == 2 && segs[1] == "." {
				return append(t[:i:i], t[i+1:]...)
			}
			t[i] = removePath(m, segs[1:])
			return t
		}
	}
	return v
}

func errApplyConflict(d *resourceDef, name, _ string, conflicts [][3]string) error {
	var causes []statusCause
	byManager := map[string][]string{}
	var order []string
	for _, c := range conflicts {
		// Update managers are named with their version, apply managers
		// by name alone.
		who := fmt.Sprintf("%q", c[0])
		if c[1] != "" {
			who += " using " + c[1]
		}
		if _, ok := byManager[who]; !ok {
			order = append(order, who)
		}
		byManager[who] = append(byManager[who], c[2])
		causes = append(causes, statusCause{Reason: "FieldManagerConflict", Message: "conflict with " + who, Field: c[2]})
	}
	n := len(conflicts)
	msg := fmt.Sprintf("Apply failed with %d conflict", n)
	if n > 1 {
		msg += "s"
	}
	msg += ": "
	for i, who := range order {
		if i > 0 {
			msg += "\n"
		}
		paths := byManager[who]
		if len(paths) == 1 {
			msg += "conflict with " + who + ": " + paths[0]
			continue
		}
		msg += "conflicts with " + who + ":"
		for _, p := range paths {
			msg += "\n- " + p
		}
	}
	return newStatus(http.StatusConflict, "Conflict", msg, &statusDetails{Causes: causes})
}
