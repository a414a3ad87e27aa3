package resource

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kubedyn/kubedyn/unstructured"
)

// ErrNoManagedFields is matched (errors.Is) by the error Extract returns when
// the object records no fields for the field manager: it never applied the
// object, or the object was read without metadata.managedFields.
var ErrNoManagedFields = errors.New("no managed fields for the field manager")

// ExtractOptions choose what Extract reads. Nil means defaults. It is a
// plain value, only read.
type ExtractOptions struct {
	// Subresource extracts what the manager applied to a subresource, such
	// as "status"; empty means the main resource.
	Subresource string
	// Operation is the managedFields operation to read: "Apply" (the
	// default) for what the manager applied, "Update" for what it wrote
	// with Create, Update or a non-apply Patch.
	Operation string
}

// Extract returns the apply configuration that fieldManager owns in obj: a
// copy of obj holding only the fields its managedFields entry for that
// manager lists, plus apiVersion, kind, metadata.name and
// metadata.namespace, and the key fields of every list element kept. It
// does what client-go's generated Extract functions do, for any kind.
//
// It is the remedy for a server-side apply pitfall. Applying an object read
// back from the server (Get, then change a field, then Apply) sends every
// field it holds, the server's defaults included (strategy,
// revisionHistoryLimit, each container's imagePullPolicy and
// terminationMessagePath, ...), and the field manager becomes their owner:
// later it can no longer drop them by leaving them out, and it conflicts with
// whoever else sets them. Instead, Extract what the manager applied, change
// that, and apply it:
//
//	cur, err := deploys.Get(ctx, "web", nil)
//	mine, err := resource.Extract(cur, "my-manager", nil)
//	mine, err = mine.Set("spec.replicas", 5)
//	_, err = deploys.Apply(ctx, mine, &resource.ApplyOptions{FieldManager: "my-manager"})
//
// Applying an unchanged extract is a no-op on the server (the
// resourceVersion does not change).
//
// It fails with ErrNoManagedFields when obj has no entry for the manager and
// operation (and subresource), and with a descriptive error when the entry
// was recorded for another apiVersion than obj's or its fieldsV1 is
// malformed. Fields the entry lists that obj no longer has are left out.
func Extract(obj unstructured.Object, fieldManager string, opts *ExtractOptions) (unstructured.Object, error) {
	var o ExtractOptions
	if opts != nil {
		o = *opts
	}
	if o.Operation == "" {
		o.Operation = "Apply"
	}
	if obj.IsZero() {
		return unstructured.Object{}, errors.New("extract: empty object")
	}
	what := fmt.Sprintf("extract %s %s of manager %q", obj.Kind(), objectName(obj), fieldManager)
	// One entry per apiVersion the manager wrote with: the one of obj's
	// apiVersion, else the first.
	var entry, entryVersion, fieldsType string
	found := false
	for _, m := range obj.Get("metadata.managedFields").Array() {
		if m.Get("manager").String() != fieldManager || m.Get("operation").String() != o.Operation ||
			m.Get("subresource").String() != o.Subresource {
			continue
		}
		av := m.Get("apiVersion").String()
		if found && av != obj.APIVersion() {
			continue
		}
		entry, entryVersion, fieldsType, found = m.Get("fieldsV1").Raw, av, m.Get("fieldsType").String(), true
		if av == obj.APIVersion() {
			break
		}
	}
	if found && fieldsType != "FieldsV1" {
		return unstructured.Object{}, fmt.Errorf("%s: fieldsType %q, only FieldsV1 is known", what, fieldsType)
	}
	if !found {
		sub := ""
		if o.Subresource != "" {
			sub = " on subresource " + o.Subresource
		}
		return unstructured.Object{}, fmt.Errorf("%s: %w (operation %s%s)", what, ErrNoManagedFields, o.Operation, sub)
	}
	if av := obj.APIVersion(); entryVersion != "" && av != "" && entryVersion != av {
		return unstructured.Object{}, fmt.Errorf("%s: its fields were recorded for %s and the object is %s; read the object as %s",
			what, entryVersion, av, entryVersion)
	}

	var set map[string]any
	if err := decodeNumbers([]byte(entry), &set); err != nil {
		return unstructured.Object{}, fmt.Errorf("%s: fieldsV1: %w", what, err)
	}
	var value map[string]any
	if err := decodeNumbers(obj.Bytes(), &value); err != nil {
		return unstructured.Object{}, fmt.Errorf("%s: %w", what, err)
	}
	out, err := extractMap(value, set, "")
	if err != nil {
		return unstructured.Object{}, fmt.Errorf("%s: fieldsV1: %w", what, err)
	}
	// What identifies the object goes with every apply configuration.
	for _, k := range []string{"apiVersion", "kind"} {
		if v, ok := value[k]; ok {
			out[k] = v
		}
	}
	md, _ := out["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
	}
	srcMD, _ := value["metadata"].(map[string]any)
	for _, k := range []string{"name", "namespace"} {
		if v, ok := srcMD[k]; ok {
			md[k] = v
		}
	}
	out["metadata"] = md
	raw, err := json.Marshal(out)
	if err != nil {
		return unstructured.Object{}, fmt.Errorf("%s: %w", what, err)
	}
	return unstructured.Parse(raw)
}

// objectName is namespace/name, or name.
func objectName(obj unstructured.Object) string {
	if ns := obj.Namespace(); ns != "" {
		return ns + "/" + obj.Name()
	}
	return obj.Name()
}

