package unstructured

import (
	"errors"
	"fmt"
)

// Limits applied to untrusted input. They are constants so that every
// decoder in the module enforces the same bounds.
const (
	// MaxObjectBytes caps the size of one object given to Parse, ParseString,
	// and of the whole input given to Decode: 64 MiB.
	MaxObjectBytes = 64 << 20
	// MaxListBytes caps the size of a list given to ParseList or
	// ParseListNoCopy: 1 GiB.
	MaxListBytes = 1 << 30
	// MaxDepth caps the nesting of arrays and objects (encoding/json stops at
	// 10,000; gjson.Valid accepts any depth).
	MaxDepth = 1000
	// MaxYAMLExpansion caps the number of YAML nodes one document may expand
	// to once its aliases are resolved, which defeats "billion laughs"
	// documents before any expansion happens.
	MaxYAMLExpansion = 1 << 20
)

// Sentinel errors. Errors returned by this package wrap one of them, so they
// can be matched with errors.Is.
var (
	// ErrMalformed: the input is not well-formed JSON (or YAML).
	ErrMalformed = errors.New("malformed")
	// ErrDuplicateKey: an object holds the same key twice. gjson would
	// answer with the first value while the API server keeps the last, so
	// such input is refused.
	ErrDuplicateKey = errors.New("duplicate key")
	// ErrTooDeep: nesting exceeds MaxDepth.
	ErrTooDeep = errors.New("nested too deeply")
	// ErrTooLarge: the input exceeds MaxObjectBytes, MaxListBytes or
	// MaxYAMLExpansion.
	ErrTooLarge = errors.New("too large")
	// ErrNotObject: the top-level value (or a list item) is not a JSON object.
	ErrNotObject = errors.New("not a JSON object")
	// ErrInvalidPath: a path given to Set, SetRaw or Delete cannot be written
	// (an empty segment, or a wildcard, query, modifier or pipe that sjson
	// does not support).
	ErrInvalidPath = errors.New("invalid path")
	// ErrInvalidValue: a value given to Set or SetRaw cannot be written as JSON.
	ErrInvalidValue = errors.New("invalid value")
)

// SyntaxError describes why JSON input was refused and where. It wraps one of
// ErrMalformed, ErrDuplicateKey, ErrTooDeep, ErrTooLarge or ErrNotObject.
// SyntaxError values are plain data, safe to share.
type SyntaxError struct {
	Offset int    // byte offset of the problem in the input
	Msg    string // what was wrong, without the offset
	Err    error  // the sentinel
}

// Error returns "<msg> at offset <n>".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s at offset %d", e.Msg, e.Offset)
}

// Unwrap returns the sentinel.
func (e *SyntaxError) Unwrap() error { return e.Err }

// DecodeError names the document of a manifest that failed to decode.
// DecodeError values are plain data, safe to share.
type DecodeError struct {
	Source   string // DecodeOptions.Source (the file name), or ""
	Document int    // 1-based position of the document in the input (empty documents count)
	Line     int    // 1-based line where the document starts
	Err      error  // the cause
}

// Error returns "document <n> (line <l>): <cause>", prefixed with
// "<source>: " when the input was named.
func (e *DecodeError) Error() string {
	if e.Source != "" {
		return fmt.Sprintf("%s: document %d (line %d): %v", e.Source, e.Document, e.Line, e.Err)
	}
	return fmt.Sprintf("document %d (line %d): %v", e.Document, e.Line, e.Err)
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }
