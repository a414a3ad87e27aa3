package unstructured

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"regexp"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	yaml "go.yaml.in/yaml/v3"
)

// Decode decodes a manifest into objects: one or more JSON objects, or a
// stream of YAML documents separated by "---" lines. As in kubectl, input
// whose first non-blank byte is '{' is read as JSON unless it has a "---"
// line; JSON objects may follow one another directly or with whitespace
// between them (`{...}{...}`, what a loop over `kubectl get -o json`
// writes), each one a document. Empty documents (nothing but comments or
// whitespace) are skipped. A document whose kind is "List", or ends in
// "List" with an "items" array (PodList, ConfigMapList...), is replaced by
// its items, and one whose items are null (or a "List" without items)
// yields nothing; items of a typed list (not of a plain List) that lack
// apiVersion or kind get the list's apiVersion and the kind without its
// "List" suffix.
//
// The objects hold compact JSON. JSON input keeps its key order and bytes
// (numbers keep their digits); YAML becomes JSON in the document's key
// order, with YAML 1.2 scalars as go.yaml.in/yaml/v3 resolves them (so
// "yes" stays a string, 0644 is 420, and integers keep every digit).
// Anchors, aliases and merge keys ("<<") are expanded.
//
// Untrusted input is bounded: at most MaxObjectBytes in all, at most
// DefaultMaxDocuments non-empty documents, MaxDepth of nesting, and
// MaxYAMLExpansion nodes per document after alias expansion, which is
// checked before anything is expanded, so an alias bomb fails at once.
// Empty documents cost no parser. Duplicate keys are refused, in JSON and
// in YAML.
//
// Errors are *DecodeError values naming the document (1-based) and the
// line it starts on, wrapping the cause (a *SyntaxError or a YAML parser
// error, and one of this package's sentinels where one applies).
//
// Decode does not keep data: the objects it returns hold their own text,
// so the caller may reuse the slice. DecodeManifest does the same and also
// tells where each object came from.
func Decode(data []byte) ([]Object, error) {
	var out []Object
	err := decodeManifest(data, nil, func(o Object, _ Source) { out = append(out, o) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DefaultMaxDocuments is the number of non-empty documents Decode and
// DecodeManifest accept unless DecodeOptions.MaxDocuments says otherwise.
// Each document costs a parser; empty documents cost none and do not count.
const DefaultMaxDocuments = 10000

// DecodeOptions tunes DecodeManifest. The zero value (or nil) gives
// Decode's behaviour. DecodeManifest does not modify the options.
type DecodeOptions struct {
	// Source names the input, usually its file name; it is copied into
	// each object's Source and into errors. Empty means unnamed.
	Source string
	// MaxDocuments caps the number of non-empty documents (each JSON
	// object of a concatenated stream is one); more is an error wrapping
	// ErrTooLarge. Zero means DefaultMaxDocuments.
	MaxDocuments int
}

// Source tells where a decoded object came from, so that an error about it
// can point at the manifest: "deploy/app.yaml:3:14". Sources are plain
// values, safe to copy and share.
type Source struct {
	Name     string // DecodeOptions.Source: the file name, or "" when unnamed
	Document int    // 1-based document number; empty documents count, as in an editor
	Line     int    // 1-based line of the input where the object starts
	Item     int    // 1-based position among the items of a List document, or 0
}

// String returns "name:document:line", with " (item n)" for an item of a
// List document, or "document d, line l" when the input is unnamed.
func (s Source) String() string {
	var b []byte
	if s.Name != "" {
		b = append(b, s.Name...)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(s.Document), 10)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(s.Line), 10)
	} else {
		b = append(b, "document "...)
		b = strconv.AppendInt(b, int64(s.Document), 10)
		b = append(b, ", line "...)
		b = strconv.AppendInt(b, int64(s.Line), 10)
	}
	if s.Item > 0 {
		b = append(b, " (item "...)
		b = strconv.AppendInt(b, int64(s.Item), 10)
		b = append(b, ')')
	}
	return string(b)
}

// Decoded is one object of a manifest with its Source. Decoded values are
// immutable and safe to share.
type Decoded struct {
	Object Object
	Source Source
}

// DecodeManifest is Decode that also returns where each object came from
// (the document, the line it starts on, its position in a List, and the
// name given in opts), so a later error can name "file:document:line".
// opts may be nil. Errors are *DecodeError values carrying opts.Source.
func DecodeManifest(data []byte, opts *DecodeOptions) ([]Decoded, error) {
	var out []Decoded
	err := decodeManifest(data, opts, func(o Object, src Source) { out = append(out, Decoded{Object: o, Source: src}) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// manifestDecoder carries one Decode call's settings and counters.
type manifestDecoder struct {
	name    string
	maxDocs int
	docs    int // non-empty documents seen
	emit    func(Object, Source)
}

func decodeManifest(data []byte, opts *DecodeOptions, emit func(Object, Source)) error {
	d := manifestDecoder{maxDocs: DefaultMaxDocuments, emit: emit}
	if opts != nil {
		d.name = opts.Source
		if opts.MaxDocuments > 0 {
			d.maxDocs = opts.MaxDocuments
		}
	}
	if len(data) > MaxObjectBytes {
		return d.errorf(1, 1, fmt.Errorf("%w: input of %d bytes exceeds the limit of %d", ErrTooLarge, len(data), MaxObjectBytes))
	}
	// Read data in place: every Object returned is built in new memory (the
	// JSON compacted, the YAML converted), so nothing keeps data.
	s := bytesString(data)
	if i := skipWS(s, 0); i < len(s) && s[i] == '{' && !hasSeparator(s) {
		return d.decodeJSON(s)
	}
	return d.decodeYAML(s)
}

func (d *manifestDecoder) errorf(doc, line int, err error) error {
	return &DecodeError{Source: d.name, Document: doc, Line: line, Err: err}
}

// count counts one more non-empty document, failing past the cap.
func (d *manifestDecoder) count() error {
	d.docs++
	if d.docs > d.maxDocs {
		return fmt.Errorf("%w: more than %d documents", ErrTooLarge, d.maxDocs)
	}
	return nil
}

// decodeJSON reads one or more JSON objects, each a document.
func (d *manifestDecoder) decodeJSON(s string) error {
	lines := lineCounter{s: s}
	for doc, i := 1, skipWS(s, 0); i < len(s); doc, i = doc+1, skipWS(s, i) {
		line := lines.at(i)
		if err := d.count(); err != nil {
			return d.errorf(doc, line, err)
		}
		end, err := scanObject(s, i)
		if err != nil {
			errLine := line
			var se *SyntaxError
			if errors.As(err, &se) {
				errLine = lines.at(se.Offset)
			}
			return d.errorf(doc, line, fmt.Errorf("line %d: %w", errLine, err))
		}
		src := Source{Name: d.name, Document: doc, Line: line}
		text := s[i:end]
		start := i
		itemLine := func(_, off int) int { return lines.at(start + off) }
		if err := d.expand(text, false, src, itemLine, 0); err != nil {
			return d.errorf(doc, line, err)
		}
		i = end
	}
	return nil
}

// scanObject validates the JSON object starting at s[i] and returns the
// index just after it. Offsets in errors count from the start of s.
func scanObject(s string, i int) (int, error) {
	sc := getScanner()
	defer putScanner(sc)
	sc.s = s
	if s[i] != '{' {
		if _, err := sc.value(i); err != nil {
			return i, err
		}
		return i, sc.fail(i, ErrNotObject, "top-level value is not an object")
	}
	end, err := sc.object(i)
	if err == nil && end-i > MaxObjectBytes {
		err = sc.fail(i, ErrTooLarge, "object of %d bytes exceeds the limit of %d", end-i, MaxObjectBytes)
	}
	return end, err
}

// lineCounter answers the line of increasing offsets in one pass over s.
type lineCounter struct {
	s         string
	off, line int
}

// at returns the 1-based line of byte offset off. Offsets may go back, at
// the cost of counting again from the start.
func (c *lineCounter) at(off int) int {
	if off > len(c.s) {
		off = len(c.s)
	}
	if off < c.off {
		c.off, c.line = 0, 0
	}
	c.line += strings.Count(c.s[c.off:off], "\n")
	c.off = off
	return c.line + 1
}

// compactValid returns a copy of s, which must be valid JSON, without the
// whitespace between tokens (what json.Compact gives, without checking the
// syntax a second time).
func compactValid(s string) []byte { return appendCompact(make([]byte, 0, len(s)), s) }

// appendCompact appends s, which must be valid JSON, to b without the
// whitespace between tokens.
func appendCompact(b []byte, s string) []byte {
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
	for line := range lines(s) {
		if isSeparator(line) {
			return true
		}
	}
	return false
}

// lines yields the lines of s with their line endings, like strings.Lines,
// at less cost per line (a manifest may hold millions of them).
func lines(s string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for off := 0; off < len(s); {
			end := len(s)
			if nl := strings.IndexByte(s[off:], '\n'); nl >= 0 {
				end = off + nl + 1
			}
			if !yield(s[off:end]) {
				return
			}
			off = end
		}
	}
}

// isBlankYAML reports whether a YAML document holds nothing but
// whitespace and comments, so it can be skipped without a parser.
func isBlankYAML(s string) bool {
	for line := range lines(s) {
		i := 0
		for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n') {
			i++
		}
		if i < len(line) && line[i] != '#' {
			return false
		}
	}
	return true
}

// yamlDocument is one document of a YAML stream.
type yamlDocument struct {
	number int    // 1-based
	text   string // the document, without its separator line
	line   int    // 1-based line of the input where text starts
}

// yamlDocuments yields each document of s (split on "---" lines) without
// collecting them.
func yamlDocuments(s string) iter.Seq[yamlDocument] {
	return func(yield func(yamlDocument) bool) {
		doc, start, startLine, lineNo, off := 1, 0, 1, 1, 0
		for line := range lines(s) {
			if line[0] == '-' && isSeparator(line) {
				if !yield(yamlDocument{number: doc, text: s[start:off], line: startLine}) {
					return
				}
				doc++
				start = off + len(line)
				startLine = lineNo + 1
			}
			off += len(line)
			lineNo++
		}
		yield(yamlDocument{number: doc, text: s[start:], line: startLine})
	}
}

func (d *manifestDecoder) decodeYAML(s string) error {
	for doc := range yamlDocuments(s) {
		if isBlankYAML(doc.text) {
			continue
		}
		if err := d.count(); err != nil {
			return d.errorf(doc.number, doc.line, err)
		}
		if err := d.decodeYAMLDocument(doc.number, doc.text, doc.line); err != nil {
			return d.errorf(doc.number, doc.line, err)
		}
	}
	return nil
}

// decodeYAMLDocument converts document number doc (whose first line is
// line startLine of the input) and emits its objects.
func (d *manifestDecoder) decodeYAMLDocument(doc int, text string, startLine int) error {
	lineBase := startLine - 1
	dec := yaml.NewDecoder(strings.NewReader(text))
	for {
		var node yaml.Node
		err := decodeNode(dec, &node)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return yamlError(err, lineBase)
		}
		root := &node
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
			return &lineError{msg: fmt.Sprintf("line %d: the document is a %s, not an object", root.Line+lineBase, nodeKindName(root)), err: ErrNotObject}
		}
		if err := checkExpansion(root, lineBase); err != nil {
			return err
		}
		c := yamlConverter{lineBase: lineBase}
		b, err := c.appendNode(nil, root, 0)
		if err != nil {
			return err
		}
		if err := validateObject(bytesString(b)); err != nil {
			return err
		}
		src := Source{Name: d.name, Document: doc, Line: root.Line + lineBase}
		items := yamlItems(root)
		itemLine := func(i, _ int) int {
			if i < len(items) {
				return items[i].Line + lineBase
			}
			return src.Line
		}
		if err := d.expand(bytesString(b), true, src, itemLine, 0); err != nil {
			return err
		}
	}
}

