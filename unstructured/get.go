package unstructured

import (
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
	i := skipWS(doc, 0)
	p := 0
	for p < len(path) {
		// Find the end of the segment and check its syntax.
		seg := p
		if path[p] == ':' {
			seg++ // the key marker; gjson sees the rest
		}
		end := seg
		for end < len(path) && path[end] != '.' {
			switch path[end] {
			case '\\':
				if end+1 >= len(path) {
					return r, false
				}
				end += 2
				continue
			case '*', '?', '#', '@', '|', '!', '=', '(', ')', '[', ']', '{', '}', ':':
				if path[end] != ':' || end == seg {
					return r, false
				}
			}
			end++
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
			i, found, ok = findKey(doc, i, segment)
			if !ok {
				return r, false
			}
			if !found {
				return gjson.Result{}, true
			}
		case '[':
			if strings.IndexByte(segment, '\\') >= 0 {
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
	end := skipValue(doc, i)
	r = gjson.Parse(doc[i:end])
	r.Index = i
	return r, true
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
// index of its value. ok is false when a key holds an escape.
func findKey(doc string, i int, seg string) (at int, found, ok bool) {
	i = skipWS(doc, i+1)
	for i < len(doc) && doc[i] == '"' {
		kend := skipString(doc, i)
		key := doc[i+1 : kend-1]
		if strings.IndexByte(key, '\\') >= 0 {
			return 0, false, false
		}
		i = skipWS(doc, kend)
		i = skipWS(doc, i+1) // the colon
		if segEqual(seg, key) {
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

// skipString returns the index after the string whose quote is at i.
func skipString(doc string, i int) int {
	i++
	for i < len(doc) {
		for i+8 <= len(doc) && !hasQuoteOrBackslash(load64(doc, i)) {
			i += 8
		}
		for i < len(doc) {
			c := doc[i]
			if c == '"' {
				return i + 1
			}
			i++
			if c == '\\' {
				i++
				break
			}
		}
	}
	return len(doc)
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
// queries on the first segment, modifiers, pipes, multipaths, a scalar
// read below): the caller then reads the whole text.
func getIndexed(doc string, keys []uint32, path string) (r gjson.Result, ok bool) {
	seg, rest, ok := splitIndexedPath(path)
	if !ok {
		return r, false
	}
	for j, off := range keys {
		k, found := matchKey(doc, int(off)+1, seg)
		if !found {
			continue
		}
		v := skipWS(doc, k)
		v = skipWS(doc, v+1) // the colon
		end := len(doc) - 1  // the closing brace
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
		if val[0] != '{' && val[0] != '[' {
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
	return gjson.Result{}, true
}

// splitIndexedPath splits path into its first segment, an object key
// with gjson's backslash escapes (and without the ':' key marker), and the
// rest after the dot. ok is false when the first segment uses any other
// gjson syntax, is empty or ends in a lone backslash, or when the rest
// is empty, starts with a dot or uses a pipe, a modifier, a static value
// or a multipath (whose results gjson positions differently).
func splitIndexedPath(path string) (seg, rest string, ok bool) {
	start := 0
	if path != "" && path[0] == ':' {
		start = 1
	}
	p := start
	for p < len(path) && path[p] != '.' {
		switch path[p] {
		case '\\':
			if p+1 >= len(path) {
				return "", "", false
			}
			p += 2
			continue
		case '*', '?', '#', '@', '|', '!', '=', '(', ')', '[', ']', '{', '}':
			return "", "", false
		case ':':
			if p == start {
				return "", "", false
			}
		}
		p++
	}
	if p == start {
		return "", "", false
	}
	seg = path[start:p]
	if p == len(path) {
		return seg, "", true
	}
	rest = path[p+1:]
	if rest == "" || rest[0] == '.' {
		return "", "", false
	}
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '\\':
			if i+1 >= len(rest) {
				return "", "", false
			}
			i++
		case '|', '@', '!', '[', ']', '{', '}':
			return "", "", false
		}
	}
	return seg, rest, true
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
