package watch

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/kubedyn/kubedyn/unstructured"
)

// Key names an object in a Store: its namespace ("" for a cluster-scoped
// object) and name. Keys are plain comparable values, usable as work-queue
// keys (Queue[Key]).
type Key struct {
	Namespace string
	Name      string
}

// ObjectKey returns the Key of obj (metadata.namespace and metadata.name).
func ObjectKey(obj unstructured.Object) Key {
	return Key{Namespace: obj.Namespace(), Name: obj.Name()}
}

// String returns "namespace/name", or "name" for a cluster-scoped key, as
// client-go's MetaNamespaceKeyFunc does.
func (k Key) String() string {
	if k.Namespace == "" {
		return k.Name
	}
	return k.Namespace + "/" + k.Name
}

// ParseKey is the inverse of Key.String: "ns/name" or "name".
func ParseKey(s string) Key {
	if ns, name, ok := strings.Cut(s, "/"); ok {
		return Key{Namespace: ns, Name: name}
	}
	return Key{Name: s}
}

// Errors of Store's index methods.
var (
	// ErrUnknownIndex: ByIndex or IndexValues named an index that was
	// never added.
	ErrUnknownIndex = errors.New("watch: unknown index")
	// ErrIndexExists: AddIndexers named an index that already exists.
	ErrIndexExists = errors.New("watch: index already exists")
)

// Store is an informer's cache: the objects of one resource as the server
// last reported them, by namespace and name, with optional indexes. Objects
// are immutable unstructured.Objects held as their own copies (never a
// slice of a list page or watch buffer), so they may be handed out and
// kept without copying.
//
// A compressed store (InformerOptions.Compress) holds each object deflated
// against a dictionary made of the resource's first objects instead, and
// every read decompresses into a new Object the caller owns. A stored
// object that fails to decompress (only a bug or corrupted memory can
// cause it) makes the read panic with an error naming the object, rather
// than return a wrong or missing object.
//
// Only the informer that owns a Store changes it. A Store is safe for
// concurrent use by multiple goroutines; readers never see a half-applied
// change, and every method returns a snapshot (slices the caller owns).
type Store struct {
	mu sync.RWMutex
	// One of the two tables is used: objs for a plain store, blobs (see
	// pack.go) when pack is set.
	objs  table[unstructured.Object]
	blobs table[string]
	pack  *packer
	n     int

	indexers map[string]IndexFunc
	indices  map[string]index
}

// table maps namespace -> name -> value. Each name key is a substring of
// its current value (the object, or its blob; Go overwrites a string key
// on assignment), so keys cost no memory of their own; the namespace keys
// are copies, shared by every object of the namespace.
type table[V any] map[string]*space[V]

// space holds the values of one namespace. Go maps never shrink, so when
// a namespace loses most of the objects it once held its map is rebuilt at
// the current size.
type space[V any] struct {
	names map[string]V
	peak  int
}

func (t table[V]) get(k Key) (V, bool) {
	sp := t[k.Namespace]
	if sp == nil {
		var zero V
		return zero, false
	}
	v, ok := sp.names[k.Name]
	return v, ok
}

// set stores v under namespace ns and name, which must be part of v's
// memory, and returns what it replaced.
func (t table[V]) set(ns, name string, v V) (old V, existed bool) {
	sp, ok := t[ns]
	if !ok {
		sp = &space[V]{names: map[string]V{}}
		t[strings.Clone(ns)] = sp
	}
	old, existed = sp.names[name]
	sp.names[name] = v
	if !existed {
		sp.peak = max(sp.peak, len(sp.names))
	}
	return old, existed
}

func (t table[V]) delete(k Key) (old V, existed bool) {
	sp := t[k.Namespace]
	if sp == nil {
		return old, false
	}
	old, existed = sp.names[k.Name]
	if !existed {
		return old, false
	}
	delete(sp.names, k.Name)
	switch n := len(sp.names); {
	case n == 0:
		delete(t, k.Namespace)
	case sp.peak > 1024 && n < sp.peak/4:
		// Rebuilt at the current size after three quarters of the peak
		// went: the copy costs less than the deletes did.
		names := make(map[string]V, n)
		for name, v := range sp.names {
			names[name] = v
		}
		sp.names, sp.peak = names, n
	}
	return old, true
}

// index maps an index value to the keys of the objects that produce it.
type index map[string]map[Key]struct{}

func newStore() *Store {
	return &Store{objs: table[unstructured.Object]{}}
}

func newCompressedStore() *Store {
	return &Store{blobs: table[string]{}, pack: &packer{dictMin: packDictMin}}
}

// unpack returns the object a blob holds, panicking if it is damaged.
func (s *Store) unpack(blob string) unstructured.Object {
	obj, err := s.pack.decode(blob)
	if err != nil {
		name, _, _, _ := blobHeader(blob)
		panic(fmt.Errorf("watch: compressed store: object %q cannot be read: %w", name, err))
	}
	return obj
}

