package unstructured

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"sync"
	"unicode/utf8"
)

// scanner validates JSON text in one pass: strict RFC 8259 grammar, a depth
// limit, and no duplicate key in any object. In list mode it also records
// the spans of the top-level "items" elements and "metadata" object, so a
// list is validated and indexed by the same pass.
//
// Strings are not checked for valid UTF-8: invalid bytes pass through
// unchanged, as they do through gjson and the API server's decoder.
type scanner struct {
	s     string
	depth int
	// keys holds the keys of every object being scanned, innermost last.
	keys []string
	// sets[d] indexes the keys of the object at depth d once it has more
	// than linearKeys keys; the maps are reused across objects.
	sets []map[string]struct{}

	list     bool
	items    itemIndex
	metadata string
	// keyDepth is the depth of the list item being scanned (0 outside
	// one); run collects the offsets of that item's keys, after a slot
	// for their count, and runOK turns false when a key holds an escape.
	keyDepth  int
	itemStart int
	run       []uint32
	runOK     bool
}

// trimSpaceLeft returns the offset just after the last non-space byte
// before offset i of s.
func trimSpaceLeft(s string, i int) int {
	for i > 0 {
		switch s[i-1] {
		case ' ', '\t', '\n', '\r':
			i--
		default:
			return i
		}
	}
	return i
}

// linearKeys is the number of keys up to which duplicates are found by a
// linear search, which beats a map for the small objects Kubernetes uses.
const linearKeys = 16

