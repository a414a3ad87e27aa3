package unstructured

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ErrNoField is matched (errors.Is) by the error of Field and Explain for a
// path the schema does not have.
var ErrNoField = errors.New("no such field")

// Field returns the schema of the field at path, a dot-separated list of
// field names ("spec.template.spec.containers"). Arrays are crossed
// transparently (containers.ports names the ports of a container), as are
// maps (resources.limits.cpu). An empty path is s itself. The error wraps
// ErrNoField and names the first segment that does not exist and the
// fields that do.
func (s *Schema) Field(path string) (*Schema, error) {
	if s == nil {
		return nil, fmt.Errorf("field %q: no schema", path)
	}
	cur := s
	if path == "" {
		return cur, nil
	}
	segs := strings.Split(path, ".")
	for i, seg := range segs {
		for cur.Items != nil && cur.Type == "array" {
			cur = cur.Items
		}
		next, ok := cur.Properties[seg]
		if !ok && cur.EmbeddedResource {
			next, ok = embeddedProperties[seg]
		}
		if !ok && cur.AdditionalProperties != nil && seg != "" {
			next, ok = cur.AdditionalProperties, true
		}
		if !ok {
			at := strings.Join(segs[:i], ".")
			if at == "" {
				at = "the top level"
			}
			names := fieldNames(cur)
			if len(names) == 0 {
				return nil, fmt.Errorf("field %q: %s has no fields: %w", path, at, ErrNoField)
			}
			return nil, fmt.Errorf("field %q: %q is not a field of %s (it has %s): %w", path, seg, at, strings.Join(names, ", "), ErrNoField)
		}
		cur = next
	}
	return cur, nil
}