// unpackAll decompresses blobs (gathered under the lock) after it.
func (s *Store) unpackAll(blobs []string) []unstructured.Object {
	out := make([]unstructured.Object, len(blobs))
	for i, b := range blobs {
		out[i] = s.unpack(b)
	}
	return out
}

// Get returns the object stored under k.
func (s *Store) Get(k Key) (unstructured.Object, bool) {
	s.mu.RLock()
	if s.pack == nil {
		obj, ok := s.objs.get(k)
		s.mu.RUnlock()
		return obj, ok
	}
	blob, ok := s.blobs.get(k)
	s.mu.RUnlock()
	if !ok {
		return unstructured.Object{}, false
	}
	return s.unpack(blob), true
}

// ResourceVersionOf returns the resourceVersion of the object stored
// under k, and whether one is stored. With Keys it makes a Store the
// KeyStore a Watcher compares a relist with. A compressed store keeps
// each resourceVersion beside its object and answers without
// decompressing.
func (s *Store) ResourceVersionOf(k Key) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.pack == nil {
		obj, ok := s.objs.get(k)
		if !ok {
			return "", false
		}
		return obj.ResourceVersion(), true
	}
	blob, ok := s.blobs.get(k)
	if !ok {
		return "", false
	}
	_, rv, _, err := blobHeader(blob)
	if err != nil {
		panic(fmt.Errorf("watch: compressed store: object %s cannot be read: %w", k, err))
	}
	return rv, true
}

// Len returns the number of objects.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.n
}

// List returns every object, in no particular order.
func (s *Store) List() []unstructured.Object {
	s.mu.RLock()
	if s.pack == nil {
		defer s.mu.RUnlock()
		out := make([]unstructured.Object, 0, s.n)
		for _, sp := range s.objs {
			for _, obj := range sp.names {
				out = append(out, obj)
			}
		}
		return out
	}
	blobs := make([]string, 0, s.n)
	for _, sp := range s.blobs {
		for _, b := range sp.names {
			blobs = append(blobs, b)
		}
	}
	s.mu.RUnlock()
	return s.unpackAll(blobs)
}

// ListNamespace returns the objects of namespace ns ("" for cluster-scoped
// objects), in no particular order. It needs no index.
func (s *Store) ListNamespace(ns string) []unstructured.Object {
	s.mu.RLock()
	if s.pack == nil {
		defer s.mu.RUnlock()
		var names map[string]unstructured.Object
		if sp := s.objs[ns]; sp != nil {
			names = sp.names
		}
		out := make([]unstructured.Object, 0, len(names))
		for _, obj := range names {
			out = append(out, obj)
		}
		return out
	}
	var names map[string]string
	if sp := s.blobs[ns]; sp != nil {
		names = sp.names
	}
	blobs := make([]string, 0, len(names))
	for _, b := range names {
		blobs = append(blobs, b)
	}
	s.mu.RUnlock()
	return s.unpackAll(blobs)
}

// Keys returns the keys of every object, sorted by namespace and name.
func (s *Store) Keys() []Key {
	s.mu.RLock()
	out := make([]Key, 0, s.n)
	if s.pack == nil {
		out = appendKeys(out, s.objs)
	} else {
		out = appendKeys(out, s.blobs)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, compareKeys)
	return out
}

func appendKeys[V any](out []Key, t table[V]) []Key {
	for ns, sp := range t {
		for name := range sp.names {
			out = append(out, Key{ns, name})
		}
	}
	return out
}