// strSafe[c] is true for bytes that may appear unescaped in a JSON string.
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (sc *scanner) fail(off int, sentinel error, format string, args ...any) error {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

// validate checks that s is exactly one JSON object.
func (sc *scanner) validate(s string) error { return sc.validateTop(s, true) }

// validateValue checks that s is exactly one JSON value of any type.
func (sc *scanner) validateValue(s string) error { return sc.validateTop(s, false) }

// validateTop checks that s is exactly one JSON value, and an object when
// object is set. A value of another type is scanned first, so malformed
// input is reported as such rather than as ErrNotObject.
func (sc *scanner) validateTop(s string, object bool) error {
	sc.s = s
	i := skipWS(s, 0)
	if i >= len(s) {
		return sc.fail(i, ErrMalformed, "empty input")
	}
	start := i
	i, err := sc.value(i)
	if err != nil {
		return err
	}
	if object && s[start] != '{' {
		return sc.fail(start, ErrNotObject, "top-level value is not an object")
	}
	if i = skipWS(s, i); i != len(s) {
		return sc.fail(i, ErrMalformed, "unexpected data after the value")
	}
	return nil
}

func skipWS(s string, i int) int {
	// Every whitespace byte is <= ' ': one comparison sends the common
	// case (compact JSON, the next token right here) back at once.
	for i < len(s) && s[i] <= ' ' {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (sc *scanner) value(i int) (int, error) {
	s := sc.s
	if i >= len(s) {
		return i, sc.fail(i, ErrMalformed, "unexpected end of input")
	}
	switch c := s[i]; c {
	case '{':
		return sc.object(i)
	case '[':
		return sc.array(i, false)
	case '"':
		end, _, err := sc.str(i)
		return end, err
	case 't':
		return sc.literal(i, "true")
	case 'f':
		return sc.literal(i, "false")
	case 'n':
		return sc.literal(i, "null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return sc.number(i)
		}
		return i, sc.fail(i, ErrMalformed, "invalid character %q looking for a value", c)
	}
}

func (sc *scanner) literal(i int, lit string) (int, error) {
	if len(sc.s)-i >= len(lit) && sc.s[i:i+len(lit)] == lit {
		return i + len(lit), nil
	}
	return i, sc.fail(i, ErrMalformed, "invalid literal, want %s", lit)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (sc *scanner) number(i int) (int, error) {
	s := sc.s
	start := i
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	default:
		return i, sc.fail(start, ErrMalformed, "invalid number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return i, sc.fail(start, ErrMalformed, "invalid number: no digit after the decimal point")
		}
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return i, sc.fail(start, ErrMalformed, "invalid number: no digit in the exponent")
		}
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	}
	return i, nil
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// specialMask has the high bit set in each byte of x that is below 0x20,
// '"' or '\\', and possibly in bytes above such a byte (a borrow from it):
// the lowest set bit always marks the first special byte, if any.
func specialMask(x uint64) uint64 {
	less := (x - 0x20*ones) & ^x
	quote := x ^ ('"' * ones)
	quote = (quote - ones) & ^quote
	bs := x ^ ('\\' * ones)
	bs = (bs - ones) & ^bs
	return (less | quote | bs) & highs
}

func isASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if load64(s, i)&highs != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// str scans the string starting at the quote at i and returns the index
// after the closing quote and whether the string holds escapes.
func (sc *scanner) str(i int) (end int, escaped bool, err error) {
	s := sc.s
	start := i
	i++
	for {
		// Eight bytes at a time while none is a quote, a backslash or a
		// control character; then straight to the first one that is.
		if i+8 <= len(s) {
			m := specialMask(load64(s, i))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else {
			for i < len(s) && strSafe[s[i]] {
				i++
			}
			if i >= len(s) {
				return i, escaped, sc.fail(start, ErrMalformed, "unterminated string")
			}
		}
		switch c := s[i]; {
		case c == '"':
			return i + 1, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(s) {
				return i, escaped, sc.fail(start, ErrMalformed, "unterminated string")
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) || !isHex(s[i+2]) || !isHex(s[i+3]) || !isHex(s[i+4]) || !isHex(s[i+5]) {
					return i, escaped, sc.fail(i, ErrMalformed, "invalid \\u escape in string")
				}
				i += 6
			default:
				return i, escaped, sc.fail(i, ErrMalformed, "invalid escape %q in string", s[i:i+2])
			}
		default:
			return i, escaped, sc.fail(i, ErrMalformed, "control character %q in string", c)
		}
	}
}

func (sc *scanner) array(i int, items bool) (int, error) {
	s := sc.s
	sc.depth++
	if sc.depth > MaxDepth {
		return i, sc.fail(i, ErrTooDeep, "nesting deeper than %d", MaxDepth)
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == ']' {
		sc.depth--
		return i + 1, nil
	}
	for {
		var err error
		start := i
		if items {
			if i >= len(s) || s[i] != '{' {
				if i < len(s) {
					if _, err := sc.value(i); err != nil {
						return i, err
					}
				}
				return i, sc.fail(i, ErrNotObject, "list item is not an object")
			}
			sc.keyDepth, sc.itemStart, sc.run, sc.runOK = sc.depth+1, start, append(sc.run[:0], 0), true
			i, err = sc.object(i)
			sc.keyDepth = 0
			if err != nil {
				return i, err
			}
			if uint64(start) >= itemHasKeys {
				return i, sc.fail(start, ErrTooLarge, "list larger than 2 GiB")
			}
			if !sc.runOK {
				sc.run = sc.run[:1] // a key with an escape: no key index
			}
			if sc.items.n == 0 {
				sc.items.reserve(len(s)-start, i-start, len(sc.run))
			}
			sc.items.add(start, sc.run)
			sc.items.end = i
		} else {
			i, err = sc.value(i)
			if err != nil {
				return i, err
			}
		}
		i = skipWS(s, i)
		if i >= len(s) {
			return i, sc.fail(i, ErrMalformed, "unexpected end of input in array")
		}
		switch s[i] {
		case ',':
			i = skipWS(s, i+1)
		case ']':
			sc.depth--
			return i + 1, nil
		default:
			return i, sc.fail(i, ErrMalformed, "invalid character %q after array element", s[i])
		}
	}
}

func (sc *scanner) object(i int) (int, error) {
	s := sc.s
	sc.depth++
	if sc.depth > MaxDepth {
		return i, sc.fail(i, ErrTooDeep, "nesting deeper than %d", MaxDepth)
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		sc.depth--
		return i + 1, nil
	}
	base := len(sc.keys)
	var set map[string]struct{}
	for {
		if i >= len(s) {
			return i, sc.fail(i, ErrMalformed, "unexpected end of input in object")
		}
		if s[i] != '"' {
			return i, sc.fail(i, ErrMalformed, "invalid character %q looking for an object key", s[i])
		}
		end, escaped, err := sc.str(i)
		if err != nil {
			return i, err
		}
		if sc.depth == sc.keyDepth {
			sc.run = append(sc.run, uint32(i-sc.itemStart))
			sc.runOK = sc.runOK && !escaped
		}
		key := s[i+1 : end-1]
		// Keys are compared the way the API server's decoder will see
		// them: escapes resolved, invalid UTF-8 as U+FFFD.
		if escaped {
			var k string
			if err := json.Unmarshal([]byte(s[i:end]), &k); err != nil {
				return i, sc.fail(i, ErrMalformed, "invalid object key: %v", err)
			}
			key = k
		} else if !isASCII(key) && !utf8.ValidString(key) {
			key = validString(key)
		}
		if set == nil {
			for _, k := range sc.keys[base:] {
				if k == key {
					return i, sc.fail(i, ErrDuplicateKey, "duplicate key %q", key)
				}
			}
			sc.keys = append(sc.keys, key)
			if len(sc.keys)-base > linearKeys {
				set = sc.setAt(sc.depth)
				for _, k := range sc.keys[base:] {
					set[k] = struct{}{}
				}
			}
		} else {
			if _, dup := set[key]; dup {
				return i, sc.fail(i, ErrDuplicateKey, "duplicate key %q", key)
			}
			set[key] = struct{}{}
		}
		i = skipWS(s, end)
		if i >= len(s) || s[i] != ':' {
			return i, sc.fail(i, ErrMalformed, "missing ':' after object key")
		}
		i = skipWS(s, i+1)
		vstart := i
		if sc.list && sc.depth == 1 && i < len(s) {
			switch {
			case key == "items" && s[i] == '[':
				i, err = sc.array(i, true)
			case key == "items" && s[i] != 'n':
				return i, sc.fail(i, ErrMalformed, "list items is not an array")
			default:
				i, err = sc.value(i)
				if key == "metadata" && err == nil && s[vstart] == '{' {
					sc.metadata = s[vstart:i]
				}
			}
		} else {
			i, err = sc.value(i)
		}
		if err != nil {
			return i, err
		}
		i = skipWS(s, i)
		if i >= len(s) {
			return i, sc.fail(i, ErrMalformed, "unexpected end of input in object")
		}
		if s[i] == ',' {
			i = skipWS(s, i+1)
			continue
		}
		if s[i] == '}' {
			i++
			break
		}
		return i, sc.fail(i, ErrMalformed, "invalid character %q after object value", s[i])
	}
	sc.keys = sc.keys[:base]
	if set != nil {
		clear(set)
	}
	sc.depth--
	return i, nil
}

func (sc *scanner) setAt(depth int) map[string]struct{} {
	for len(sc.sets) <= depth {
		sc.sets = append(sc.sets, nil)
	}
	if sc.sets[depth] == nil {
		sc.sets[depth] = make(map[string]struct{}, 2*linearKeys)
	}
	return sc.sets[depth]
}

// validateObject checks s as one JSON object within MaxObjectBytes.
func validateObject(s string) error {
	if len(s) > MaxObjectBytes {
		return &SyntaxError{Offset: MaxObjectBytes, Msg: fmt.Sprintf("object of %d bytes exceeds the limit of %d", len(s), MaxObjectBytes), Err: ErrTooLarge}
	}
	sc := getScanner()
	err := sc.validate(s)
	putScanner(sc)
	return err
}

// scanners keeps scanners with their key stacks, so validation allocates
// nothing once warm.
var scanners = sync.Pool{New: func() any { return &scanner{keys: make([]string, 0, 64)} }}

func getScanner() *scanner { return scanners.Get().(*scanner) }

// putScanner clears every reference into the scanned text, so a pooled
// scanner never keeps a document alive, and returns sc to the pool.
func putScanner(sc *scanner) {
	clear(sc.keys[:cap(sc.keys)])
	for _, m := range sc.sets {
		clear(m)
	}
	*sc = scanner{keys: sc.keys[:0], sets: sc.sets, run: sc.run[:0]}
	scanners.Put(sc)
}
