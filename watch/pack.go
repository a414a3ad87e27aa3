package watch

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unsafe"

	"github.com/kubedyn/kubedyn/unstructured"
)

// A compressed Store (InformerOptions.Compress) holds each object as one
// string, its blob:
//
//	kind byte | uvarint len(name) | name | uvarint len(rv) | rv | body
//
// where body is, for blobRaw, the object's JSON, and for blobDeflate the
// uvarint length of the JSON followed by its raw deflate stream against
// the store's preset dictionary. The store's map keys are the name inside
// the blob (no memory of their own, nothing decompressed kept alive), and
// ResourceVersionOf reads rv without decompressing.
const (
	blobRaw     byte = 'r'
	blobDeflate byte = 'd'
)

// The preset dictionary is the JSON of the first objects stored, whole
// objects until it holds at least packDictMin bytes, cut to flate's
// window. Objects of one resource share most of their text, so a few of
// them make a good dictionary; every byte of it is hashed again for each
// object compressed, so it is kept small: 4 KiB of ConfigMaps compresses
// them to ~100 B each, 6% smaller than one object's worth, and 32 KiB only
// 11% smaller again at three times the time.
const (
	packDictMin = 4 << 10
	packDictMax = 32 << 10 // flate's window
)

// packer compresses objects for one Store. Until its dictionary is
// complete, objects are held as they are (blobRaw); the dictionary never
// changes after that, so nothing is ever recompressed.
type packer struct {
	dictMin int // packDictMin unless a test sets it

	mu      sync.Mutex
	pending []byte // the first objects, while the dictionary fills
	// dict is set once, by encode, before any blob compressed with it is
	// stored; readers reach such a blob only through the store's lock,
	// which orders the two.
	dict    []byte
	writers sync.Pool // *packWriter with dict, created on demand
}

// packWriter is a deflate writer bound to a packer's dictionary and the
// buffer its blobs are built in. It holds 1.6 MB (flate's hash chains and
// window): pooled, it is reused through a sync and freed by the second
// garbage collection after the store's writes stop.
type packWriter struct {
	buf bytes.Buffer
	w   *flate.Writer
}

// packReader is a deflate reader; its dictionary is given on each Reset,
// so one pool serves every store.
type packReader struct {
	src strings.Reader // an io.ByteReader, so flate adds no bufio.Reader
	r   io.ReadCloser
}

var packReaders sync.Pool // *packReader

// encode returns obj's blob, and the name inside it to key it by.
func (p *packer) encode(obj unstructured.Object, name, rv string) (blob, key string) {
	raw := obj.String()
	dict := p.dictionary(raw)
	var pw *packWriter
	if dict != nil {
		pw, _ = p.writers.Get().(*packWriter)
	}
	if pw == nil {
		pw = &packWriter{}
	}
	b := &pw.buf
	b.Reset()
	b.WriteByte(blobRaw)
	writeUvarint(b, uint64(len(name)))
	nameAt := b.Len()
	b.WriteString(name)
	writeUvarint(b, uint64(len(rv)))
	b.WriteString(rv)
	if dict != nil {
		head := b.Len()
		writeUvarint(b, uint64(len(raw)))
		if pw.w == nil {
			// Only a bad level fails; BestCompression is a good one.
			pw.w, _ = flate.NewWriterDict(b, flate.BestCompression, dict)
		} else {
			pw.w.Reset(b)
		}
		// The writer copies what it is given into its window and never
		// changes it, so it may read the object's memory directly.
		_, werr := pw.w.Write(unsafe.Slice(unsafe.StringData(raw), len(raw)))
		cerr := pw.w.Close()
		if werr == nil && cerr == nil && b.Len()-head < len(raw) {
			b.Bytes()[0] = blobDeflate
		} else {
			b.Truncate(head) // no smaller (or, impossibly, failed): held as is
		}
	}
	if b.Bytes()[0] == blobRaw {
		b.WriteString(raw)
	}
	blob = b.String()
	if dict != nil {
		p.writers.Put(pw)
	}
	return blob, blob[nameAt : nameAt+len(name)]
}

// dictionary returns the dictionary, or nil while it is still being
// collected from the objects stored (raw among them).
func (p *packer) dictionary(raw string) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dict != nil {
		return p.dict
	}
	p.pending = append(p.pending, raw...)
	if len(p.pending) < p.dictMin {
		return nil
	}
	p.dict = bytes.Clone(p.pending[:min(len(p.pending), packDictMax)])
	p.pending = nil
	// The object that completed the dictionary is held raw too: it is in
	// the dictionary, and the rule "raw until the dictionary is fixed"
	// stays simple.
	return nil
}

// blobHeader returns the name and resourceVersion in a blob, and where its
// body starts.
func blobHeader(blob string) (name, rv string, body int, err error) {
	i := 1
	field := func() (string, error) {
		n, w := binary.Uvarint(stringBytes(blob[i:]))
		if w <= 0 || uint64(len(blob)-i-w) < n {
			return "", errCorruptBlob
		}
		s := blob[i+w : i+w+int(n)]
		i += w + int(n)
		return s, nil
	}
	if len(blob) == 0 {
		return "", "", 0, errCorruptBlob
	}
	if name, err = field(); err != nil {
		return "", "", 0, err
	}
	if rv, err = field(); err != nil {
		return "", "", 0, err
	}
	return name, rv, i, nil
}

var errCorruptBlob = errors.New("corrupt blob")

// decode returns the object a blob holds, in memory of its own. An error
// means the blob is damaged (which only a bug or corrupted memory can
// cause): the caller must not use the object.
func (p *packer) decode(blob string) (unstructured.Object, error) {
	_, _, body, err := blobHeader(blob)
	if err != nil {
		return unstructured.Object{}, err
	}
	if blob[0] == blobRaw {
		// A copy, like every read: a caller keeping it keeps no blob.
		return unstructured.ParseString(strings.Clone(blob[body:]))
	}
	if blob[0] != blobDeflate {
		return unstructured.Object{}, fmt.Errorf("%w: kind %q", errCorruptBlob, blob[0])
	}
	n, w := binary.Uvarint(stringBytes(blob[body:]))
	if w <= 0 || n > unstructured.MaxObjectBytes {
		return unstructured.Object{}, fmt.Errorf("%w: length", errCorruptBlob)
	}
	pr, _ := packReaders.Get().(*packReader)
	if pr == nil {
		pr = &packReader{}
	}
	pr.src.Reset(blob[body+w:])
	if pr.r == nil {
		pr.r = flate.NewReaderDict(&pr.src, p.dict)
	} else if err := pr.r.(flate.Resetter).Reset(&pr.src, p.dict); err != nil {
		return unstructured.Object{}, fmt.Errorf("decompress: %w", err)
	}
	out := make([]byte, n)
	_, err = io.ReadFull(pr.r, out)
	if err == nil {
		// The stream must end exactly there.
		var one [1]byte
		if k, rerr := pr.r.Read(one[:]); k != 0 || rerr != io.EOF {
			err = fmt.Errorf("%w: longer than its length", errCorruptBlob)
		}
	}
	packReaders.Put(pr)
	if err != nil {
		return unstructured.Object{}, fmt.Errorf("decompress: %w", err)
	}
	return unstructured.ParseString(unsafe.String(unsafe.SliceData(out), len(out)))
}

func writeUvarint(b *bytes.Buffer, v uint64) {
	var tmp [binary.MaxVarintLen64]byte
	b.Write(tmp[:binary.PutUvarint(tmp[:], v)])
}

func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
