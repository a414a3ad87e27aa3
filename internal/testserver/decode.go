package testserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Type errors in a body: the real server decodes a built-in kind into its
// Go struct and answers a value of the wrong JSON type with 400 and the
// decoder's message, before any validation. typeError finds the first
// such value (fields in name order; the real decoder goes in document
// order, which matters only when a body has several) using the typed
// OpenAPI definitions of the built-in kinds. Fields left open there, and
// metadata, are not checked.

// typeError returns the 400 a body of kind d with a value of the wrong
// type gets, or nil.
func typeError(d *resourceDef, obj map[string]any) error {
	if msg := typeMismatch(d, obj); msg != "" {
		return errBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: json: %s", d.kind, d.version, d.kind, msg))
	}
	return nil
}

// patchTypeError returns the 422 a patch gets whose result has a value of
// the wrong type: the real server quotes the whole patched object, as it
// encodes it, in a cause named "patch" of an object with no kind or name.
func patchTypeError(d *resourceDef, obj map[string]any) error {
	msg := typeMismatch(d, obj)
	if msg == "" {
		return nil
	}
	return errInvalid("", "", "", []statusCause{causeInvalid("patch", patchedJSON(obj), "json: "+msg)})
}

// builtinKindSchema returns the typed definition of a built-in kind, or
// nil.
func builtinKindSchema(d *resourceDef) map[string]any {
	if d.crd != "" {
		return nil // custom resources are checked against their schema (422)
	}
	return builtinSchemas[schemaPrefix(d)+"."+d.kind]
}

// typeMismatch returns the Go decoder's message for the first value of
// the wrong type in obj, or "".
func typeMismatch(d *resourceDef, obj map[string]any) string {
	sch := builtinKindSchema(d)
	if sch == nil {
		return ""
	}
	for _, k := range sortedKeys(obj) {
		if k == "apiVersion" || k == "kind" || k == "metadata" {
			continue
		}
		ps, ok := getMap(sch, "properties", false)[k].(map[string]any)
		if !ok {
			continue
		}
		if msg := mistyped(obj[k], ps, d.kind, k); msg != "" {
			return msg
		}
	}
	return ""
}

// objectMetaOrder and managedFieldsOrder are the field orders of the Go
// structs ObjectMeta and ManagedFieldsEntry, in which the real server
// encodes them.
var (
	objectMetaOrder = strings.Fields("name generateName namespace selfLink uid resourceVersion generation creationTimestamp " +
		"deletionTimestamp deletionGracePeriodSeconds labels annotations ownerReferences finalizers managedFields")
	managedFieldsOrder = strings.Fields("manager operation apiVersion time fieldsType fieldsV1 subresource")
)

// patchedJSON encodes a patched object as the real server's patch code
// does: the top-level keys sorted, metadata (which the patch leaves as the
// server encoded it) in struct order.
func patchedJSON(obj map[string]any) string {
	var b strings.Builder
	writeOrdered(&b, obj, nil, func(k string, v any) {
		if md, ok := v.(map[string]any); ok && k == "metadata" {
			writeOrdered(&b, md, objectMetaOrder, func(k string, v any) {
				entries, ok := v.([]any)
				if k != "managedFields" || !ok {
					b.WriteString(compactJSON(v))
					return
				}
				b.WriteByte('[')
				for i, e := range entries {
					if i > 0 {
						b.WriteByte(',')
					}
					if em, ok := e.(map[string]any); ok {
						writeOrdered(&b, em, managedFieldsOrder, func(_ string, v any) { b.WriteString(compactJSON(v)) })
					} else {
						b.WriteString(compactJSON(e))
					}
				}
				b.WriteByte(']')
			})
			return
		}
		b.WriteString(compactJSON(v))
	})
	return b.String()
}

// writeOrdered writes the object m with the keys in order first, then the
// rest sorted; value writes each value.
func writeOrdered(b *strings.Builder, m map[string]any, order []string, value func(k string, v any)) {
	keys := slices.DeleteFunc(slices.Clone(order), func(k string) bool { _, ok := m[k]; return !ok })
	for _, k := range sortedKeys(m) {
		if !slices.Contains(order, k) {
			keys = append(keys, k)
		}
	}
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(compactJSON(k))
		b.WriteByte(':')
		value(k, m[k])
	}
	b.WriteByte('}')
}