// yamlItems returns the item nodes of a mapping's "items" sequence, or nil.
func yamlItems(root *yaml.Node) []*yaml.Node {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i]; k.Kind == yaml.ScalarNode && k.Value == "items" {
			v := root.Content[i+1]
			for v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			if v.Kind == yaml.SequenceNode {
				return v.Content
			}
			return nil
		}
	}
	return nil
}

// isList reports whether an object of this kind with this "items" value
// stands for its items: a kind ending in "List" whose items are an array
// or null, or a plain "List" without items (an empty list).
func isList(kind string, items gjson.Result) bool {
	if !strings.HasSuffix(kind, "List") {
		return false
	}
	return items.IsArray() || items.Type == gjson.Null && (items.Exists() || kind == "List")
}

// maxListNesting bounds Lists inside Lists.
const maxListNesting = 8

// expand emits the object whose JSON is text, or its items when it is a
// list kind. compact tells whether text is already compact; src is the
// object's source; itemLine, when not nil, gives the line of item i, which
// starts at byte offset off of text (else items have the list's line).
func (d *manifestDecoder) expand(text string, compact bool, src Source, itemLine func(i, off int) int, depth int) error {
	o := Object{raw: text}
	kind := o.Kind()
	items := gjson.Get(text, "items")
	if !isList(kind, items) {
		if !compact {
			o = Object{raw: bytesString(compactValid(text))}
		}
		d.emit(o, src)
		return nil
	}
	if depth >= maxListNesting {
		return fmt.Errorf("%w: lists nested more than %d deep", ErrTooDeep, maxListNesting)
	}
	if !items.IsArray() {
		return nil // null or absent: an empty list
	}
	apiVersion := o.APIVersion()
	itemKind := strings.TrimSuffix(kind, "List")
	var buf []byte // compact items, one after another; never reallocated
	if !compact {
		buf = make([]byte, 0, len(items.Raw))
	}
	var err error
	i := 0
	items.ForEach(func(_, v gjson.Result) bool {
		if !v.IsObject() {
			err = fmt.Errorf("%w: an item of %s is not an object", ErrNotObject, kind)
			return false
		}
		isrc := src
		isrc.Item = i + 1
		if itemLine != nil {
			isrc.Line = itemLine(i, v.Index)
		}
		i++
		item := Object{raw: v.Raw}
		if !compact {
			start := len(buf)
			buf = appendCompact(buf, v.Raw)
			item = Object{raw: bytesString(buf[start:])}
		}
		if kind != "List" && itemKind != "" {
			if item, err = withTypeMeta(item, apiVersion, itemKind); err != nil {
				return false
			}
		}
		err = d.expand(item.raw, true, isrc, nil, depth+1)
		return err == nil
	})
	return err
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
