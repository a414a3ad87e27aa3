package unstructured

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// Object is one Kubernetes object held as immutable, validated JSON text:
// always a single JSON object, well-formed, within MaxDepth, without
// duplicate keys. Reads go through gjson on the text; writes go through sjson
// and return a new Object, leaving the receiver untouched.
//
// Objects are safe for concurrent use and may be shared without copying.
// The zero Object holds nothing (IsZero reports true); reads on it find
// nothing and writes on it start from {}.
//
// An item of a List also carries where each of its top-level keys starts,
// found by the list's validating pass, so a read such as
// Get(Path("data", "log.level")) jumps to data without skipping metadata;
// the Object is otherwise the same. Compare Objects by their text,
// a.String() == b.String(): == and reflect.DeepEqual also compare that
// index, so an item and a Parse of the same text differ under them.
type Object struct {
	raw string
	// keys, for an item of a List, points to the item's key run (see
	// itemIndex): a count, then where each top-level key starts in raw.
	keys *uint32
}

// Parse validates data as one JSON object and returns a copy of it as an
// Object. It fails with a *SyntaxError wrapping ErrMalformed, ErrNotObject,
// ErrDuplicateKey, ErrTooDeep or ErrTooLarge (beyond MaxObjectBytes).
// The bytes are kept as given: no reformatting, and strings with invalid
// UTF-8 pass through unchanged.
func Parse(data []byte) (Object, error) {
	// Validate the caller's bytes in place; copy only what is accepted.
	if err := checkObject(bytesString(data)); err != nil {
		return Object{}, err
	}
	return Object{raw: string(data)}, nil
}

// ValidateJSON checks data by Parse's rules (one well-formed JSON object within
// MaxObjectBytes and MaxDepth, without duplicate keys) without copying it.
// It returns the error Parse would return, or nil. Use it to vet a body
// that is then read with gjson or encoding/json directly.
func ValidateJSON(data []byte) error { return checkObject(bytesString(data)) }

// ParseString is Parse for a string; the Object shares s without copying.
func ParseString(s string) (Object, error) {
	if err := checkObject(s); err != nil {
		return Object{}, err
	}
	return Object{raw: s}, nil
}

// checkObject is validateObject with the error Parse, ParseString and
// ValidateJSON return.
func checkObject(s string) error {
	if err := validateObject(s); err != nil {
		return fmt.Errorf("parse object: %w", err)
	}
	return nil
}

// MustParse is ParseString that panics on error, for literals in tests and
// examples.
func MustParse(s string) Object {
	o, err := ParseString(s)
	if err != nil {
		panic(err)
	}
	return o
}

// New returns an object with only apiVersion and kind set (each omitted
// when empty): New("apps/v1", "Deployment") is
// {"apiVersion":"apps/v1","kind":"Deployment"}.
func New(apiVersion, kind string) Object {
	b := make([]byte, 0, len(apiVersion)+len(kind)+28)
	b = append(b, '{')
	if apiVersion != "" {
		b = append(b, `"apiVersion":`...)
		b = appendQuoted(b, apiVersion)
	}
	if kind != "" {
		if apiVersion != "" {
			b = append(b, ',')
		}
		b = append(b, `"kind":`...)
		b = appendQuoted(b, kind)
	}
	b = append(b, '}')
	return Object{raw: unsafe.String(unsafe.SliceData(b), len(b))}
}

// String returns the object's JSON text ("" for the zero Object).
func (o Object) String() string { return o.raw }

// Bytes returns a copy of the object's JSON text.
func (o Object) Bytes() []byte { return []byte(o.raw) }

// IsZero reports whether o holds no object.
func (o Object) IsZero() bool { return o.raw == "" }

// Clone returns an Object with its own copy of the text. An item of a List
// shares the whole list's memory; a cache that keeps one item should keep a
// clone, so the list can be freed. The clone does not keep the item's key
// index either (reads of it are as fast as those of a parsed object).
func (o Object) Clone() Object { return Object{raw: strings.Clone(o.raw)} }

// MarshalJSON returns the object's JSON text, or null for the zero Object.
func (o Object) MarshalJSON() ([]byte, error) {
	if o.raw == "" {
		return []byte("null"), nil
	}
	return []byte(o.raw), nil
}

