package unstructured

import (
	"fmt"
	"iter"
	"unsafe"
)

// listIndexChunk is the number of item offsets in one chunk of an
// itemIndex (16 KiB).
const listIndexChunk = 4096

// keyChunk is the number of uint32 in one chunk of an itemIndex's key
// runs (16 KiB). A run never straddles two chunks; an item with more
// top-level keys than fit in one chunk gets no run.
const keyChunk = 4096

// keyGroup is the number of items that share one entry of
// itemIndex.groups: finding an item's key run walks at most keyGroup-1
// items before it.
const keyGroup = 16

// itemHasKeys is set in an item's start offset when the item has a key
// run (offsets are below MaxListBytes, 1 GiB, so the bit is free).
const itemHasKeys = 1 << 31

// itemIndex records where each item of a list starts, and where each of
// an item's top-level keys starts, so that a read of an item jumps to the
// value of its first path segment instead of skipping the values before
// it (metadata.managedFields, before data, is most of a typical item).
//
// Item starts take four bytes an item (lists are at most MaxListBytes), in
// chunks of listIndexChunk offsets, so that growing the index never copies
// what it holds. An item ends at the last non-space byte before the
// comma that precedes the next item's start; the last item ends at end.
//
// An item with at least one key, none of them holding a JSON escape, has a
// key run in keys: the number of keys, then the offset of each key's
// opening quote from the item's start, in document order (four bytes for
// the count and four a key). Runs are stored in item order in chunks of
// keyChunk; a run that does not fit in the rest of a chunk starts the next
// one, so the tail of a chunk beyond its length is unused. A position in
// keys is chunk*keyChunk + offset. groups[g] is the position from which
// the run of item g*keyGroup (or of the first item after it that has one)
// is found, one uint32 for every keyGroup items, in chunks beside those of
// the starts.
//
// For a ConfigMap (metadata and data) the key index costs 12 bytes an
// item plus a quarter byte for the group: 16.25 bytes an item with the
// start. A page of "{}" items (no runs) costs about 1.4 bytes of index
// per byte of page. Item walks at most keyGroup-1 starts to find a run;
// All finds each in turn.
type itemIndex struct {
	chunks [][]uint32
	n      int
	end    int // the offset just after the last item

	keys   [][]uint32
	groups [][]uint32 // listIndexChunk/keyGroup a chunk, beside chunks
	next   uint32     // the position of the next run in keys
}

// add records an item that starts at start, with run holding a slot for
// the count and then the offsets of its keys.
func (x *itemIndex) add(start int, run []uint32) {
	if x.n%keyGroup == 0 {
		if x.n%listIndexChunk == 0 && x.n/listIndexChunk == len(x.groups) {
			x.groups = append(x.groups, make([]uint32, 0, listIndexChunk/keyGroup))
		}
		g := len(x.groups) - 1
		x.groups[g] = append(x.groups[g], x.next)
	}
	e := uint32(start)
	if len(run) > 1 && len(run) <= keyChunk {
		e |= itemHasKeys
		run[0] = uint32(len(run) - 1)
		x.addRun(run)
	}
	if len(x.chunks) == 0 {
		// Small lists stay small: the first chunk grows to a full one.
		x.chunks = append(x.chunks, make([]uint32, 0, 8))
	}
	last := len(x.chunks) - 1
	if len(x.chunks[last]) == listIndexChunk {
		x.chunks = append(x.chunks, make([]uint32, 0, listIndexChunk))
		last++
	}
	x.chunks[last] = append(x.chunks[last], e)
	x.n++
}

