package fidelity

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// diff is one way in which an answer differs from the real server's. Key
// is stable across runs (no volatile values) and names what differs;
// Detail says how.
type diff struct {
	Key    string
	Detail string
}

type differ struct {
	diffs     []diff
	kindForms []string // see responseKind
}

func (d *differ) add(key, format string, args ...any) {
	d.diffs = append(d.diffs, diff{Key: key, Detail: fmt.Sprintf(format, args...)})
}

// value records a difference when the real value differs from the test
// server's.
func (d *differ) value(key string, real, test any) {
	if r, t := canonical(real), canonical(test); r != t {
		d.add(key, "real %s, testserver %s", r, t)
	}
}

// set records a difference when two arrays hold different strings, order
// aside.
func (d *differ) set(key string, real, test any) {
	if r, t := stringSet(real), stringSet(test); r != t {
		d.add(key, "real [%s], testserver [%s]", r, t)
	}
}

// keys records each key path missing from, or extra in, the test server's
// answer (only the outermost one when a whole subtree is missing or extra),
// and each path whose type differs.
func (d *differ) keys(prefix string, real, test any, collapse ...string) {
	rk, tk := keyPaths(real, collapse...), keyPaths(test, collapse...)
	for _, p := range slices.Sorted(maps.Keys(rk.types)) {
		switch tt, ok := tk.types[p]; {
		case !ok:
			if _, parentMissing := tk.types[rk.parent[p]]; p == "$" || parentMissing {
				d.add(prefix+"key missing: "+p, "real has it (%s), testserver does not", rk.types[p])
			}
		case tt != rk.types[p]:
			d.add(prefix+"key type: "+p, "real %s, testserver %s", rk.types[p], tt)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(tk.types)) {
		if _, ok := rk.types[p]; !ok {
			if _, parentInReal := rk.types[tk.parent[p]]; p == "$" || parentInReal {
				d.add(prefix+"key extra: "+p, "testserver has it (%s), real does not", tk.types[p])
			}
		}
	}
}

// values records every value of the real answer that the test server's
// answer holds at the same key path with the same JSON type but a
// different value ("value: $.spec.restartPolicy"), and every array whose
// length differs ("length: $.items"; its elements are then not compared).
// Keys missing, extra or of another type are left to keys. Volatile values
// were replaced by placeholders before (see scrub), so what is left must
// be equal. A managedFields entry's fieldsV1 is compared whole: its keys
// are the field paths its manager owns.
func (d *differ) values(p string, real, test any) {
	switch r := real.(type) {
	case map[string]any:
		t, ok := test.(map[string]any)
		if !ok {
			return
		}
		for _, k := range slices.Sorted(maps.Keys(r)) {
			tv, ok := t[k]
			if !ok {
				continue
			}
			if k == "fieldsV1" {
				if missing, extra := fieldSetDiff(r[k], tv); len(missing)+len(extra) > 0 {
					d.add("value: "+p+"."+k, "testserver lacks %v, has extra %v", missing, extra)
				}
				continue
			}
			d.values(p+"."+k, r[k], tv)
		}
	case []any:
		t, ok := test.([]any)
		if !ok {
			return
		}
		if len(r) != len(t) {
			d.add("length: "+p, "real %d elements %s, testserver %d elements %s", len(r), abbreviate(canonical(r)), len(t), abbreviate(canonical(t)))
			return
		}
		for i := range r {
			d.values(fmt.Sprintf("%s[%d]", p, i), r[i], t[i])
		}
	default:
		if typeName(real) != typeName(test) {
			return
		}
		d.value("value: "+p, real, test)
	}
}

// abbreviate shortens s to at most 300 bytes for a diff's detail.
func abbreviate(s string) string {
	if len(s) <= 300 {
		return s
	}
	return s[:300] + "..."
}

// fieldSetDiff compares two fieldsV1 sets: it returns the field paths
// (leaves of the nested objects, "f:spec.f:replicas") only the real set
// has, and those only the test server's has.
func fieldSetDiff(real, test any) (missing, extra []string) {
	leaves := func(v any) map[string]bool {
		out := map[string]bool{}
		var walk func(p string, v any)
		walk = func(p string, v any) {
			m, ok := v.(map[string]any)
			if !ok || len(m) == 0 {
				out[p] = true
				return
			}
			for k, e := range m {
				walk(strings.TrimPrefix(p+"."+k, "."), e)
			}
		}
		walk("", v)
		return out
	}
	rl, tl := leaves(real), leaves(test)
	for _, k := range slices.Sorted(maps.Keys(rl)) {
		if !tl[k] {
			missing = append(missing, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(tl)) {
		if !rl[k] {
			extra = append(extra, k)
		}
	}
	return missing, extra
}

// compare returns every difference of got (the test server's answer, or a
// fresh answer of the real server) from want (the capture).
func compare(c fcase, want, got capture) []diff {
	d := &differ{}
	if want.Status != got.Status {
		d.add("status", "real %d, testserver %d", want.Status, got.Status)
	}
	wmt, wp := mediaType(want.ContentType)
	gmt, gp := mediaType(got.ContentType)
	if wmt != gmt {
		d.add("content-type", "real %q, testserver %q", want.ContentType, got.ContentType)
	} else if canonical(wp) != canonical(gp) {
		d.add("content-type parameters", "real %q, testserver %q", want.ContentType, got.ContentType)
	}
	if want.ETag != got.ETag {
		d.add("etag", "real sends an ETag: %v, testserver: %v", want.ETag, got.ETag)
	}
	if want.CacheControl != got.CacheControl {
		d.add("cache-control", "real %q, testserver %q", want.CacheControl, got.CacheControl)
	}
	if canonical(want.Warnings) != canonical(got.Warnings) {
		d.add("warnings", "real %q, testserver %q", want.Warnings, got.Warnings)
	}
	if want.Status != got.Status || wmt != gmt {
		// Different kinds of answer: their bodies are not comparable.
		return d.diffs
	}
	w, g := want.Body, got.Body
	switch c.Kind {
	case kindVersion, kindEmpty:
		d.keys("", w, g)
	case kindLegacyRoot:
		d.keys("", w, g)
		d.value("value: kind", path(w, "kind"), path(g, "kind"))
		d.value("value: versions", path(w, "versions"), path(g, "versions"))
	case kindLegacyGroup:
		d.keys("", w, g)
		for _, f := range []string{"kind", "apiVersion", "name", "versions", "preferredVersion"} {
			d.value("value: "+f, path(w, f), path(g, f))
		}
	case kindLegacyGroups:
		compareLegacyGroups(d, w, g)
	case kindResourceList:
		compareResourceList(d, w, g)
	case kindAggregated:
		compareAggregated(d, w, g)
	case kindOpenAPIIndex:
		compareOpenAPIIndex(d, w, g)
	case kindOpenAPIDoc:
		compareOpenAPIDoc(d, w, g)
	case kindOpenAPIFull:
		compareOpenAPIFull(d, w, g)
	case kindStatus:
		compareStatus(d, w, g)
	case kindWatch:
		d.keys("", opaqueFieldsV1(w), opaqueFieldsV1(g))
		d.values("$", w, g)
		types := func(v any) []any {
			var out []any
			for _, e := range list(v, "events") {
				out = append(out, path(e, "type"))
			}
			return out
		}
		d.value("value: event types", types(w), types(g))
		annotations := func(v any) []any {
			var out []any
			for _, e := range list(v, "events") {
				if str(e, "type") == "BOOKMARK" {
					out = append(out, path(e, "object", "metadata", "annotations"))
				}
			}
			return out
		}
		d.value("value: bookmark annotations", annotations(w), annotations(g))
		errs := func(v any) []any {
			var out []any
			for _, e := range list(v, "events") {
				if str(e, "type") == "ERROR" {
					out = append(out, []any{path(e, "object", "reason"), path(e, "object", "code")})
				}
			}
			return out
		}
		d.value("value: error events (reason, code)", errs(w), errs(g))
	case kindObject:
		d.keys("", opaqueFieldsV1(w), opaqueFieldsV1(g))
		d.values("$", w, g)
		for _, f := range []string{"apiVersion", "kind"} {
			d.value("value: "+f, path(w, f), path(g, f))
		}
		if str(w, "kind") == "Table" {
			columns := func(v any) []any {
				var out []any
				for _, c := range list(v, "columnDefinitions") {
					out = append(out, str(c, "name")+" "+str(c, "type")+" "+str(c, "format")+" "+fmt.Sprint(path(c, "priority")))
				}
				return out
			}
			d.value("value: table columns (name type format priority)", columns(w), columns(g))
			d.value("value: table row cell counts", cellCounts(w), cellCounts(g))
			// Volatile cells are masked (see maskAges); the rest must
			// match: they are what a client prints.
			cells := func(v any) []any {
				var out []any
				for _, r := range list(v, "rows") {
					out = append(out, path(r, "cells"))
				}
				return out
			}
			d.value("value: table cells", cells(w), cells(g))
		}
	default:
		d.add("case kind", "unknown kind %q", c.Kind)
	}
	return d.diffs
}

// byKey indexes the objects of an array by the string at keys.
func byKey(l []any, keys ...string) map[string]any {
	m := map[string]any{}
	for _, e := range l {
		m[str(e, keys...)] = e
	}
	return m
}

// compareLegacyGroups compares APIGroupLists for the groups the test
// server serves.
func compareLegacyGroups(d *differ, w, g any) {
	d.value("value: kind", path(w, "kind"), path(g, "kind"))
	wg, gg := byKey(list(w, "groups"), "name"), byKey(list(g, "groups"), "name")
	var kept []any
	for _, name := range slices.Sorted(maps.Keys(gg)) {
		rg, ok := wg[name]
		if !ok {
			d.add("group extra: "+name, "testserver serves group %s, real does not", name)
			continue
		}
		kept = append(kept, rg)
		tg := gg[name]
		d.value("group "+name+": versions", path(rg, "versions"), path(tg, "versions"))
		d.value("group "+name+": preferredVersion", path(rg, "preferredVersion"), path(tg, "preferredVersion"))
	}
	d.keys("", withList(w, "groups", kept), g)
}

// withList returns a copy of the object v with key set to l.
func withList(v any, key string, l []any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := maps.Clone(m)
	if l == nil {
		l = []any{}
	}
	out[key] = l
	return out
}

// baseResource is the resource a "resource/subresource" name belongs to.
func baseResource(name string) string {
	base, _, _ := strings.Cut(name, "/")
	return base
}

// compareResourceList compares APIResourceLists for the resources the
// test server serves, subresources included.
func compareResourceList(d *differ, w, g any) {
	d.value("value: kind", path(w, "kind"), path(g, "kind"))
	d.value("value: groupVersion", path(w, "groupVersion"), path(g, "groupVersion"))
	wr, gr := byKey(list(w, "resources"), "name"), byKey(list(g, "resources"), "name")
	served := map[string]bool{}
	for name := range gr {
		served[baseResource(name)] = true
	}
	var kept []any
	for _, name := range slices.Sorted(maps.Keys(wr)) {
		if !served[baseResource(name)] {
			continue
		}
		kept = append(kept, wr[name])
		if _, ok := gr[name]; !ok {
			d.add("resource missing: "+name, "real serves %s, testserver does not", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(gr)) {
		rr, ok := wr[name]
		if !ok {
			d.add("resource extra: "+name, "testserver serves %s, real does not", name)
			continue
		}
		tr := gr[name]
		for _, f := range []string{"singularName", "namespaced", "group", "version", "kind"} {
			d.value("resource "+name+": "+f, path(rr, f), path(tr, f))
		}
		for _, f := range []string{"verbs", "shortNames", "categories"} {
			d.set("resource "+name+": "+f, path(rr, f), path(tr, f))
		}
		if (path(rr, "storageVersionHash") == nil) != (path(tr, "storageVersionHash") == nil) {
			d.add("resource "+name+": storageVersionHash", "real has one: %v, testserver: %v", path(rr, "storageVersionHash") != nil, path(tr, "storageVersionHash") != nil)
		}
	}
	d.keys("", withList(w, "resources", kept), g)
}

// compareAggregated compares aggregated discovery documents for the
// groups, versions and resources the test server serves.
func compareAggregated(d *differ, w, g any) {
	d.value("value: apiVersion", path(w, "apiVersion"), path(g, "apiVersion"))
	d.value("value: kind", path(w, "kind"), path(g, "kind"))
	wg, gg := byKey(list(w, "items"), "metadata", "name"), byKey(list(g, "items"), "metadata", "name")
	var keptGroups []any
	for _, name := range slices.Sorted(maps.Keys(gg)) {
		label := "group " + name
		if name == "" {
			label = "group core"
		}
		rg, ok := wg[name]
		if !ok {
			d.add(label+" extra", "testserver serves group %q, real does not", name)
			continue
		}
		tg := gg[name]
		var versionNames = func(v any) []any {
			var out []any
			for _, e := range list(v, "versions") {
				out = append(out, path(e, "version"))
			}
			return out
		}
		d.value(label+": versions", versionNames(rg), versionNames(tg))
		rv, tv := byKey(list(rg, "versions"), "version"), byKey(list(tg, "versions"), "version")
		var keptVersions []any
		for _, ver := range slices.Sorted(maps.Keys(tv)) {
			rver, ok := rv[ver]
			if !ok {
				continue // reported by the versions comparison
			}
			tver := tv[ver]
			vlabel := label + " " + ver
			d.value(vlabel+": freshness", path(rver, "freshness"), path(tver, "freshness"))
			rres, tres := byKey(list(rver, "resources"), "resource"), byKey(list(tver, "resources"), "resource")
			var keptRes []any
			for _, res := range slices.Sorted(maps.Keys(tres)) {
				rr, ok := rres[res]
				if !ok {
					d.add(vlabel+" resource extra: "+res, "testserver serves %s, real does not", res)
					continue
				}
				keptRes = append(keptRes, rr)
				tr := tres[res]
				rlabel := vlabel + " resource " + res
				for _, f := range []string{"scope", "singularResource"} {
					d.value(rlabel+": "+f, path(rr, f), path(tr, f))
				}
				d.responseKind(rlabel, name, ver, path(rr, "responseKind"), path(tr, "responseKind"))
				for _, f := range []string{"verbs", "shortNames", "categories"} {
					d.set(rlabel+": "+f, path(rr, f), path(tr, f))
				}
				rs, ts := byKey(list(rr, "subresources"), "subresource"), byKey(list(tr, "subresources"), "subresource")
				for _, sub := range slices.Sorted(maps.Keys(rs)) {
					if _, ok := ts[sub]; !ok {
						d.add(rlabel+" subresource missing: "+sub, "real serves %s/%s, testserver does not", res, sub)
					}
				}
				for _, sub := range slices.Sorted(maps.Keys(ts)) {
					rsub, ok := rs[sub]
					if !ok {
						d.add(rlabel+" subresource extra: "+sub, "testserver serves %s/%s, real does not", res, sub)
						continue
					}
					d.responseKind(rlabel+" subresource "+sub, name, ver, path(rsub, "responseKind"), path(ts[sub], "responseKind"))
					d.set(rlabel+" subresource "+sub+": verbs", path(rsub, "verbs"), path(ts[sub], "verbs"))
				}
			}
			keptVersions = append(keptVersions, withList(rver, "resources", keptRes))
		}
		keptGroups = append(keptGroups, withList(rg, "versions", keptVersions))
	}
	d.keys("", withList(w, "items", keptGroups), g)
	if len(d.kindForms) > 0 {
		d.add("responseKind form", "real and testserver disagree on whether responseKind spells out group and version or leaves them empty for the enclosing group-version: %s", strings.Join(d.kindForms, ", "))
	}
}

// responseKind compares the responseKinds of a resource or subresource
// served in group/version. An empty group and version stand for the
// enclosing group-version: the resolved kinds must agree, and a different
// spelling of the same kind is collected in kindForms.
func (d *differ) responseKind(label, group, version string, real, test any) {
	resolve := func(v any) string {
		g, ver, k := str(v, "group"), str(v, "version"), str(v, "kind")
		if g == "" && ver == "" {
			g, ver = group, version
		}
		return g + "/" + ver + ", Kind=" + k
	}
	if r, t := resolve(real), resolve(test); r != t {
		d.add(label+": responseKind", "real %s (%s), testserver %s (%s)", r, canonical(real), t, canonical(test))
	} else if canonical(real) != canonical(test) {
		d.kindForms = append(d.kindForms, label)
	}
}

// compareOpenAPIIndex compares /openapi/v3: every group-version the test
// server lists must be listed by the real server, and the entries must
// have the same shape.
func compareOpenAPIIndex(d *differ, w, g any) {
	wp, _ := path(w, "paths").(map[string]any)
	gp, _ := path(g, "paths").(map[string]any)
	for _, gv := range slices.Sorted(maps.Keys(gp)) {
		if _, ok := wp[gv]; !ok {
			d.add("path extra: "+gv, "testserver lists %s, real does not", gv)
			continue
		}
		d.value("path "+gv+": serverRelativeURL", path(wp[gv], "serverRelativeURL"), path(gp[gv], "serverRelativeURL"))
	}
	d.keys("", w, g, "$.paths")
}

// compareOpenAPIDoc compares trimmed OpenAPI documents (see trimOpenAPI).
func compareOpenAPIDoc(d *differ, w, g any) {
	d.value("value: openapi", path(w, "openapi"), path(g, "openapi"))
	d.value("value: topLevelKeys", path(w, "topLevelKeys"), path(g, "topLevelKeys"))
	d.value("value: componentsKeys", path(w, "componentsKeys"), path(g, "componentsKeys"))
	d.value("value: securitySchemes", path(w, "securitySchemes"), path(g, "securitySchemes"))
	d.value("value: danglingRefs", path(w, "danglingRefs"), path(g, "danglingRefs"))
	gvk := func(v any) any {
		m, _ := path(v, "schema").(map[string]any)
		for _, s := range m {
			return path(s, "x-kubernetes-group-version-kind")
		}
		return nil
	}
	d.value("value: schema x-kubernetes-group-version-kind", gvk(w), gvk(g))
	for _, f := range []string{"schemaNames", "pathNames"} {
		real := map[string]bool{}
		for _, n := range list(w, f) {
			real[fmt.Sprint(n)] = true
		}
		for _, n := range list(g, f) {
			if !real[fmt.Sprint(n)] {
				d.add(f+" extra: "+fmt.Sprint(n), "testserver has %s, real does not", n)
			}
		}
	}
	// The names lists differ by design (the test server serves fewer
	// kinds); their shape is still compared.
	d.keys("", withList(withList(w, "schemaNames", list(g, "schemaNames")), "pathNames", list(g, "pathNames")), g)
}

// compareOpenAPIFull compares whole OpenAPI documents. The test server's
// schemas may be less detailed than the real server's (it leaves nested
// types open), so what it leaves out is not compared; what it says must
// agree: every schema and path it has exists in the real document, its
// $refs resolve, and in each schema every property it declares (at any
// depth reached through properties, items and additionalProperties) exists
// in the real schema with the same type where both give one, what it
// requires the real schema requires, and x-kubernetes-group-version-kind
// agrees.
func compareOpenAPIFull(d *differ, w, g any) {
	d.value("value: openapi", path(w, "openapi"), path(g, "openapi"))
	ws, _ := path(w, "components", "schemas").(map[string]any)
	gs, _ := path(g, "components", "schemas").(map[string]any)
	d.value("value: danglingRefs", danglingRefs(w, ws), danglingRefs(g, gs))
	for _, name := range slices.Sorted(maps.Keys(gs)) {
		rs, ok := ws[name]
		if !ok {
			d.add("schema extra: "+name, "testserver has schema %s, real does not", name)
			continue
		}
		label := "schema " + name + ": "
		d.value(label+"x-kubernetes-group-version-kind", path(rs, "x-kubernetes-group-version-kind"), path(gs[name], "x-kubernetes-group-version-kind"))
		rp, tp := schemaNodes(rs, ws), schemaNodes(gs[name], gs)
		for _, p := range slices.Sorted(maps.Keys(tp)) {
			rn, ok := rp[p]
			if !ok {
				d.add(label+"property extra: "+p, "testserver declares %s, real does not", p)
				continue
			}
			if rt, tt := str(rn, "type"), str(tp[p], "type"); rt != "" && tt != "" && rt != tt {
				d.add(label+"type: "+p, "real %s, testserver %s", rt, tt)
			}
			real := map[string]bool{}
			for _, r := range list(rn, "required") {
				real[fmt.Sprint(r)] = true
			}
			for _, r := range list(tp[p], "required") {
				if !real[fmt.Sprint(r)] {
					d.add(label+"required extra: "+p+"."+fmt.Sprint(r), "testserver requires %v at %s, real does not", r, p)
				}
			}
		}
	}
	wp, _ := path(w, "paths").(map[string]any)
	gp, _ := path(g, "paths").(map[string]any)
	for _, p := range slices.Sorted(maps.Keys(gp)) {
		rp, ok := wp[p]
		if !ok {
			d.add("path extra: "+p, "testserver has path %s, real does not", p)
			continue
		}
		rm, _ := rp.(map[string]any)
		tm, _ := gp[p].(map[string]any)
		for _, op := range slices.Sorted(maps.Keys(tm)) {
			if _, ok := rm[op]; !ok {
				d.add("path "+p+": operation extra: "+op, "testserver has %s %s, real does not", op, p)
			}
		}
	}
}

// schemaNodes returns the schema itself ("$") and every schema nested in it
// through properties ("$.a.b"), items ("[]") and additionalProperties
// ("{}"), following $refs (also inside allOf) into schemas, but never
// into a schema already on the way there (the schemas are recursive).
func schemaNodes(s any, schemas map[string]any) map[string]any {
	out := map[string]any{}
	var walk func(p string, s any, seen []string)
	walk = func(p string, s any, seen []string) {
		m, ok := s.(map[string]any)
		if !ok {
			return
		}
		// Merge what the node refers to into a copy of the node.
		merged := maps.Clone(m)
		refs := []any{m["$ref"]}
		for _, a := range list(m, "allOf") {
			refs = append(refs, path(a, "$ref"))
		}
		for _, r := range refs {
			name, ok := strings.CutPrefix(fmt.Sprint(r), "#/components/schemas/")
			if !ok || slices.Contains(seen, name) {
				continue
			}
			target, _ := schemas[name].(map[string]any)
			seen = append(seen, name)
			for k, v := range target {
				if _, set := merged[k]; !set || k == "properties" || k == "required" || k == "type" {
					if k == "properties" {
						props := maps.Clone(target["properties"].(map[string]any))
						if own, ok := m["properties"].(map[string]any); ok {
							maps.Copy(props, own)
						}
						v = props
					}
					merged[k] = v
				}
			}
		}
		out[p] = merged
		props, _ := merged["properties"].(map[string]any)
		for k, v := range props {
			walk(p+"."+k, v, slices.Clone(seen))
		}
		if it, ok := merged["items"]; ok {
			walk(p+"[]", it, slices.Clone(seen))
		}
		if ap, ok := merged["additionalProperties"].(map[string]any); ok {
			walk(p+"{}", ap, slices.Clone(seen))
		}
	}
	walk("$", s, nil)
	return out
}

// compareStatus compares error Statuses: key paths, reason, code, details,
// causes and messages.
func compareStatus(d *differ, w, g any) {
	d.keys("", w, g)
	for _, f := range [][]string{{"kind"}, {"apiVersion"}, {"status"}, {"reason"}, {"code"}, {"details", "name"}, {"details", "group"}, {"details", "kind"}} {
		d.value("value: "+strings.Join(f, "."), path(w, f...), path(g, f...))
	}
	causes := func(v any) []any {
		var out []any
		for _, c := range list(v, "details", "causes") {
			out = append(out, str(c, "reason")+" "+str(c, "field"))
		}
		sort.Slice(out, func(i, j int) bool { return out[i].(string) < out[j].(string) })
		return out
	}
	d.value("value: details.causes (reason field)", causes(w), causes(g))
	d.value("value: message", path(w, "message"), path(g, "message"))
	messages := func(v any) []any {
		var out []any
		for _, c := range list(v, "details", "causes") {
			out = append(out, str(c, "field")+": "+str(c, "message"))
		}
		sort.Slice(out, func(i, j int) bool { return out[i].(string) < out[j].(string) })
		return out
	}
	d.value("value: details.causes (message)", messages(w), messages(g))
}

// opaqueFieldsV1 returns a copy of v in which every managedFields entry's
// fieldsV1 is an empty object: its keys are the object's own field paths,
// compared elsewhere, not fields of the answer.
func opaqueFieldsV1(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if k == "managedFields" {
				var entries []any
				for _, m := range list(x, k) {
					if mm, ok := m.(map[string]any); ok {
						mm = maps.Clone(mm)
						if _, ok := mm["fieldsV1"]; ok {
							mm["fieldsV1"] = map[string]any{}
						}
						m = mm
					}
					entries = append(entries, m)
				}
				out[k] = entries
				continue
			}
			out[k] = opaqueFieldsV1(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = opaqueFieldsV1(e)
		}
		return out
	}
	return v
}

func cellCounts(v any) []any {
	var out []any
	for _, r := range list(v, "rows") {
		out = append(out, len(list(r, "cells")))
	}
	return out
}