// UnmarshalJSON parses data as Parse does; null leaves the zero Object.
func (o *Object) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*o = Object{}
		return nil
	}
	p, err := Parse(data)
	if err != nil {
		return err
	}
	*o = p
	return nil
}

// Get reads the value at a gjson path, such as "spec.containers.0.image" or
// a path built with Path; a segment starting with ':' names an object key
// (see Path). Reading a scalar allocates nothing, escaped paths from Path
// included (only a string holding JSON escapes is unescaped into new
// memory); the Result's Raw and Str share the object's memory. Strings are
// returned as the bytes in the JSON, invalid UTF-8 included.
//
// On an item of a List, a path whose first segment is one plain key (no
// wildcard, query or modifier there, and no pipe, modifier or multipath
// after it) is read inside that key's value alone, found through the
// list's index; the Result is the same, Index included (it counts from
// the start of o's text either way).
func (o Object) Get(path string) gjson.Result {
	if o.keys != nil {
		if r, ok := getIndexed(o.raw, keyOffsets(o.keys), path); ok {
			return r
		}
	}
	return get(o.raw, path)
}

// Set returns a copy of o with value written at path, creating missing
// objects on the way; a null on the way is replaced by an object, and
// writing past the end of an array pads it with nulls (as sjson does).
// Writing below a string, number or bool fails with ErrInvalidPath rather
// than replacing it.
//
// The value is encoded as JSON: integers of any width keep their exact
// digits, strings are escaped (invalid UTF-8 becomes U+FFFD), Object,
// gjson.Result, json.RawMessage and json.Number are written as the JSON
// they hold, and other types go through encoding/json. Errors wrap
// ErrInvalidPath or ErrInvalidValue; the result is validated like Parse.
func (o Object) Set(path string, value any) (Object, error) {
	raw, err := encodeValue(value)
	if err != nil {
		return Object{}, fmt.Errorf("set %q: %w", path, err)
	}
	return o.setRaw(path, raw)
}

// SetRaw returns a copy of o with rawJSON, which must be one valid JSON
// value, written at path. Errors wrap ErrInvalidPath or ErrInvalidValue.
func (o Object) SetRaw(path, rawJSON string) (Object, error) {
	raw, err := rawValue(rawJSON)
	if err != nil {
		return Object{}, fmt.Errorf("set %q: %w", path, err)
	}
	return o.setRaw(path, raw)
}

func (o Object) setRaw(path, raw string) (Object, error) {
	out, err := writeRaw(o.raw, path, raw)
	if err != nil {
		return Object{}, fmt.Errorf("set %q: %w", path, err)
	}
	if err := validateObject(out); err != nil {
		return Object{}, fmt.Errorf("set %q: result: %w", path, err)
	}
	return Object{raw: out}, nil
}

// Delete returns a copy of o without the value at path; deleting a path that
// does not exist returns o unchanged. Errors wrap ErrInvalidPath.
func (o Object) Delete(path string) (Object, error) {
	out, err := deleteRaw(o.raw, path)
	if err != nil {
		return Object{}, fmt.Errorf("delete %q: %w", path, err)
	}
	if err := validateObject(out); err != nil {
		return Object{}, fmt.Errorf("delete %q: result: %w", path, err)
	}
	return Object{raw: out}, nil
}

func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// writeRaw writes raw at path in doc with sjson, which never modifies its
// input without ReplaceInPlace, so the input may be a read-only string.
func writeRaw(doc, path, raw string) (string, error) {
	if err := checkWritePath(path); err != nil {
		return "", err
	}
	if doc == "" {
		doc = "{}"
	}
	if err := checkAncestor(doc, path); err != nil {
		return "", err
	}
	out, err := sjson.SetRawBytes(stringBytes(doc), path, stringBytes(raw))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidPath, err)
	}
	return bytesString(out), nil
}

