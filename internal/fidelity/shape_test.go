package fidelity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// volatileKeys are object keys whose values change from run to run; a
// capture stores "<key>" in their place.
var volatileKeys = map[string]bool{
	"resourceVersion":    true,
	"uid":                true,
	"creationTimestamp":  true,
	"deletionTimestamp":  true,
	"time":               true,
	"lastTransitionTime": true,
	"serverAddress":      true,
	"buildDate":          true,
	"gitCommit":          true,
	"gitTreeState":       true,
	"continue":           true,
}

var hashRE = regexp.MustCompile(`hash=[0-9A-Fa-f]+`)

// uidRE matches a UID inside a string (a message that quotes one).
var uidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// recordRVRE matches the resourceVersion that a failed resourceVersion
// precondition quotes ("... in record (123)").
var recordRVRE = regexp.MustCompile(`ResourceVersion in record \([0-9]+\)`)

// quotedRVRE and timestampRE match a resourceVersion and a timestamp in
// an object quoted inside a message.
var (
	quotedRVRE  = regexp.MustCompile(`\\"resourceVersion\\":\\"[0-9]+\\"`)
	timestampRE = regexp.MustCompile(`[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z`)
)

// tooOldRE matches the oldest resourceVersion a "too old resource
// version" message quotes after the one asked for.
var tooOldRE = regexp.MustCompile(`(too old resource version: [0-9]+) \([0-9]+\)`)

// decode parses a JSON body keeping numbers exact. A body that is not JSON
// is returned as a string.
func decode(body []byte) any {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return string(body)
	}
	return v
}

// decodeStream parses a watch stream, a sequence of JSON events, into
// {"events": [...]}. A body that is not such a sequence is returned as a
// string.
func decodeStream(body []byte) any {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	events := []any{}
	for dec.More() {
		var v any
		if err := dec.Decode(&v); err != nil {
			return string(body)
		}
		events = append(events, v)
	}
	return map[string]any{"events": events}
}

// normalise replaces volatile values with placeholders and, for OpenAPI
// documents, trims the document (see trimOpenAPI).
func normalise(c fcase, v any) any {
	v = scrub(v)
	v = dropTestGroup(v, c.KeepTestGroup)
	switch c.Kind {
	case kindObject:
		v = maskAges(v)
	case kindOpenAPIDoc:
		v = trimOpenAPI(c, v)
	case kindWatch:
		v = dropPeriodicBookmarks(v)
	}
	return v
}

// volatileColumns are the Table columns whose cells change from run to run:
// ages ("0s", "331d": they depend on when the request came), timestamps and
// allocated addresses.
var volatileColumns = map[string]bool{"Age": true, "Last Seen": true, "First Seen": true, "Created At": true, "Cluster-IP": true}

// maskAges replaces a Table's cells in volatileColumns with "<age>",
// except placeholders such as "<none>".
func maskAges(v any) any {
	if str(v, "kind") != "Table" {
		return v
	}
	var ages []int
	for i, c := range list(v, "columnDefinitions") {
		if volatileColumns[str(c, "name")] {
			ages = append(ages, i)
		}
	}
	if len(ages) == 0 {
		return v
	}
	out := maps.Clone(v.(map[string]any))
	var rows []any
	for _, r := range list(v, "rows") {
		rm, ok := r.(map[string]any)
		cells, _ := path(r, "cells").([]any)
		if !ok || cells == nil {
			rows = append(rows, r)
			continue
		}
		cells = slices.Clone(cells)
		for _, i := range ages {
			if i >= len(cells) {
				continue
			}
			// "<none>", "<unknown>": no value, which is not volatile.
			if s, _ := cells[i].(string); !strings.HasPrefix(s, "<") {
				cells[i] = "<age>"
			}
		}
		rm = maps.Clone(rm)
		rm["cells"] = cells
		rows = append(rows, rm)
	}
	out["rows"] = rows
	return out
}

// testGroup is the API group of the CRD that the error cases install.
const testGroup = "fidelity.example.com"