// compactJSON encodes v without HTML escaping, as the real server does.
func compactJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}

// applyTypeError returns the 500 the real server answers an applied
// configuration of a built-in kind with a scalar of the wrong type: its
// structured-merge code cannot build the typed patch. ns and name are the
// applied object's own (empty when it leaves them out).
func applyTypeError(d *resourceDef, applied map[string]any) error {
	sch := builtinKindSchema(d)
	if sch == nil {
		return nil
	}
	for _, k := range sortedKeys(applied) {
		if k == "apiVersion" || k == "kind" || k == "metadata" {
			continue
		}
		ps, ok := getMap(sch, "properties", false)[k].(map[string]any)
		if !ok {
			continue
		}
		if msg := applyMistyped(applied[k], ps, "."+k, k); msg != "" {
			gvk := d.group + "/" + d.version + ", Kind=" + d.kind
			return newStatus(http.StatusInternalServerError, "", fmt.Sprintf("failed to create typed patch object (%s/%s; %s): %s",
				getString(applied, "metadata", "namespace"), getString(applied, "metadata", "name"), gvk, msg), nil)
		}
	}
	return nil
}

// applyMistyped finds the first scalar of the wrong type in an applied
// value, in the structured-merge code's words: its path
// (.spec.template.spec.containers[name="web"].image) and what it expected.
func applyMistyped(v any, sch map[string]any, p, name string) string {
	if v == nil {
		return ""
	}
	s, _ := resolveSchema(sch)
	if s == nil {
		return ""
	}
	got := func() string {
		return fmt.Sprintf("%s: expected %%s, got &value.valueUnstructured{Value:%s}", p, goLiteral(v))
	}
	if props, ok := s["properties"].(map[string]any); ok {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		for _, k := range sortedKeys(m) {
			if ps, ok := props[k].(map[string]any); ok {
				if msg := applyMistyped(m[k], ps, p+"."+k, k); msg != "" {
					return msg
				}
			}
		}
		return ""
	}
	if s["x-kubernetes-int-or-string"] == true {
		return ""
	}
	switch s["type"] {
	case "string":
		if _, ok := v.(string); !ok && jsonKind(v) != "object" && jsonKind(v) != "array" {
			return fmt.Sprintf(got(), "string")
		}
	case "boolean":
		if _, ok := v.(bool); !ok && jsonKind(v) != "object" && jsonKind(v) != "array" {
			return fmt.Sprintf(got(), "boolean")
		}
	case "integer", "number":
		if _, ok := v.(json.Number); !ok && jsonKind(v) != "object" && jsonKind(v) != "array" {
			return fmt.Sprintf(got(), "numeric (int or float)")
		}
	case "array":
		l, _ := v.([]any)
		items, _ := s["items"].(map[string]any)
		keys := listKeys(name, l)
		for i, e := range l {
			// Items of a keyed list are named by their keys
			// ([name="web"]), others by their index.
			ip := fmt.Sprintf("%s[%d]", p, i)
			if em, ok := e.(map[string]any); ok && len(keys) > 0 && keys[0] != "" {
				var parts []string
				for _, k := range keys {
					if kv, ok := em[k]; ok {
						parts = append(parts, k+"="+compactJSON(kv))
					}
				}
				if len(parts) == len(keys) {
					ip = p + "[" + strings.Join(parts, ",") + "]"
				}
			}
			if msg := applyMistyped(e, items, ip, name); msg != "" {
				return msg
			}
		}
	case "object":
		m, _ := v.(map[string]any)
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			for _, k := range sortedKeys(m) {
				if msg := applyMistyped(m[k], ap, p+"."+k, k); msg != "" {
					return msg
				}
			}
		}
	}
	return ""
}

// goLiteral writes a JSON scalar as Go's %#v writes the decoded value.
func goLiteral(v any) string {
	switch t := v.(type) {
	case string:
		return strconv.Quote(t)
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	}
	return fmt.Sprint(v)
}

