package unstructured

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	yaml "go.yaml.in/yaml/v3"
)

// Decode decodes a manifest into objects: one JSON object, or a stream of
// YAML documents separated by "---" lines. As in kubectl, input whose first
// non-blank byte is '{' is read as JSON unless it has a "---" line. Empty
// documents (nothing but comments or whitespace) are skipped. A document whose kind is "List", or
// ends in "List" with an "items" array (PodList, ConfigMapList...), is
// replaced by its items; items of a typed list (not of a plain List) that
// lack apiVersion or kind get the list's apiVersion and the kind without its
// "List" suffix.
//
// The objects hold compact JSON. JSON input keeps its key order and bytes
// (numbers keep their digits); YAML becomes JSON in the document's key
// order, with YAML 1.2 scalars as go.yaml.in/yaml/v3 resolves them (so
// "yes" stays a string, 0644 is 420, and integers keep every digit).
// Anchors, aliases and merge keys ("<<") are expanded.
//
// Untrusted input is bounded: at most MaxObjectBytes in all, MaxDepth of
// nesting, and MaxYAMLExpansion nodes per document after alias expansion,
// which is checked before anything is expanded, so an alias bomb fails at
// once. Duplicate keys are refused, in JSON and in YAML.
//
// Errors are *DecodeError values naming the document (1-based) and the
// line it starts on, wrapping the cause (a *SyntaxError or a YAML parser
// error, and one of this package's sentinels where one applies).
//
// Decode does not keep data: the objects it returns hold their own text,
// so the caller may reuse the slice.
func Decode(data []byte) ([]Object, error) {
	if len(data) > MaxObjectBytes {
		return nil, &DecodeError{Document: 1, Line: 1, Err: fmt.Errorf("%w: input of %d bytes exceeds the limit of %d", ErrTooLarge, len(data), MaxObjectBytes)}
	}
	// Read data in place: every Object returned is built in new memory (the
	// JSON compacted, the YAML converted), so nothing keeps data.
	s := bytesString(data)
	if i := skipWS(s, 0); i < len(s) && s[i] == '{' {
		objs, err := decodeJSON(s)
		if err == nil || !hasSeparator(s) {
			return objs, err
		}
	}
	return decodeYAML(s)
}

func decodeJSON(s string) ([]Object, error) {
	if err := validateObject(s); err != nil {
		line := 1
		var se *SyntaxError
		if errors.As(err, &se) {
			line = lineAt(s, se.Offset)
		}
		return nil, &DecodeError{Document: 1, Line: 1, Err: fmt.Errorf("line %d: %w", line, err)}
	}
	o := Object{raw: bytesString(compactValid(s))}
	objs, err := expandList(nil, o, 0)
	if err != nil {
		return nil, &DecodeError{Document: 1, Line: 1, Err: err}
	}
	return objs, nil
}

// compactValid returns a copy of s, which must be valid JSON, without the
// whitespace between tokens (what json.Compact gives, without checking the
// syntax a second time).
func compactValid(s string) []byte {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
		case '"':
			end := skipString(s, i)
			b = append(b, s[i:end]...)
			i = end
		default:
			b = append(b, c)
			i++
		}
	}
	return b
}

// lineAt returns the 1-based line of byte offset off in s.
func lineAt(s string, off int) int {
	if off > len(s) {
		off = len(s)
	}
	return strings.Count(s[:off], "\n") + 1
}

// isSeparator reports whether line is a YAML document separator: "---"
// followed by nothing but whitespace or a comment (kubectl's rule).
func isSeparator(line string) bool {
	if !strings.HasPrefix(line, "---") {
		return false
	}
	rest := strings.TrimSpace(line[3:])
	return rest == "" || rest[0] == '#'
}

func hasSeparator(s string) bool {
	for line := range strings.Lines(s) {
		if isSeparator(line) {
			return true
		}
	}
	return false
}

type yamlChunk struct {
	text string
	line int // 1-based line of the chunk's first line
}