func fieldNames(s *Schema) []string {
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TypeName describes the schema's type as kubectl explain does: <string>,
// <integer>, <Object>, <[]Container>, <map[string]string>, <IntOrString>,
// <Quantity>, <Time>.
func (s *Schema) TypeName() string {
	return "<" + typeName(s) + ">"
}

func typeName(s *Schema) string {
	if s == nil {
		return "Object"
	}
	switch {
	case s.IntOrString:
		return "IntOrString"
	case s.Format == "quantity":
		return "Quantity"
	}
	switch s.Type {
	case "array":
		return "[]" + typeName(s.Items)
	case "object", "":
		if s.AdditionalProperties != nil && len(s.Properties) == 0 {
			return "map[string]" + typeName(s.AdditionalProperties)
		}
		if s.Name != "" {
			return shortName(s.Name)
		}
		if s.Type == "" && len(s.Properties) == 0 {
			return "JSON"
		}
		return "Object"
	}
	if s.Name != "" && s.Type == "string" {
		return shortName(s.Name) // Time, MicroTime
	}
	return s.Type
}

func shortName(n string) string { return n[strings.LastIndexByte(n, '.')+1:] }

// ExplainOptions tunes Explain.
type ExplainOptions struct {
	// Recursive lists every field below the path, with types and no
	// descriptions, as kubectl explain --recursive does. A recursive
	// definition is shown once per branch.
	Recursive bool
}

// Explain documents the field at path of the kind gvk whose schema is s,
// the way kubectl explain does: group, kind and version, the field's type
// and description, its enum values and required children, and the fields
// below it (with their own types, required marks and enums; with
// opts.Recursive, the whole tree). path is as for Schema.Field; the error
// wraps ErrNoField for a path that does not exist.
func Explain(s *Schema, gvk GroupVersionKind, path string, opts *ExplainOptions) (string, error) {
	var o ExplainOptions
	if opts != nil {
		o = *opts
	}
	f, err := s.Field(path)
	if err != nil {
		return "", fmt.Errorf("explain %s: %w", gvk.Kind, err)
	}
	var b strings.Builder
	if gvk.Group != "" {
		fmt.Fprintf(&b, "GROUP:      %s\n", gvk.Group)
	}
	fmt.Fprintf(&b, "KIND:       %s\n", gvk.Kind)
	fmt.Fprintf(&b, "VERSION:    %s\n\n", gvk.Version)
	if path != "" {
		name := path[strings.LastIndexByte(path, '.')+1:]
		fmt.Fprintf(&b, "FIELD: %s %s", name, f.TypeName())
		b.WriteString("\n")
		if len(f.Enum) > 0 {
			fmt.Fprintf(&b, "ENUM:\n")
			for _, e := range f.Enum {
				fmt.Fprintf(&b, "    %s\n", strings.Trim(e, `"`))
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("DESCRIPTION:\n")
	desc := f.Description
	if desc == "" {
		desc = "<empty>"
	}
	for _, line := range strings.Split(desc, "\n") {
		b.WriteString("    " + line + "\n")
	}
	if d := f.Default; d != "" && d != "{}" {
		fmt.Fprintf(&b, "\nDEFAULT: %s\n", d)
	}
	fields := f
	for fields.Type == "array" && fields.Items != nil {
		fields = fields.Items
	}
	rules := f.Validations
	if fields != f {
		rules = append(rules[:len(rules):len(rules)], fields.Validations...) // an element's rules
	}
	for _, r := range rules {
		fmt.Fprintf(&b, "\nRULE: %s", r.Rule)
		if r.Message != "" {
			fmt.Fprintf(&b, " (%s)", r.Message)
		}
		b.WriteString("\n")
	}
	if len(fields.Properties) == 0 {
		return b.String(), nil
	}
	b.WriteString("\nFIELDS:\n")
	if o.Recursive {
		writeTree(&b, fields, 1, map[any]bool{treeKey(fields): true})
		return b.String(), nil
	}
	required := map[string]bool{}
	for _, r := range fields.Required {
		required[r] = true
	}
	for _, n := range fieldNames(fields) {
		c := fields.Properties[n]
		fmt.Fprintf(&b, "  %s\t%s", n, c.TypeName())
		if required[n] {
			b.WriteString(" -required-")
		}
		b.WriteString("\n")
		if len(c.Enum) > 0 {
			vals := make([]string, len(c.Enum))
			for i, e := range c.Enum {
				vals[i] = strings.Trim(e, `"`)
			}
			fmt.Fprintf(&b, "  enum: %s\n", strings.Join(vals, ", "))
		}
		if d := firstSentence(c.Description); d != "" {
			fmt.Fprintf(&b, "    %s\n", d)
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n") + "\n", nil
}

// writeTree lists the fields below s, indented by depth; seen guards
// against recursive definitions on the current branch.
func writeTree(b *strings.Builder, s *Schema, depth int, seen map[any]bool) {
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	for _, n := range fieldNames(s) {
		c := s.Properties[n]
		fmt.Fprintf(b, "%s%s\t%s", strings.Repeat("  ", depth), n, c.TypeName())
		if required[n] {
			b.WriteString(" -required-")
		}
		b.WriteString("\n")
		sub := c
		for sub.Type == "array" && sub.Items != nil {
			sub = sub.Items
		}
		if len(sub.Properties) == 0 {
			continue
		}
		k := treeKey(sub)
		if seen[k] {
			fmt.Fprintf(b, "%s...\t(recursive: %s)\n", strings.Repeat("  ", depth+1), typeName(sub))
			continue
		}
		seen[k] = true
		writeTree(b, sub, depth+1, seen)
		delete(seen, k)
	}
}

// treeKey identifies a definition on a branch: its name (copies of a named
// definition share it), else the node.
func treeKey(s *Schema) any {
	if s.Name != "" {
		return s.Name
	}
	return s
}

// firstSentence is a description's first paragraph, cut to one sentence.
func firstSentence(d string) string {
	d, _, _ = strings.Cut(d, "\n")
	if i := strings.Index(d, ". "); i >= 0 {
		d = d[:i+1]
	}
	return d
}

// Set returns obj with value written at path (an Object.Set path: dots,
// numeric array indices, `\.` for a dot inside a key), after checking that
// the schema has that path and that value fits the field: a path the
// schema does not have is refused with ErrNoField, a value of the wrong
// type or outside the field's enum, pattern or range with a
// *ValidationError. obj is not changed.
func (s *Schema) Set(obj Object, path string, value any) (Object, error) {
	leaf, field, err := s.pathSchema(path)
	if err != nil {
		return Object{}, fmt.Errorf("set %s: %w", path, err)
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return Object{}, fmt.Errorf("set %s: %w: %w", path, ErrInvalidValue, err)
	}
	x, err := decodeTree(string(raw))
	if err != nil {
		return Object{}, fmt.Errorf("set %s: %w: %w", path, ErrInvalidValue, err)
	}
	v := &validator{custom: s.Custom}
	v.value(field, x, leaf, false)
	var errs []*FieldError
	for _, e := range v.errs {
		if e.Reason != ReasonRequired {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return Object{}, fmt.Errorf("set %s: %w", path, &ValidationError{Errors: errs})
	}
	return obj.SetRaw(path, string(raw))
}

// pathSchema walks an Object.Set path through the schema and returns the
// leaf's schema and the path in the server's phrasing.
func (s *Schema) pathSchema(path string) (*Schema, string, error) {
	cur := s
	field := ""
	for i, seg := range splitSetPath(path) {
		if cur == nil {
			return nil, "", fmt.Errorf("%q: %w", path, ErrNoField)
		}
		if cur.Type == "array" {
			if _, err := strconv.Atoi(seg); err != nil && seg != "-1" {
				return nil, "", fmt.Errorf("%q: %s is a list: give an index: %w", path, field, ErrNoField)
			}
			cur, field = cur.Items, field+"["+seg+"]"
			continue
		}
		next := cur.Properties[seg]
		if next == nil && (cur.EmbeddedResource || i == 0) {
			next = embeddedProperties[seg]
		}
		if next == nil {
			next = cur.AdditionalProperties
		}
		if next == nil {
			if cur.allowsAnyField() {
				return &Schema{}, child(field, seg), nil
			}
			names := fieldNames(cur)
			return nil, "", fmt.Errorf("%q: %q is not a field of %s (it has %s): %w", path, seg, orTop(field), strings.Join(names, ", "), ErrNoField)
		}
		cur, field = next, child(field, seg)
	}
	return cur, field, nil
}

func orTop(field string) string {
	if field == "" {
		return "the top level"
	}
	return field
}

// splitSetPath splits an Object.Set path at unescaped dots.
func splitSetPath(path string) []string {
	var segs []string
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		switch {
		case path[i] == '\\' && i+1 < len(path):
			i++
			b.WriteByte(path[i])
		case path[i] == '.':
			segs = append(segs, b.String())
			b.Reset()
		default:
			b.WriteByte(path[i])
		}
	}
	return append(segs, b.String())
}
