package unstructured

import (
	"fmt"
	"strings"
)

// Path joins segments into a path whose every segment is one literal object
// key, for Object's Get, Set, SetRaw and Delete and the Builder:
//
//	Path("metadata", "annotations", "kubernetes.io/change-cause")
//	// metadata.annotations.kubernetes\.io\/change-cause
//	Path("data", "8080")
//	// data.:8080  (an all-digit key, not an array index)
//
// Every byte that gjson or sjson give a meaning to (. * ? # @ | \ ! = ( ) [ ]
// { } and the rest of ASCII punctuation except '-', '_' and ':') is escaped
// with a backslash. A key made only of digits, and the key "-1" (sjson's
// "append" index), get the ':' prefix, which makes sjson create an object key
// rather than an array element (Get removes the prefix before asking gjson). A key that starts with ':' has that colon
// escaped.
//
// To address an array element, append the index yourself:
// Path("spec", "containers") + ".0.image".
//
// An empty key cannot be expressed in gjson's path syntax: Set, SetRaw and
// Delete refuse a path with an empty segment with ErrInvalidPath, and Get
// finds nothing there.
//
// A key that is not valid UTF-8 has each invalid byte replaced by U+FFFD,
// as Set writes it (and as the API server decodes it), so a key set through
// Path is read back through the same Path.
func Path(segments ...string) string {
	n := len(segments)
	for _, s := range segments {
		n += len(s) + 2
	}
	var b strings.Builder
	b.Grow(n)
	for i, seg := range segments {
		if i > 0 {
			b.WriteByte('.')
		}
		seg = validString(seg)
		if allDigits(seg) || seg == "-1" {
			b.WriteByte(':')
			b.WriteString(seg)
			continue
		}
		for j := 0; j < len(seg); j++ {
			c := seg[j]
			if !safePathChar(c) || (j == 0 && c == ':') {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// safePathChar reports whether c needs no escape in a gjson or sjson path
// segment (gjson.Escape's rule).
func safePathChar(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c <= ' ' || c > '~' || c == '_' || c == '-' || c == ':'
}

// gjsonPath rewrites a path for gjson: a segment that starts with an
// unescaped ':' (sjson's "this is an object key" marker) loses the colon.
// Segments inside queries, multipaths and modifier arguments are left alone.
// The path is returned unchanged, without allocating, when it has no ':'.
func gjsonPath(path string) string {
	if strings.IndexByte(path, ':') < 0 {
		return path
	}
	var b []byte
	nest := 0
	inQuote := false
	segStart := true
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == ':' && segStart && nest == 0 && !inQuote {
			if b == nil {
				b = make([]byte, 0, len(path))
				b = append(b, path[:i]...)
			}
			segStart = false
			continue
		}
		segStart = false
		if b != nil {
			b = append(b, c)
		}
		switch {
		case c == '\\':
			if i+1 < len(path) {
				i++
				if b != nil {
					b = append(b, path[i])
				}
			}
		case inQuote:
			if c == '"' {
				inQuote = false
			}
		case c == '"' && nest > 0:
			inQuote = true
		case c == '(' || c == '[' || c == '{':
			nest++
		case c == ')' || c == ']' || c == '}':
			if nest > 0 {
				nest--
			}
		case (c == '.' || c == '|') && nest == 0:
			segStart = true
		}
	}
	if b == nil {
		return path
	}
	return string(b)
}

// checkWritePath refuses paths that sjson would write wrongly or not at all:
// empty segments, unescaped wildcards, queries, modifiers, pipes and
// multipaths, and a trailing lone backslash.
func checkWritePath(path string) error {
	if path == "" {
		return fmt.Errorf("%w: empty path", ErrInvalidPath)
	}
	segLen := 0
	segStart := 0
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch c {
		case '\\':
			if i+1 >= len(path) {
				return fmt.Errorf("%w %q: trailing backslash", ErrInvalidPath, path)
			}
			i++
			segLen++
		case '.':
			if segLen == 0 {
				return fmt.Errorf("%w %q: empty segment at byte %d", ErrInvalidPath, path, segStart)
			}
			segLen = 0
			segStart = i + 1
		case ':':
			if i != segStart { // a leading ':' is the object-key marker
				segLen++
			}
		case '*', '?', '#', '@', '|', '!', '=', '(', ')', '[', ']', '{', '}':
			return fmt.Errorf("%w %q: unescaped %q at byte %d (build paths with Path)", ErrInvalidPath, path, c, i)
		default:
			segLen++
		}
	}
	if segLen == 0 {
		return fmt.Errorf("%w %q: empty segment at byte %d", ErrInvalidPath, path, segStart)
	}
	return nil
}