func splitYAML(s string) []yamlChunk {
	var chunks []yamlChunk
	start, startLine, lineNo := 0, 1, 1
	off := 0
	for line := range strings.Lines(s) {
		if isSeparator(line) {
			chunks = append(chunks, yamlChunk{text: s[start:off], line: startLine})
			start = off + len(line)
			startLine = lineNo + 1
		}
		off += len(line)
		lineNo++
	}
	return append(chunks, yamlChunk{text: s[start:], line: startLine})
}

func decodeYAML(s string) ([]Object, error) {
	var out []Object
	for i, ch := range splitYAML(s) {
		docErr := func(err error) error { return &DecodeError{Document: i + 1, Line: ch.line, Err: err} }
		dec := yaml.NewDecoder(strings.NewReader(ch.text))
		for {
			var doc yaml.Node
			err := decodeNode(dec, &doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, docErr(yamlError(err, ch.line-1))
			}
			root := &doc
			if root.Kind == yaml.DocumentNode {
				if len(root.Content) == 0 {
					continue
				}
				root = root.Content[0]
			}
			if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
				continue // an empty document
			}
			for root.Kind == yaml.AliasNode && root.Alias != nil {
				root = root.Alias
			}
			if root.Kind != yaml.MappingNode {
				return nil, docErr(&lineError{msg: fmt.Sprintf("line %d: the document is a %s, not an object", root.Line+ch.line-1, nodeKindName(root)), err: ErrNotObject})
			}
			if err := checkExpansion(root, ch.line-1); err != nil {
				return nil, docErr(err)
			}
			c := yamlConverter{lineBase: ch.line - 1}
			b, err := c.appendNode(nil, root, 0)
			if err != nil {
				return nil, docErr(err)
			}
			if err := validateObject(bytesString(b)); err != nil {
				return nil, docErr(err)
			}
			out, err = expandList(out, Object{raw: bytesString(b)}, 0)
			if err != nil {
				return nil, docErr(err)
			}
		}
	}
	return out, nil
}

// expandList appends o to out, or o's items when o is a list kind.
func expandList(out []Object, o Object, depth int) ([]Object, error) {
	kind := o.Kind()
	items := o.Get("items")
	if !strings.HasSuffix(kind, "List") || !items.IsArray() {
		return append(out, o), nil
	}
	if depth > 8 {
		return nil, fmt.Errorf("%w: lists nested more than 8 deep", ErrTooDeep)
	}
	apiVersion := o.APIVersion()
	itemKind := strings.TrimSuffix(kind, "List")
	var err error
	items.ForEach(func(_, v gjson.Result) bool {
		if !v.IsObject() {
			err = fmt.Errorf("%w: an item of %s is not an object", ErrNotObject, kind)
			return false
		}
		item := Object{raw: v.Raw}
		if kind != "List" && itemKind != "" {
			if item, err = withTypeMeta(item, apiVersion, itemKind); err != nil {
				return false
			}
		}
		out, err = expandList(out, item, depth+1)
		return err == nil
	})
	return out, err
}

// withTypeMeta gives item the apiVersion and kind it lacks (absent or
// empty). Absent fields are put first, where kubectl prints them.
func withTypeMeta(item Object, apiVersion, kind string) (Object, error) {
	var prefix []byte
	for _, f := range [2][2]string{{"apiVersion", apiVersion}, {"kind", kind}} {
		r := item.Get(f[0])
		switch {
		case f[1] == "" || (r.Exists() && r.String() != ""):
		case r.Exists():
			var err error
			if item, err = item.Set(f[0], f[1]); err != nil {
				return Object{}, err
			}
		default:
			prefix = append(prefix, ',', '"')
			prefix = append(prefix, f[0]...)
			prefix = append(prefix, '"', ':')
			prefix = appendQuoted(prefix, f[1])
		}
	}
	if prefix == nil {
		return item, nil
	}
	prefix[0] = '{'
	rest := strings.TrimLeft(item.raw[1:], " \t\r\n")
	if rest != "}" {
		prefix = append(prefix, ',')
	}
	prefix = append(prefix, rest...)
	return Object{raw: bytesString(prefix)}, nil
}

