package testserver

import (
	"encoding/json"
	"fmt"
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
	if d.crd != "" {
		return nil // custom resources are checked against their schema (422)
	}
	name := schemaPrefix(d) + "." + d.kind
	sch, ok := builtinSchemas[name]
	if !ok {
		return nil
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
			return errBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: json: %s", d.kind, d.version, d.kind, msg))
		}
	}
	return nil
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
		inner := structName
		if def != "" {
			inner = strings.TrimPrefix(goTypeName(def), strings.Split(goTypeName(def), ".")[0]+".")
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
