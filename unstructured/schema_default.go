package unstructured

import (
	"encoding/json"
	"fmt"
)

// Default returns obj with the schema's default values filled in, the
// structural defaulting the API server applies to custom resources before
// it validates and stores them: a null field that is not nullable is
// dropped, and a missing field whose schema has a default gets it (inside
// objects that exist). obj itself is not changed. Numbers keep every digit.
func Default(obj Object, s *Schema) (Object, error) {
	if s == nil {
		return Object{}, fmt.Errorf("default: no schema")
	}
	root, err := decodeTree(obj.raw)
	if err != nil {
		return Object{}, fmt.Errorf("default: %w", err)
	}
	root = applyDefaults(root, s)
	b, err := json.Marshal(root)
	if err != nil {
		return Object{}, fmt.Errorf("default: %w", err)
	}
	return Object{raw: string(b)}, nil
}

// applyDefaults fills in defaults in place and returns x (maps and slices
// are changed in place; x was decoded for the purpose).
func applyDefaults(x any, s *Schema) any {
	if s == nil {
		return x
	}
	switch t := x.(type) {
	case map[string]any:
		for name, ps := range s.Properties {
			cur, ok := t[name]
			if ok && cur == nil && !ps.Nullable {
				// The server prunes a null it would not accept.
				delete(t, name)
				ok = false
			}
			if ps.Default != "" && !ok {
				if d, err := decodeTree(ps.Default); err == nil {
					t[name] = d
				}
			}
		}
		for k, cv := range t {
			cs, ok := s.Properties[k]
			if !ok {
				cs = s.AdditionalProperties
				if cs != nil && cv == nil && !cs.Nullable {
					delete(t, k) // pruned like a declared field's null
					continue
				}
			}
			if cs != nil {
				t[k] = applyDefaults(cv, cs)
			}
		}
	case []any:
		for i := range t {
			t[i] = applyDefaults(t[i], s.Items)
		}
	}
	return x
}