// resolveSchema follows a definition's $ref (also inside allOf); it
// returns the schema and the name of the definition it came from ("" for
// an inline schema).
func resolveSchema(sch map[string]any) (map[string]any, string) {
	r, _ := sch["$ref"].(string)
	if r == "" {
		for _, a := range asSlice(sch["allOf"]) {
			if am, ok := a.(map[string]any); ok {
				if r, _ = am["$ref"].(string); r != "" {
					break
				}
			}
		}
	}
	name, ok := strings.CutPrefix(r, "#/components/schemas/")
	if !ok {
		return sch, ""
	}
	if target, ok := builtinSchemas[name]; ok {
		return target, name
	}
	return nil, name // a definition left open: not checked
}

// goTypeName is how the Go decoder names a definition's type:
// "v1.DeploymentSpec" for io.k8s.api.apps.v1.DeploymentSpec.
func goTypeName(def string) string {
	parts := strings.Split(def, ".")
	if len(parts) < 2 {
		return def
	}
	return parts[len(parts)-2] + "." + parts[len(parts)-1]
}

// goType is the Go type behind a schema, as the decoder's message names it;
// "" when the schema leaves the type open.
func goType(sch map[string]any) string {
	s, def := resolveSchema(sch)
	if s == nil {
		return ""
	}
	if def != "" {
		if _, isStruct := s["properties"]; isStruct {
			return goTypeName(def)
		}
	}
	switch s["type"] {
	case "string":
		if s["format"] == "byte" {
			return "[]uint8"
		}
		if s["x-kubernetes-int-or-string"] == true || s["format"] == "date-time" {
			return ""
		}
		return "string"
	case "boolean":
		return "bool"
	case "integer":
		if s["format"] == "int32" {
			return "int32"
		}
		return "int64"
	case "number":
		return "float64"
	case "array":
		items, _ := s["items"].(map[string]any)
		if t := goType(items); t != "" {
			return "[]" + t
		}
	case "object":
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			if t := goType(ap); t != "" {
				return "map[string]" + t
			}
		}
	}
	return ""
}

// jsonKind names a JSON value as the Go decoder's messages do.
func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "bool"
	case json.Number:
		return "number"
	}
	return ""
}

// mistyped returns the decoder's message for the first value in v that
// the schema sch does not admit, or "". structName is the Go struct the
// field belongs to and field the dotted path of JSON field names from the
// top (map keys and list indexes are not part of it).
func mistyped(v any, sch map[string]any, structName, field string) string {
	if v == nil {
		return "" // null leaves a field unset
	}
	s, def := resolveSchema(sch)
	if s == nil {
		return ""
	}
	want := goType(sch)
	if want == "" {
		return ""
	}
	bad := func() string {
		return fmt.Sprintf("cannot unmarshal %s into Go struct field %s.%s of type %s", jsonKind(v), structName, field, want)
	}
	if props, ok := s["properties"].(map[string]any); ok {
		m, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		inner := structName // an inline object has no struct name of its own
		if def != "" {
			inner = def[strings.LastIndex(def, ".")+1:]
		}
		for _, k := range sortedKeys(m) {
			ps, ok := props[k].(map[string]any)
			if !ok {
				continue
			}
			if msg := mistyped(m[k], ps, inner, field+"."+k); msg != "" {
				return msg
			}
		}
		return ""
	}
	switch s["type"] {
	case "string":
		if _, ok := v.(string); !ok {
			return bad()
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return bad()
		}
	case "integer", "number":
		n, ok := v.(json.Number)
		if !ok {
			return bad()
		}
		if s["type"] == "integer" {
			if _, err := n.Int64(); err != nil {
				return fmt.Sprintf("cannot unmarshal number %s into Go struct field %s.%s of type %s", n, structName, field, want)
			}
		}
	case "array":
		l, ok := v.([]any)
		if !ok {
			return bad()
		}
		items, _ := s["items"].(map[string]any)
		for _, e := range l {
			if msg := mistyped(e, items, structName, field); msg != "" {
				return msg
			}
		}
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			for _, k := range sortedKeys(m) {
				if msg := mistyped(m[k], ap, structName, field); msg != "" {
					return msg
				}
			}
		}
	}
	return ""
}
