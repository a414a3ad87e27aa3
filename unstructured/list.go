package unstructured

import (
	"fmt"
	"iter"

	"github.com/tidwall/gjson"
)

// List is a list response (PodList, ConfigMapList, v1 List...) validated
// and indexed in one pass: its items are sub-strings of the list's text,
// found while validating, so reading them copies nothing. The same pass
// records where each item's top-level keys start (4 bytes a key and 4 an
// item beside the item's own 4), so that Object.Get on an item goes
// straight to the value of the path's first key: reading data after a
// large metadata (managedFields) costs what reading metadata.name does.
//
// A List is immutable and safe for concurrent use. Its items share the
// list's memory: keeping one item keeps the whole list alive, so a cache
// that keeps items should keep Object.Clone copies.
type List struct {
	raw      string
	metadata string
	items    itemIndex
}

// ParseList validates data as a list and finds its items in one pass. It
// copies data, so the caller may reuse the slice. A list is a JSON object
// whose "items", when present, is an array of objects (or null); the whole
// text is held to the same rules as Parse (well-formed, MaxDepth, no
// duplicate keys), with MaxListBytes as the size limit. Errors are
// *SyntaxError values; truncated input is always refused.
func ParseList(data []byte) (List, error) {
	if err := checkListSize(len(data)); err != nil {
		return List{}, err
	}
	return parseList(string(data))
}

// ParseListNoCopy is ParseList without the copy: the List takes ownership
// of data, and the caller must never modify data afterwards (the items
// would change under their readers).
func ParseListNoCopy(data []byte) (List, error) {
	if err := checkListSize(len(data)); err != nil {
		return List{}, err
	}
	return parseList(bytesString(data))
}

// ParseListString is ParseList for a string (no copy is made).
func ParseListString(s string) (List, error) {
	if err := checkListSize(len(s)); err != nil {
		return List{}, err
	}
	return parseList(s)
}

func checkListSize(n int) error {
	if n > MaxListBytes {
		return fmt.Errorf("parse list: %w", &SyntaxError{Offset: MaxListBytes,
			Msg: fmt.Sprintf("list of %d bytes exceeds the limit of %d", n, MaxListBytes), Err: ErrTooLarge})
	}
	return nil
}

func parseList(s string) (List, error) {
	sc := getScanner()
	sc.list = true
	err := sc.validate(s)
	l := List{raw: s, metadata: sc.metadata, items: sc.items}
	putScanner(sc)
	if err != nil {
		return List{}, fmt.Errorf("parse list: %w", err)
	}
	return l, nil
}

// String returns the list's JSON text.
func (l List) String() string { return l.raw }

// MarshalJSON returns the list's JSON text, or null for the zero List.
func (l List) MarshalJSON() ([]byte, error) {
	if l.raw == "" {
		return []byte("null"), nil
	}
	return []byte(l.raw), nil
}

// Get reads the value at a gjson path in the whole list, as Object.Get does.
func (l List) Get(path string) gjson.Result { return get(l.raw, path) }

// APIVersion returns the list's apiVersion, or "".
func (l List) APIVersion() string { return validString(gjson.Get(l.raw, "apiVersion").String()) }

// Kind returns the list's kind, such as "ConfigMapList", or "".
func (l List) Kind() string { return validString(gjson.Get(l.raw, "kind").String()) }

// Len returns the number of items.
func (l List) Len() int { return l.items.n }

// Item returns item i; it panics if i is out of range, like a slice index.
// It allocates nothing, and walks at most 15 entries of the index to find
// the item's keys (All finds each in turn).
func (l List) Item(i int) Object { return l.items.item(l.raw, i) }

// Items returns the list's items in order, in a new slice whose Objects
// share the list's memory (no JSON is copied). The slice itself costs 24
// bytes an item, which for a page of tiny items is several times the
// page's size: All and Item allocate nothing. Items served by the API
// server usually have no apiVersion and kind of their own.
func (l List) Items() []Object {
	if l.items.n == 0 {
		return nil
	}
	out := make([]Object, 0, l.items.n)
	for _, it := range l.All() {
		out = append(out, it)
	}
	return out
}

// All yields each item with its index, allocating nothing.
func (l List) All() iter.Seq2[int, Object] {
	return l.items.all(l.raw)
}

// Continue returns metadata.continue, the token for the next page, or "".
func (l List) Continue() string {
	return validString(gjson.Get(l.metadata, "continue").String())
}

// ResourceVersion returns metadata.resourceVersion, or "".
func (l List) ResourceVersion() string {
	return validString(gjson.Get(l.metadata, "resourceVersion").String())
}

// RemainingItemCount returns metadata.remainingItemCount and whether the
// server sent it.
func (l List) RemainingItemCount() (int64, bool) {
	r := gjson.Get(l.metadata, "remainingItemCount")
	return r.Int(), r.Type == gjson.Number
}