// dropTestGroup removes from discovery documents and the OpenAPI index
// the groups the cases install: testGroup (unless keep is set) and its
// subgroups (validated.fidelity.example.com), which appear when cases run
// after those that install them (go test -count=2, or crd-apis-aggregated
// after a case with a CRD of its own).
func dropTestGroup(v any, keep bool) any {
	installed := func(g string) bool {
		return (g == testGroup && !keep) || strings.HasSuffix(g, "."+testGroup)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := maps.Clone(m)
	for _, key := range []string{"groups", "items"} {
		l, ok := m[key].([]any)
		if !ok {
			continue
		}
		kept := []any{}
		for _, e := range l {
			if !installed(str(e, "name")) && !installed(str(e, "metadata", "name")) {
				kept = append(kept, e)
			}
		}
		out[key] = kept
	}
	if p, ok := m["paths"].(map[string]any); ok {
		p = maps.Clone(p)
		for k := range p {
			if g, _, ok := strings.Cut(strings.TrimPrefix(k, "apis/"), "/"); ok && strings.HasPrefix(k, "apis/") && installed(g) {
				delete(p, k)
			}
		}
		out["paths"] = p
	}
	return out
}

// dropPeriodicBookmarks removes the BOOKMARK events of a decoded watch
// stream that do not mark the end of the initial events: the server sends
// those on a timer, so whether one arrives within a short watch depends on
// timing.
func dropPeriodicBookmarks(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	kept := []any{}
	for _, e := range list(m, "events") {
		if str(e, "type") == "BOOKMARK" && str(e, "object", "metadata", "annotations", "k8s.io/initial-events-end") != "true" {
			continue
		}
		kept = append(kept, e)
	}
	return map[string]any{"events": kept}
}

func scrub(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if _, generated := x["generateName"]; generated && k == "name" {
				// A generated name (in metadata) or the labels that
				// repeat it are random.
				out[k] = "<generated>"
				continue
			}
			if k == "kubernetes.io/metadata.name" {
				out[k] = "<name>"
				continue
			}
			if m, ok := e.(string); ok && k == "message" {
				// A message may quote a whole object (a failed
				// patch's result).
				m = quotedRVRE.ReplaceAllString(m, `\"resourceVersion\":\"<resourceVersion>\"`)
				out[k] = scrub(timestampRE.ReplaceAllString(m, "<time>"))
				continue
			}
			if volatileKeys[k] && e != nil {
				if _, isObj := e.(map[string]any); !isObj {
					out[k] = "<" + k + ">"
					continue
				}
			}
			out[k] = scrub(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = scrub(e)
		}
		return out
	case string:
		x = uidRE.ReplaceAllString(x, "<uid>")
		x = recordRVRE.ReplaceAllString(x, "ResourceVersion in record (<resourceVersion>)")
		x = tooOldRE.ReplaceAllString(x, "$1 (<resourceVersion>)")
		return hashRE.ReplaceAllString(x, "hash=<hash>")
	}
	return v
}

// trimOpenAPI keeps of an OpenAPI v3 document its version and info, the
// keys of components, the security schemes, the sorted names of its schemas
// and paths, the $refs that resolve to no schema, and whole only the schema
// c.KeepSchema and the path c.KeepPath.
func trimOpenAPI(c fcase, v any) any {
	doc, ok := v.(map[string]any)
	if !ok {
		return v
	}
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	paths, _ := doc["paths"].(map[string]any)
	out := map[string]any{
		"openapi":         doc["openapi"],
		"info":            doc["info"],
		"topLevelKeys":    sortedKeys(doc),
		"componentsKeys":  sortedKeys(comps),
		"securitySchemes": comps["securitySchemes"],
		"schemaNames":     sortedKeys(schemas),
		"pathNames":       sortedKeys(paths),
		"schema":          map[string]any{},
		"path":            map[string]any{},
	}
	out["danglingRefs"] = danglingRefs(doc, schemas)
	if s, ok := schemas[c.KeepSchema]; ok {
		out["schema"] = map[string]any{c.KeepSchema: s}
	}
	if p, ok := paths[c.KeepPath]; ok {
		out["path"] = map[string]any{c.KeepPath: p}
	}
	return out
}

// danglingRefs lists, sorted, the "$ref" targets in doc that name no
// schema in schemas.
func danglingRefs(doc any, schemas map[string]any) []any {
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if r, ok := e.(string); ok && k == "$ref" {
					name, found := strings.CutPrefix(r, "#/components/schemas/")
					if _, ok := schemas[name]; !found || !ok {
						seen[r] = true
					}
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(doc)
	out := []any{}
	for _, r := range slices.Sorted(maps.Keys(seen)) {
		out = append(out, r)
	}
	return out
}

func sortedKeys(m map[string]any) []any {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}

// typeName is the JSON type of a decoded value.
func typeName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// shape is the set of key paths of a JSON value with the JSON type found at
// each, and the parent path of each.
type shape struct {
	types  map[string]string
	parent map[string]string
}

// keyPaths returns every key path of v with the JSON type found there.
// Array elements share the path "<array>[]"; the keys of the objects at the
// paths in collapse are data, not fields, and are written "*". A path
// holding values of several types lists them all, joined by "|".
func keyPaths(v any, collapse ...string) shape {
	s := shape{types: map[string]string{}, parent: map[string]string{}}
	add := func(path, typ string) {
		if old, ok := s.types[path]; ok && !slices.Contains(strings.Split(old, "|"), typ) {
			types := append(strings.Split(old, "|"), typ)
			sort.Strings(types)
			typ = strings.Join(types, "|")
		}
		s.types[path] = typ
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		add(path, typeName(v))
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if slices.Contains(collapse, path) {
					k = "*"
				}
				s.parent[path+"."+k] = path
				walk(path+"."+k, e)
			}
		case []any:
			s.parent[path+"[]"] = path
			for _, e := range x {
				walk(path+"[]", e)
			}
		}
	}
	walk("$", v)
	return s
}

// path returns the value at the dotted path in v, or nil.
func path(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any, keys ...string) string {
	s, _ := path(v, keys...).(string)
	return s
}

func list(v any, keys ...string) []any {
	l, _ := path(v, keys...).([]any)
	return l
}

// canonical is v as compact JSON with sorted keys, for comparing values.
func canonical(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // placeholders such as <uid> stay readable
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// stringSet is the sorted strings of a JSON array, for comparing lists
// whose order does not matter.
func stringSet(v any) string {
	l, _ := v.([]any)
	s := make([]string, 0, len(l))
	for _, e := range l {
		s = append(s, fmt.Sprint(e))
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}