// checkExpansion measures what n expands to once aliases are resolved,
// without expanding anything: more than MaxYAMLExpansion nodes, more than
// MaxObjectBytes of scalar text, nesting beyond MaxDepth, or an alias that
// refers to its own ancestor is refused.
func checkExpansion(n *yaml.Node, lineBase int) error {
	type size struct{ nodes, bytes int64 }
	memo := make(map[*yaml.Node]size)
	active := make(map[*yaml.Node]bool)
	tooLarge := &lineError{msg: fmt.Sprintf("the document expands to more than %d nodes or %d bytes through aliases", MaxYAMLExpansion, MaxObjectBytes), err: ErrTooLarge}
	var count func(n *yaml.Node, depth int) (size, error)
	count = func(n *yaml.Node, depth int) (size, error) {
		if n == nil {
			return size{}, nil
		}
		if depth > MaxDepth {
			return size{}, &lineError{msg: fmt.Sprintf("line %d: nesting deeper than %d", n.Line+lineBase, MaxDepth), err: ErrTooDeep}
		}
		if c, ok := memo[n]; ok {
			return c, nil
		}
		if active[n] {
			return size{}, &lineError{msg: fmt.Sprintf("line %d: an alias refers to its own ancestor", n.Line+lineBase), err: ErrMalformed}
		}
		active[n] = true
		total := size{nodes: 1, bytes: int64(len(n.Value)) + 2}
		children := n.Content
		if n.Kind == yaml.AliasNode {
			children = []*yaml.Node{n.Alias}
		}
		for _, child := range children {
			c, err := count(child, depth+1)
			if err != nil {
				return size{}, err
			}
			total.nodes += c.nodes
			total.bytes += c.bytes
			if total.nodes > MaxYAMLExpansion || total.bytes > MaxObjectBytes {
				return size{}, tooLarge
			}
		}
		delete(active, n)
		memo[n] = total
		return total, nil
	}
	_, err := count(n, 0)
	return err
}

// lineError is a message that wraps a sentinel without repeating it.
type lineError struct {
	msg string
	err error
}

func (e *lineError) Error() string { return e.msg }
func (e *lineError) Unwrap() error { return e.err }

// yamlConverter writes YAML nodes as compact JSON in document order.
type yamlConverter struct {
	lineBase int // added to node lines to make them lines of the whole input
}

func (c *yamlConverter) errorf(n *yaml.Node, sentinel error, format string, args ...any) error {
	return &lineError{msg: fmt.Sprintf("line %d: ", n.Line+c.lineBase) + fmt.Sprintf(format, args...), err: sentinel}
}