func compareKeys(a, b Key) int {
	if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// ByIndex returns the objects whose index function produced value, in no
// particular order. An unknown index is ErrUnknownIndex.
func (s *Store) ByIndex(indexName, value string) ([]unstructured.Object, error) {
	s.mu.RLock()
	idx, ok := s.indices[indexName]
	if !ok {
		s.mu.RUnlock()
		return nil, fmt.Errorf("by index %q: %w", indexName, ErrUnknownIndex)
	}
	keys := idx[value]
	if s.pack == nil {
		defer s.mu.RUnlock()
		out := make([]unstructured.Object, 0, len(keys))
		for k := range keys {
			out = append(out, s.objs[k.Namespace].names[k.Name])
		}
		return out, nil
	}
	blobs := make([]string, 0, len(keys))
	for k := range keys {
		blobs = append(blobs, s.blobs[k.Namespace].names[k.Name])
	}
	s.mu.RUnlock()
	return s.unpackAll(blobs), nil
}

// KeysByIndex is ByIndex returning keys, sorted.
func (s *Store) KeysByIndex(indexName, value string) ([]Key, error) {
	s.mu.RLock()
	idx, ok := s.indices[indexName]
	if !ok {
		s.mu.RUnlock()
		return nil, fmt.Errorf("keys by index %q: %w", indexName, ErrUnknownIndex)
	}
	out := make([]Key, 0, len(idx[value]))
	for k := range idx[value] {
		out = append(out, k)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, compareKeys)
	return out, nil
}

// IndexValues returns the values an index holds, sorted.
func (s *Store) IndexValues(indexName string) ([]string, error) {
	s.mu.RLock()
	idx, ok := s.indices[indexName]
	if !ok {
		s.mu.RUnlock()
		return nil, fmt.Errorf("index values %q: %w", indexName, ErrUnknownIndex)
	}
	out := make([]string, 0, len(idx))
	for v := range idx {
		out = append(out, v)
	}
	s.mu.RUnlock()
	slices.Sort(out)
	return out, nil
}

// AddIndexers adds indexes, built at once over the objects already stored
// and kept up to date from then on. A name that exists already is
// ErrIndexExists, and then no index is added.
func (s *Store) AddIndexers(indexers map[string]IndexFunc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, f := range indexers {
		if _, ok := s.indexers[name]; ok {
			return fmt.Errorf("add indexer %q: %w", name, ErrIndexExists)
		}
		if f == nil {
			return fmt.Errorf("add indexer %q: nil IndexFunc", name)
		}
	}
	if s.indexers == nil {
		s.indexers, s.indices = map[string]IndexFunc{}, map[string]index{}
	}
	for name, f := range indexers {
		s.indexers[name] = f
		idx := index{}
		s.indices[name] = idx
		if s.pack == nil {
			for ns, sp := range s.objs {
				for name, obj := range sp.names {
					idx.add(f(obj), Key{ns, strings.Clone(name)})
				}
			}
			continue
		}
		for ns, sp := range s.blobs {
			for name, blob := range sp.names {
				idx.add(f(s.unpack(blob)), Key{ns, strings.Clone(name)})
			}
		}
	}
	return nil
}

// put stores obj under its key and returns what it replaced. obj must be
// the informer's own copy.
func (s *Store) put(obj unstructured.Object) (old unstructured.Object, existed bool) {
	return s.putOld(obj, true)
}

// putOld is put; without wantOld, a compressed store may skip
// decompressing the object replaced and return a zero old.
func (s *Store) putOld(obj unstructured.Object, wantOld bool) (old unstructured.Object, existed bool) {
	k := ObjectKey(obj)
	if s.pack == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		old, existed = s.objs.set(k.Namespace, k.Name, obj)
		if !existed {
			s.n++
		}
		s.reindex(k, old, obj, existed, true)
		return old, existed
	}
	// Compressed outside the lock: readers wait for the map only.
	blob, name := s.pack.encode(obj, k.Name, obj.ResourceVersion())
	var oldBlob string
	func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		oldBlob, existed = s.blobs.set(k.Namespace, name, blob)
		if !existed {
			s.n++
		}
		if existed && len(s.indexers) > 0 {
			old = s.unpack(oldBlob)
		}
		s.reindex(k, old, obj, existed, true)
	}()
	if existed && wantOld && old.IsZero() {
		old = s.unpack(oldBlob)
	}
	return old, existed
}

// remove deletes the object under k and returns it.
func (s *Store) remove(k Key) (old unstructured.Object, existed bool) {
	return s.removeOld(k, true)
}

// removeOld is remove; without wantOld, a compressed store may skip
// decompressing the object removed and return a zero old.
func (s *Store) removeOld(k Key, wantOld bool) (old unstructured.Object, existed bool) {
	if s.pack == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		old, existed = s.objs.delete(k)
		if !existed {
			return old, false
		}
		s.n--
		s.reindex(k, old, unstructured.Object{}, true, false)
		return old, true
	}
	var oldBlob string
	func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if oldBlob, existed = s.blobs.delete(k); existed {
			s.n--
			if len(s.indexers) > 0 {
				old = s.unpack(oldBlob)
				s.reindex(k, old, unstructured.Object{}, true, false)
			}
		}
	}()
	if !existed {
		return old, false
	}
	if wantOld && old.IsZero() {
		old = s.unpack(oldBlob)
	}
	return old, true
}

// reindex moves k from old's index values to obj's; s.mu held.
func (s *Store) reindex(k Key, old, obj unstructured.Object, hadOld, hasNew bool) {
	if len(s.indexers) == 0 {
		return
	}
	// Index sets hold keys of their own: a key sliced from an object would
	// keep that version alive after it is replaced. They are copied only
	// when an index gains an entry.
	var owned Key
	own := func() Key {
		if owned.Name == "" {
			owned = Key{strings.Clone(k.Namespace), strings.Clone(k.Name)}
		}
		return owned
	}
	for name, f := range s.indexers {
		idx := s.indices[name]
		var before, after []string
		if hadOld {
			before = f(old)
		}
		if hasNew {
			after = f(obj)
		}
		for _, v := range before {
			if !slices.Contains(after, v) {
				idx.remove(v, k)
			}
		}
		for _, v := range after {
			if !slices.Contains(before, v) {
				idx.add([]string{v}, own())
			}
		}
	}
}

func (idx index) add(values []string, k Key) {
	for _, v := range values {
		set, ok := idx[v]
		if !ok {
			set = map[Key]struct{}{}
			idx[strings.Clone(v)] = set
		}
		set[k] = struct{}{}
	}
}

func (idx index) remove(v string, k Key) {
	set := idx[v]
	delete(set, k)
	if len(set) == 0 {
		delete(idx, v)
	}
}