// checkAncestor refuses a write whose deepest existing ancestor is a
// scalar: sjson would silently replace the scalar with an object.
func checkAncestor(doc, path string) error {
	for end := len(path); end > 0; {
		end = lastSeparator(path[:end])
		if end <= 0 {
			return nil
		}
		r := get(doc, path[:end])
		if !r.Exists() {
			continue
		}
		if r.IsObject() || r.IsArray() || r.Type == gjson.Null {
			return nil // null counts as absent and is replaced
		}
		return fmt.Errorf("%w: %q holds a %s, not an object or array", ErrInvalidPath, path[:end], strings.ToLower(r.Type.String()))
	}
	return nil
}

// lastSeparator returns the index of the last unescaped '.' in path, or -1.
func lastSeparator(path string) int {
	last := -1
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case '\\':
			i++
		case '.':
			last = i
		}
	}
	return last
}

func deleteRaw(doc, path string) (string, error) {
	if err := checkWritePath(path); err != nil {
		return "", err
	}
	if doc == "" {
		return "{}", nil
	}
	out, err := sjson.DeleteBytes(stringBytes(doc), path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidPath, err)
	}
	return bytesString(out), nil
}

// Builder batches writes to an object: each write is applied in turn, errors
// accumulate instead of stopping the batch, and the result is validated once
// by Object. A Builder is not safe for concurrent use; the Object it starts
// from is not modified.
type Builder struct {
	doc  string
	errs []error
}

// Builder returns a Builder that starts from o.
func (o Object) Builder() *Builder { return &Builder{doc: o.raw} }

// NewBuilder returns a Builder that starts from New(apiVersion, kind).
func NewBuilder(apiVersion, kind string) *Builder { return New(apiVersion, kind).Builder() }

// Set writes value at path as Object.Set would. A failed write is recorded
// and skipped. It returns b for chaining.
func (b *Builder) Set(path string, value any) *Builder {
	raw, err := encodeValue(value)
	if err != nil {
		b.errs = append(b.errs, fmt.Errorf("set %q: %w", path, err))
		return b
	}
	return b.write(path, raw)
}

// SetRaw writes the raw JSON value at path as Object.SetRaw would. A failed
// write is recorded and skipped. It returns b for chaining.
func (b *Builder) SetRaw(path, rawJSON string) *Builder {
	raw, err := rawValue(rawJSON)
	if err != nil {
		b.errs = append(b.errs, fmt.Errorf("set %q: %w", path, err))
		return b
	}
	return b.write(path, raw)
}

func (b *Builder) write(path, raw string) *Builder {
	out, err := writeRaw(b.doc, path, raw)
	if err != nil {
		b.errs = append(b.errs, fmt.Errorf("set %q: %w", path, err))
		return b
	}
	b.doc = out
	return b
}

// Delete removes the value at path as Object.Delete would. A failed delete
// is recorded and skipped. It returns b for chaining.
func (b *Builder) Delete(path string) *Builder {
	out, err := deleteRaw(b.doc, path)
	if err != nil {
		b.errs = append(b.errs, fmt.Errorf("delete %q: %w", path, err))
		return b
	}
	b.doc = out
	return b
}

// Object validates the result of the writes and returns it. If any write
// failed, it returns the zero Object and every recorded error joined
// (errors.Is finds each sentinel). The Builder may be used further.
func (b *Builder) Object() (Object, error) {
	if len(b.errs) > 0 {
		return Object{}, errors.Join(b.errs...)
	}
	doc := b.doc
	if doc == "" {
		doc = "{}"
	}
	if err := validateObject(doc); err != nil {
		return Object{}, fmt.Errorf("build object: %w", err)
	}
	return Object{raw: doc}, nil
}

// validString returns s with each byte that is not part of valid UTF-8
// replaced by U+FFFD, as encoding/json does.
func validString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// str reads a string field for the typed accessors, which return valid
// UTF-8 (see the package documentation).
func (o Object) str(path string) string { return validString(o.Get(path).String()) }

// APIVersion returns the apiVersion field, or "".
func (o Object) APIVersion() string { return o.str("apiVersion") }

// Kind returns the kind field, or "".
func (o Object) Kind() string { return o.str("kind") }

// GroupVersionKind returns the object's apiVersion and kind parsed. It fails
// when apiVersion is malformed or kind is empty.
func (o Object) GroupVersionKind() (GroupVersionKind, error) {
	gv, err := ParseGroupVersion(o.APIVersion())
	if err != nil {
		return GroupVersionKind{}, err
	}
	kind := o.Kind()
	if kind == "" {
		return GroupVersionKind{}, fmt.Errorf("object has no kind")
	}
	return gv.WithKind(kind), nil
}

