package unstructured

import (
	"math/bits"
	"strings"

	"github.com/tidwall/gjson"
)

// get reads path in doc. gjson copies every path segment that holds an
// escape, so a read through Path("metadata", "labels", "app.kubernetes.io/name")
// would allocate; a plain chain of keys with escapes is therefore walked
// here without allocating, and everything else goes to gjson.
func get(doc, path string) gjson.Result {
	if strings.IndexByte(path, '\\') >= 0 {
		if r, ok := getChain(doc, path); ok {
			return r
		}
	}
	return gjson.Get(doc, gjsonPath(path))
}

// getChain walks a path made only of object keys and array indexes
// (segments separated by unescaped dots, with backslash escapes and the ':'
// key marker), giving the same Result as gjson.Get. ok is false when the
// path uses other syntax, or when a key in the document holds a JSON escape
// (gjson then compares unescaped keys): the caller falls back to gjson.
// doc must be valid JSON.
func getChain(doc, path string) (r gjson.Result, ok bool) {
	return getChainAt(doc, skipWS(doc, 0), path)
}

// chainByte marks the path bytes getChain looks at twice: the separator,
// the escape, the key marker and gjson's syntax.
var chainByte = [256]bool{'.': true, '\\': true, ':': true, '*': true, '?': true, '#': true, '@': true,
	'|': true, '!': true, '=': true, '(': true, ')': true, '[': true, ']': true, '{': true, '}': true}

// getChainAt is getChain on the value that starts at i in doc, with the
// Result's Index counted from the start of doc.
func getChainAt(doc string, i int, path string) (r gjson.Result, ok bool) {
	p := 0
	for p < len(path) {
		// Find the end of the segment and check its syntax.
		seg := p
		if path[p] == ':' {
			seg++ // the key marker; gjson sees the rest
		}
		end := seg
		escaped := false
	scan:
		for end < len(path) {
			c := path[end]
			if !chainByte[c] {
				end++
				continue
			}
			switch {
			case c == '.':
				break scan
			case c == '\\':
				if end+1 >= len(path) {
					return r, false
				}
				escaped = true
				end += 2
			case c == ':' && end != seg:
				end++
			default:
				return r, false
			}
		}
		if end == seg {
			return r, false // an empty segment: leave it to gjson
		}
		segment := path[seg:end]
		p = end + 1
		if end == len(path) {
			p = end
		} else if p == len(path) {
			return r, false // a trailing dot
		}

		if i >= len(doc) {
			return gjson.Result{}, true
		}
		switch doc[i] {
		case '{':
			var found bool
			i, found, ok = findKey(doc, i, segment, escaped)
			if !ok {
				return r, false
			}
			if !found {
				return gjson.Result{}, true
			}
		case '[':
			if escaped {
				return r, false // escaped segments on arrays: gjson's call
			}
			n, isIndex := segmentIndex(segment)
			if !isIndex {
				return gjson.Result{}, true
			}
			var found bool
			if i, found = findIndex(doc, i, n); !found {
				return gjson.Result{}, true
			}
		default:
			return gjson.Result{}, true
		}
	}
	return parseAt(doc, i), true
}

// parseAt returns the valid JSON value that starts at i in doc as gjson
// would, with its Index.
func parseAt(doc string, i int) gjson.Result {
	if i < len(doc) && doc[i] == '"' {
		end, escaped := scanString(doc, i)
		if raw := doc[i:end]; !escaped && len(raw) >= 2 {
			return gjson.Result{Type: gjson.String, Raw: raw, Str: raw[1 : len(raw)-1], Index: i}
		}
	}
	end := skipValue(doc, i)
	r := gjson.Parse(doc[i:end])
	r.Index = i
	return r
}