func (c *yamlConverter) appendNode(b []byte, n *yaml.Node, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return nil, c.errorf(n, ErrTooDeep, "nesting deeper than %d", MaxDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return append(b, "null"...), nil
		}
		return c.appendNode(b, n.Content[0], depth)
	case yaml.AliasNode:
		return c.appendNode(b, n.Alias, depth)
	case yaml.ScalarNode:
		return c.appendScalar(b, n)
	case yaml.SequenceNode:
		b = append(b, '[')
		for i, child := range n.Content {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = c.appendNode(b, child, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case yaml.MappingNode:
		pairs, err := c.mappingPairs(n, depth)
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
			if b, err = c.appendNode(b, p.value, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	return nil, c.errorf(n, ErrMalformed, "unknown YAML node kind %d", n.Kind)
}

type yamlPair struct {
	key   string
	value *yaml.Node
}

// mappingPairs returns the entries of a mapping in document order, with
// merge keys ("<<") expanded: explicit keys win over merged ones, and an
// earlier merged mapping wins over a later one. A key given twice
// explicitly is an error.
func (c *yamlConverter) mappingPairs(n *yaml.Node, depth int) ([]yamlPair, error) {
	var pairs []yamlPair
	// seen holds every key in pairs; until the merges are added, those are
	// the explicit keys.
	seen := make(map[string]struct{}, len(n.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		for k.Kind == yaml.AliasNode {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			return nil, c.errorf(k, ErrMalformed, "a mapping key must be a scalar")
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		key := k.Value
		if _, dup := seen[key]; dup {
			return nil, c.errorf(k, ErrDuplicateKey, "duplicate key %q", key)
		}
		seen[key] = struct{}{}
		pairs = append(pairs, yamlPair{key: key, value: v})
	}
	for _, m := range merges {
		for m.Kind == yaml.AliasNode {
			m = m.Alias
		}
		var sources []*yaml.Node
		switch m.Kind {
		case yaml.MappingNode:
			sources = []*yaml.Node{m}
		case yaml.SequenceNode:
			sources = m.Content
		default:
			return nil, c.errorf(m, ErrMalformed, "a merge key needs a mapping or a sequence of mappings")
		}
		for _, src := range sources {
			for src.Kind == yaml.AliasNode {
				src = src.Alias
			}
			if src.Kind != yaml.MappingNode {
				return nil, c.errorf(src, ErrMalformed, "a merge key needs a mapping or a sequence of mappings")
			}
			if depth > MaxDepth {
				return nil, c.errorf(src, ErrTooDeep, "merges nested deeper than %d", MaxDepth)
			}
			merged, err := c.mappingPairs(src, depth+1)
			if err != nil {
				return nil, err
			}
			for _, p := range merged {
				if _, dup := seen[p.key]; dup {
					continue
				}
				seen[p.key] = struct{}{}
				pairs = append(pairs, p)
			}
		}
	}
	return pairs, nil
}

func (c *yamlConverter) appendScalar(b []byte, n *yaml.Node) ([]byte, error) {
	switch n.ShortTag() {
	case "!!null":
		return append(b, "null"...), nil
	case "!!bool":
		var v bool
		if err := n.Decode(&v); err != nil {
			return nil, c.errorf(n, ErrMalformed, "%v", err)
		}
		if v {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case "!!int", "!!float":
		if isJSONNumber(n.Value) {
			return append(b, n.Value...), nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, c.errorf(n, ErrMalformed, "%v", err)
		}
		raw, err := encodeValue(v)
		if err != nil {
			return nil, c.errorf(n, ErrInvalidValue, "%q: %v", n.Value, err)
		}
		if !isJSONNumber(raw) {
			return nil, c.errorf(n, ErrInvalidValue, "%q is not a number", n.Value)
		}
		return append(b, raw...), nil
	default:
		return appendQuoted(b, n.Value), nil
	}
}

// isJSONNumber reports whether s is exactly one JSON number.
func isJSONNumber(s string) bool {
	if s == "" || !(s[0] == '-' || isDigit(s[0])) {
		return false
	}
	sc := scanner{s: s}
	end, err := sc.number(0)
	return err == nil && end == len(s)
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// yamlError turns a YAML parser error into one wrapping ErrMalformed whose
// line numbers count from the start of the whole input.
func yamlError(err error, lineBase int) error {
	msg := err.Error()
	if lineBase > 0 {
		msg = yamlLine.ReplaceAllStringFunc(msg, func(m string) string {
			n, convErr := strconv.Atoi(m[len("line "):])
			if convErr != nil {
				return m
			}
			return "line " + strconv.Itoa(n+lineBase)
		})
	}
	return fmt.Errorf("%w: %s", ErrMalformed, msg)
}

func nodeKindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "sequence"
	case yaml.ScalarNode:
		return "scalar " + n.ShortTag()
	default:
		return "non-mapping node"
	}
}

// decodeNode runs the YAML parser, turning a panic inside it (the parser
// has had such bugs on hostile input) into an error.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml parser failed: %v", r)
		}
	}()
	return dec.Decode(n)
}