// reserve sizes the first chunks of starts and key runs, and the groups,
// from the first item, of itemLen bytes with a run of runLen, in a list of listLen bytes:
// a small list stays small, a large one does not grow its first chunk.
func (x *itemIndex) reserve(listLen, itemLen, runLen int) {
	items := listLen / max(itemLen, 1)
	x.chunks = append(x.chunks, make([]uint32, 0, min(items+8, listIndexChunk)))
	x.keys = append(x.keys, make([]uint32, 0, min(max(items*runLen+runLen, 16), keyChunk)))
	x.groups = append(x.groups, make([]uint32, 0, min(items/keyGroup+1, listIndexChunk/keyGroup)))
}

func (x *itemIndex) addRun(run []uint32) {
	last := len(x.keys) - 1
	if last < 0 || len(x.keys[last])+len(run) > keyChunk {
		x.keys = append(x.keys, make([]uint32, 0, max(keyChunk, len(run))))
		last++
	}
	x.keys[last] = append(x.keys[last], run...)
	x.next = uint32(last*keyChunk + len(x.keys[last]))
}

// entry returns item i's start with the itemHasKeys bit.
func (x *itemIndex) entry(i int) uint32 {
	return x.chunks[i/listIndexChunk][i%listIndexChunk]
}

// runAt returns the run at position pos, or at the start of the next chunk
// when pos is past the end of its chunk, and the position after it.
func (x *itemIndex) runAt(pos uint32) (*uint32, uint32) {
	c, off := int(pos/keyChunk), int(pos%keyChunk)
	if off >= len(x.keys[c]) {
		c, off = c+1, 0
	}
	run := &x.keys[c][off]
	return run, uint32(c*keyChunk+off) + 1 + *run
}

// keysOf returns item i's key run, or nil.
func (x *itemIndex) keysOf(i int) *uint32 {
	if x.entry(i)&itemHasKeys == 0 {
		return nil
	}
	// Walk the runs of the items before i in its group: a group lies in
	// one chunk of starts, and usually in one chunk of runs.
	pos := x.groups[i/listIndexChunk][i%listIndexChunk/keyGroup]
	c, off := int(pos/keyChunk), int(pos%keyChunk)
	run := x.keys[c]
	within := i % listIndexChunk
	for _, e := range x.chunks[i/listIndexChunk][within/keyGroup*keyGroup : within] {
		if e&itemHasKeys != 0 {
			if off >= len(run) {
				c, off = c+1, 0
				run = x.keys[c]
			}
			off += 1 + int(run[off])
		}
	}
	if off >= len(run) {
		c, off = c+1, 0
	}
	return &x.keys[c][off]
}

// item returns item i of the list whose text is s.
func (x *itemIndex) item(s string, i int) Object {
	if i < 0 || i >= x.n {
		panic(fmt.Sprintf("unstructured: list item %d out of range [0:%d]", i, x.n))
	}
	return x.object(s, i, x.keysOf(i))
}

// object returns item i of the list whose text is s, with keys as its
// key run.
func (x *itemIndex) object(s string, i int, keys *uint32) Object {
	start := int(x.entry(i) &^ itemHasKeys)
	end := x.end
	if i+1 < x.n {
		end = int(x.entry(i+1) &^ itemHasKeys)
		end = trimSpaceLeft(s, end) // before the next item's leading space
		end--                       // the comma
		end = trimSpaceLeft(s, end)
	}
	return Object{raw: s[start:end], keys: keys}
}

// all yields each item of the list whose text is s in order, finding the
// key runs as it goes.
func (x *itemIndex) all(s string) iter.Seq2[int, Object] {
	return func(yield func(int, Object) bool) {
		var pos uint32
		for i := range x.n {
			var keys *uint32
			if x.entry(i)&itemHasKeys != 0 {
				keys, pos = x.runAt(pos)
			}
			if !yield(i, x.object(s, i, keys)) {
				return
			}
		}
	}
}

// keyOffsets returns the offsets of the key run that keys points to: the
// count, then that many offsets.
func keyOffsets(keys *uint32) []uint32 {
	return unsafe.Slice((*uint32)(unsafe.Add(unsafe.Pointer(keys), 4)), *keys)
}