// decodeNumbers decodes JSON keeping numbers as json.Number, so integers
// keep every digit.
func decodeNumbers(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(v)
}

// extractMap returns the members of value the field set names. A set's keys
// are "f:<field>" for a field, with the set of its own members as value
// (empty for a field owned whole), and "." for the map itself.
func extractMap(value map[string]any, set map[string]any, path string) (map[string]any, error) {
	out := map[string]any{}
	for key, sub := range set {
		if key == "." {
			continue
		}
		name, ok := strings.CutPrefix(key, "f:")
		if !ok {
			return nil, fmt.Errorf("%s: key %q in a map: want \"f:<field>\" or \".\"", pathOr(path), key)
		}
		subSet, ok := sub.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s.%s: field set is %T, want an object", pathOr(path), name, sub)
		}
		child, present := value[name]
		if !present {
			continue // no longer in the object
		}
		v, keep, err := extractValue(child, subSet, path+"."+name)
		if err != nil {
			return nil, err
		}
		if keep {
			out[name] = v
		}
	}
	return out, nil
}

// extractValue returns what of value the set names, and whether anything is
// kept. An empty set owns value whole (a scalar, or an atomic map or list);
// {".":{}} on a map owns the map as a member but none of its fields. A map
// or list with member keys is walked, and left out when none of the members
// is found and the set does not own it as a member.
func extractValue(value any, set map[string]any, path string) (any, bool, error) {
	members := 0
	for k := range set {
		if k != "." {
			members++
		}
	}
	if members == 0 {
		if _, isMap := value.(map[string]any); isMap && len(set) == 1 {
			// {".":{}} on a map: the map is owned as a member, none of its
			// fields: keep it empty.
			return map[string]any{}, true, nil
		}
		return value, true, nil
	}
	// A map or list the set does not own as a member (no ".") is kept only
	// for the members found in it.
	_, member := set["."]
	switch v := value.(type) {
	case map[string]any:
		m, err := extractMap(v, set, path)
		return m, member || len(m) > 0, err
	case []any:
		l, err := extractList(v, set, path)
		return l, member || len(l) > 0, err
	default:
		// The set names members of a value that is now a scalar: the
		// object changed shape since; nothing of the entry applies.
		return nil, false, nil
	}
}

// extractList returns the elements of list the set names, in list order.
// Keys are "k:<json object>" for the element whose key fields have those
// values (associative lists), "v:<json>" for the element equal to that value
// (sets) and "i:<index>" for a position.
func extractList(list []any, set map[string]any, path string) ([]any, error) {
	type pick struct {
		sub  map[string]any
		keys map[string]any // key fields to keep, for k:
	}
	picks := make(map[int]pick)
	for key, sub := range set {
		if key == "." {
			continue
		}
		subSet, ok := sub.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s[%s]: field set is %T, want an object", pathOr(path), key, sub)
		}
		switch {
		case strings.HasPrefix(key, "k:"):
			var want map[string]any
			if err := decodeNumbers([]byte(key[2:]), &want); err != nil {
				return nil, fmt.Errorf("%s: key %q: %w", pathOr(path), key, err)
			}
			for i, el := range list {
				if m, ok := el.(map[string]any); ok && matchesKey(m, want) {
					picks[i] = pick{sub: subSet, keys: want}
					break
				}
			}
		case strings.HasPrefix(key, "v:"):
			var want any
			if err := decodeNumbers([]byte(key[2:]), &want); err != nil {
				return nil, fmt.Errorf("%s: key %q: %w", pathOr(path), key, err)
			}
			for i, el := range list {
				if equalJSON(el, want) {
					picks[i] = pick{sub: subSet}
					break
				}
			}
		case strings.HasPrefix(key, "i:"):
			i, err := strconv.Atoi(key[2:])
			if err != nil || i < 0 {
				return nil, fmt.Errorf("%s: key %q: bad index", pathOr(path), key)
			}
			if i < len(list) {
				picks[i] = pick{sub: subSet}
			}
		default:
			return nil, fmt.Errorf("%s: key %q in a list: want \"k:\", \"v:\" or \"i:\"", pathOr(path), key)
		}
	}
	out := make([]any, 0, len(picks))
	for i, el := range list {
		p, ok := picks[i]
		if !ok {
			continue
		}
		v, keep, err := extractValue(el, p.sub, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		if !keep {
			continue
		}
		if m, ok := v.(map[string]any); ok && p.keys != nil {
			// The key fields identify the element: an apply configuration
			// needs them even where the entry does not list them.
			for k, kv := range p.keys {
				m[k] = kv
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// matchesKey reports whether el has every key field with the same value.
func matchesKey(el, key map[string]any) bool {
	for k, want := range key {
		got, ok := el[k]
		if !ok || !equalJSON(got, want) {
			return false
		}
	}
	return true
}

// equalJSON compares two decoded JSON values; numbers compare by value
// (80 and 80.0 are equal).
func equalJSON(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		xi, err1 := x.Int64()
		yi, err2 := y.Int64()
		if err1 == nil && err2 == nil {
			return xi == yi
		}
		xf, err1 := x.Float64()
		yf, err2 := y.Float64()
		return err1 == nil && err2 == nil && xf == yf
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equalJSON(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

func pathOr(p string) string {
	if p == "" {
		return "."
	}
	return p
}