// segmentIndex returns the array index a path segment without escapes
// names.
func segmentIndex(seg string) (int, bool) {
	if seg == "" {
		return 0, false
	}
	n := 0
	for j := 0; j < len(seg); j++ {
		c := seg[j]
		if !isDigit(c) || n > 1<<40 {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// segEqual compares an escaped path segment with a raw JSON key that has no
// escapes.
func segEqual(seg, key string) bool {
	k := 0
	for j := 0; j < len(seg); j++ {
		c := seg[j]
		if c == '\\' && j+1 < len(seg) {
			j++
			c = seg[j]
		}
		if k >= len(key) || key[k] != c {
			return false
		}
		k++
	}
	return k == len(key)
}

// findKey looks for key seg in the object starting at i and returns the
// index of its value; seg holds path escapes when escaped is set. ok is
// false when a key holds a JSON escape.
func findKey(doc string, i int, seg string, escaped bool) (at int, found, ok bool) {
	i = skipWS(doc, i+1)
	for i < len(doc) && doc[i] == '"' {
		kend, kesc := scanString(doc, i)
		if kesc {
			return 0, false, false
		}
		key := doc[i+1 : kend-1]
		i = skipWS(doc, kend)
		i = skipWS(doc, i+1) // the colon
		if (!escaped && key == seg) || (escaped && segEqual(seg, key)) {
			return i, true, true
		}
		i = skipWS(doc, skipValue(doc, i))
		if i < len(doc) && doc[i] == ',' {
			i = skipWS(doc, i+1)
		}
	}
	return 0, false, true
}

// findIndex returns the index of element n of the array starting at i.
func findIndex(doc string, i, n int) (int, bool) {
	i = skipWS(doc, i+1)
	for k := 0; i < len(doc) && doc[i] != ']'; k++ {
		if k == n {
			return i, true
		}
		i = skipWS(doc, skipValue(doc, i))
		if i < len(doc) && doc[i] == ',' {
			i = skipWS(doc, i+1)
		}
	}
	return 0, false
}

// skipString returns the index after the string whose quote is at i:
// eight bytes at a time for a short string, then from quote to quote with
// strings.IndexByte (many bytes a step), each quote checked for the
// backslashes before it.
func skipString(doc string, i int) int {
	i++
	// Most strings are short: the first 32 bytes eight at a time.
	for k := 0; k < 4 && i+8 <= len(doc); k++ {
		m := quoteMask(load64(doc, i))
		if m == 0 {
			i += 8
			continue
		}
		i += bits.TrailingZeros64(m) >> 3
		if doc[i] == '"' {
			return i + 1
		}
		i = min(i+2, len(doc)) // an escape
		break
	}
	for {
		q := strings.IndexByte(doc[i:], '"')
		if q < 0 {
			return len(doc)
		}
		i += q
		n := 0
		for j := i - 1; doc[j] == '\\'; j-- {
			n++
		}
		i++
		if n%2 == 0 {
			return i
		}
	}
}

// scanString returns the index after the string whose quote is at i, and
// whether the string holds an escape: eight bytes at a time, straight to
// the first quote or backslash in them.
func scanString(doc string, i int) (int, bool) {
	escaped := false
	i++
	for {
		if i+8 <= len(doc) {
			m := quoteMask(load64(doc, i))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else {
			for i < len(doc) && doc[i] != '"' && doc[i] != '\\' {
				i++
			}
			if i >= len(doc) {
				return len(doc), escaped
			}
		}
		if doc[i] == '"' {
			return i + 1, escaped
		}
		escaped = true
		i += 2
	}
}

// quoteMask has the high bit set in each byte of x that is '"' or '\\',
// and possibly in bytes above such a byte (a borrow from it): the lowest
// set bit always marks the first quote or backslash, if any.
func quoteMask(x uint64) uint64 {
	quote := x ^ ('"' * ones)
	quote = (quote - ones) & ^quote
	bs := x ^ ('\\' * ones)
	bs = (bs - ones) & ^bs
	return (quote | bs) & highs
}

// structural marks the bytes skipValue stops at inside a container.
var structural = [256]bool{'"': true, '{': true, '[': true, '}': true, ']': true}

// skipValue returns the index after the valid JSON value starting at i.
func skipValue(doc string, i int) int {
	if i >= len(doc) {
		return i
	}
	switch doc[i] {
	case '"':
		return skipString(doc, i)
	case '{', '[':
		depth := 1
		i++
		for i < len(doc) {
			for i+4 <= len(doc) && !structural[doc[i]] && !structural[doc[i+1]] && !structural[doc[i+2]] && !structural[doc[i+3]] {
				i += 4
			}
			for i < len(doc) && !structural[doc[i]] {
				i++
			}
			if i >= len(doc) {
				break
			}
			switch doc[i] {
			case '"':
				i = skipString(doc, i)
				continue
			case '{', '[':
				depth++
			default:
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(doc)
	default:
		for ; i < len(doc); i++ {
			switch doc[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
		}
		return i
	}
}

// getIndexed reads path in doc, an object whose top-level keys start at
// the offsets in keys (each at the key's opening quote; no key holds an
// escape), giving the same Result as get. When the path's first segment
// is one plain key, it jumps to that key's value and reads the rest of the
// path in that value alone, so the values before it are never skipped.
// ok is false when the path needs gjson's whole machinery (wildcards,
// queries on the first segment; modifiers, pipes or multipaths after it; a
// scalar read below): the caller then reads the whole text.
func getIndexed(doc string, keys []uint32, path string) (r gjson.Result, ok bool) {
	seg, rest, escaped, ok := splitIndexedPath(path)
	if !ok {
		return r, false
	}
	for j, off := range keys {
		var k int
		if !escaped {
			k = int(off) + 1 + len(seg)
			if k >= len(doc) || doc[k] != '"' || doc[int(off)+1:k] != seg {
				continue
			}
			k++
		} else {
			var found bool
			if k, found = matchKey(doc, int(off)+1, seg); !found {
				continue
			}
		}
		v := skipWS(doc, k)
		v = skipWS(doc, v+1) // the colon
		if rest != "" && (doc[v] == '{' || doc[v] == '[') {
			// A plain chain is walked in place, positions and all.
			if r, ok := getChainAt(doc, v, rest); ok {
				return r, true
			}
		}
		end := len(doc) - 1 // the closing brace
		if j+1 < len(keys) {
			end = int(keys[j+1])
			end = trimSpaceLeft(doc, end) - 1 // the comma
		}
		end = trimSpaceLeft(doc, end)
		val := doc[v:end]
		if rest == "" {
			r = gjson.Parse(val)
			r.Index = v
			return r, true
		}
		if (val[0] != '{' && val[0] != '[') || !plainRest(rest) {
			return r, false
		}
		r = get(val, rest)
		// Positions are in val; 0 means unknown (a computed value).
		if r.Index > 0 {
			r.Index += v
		}
		for i, x := range r.Indexes {
			if x > 0 {
				r.Indexes[i] = x + v
			}
		}
		return r, true
	}
	// No such key: nothing, unless a modifier or the like after it makes
	// something of nothing.
	return gjson.Result{}, plainRest(rest)
}

// splitIndexedPath splits path into its first segment, an object key
// with gjson's backslash escapes (and without the ':' key marker), and the
// rest after the dot; escaped tells whether seg holds escapes. ok is false
// when the first segment uses any other gjson syntax, is empty or ends in
// a lone backslash, or when the rest is empty or starts with a dot.
func splitIndexedPath(path string) (seg, rest string, escaped, ok bool) {
	start := 0
	if path != "" && path[0] == ':' {
		start = 1
	}
	p := start
scan:
	for p < len(path) {
		c := path[p]
		if !chainByte[c] {
			if c == '"' {
				escaped = true // compared by matchKey, which never matches a quote
			}
			p++
			continue
		}
		switch {
		case c == '.':
			break scan
		case c == '\\':
			if p+1 >= len(path) {
				return "", "", false, false
			}
			escaped = true
			p += 2
		case c == ':' && p != start:
			p++
		default:
			return "", "", false, false
		}
	}
	if p == start {
		return "", "", false, false
	}
	seg = path[start:p]
	if p == len(path) {
		return seg, "", escaped, true
	}
	rest = path[p+1:]
	if rest == "" || rest[0] == '.' {
		return "", "", false, false
	}
	return seg, rest, escaped, true
}

// plainRest reports whether gjson reads rest inside a value as it reads it
// after the value's key: true unless rest holds a pipe, a modifier, a
// static value or a multipath (whose results gjson positions differently),
// or ends in a lone backslash.
func plainRest(rest string) bool {
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '\\':
			if i+1 >= len(rest) {
				return false
			}
			i++
		case '|', '@', '!', '[', ']', '{', '}':
			return false
		}
	}
	return true
}

// matchKey reports whether the JSON key whose text (without escapes)
// starts at i in doc is seg, a path segment with backslash escapes, and
// returns the index after the key's closing quote.
func matchKey(doc string, i int, seg string) (int, bool) {
	for j := 0; j < len(seg); j++ {
		c := seg[j]
		if c == '\\' {
			j++
			c = seg[j]
		}
		if i >= len(doc) || doc[i] != c || c == '"' {
			return 0, false
		}
		i++
	}
	if i >= len(doc) || doc[i] != '"' {
		return 0, false
	}
	return i + 1, true
}
