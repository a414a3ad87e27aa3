package transport

import (
	"io"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
)

// bodySizes remembers the size of the last large body read from each path
// (in a few slots, each holding a hash of its path beside the size, so a
// path never takes another's guess), so that
// the next read of the path sizes its buffer at once. A gzipped response has
// no length to size it by: io.ReadAll's doubling allocated 2.5 times a 13 MB
// list to read it, where one buffer of about the right size costs little
// more than the body. Reads are safe for concurrent use.
type bodySizes struct {
	slots [64]atomic.Int64
}

// minSizeHint is the smallest body worth remembering: below it io.ReadAll's
// first buffer (512 bytes) grows a few times at trivial cost.
const minSizeHint = 64 << 10

// slot returns key's slot and its hash.
func (s *bodySizes) slot(key string) (*atomic.Int64, uint32) {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return &s.slots[h%uint32(len(s.slots))], h
}

// hint returns the size last remembered for key, or 0.
func (s *bodySizes) hint(key string) int64 {
	slot, h := s.slot(key)
	v := slot.Load()
	if uint32(v>>32) != h {
		return 0
	}
	return v & 0xffffffff
}

// remember records the size of key's body: 0, forgetting it, for a small
// one.
func (s *bodySizes) remember(key string, n int) {
	slot, h := s.slot(key)
	if n < minSizeHint || n > 0xffffffff {
		n = 0
	}
	slot.Store(int64(h)<<32 | int64(n))
}

// sizeKey names what a body's size is remembered by: the path and the
// page size asked for (one collection is read whole and in pages of
// several sizes), not the rest of the query (continue tokens).
func sizeKey(u *url.URL) string {
	q := u.RawQuery
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		if v, ok := strings.CutPrefix(kv, "limit="); ok {
			return u.Path + "?limit=" + v
		}
	}
	return u.Path
}

// readBody reads r to the end, at most limit+1 bytes (the caller refuses
// more than limit). known is the body's length when the response announced
// one (-1 otherwise); key names the request path for bodySizes. An announced
// length is trusted only as data arrives (a first megabyte, then the rest at
// once), so a false Content-Length cannot make it allocate what was not sent.
func (s *bodySizes) readBody(r io.Reader, limit, known int64, key string) ([]byte, error) {
	want, first := known, known
	if known < 0 {
		want = s.hint(key)
		want += want / 32 // pages of one list vary a little in size
		first = want
	} else {
		first = min(known, 1<<20)
	}
	want = min(want, limit) + 1 // room for the read that sees EOF
	b := make([]byte, 0, max(min(first, limit)+1, 512))
	r = io.LimitReader(r, limit+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			if known < 0 {
				s.remember(key, len(b))
			}
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			if int64(cap(b)) < want {
				b = slices.Grow(b, int(want)-len(b))
			} else {
				b = append(b, 0)[:len(b)] // grow as io.ReadAll does
			}
		}
	}
}