// Name returns metadata.name, or "".
func (o Object) Name() string { return o.str("metadata.name") }

// GenerateName returns metadata.generateName, or "".
func (o Object) GenerateName() string { return o.str("metadata.generateName") }

// Namespace returns metadata.namespace, or "".
func (o Object) Namespace() string { return o.str("metadata.namespace") }

// ResourceVersion returns metadata.resourceVersion, or "".
func (o Object) ResourceVersion() string { return o.str("metadata.resourceVersion") }

// UID returns metadata.uid, or "".
func (o Object) UID() string { return o.str("metadata.uid") }

// Generation returns metadata.generation, or 0.
func (o Object) Generation() int64 { return o.Get("metadata.generation").Int() }

// Labels returns a new map of metadata.labels, or nil when there are none.
func (o Object) Labels() map[string]string { return o.stringMap("metadata.labels") }

// Annotations returns a new map of metadata.annotations, or nil when there
// are none.
func (o Object) Annotations() map[string]string { return o.stringMap("metadata.annotations") }

func (o Object) stringMap(path string) map[string]string {
	r := o.Get(path)
	if !r.IsObject() {
		return nil
	}
	var m map[string]string
	r.ForEach(func(k, v gjson.Result) bool {
		if m == nil {
			m = make(map[string]string)
		}
		m[validString(k.String())] = validString(v.String())
		return true
	})
	return m
}

// OwnerReference is one entry of metadata.ownerReferences. It is a plain
// value, safe to copy and share.
type OwnerReference struct {
	APIVersion         string // the owner's apiVersion, such as "apps/v1"
	Kind               string // the owner's kind, such as "ReplicaSet"
	Name               string // the owner's metadata.name
	UID                string // the owner's metadata.uid
	Controller         bool   // false when absent
	BlockOwnerDeletion bool   // false when absent
}

// OwnerReferences returns metadata.ownerReferences, or nil when there are none.
func (o Object) OwnerReferences() []OwnerReference {
	r := o.Get("metadata.ownerReferences")
	if !r.IsArray() {
		return nil
	}
	var refs []OwnerReference
	r.ForEach(func(_, v gjson.Result) bool {
		refs = append(refs, OwnerReference{
			APIVersion:         validString(v.Get("apiVersion").String()),
			Kind:               validString(v.Get("kind").String()),
			Name:               validString(v.Get("name").String()),
			UID:                validString(v.Get("uid").String()),
			Controller:         v.Get("controller").Bool(),
			BlockOwnerDeletion: v.Get("blockOwnerDeletion").Bool(),
		})
		return true
	})
	return refs
}

// Finalizers returns metadata.finalizers, or nil when there are none.
func (o Object) Finalizers() []string {
	r := o.Get("metadata.finalizers")
	if !r.IsArray() {
		return nil
	}
	var out []string
	r.ForEach(func(_, v gjson.Result) bool {
		out = append(out, validString(v.String()))
		return true
	})
	return out
}

// DeletionTimestamp returns metadata.deletionTimestamp. ok is false when the
// field is absent, null, or not an RFC 3339 time; use IsDeleting to test for
// presence alone.
func (o Object) DeletionTimestamp() (t time.Time, ok bool) {
	return o.timestamp("metadata.deletionTimestamp")
}

// IsDeleting reports whether metadata.deletionTimestamp is set (to anything
// but null), meaning the object is being deleted.
func (o Object) IsDeleting() bool {
	r := o.Get("metadata.deletionTimestamp")
	return r.Exists() && r.Type != gjson.Null
}

// CreationTimestamp returns metadata.creationTimestamp; ok is false when the
// field is absent or not an RFC 3339 time.
func (o Object) CreationTimestamp() (t time.Time, ok bool) {
	return o.timestamp("metadata.creationTimestamp")
}

func (o Object) timestamp(path string) (time.Time, bool) {
	r := o.Get(path)
	if r.Type != gjson.String {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, r.Str)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
