package unstructured

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// SchemaLookup returns the schema of a kind, as discovery.Client.Schema
// does; an error leaves that document typed by YAML's own rules.
type SchemaLookup func(GroupVersionKind) (*Schema, error)

// DecodeYAMLWithSchema decodes a YAML stream of one or more documents,
// typing each plain (unquoted, untagged) scalar by the schema of the
// document's kind, as the field declares it, instead of by YAML's rules:
// `enabled: yes` is true where enabled is a boolean and stays "yes" where
// it is a string; `version: 1.20` stays "1.20" in a string field;
// `port: "8080"` stays a string (it is quoted) and `port: 8080` is an
// integer in an int-or-string field. So YAML 1.1 versus 1.2 (kubectl reads
// yes/no/on/off as booleans, YAML 1.2 does not) stops mattering. Quoted and
// explicitly tagged scalars keep their own type; fields the schema does not
// know, and documents whose kind lookup fails, follow YAML 1.2 as Decode
// does. The input limits of Decode apply (size, depth, alias expansion).
func DecodeYAMLWithSchema(data []byte, lookup SchemaLookup) ([]Object, error) {
	if len(data) > MaxObjectBytes {
		return nil, fmt.Errorf("decode YAML: %d bytes: %w", len(data), ErrTooLarge)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []Object
	for doc := 1; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decode YAML document %d: %w: %w", doc, ErrMalformed, err)
		}
		if err := checkExpansion(&n, 0); err != nil {
			return nil, fmt.Errorf("decode YAML document %d: %w", doc, err)
		}
		if len(n.Content) == 0 || n.Content[0].Kind == yaml.ScalarNode && n.Content[0].ShortTag() == "!!null" {
			continue // an empty document
		}
		var s *Schema
		if lookup != nil {
			if gvk, ok := yamlKind(n.Content[0]); ok {
				if found, err := lookup(gvk); err == nil {
					s = found
				}
			}
		}
		t := typedYAML{c: &yamlConverter{}}
		b, err := t.append(nil, n.Content[0], s, 0)
		if err != nil {
			return nil, fmt.Errorf("decode YAML document %d: %w", doc, err)
		}
		o, err := Parse(b)
		if err != nil {
			return nil, fmt.Errorf("decode YAML document %d: %w", doc, err)
		}
		out = append(out, o)
	}
}

// yamlKind reads apiVersion and kind from a document's top mapping.
func yamlKind(n *yaml.Node) (GroupVersionKind, bool) {
	if n.Kind != yaml.MappingNode {
		return GroupVersionKind{}, false
	}
	var apiVersion, kind string
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "apiVersion":
			apiVersion = n.Content[i+1].Value
		case "kind":
			kind = n.Content[i+1].Value
		}
	}
	gv, err := ParseGroupVersion(apiVersion)
	if err != nil || kind == "" {
		return GroupVersionKind{}, false
	}
	return gv.WithKind(kind), true
}

// typedYAML writes YAML nodes as JSON, typing plain scalars by a schema.
type typedYAML struct{ c *yamlConverter }

func (t typedYAML) append(b []byte, n *yaml.Node, s *Schema, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return nil, t.c.errorf(n, ErrTooDeep, "nesting deeper than %d", MaxDepth)
	}
	switch n.Kind {
	case yaml.AliasNode:
		return t.append(b, n.Alias, s, depth)
	case yaml.ScalarNode:
		return t.scalar(b, n, s)
	case yaml.SequenceNode:
		var items *Schema
		if s != nil {
			items = s.Items
		}
		b = append(b, '[')
		for i, child := range n.Content {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = t.append(b, child, items, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case yaml.MappingNode:
		pairs, err := t.c.mappingPairs(n, depth)
		if err != nil {
			return nil, err
		}
		b = append(b, '{')
		for i, p := range pairs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendQuoted(b, p.key)
			b = append(b, ':')
			var cs *Schema
			if s != nil {
				cs = s.Property(p.key)
				if cs == nil && (s.EmbeddedResource || depth == 0) {
					cs = embeddedProperties[p.key]
				}
			}
			if b, err = t.append(b, p.value, cs, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	return t.c.appendNode(b, n, depth)
}

// yaml11Bools are the boolean spellings of YAML 1.1, which kubectl reads.
var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "true": true, "True": true, "TRUE": true, "on": true, "On": true, "ON": true,
	"n": false, "N": false, "no": false, "No": false, "NO": false, "false": false, "False": false, "FALSE": false, "off": false, "Off": false, "OFF": false,
}

func (t typedYAML) scalar(b []byte, n *yaml.Node, s *Schema) ([]byte, error) {
	plain := n.Style&(yaml.TaggedStyle|yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0
	if s == nil || !plain || n.ShortTag() == "!!null" {
		return t.c.appendScalar(b, n)
	}
	v := n.Value
	switch {
	case s.IntOrString:
		if i, ok := parseYAMLInt(v); ok {
			return strconv.AppendInt(b, i, 10), nil
		}
		return appendQuoted(b, v), nil
	case s.Format == "quantity":
		if isJSONNumber(v) {
			return append(b, v...), nil
		}
		return appendQuoted(b, v), nil
	}
	switch s.Type {
	case "string":
		return appendQuoted(b, v), nil
	case "boolean":
		if x, ok := yaml11Bools[v]; ok {
			return strconv.AppendBool(b, x), nil
		}
	case "integer":
		if i, ok := parseYAMLInt(v); ok {
			return strconv.AppendInt(b, i, 10), nil
		}
	case "number":
		if isJSONNumber(v) {
			return append(b, v...), nil
		}
		if f, err := strconv.ParseFloat(strings.ReplaceAll(v, "_", ""), 64); err == nil {
			return strconv.AppendFloat(b, f, 'g', -1, 64), nil
		}
	}
	return t.c.appendScalar(b, n)
}

// parseYAMLInt reads a decimal, 0x hex, 0o or 0b integer, with optional
// sign and underscores.
func parseYAMLInt(v string) (int64, bool) {
	v = strings.ReplaceAll(v, "_", "")
	digits := strings.TrimLeft(v, "+-")
	base := 10
	if len(digits) > 1 && digits[0] == '0' && strings.ContainsRune("xXoObB", rune(digits[1])) {
		base = 0
	}
	i, err := strconv.ParseInt(v, base, 64)
	return i, err == nil
}
