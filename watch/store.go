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
// Only the informer that owns a Store changes it. A Store is safe for
// concurrent use by multiple goroutines; readers never see a half-applied
// change, and every method returns a snapshot (slices the caller owns).
type Store struct {
	mu sync.RWMutex
	// spaces maps namespace -> name -> object. Each name key is a
	// substring of its current object (Go overwrites a string key on
	// assignment), so keys cost no memory of their own; the namespace
	// keys are copies, shared by every object of the namespace.
	spaces map[string]*space
	n      int

	indexers map[string]IndexFunc
	indices  map[string]index
}

// space holds the objects of one namespace. Go maps never shrink, so when
// a namespace loses most of the objects it once held its map is rebuilt at
// the current size.
type space struct {
	names map[string]unstructured.Object
	peak  int
}

// index maps an index value to the keys of the objects that produce it.
type index map[string]map[Key]struct{}

func newStore() *Store {
	return &Store{spaces: map[string]*space{}}
}

// Get returns the object stored under k.
func (s *Store) Get(k Key) (unstructured.Object, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sp := s.spaces[k.Namespace]
	if sp == nil {
		return unstructured.Object{}, false
	}
	obj, ok := sp.names[k.Name]
	return obj, ok
}

// ResourceVersionOf returns the resourceVersion of the object stored
// under k, and whether one is stored. With Keys it makes a Store the
// KeyStore a Watcher compares a relist with.
func (s *Store) ResourceVersionOf(k Key) (string, bool) {
	obj, ok := s.Get(k)
	if !ok {
		return "", false
	}
	return obj.ResourceVersion(), true
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
	defer s.mu.RUnlock()
	out := make([]unstructured.Object, 0, s.n)
	for _, sp := range s.spaces {
		for _, obj := range sp.names {
			out = append(out, obj)
		}
	}
	return out
}

// ListNamespace returns the objects of namespace ns ("" for cluster-scoped
// objects), in no particular order. It needs no index.
func (s *Store) ListNamespace(ns string) []unstructured.Object {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var names map[string]unstructured.Object
	if sp := s.spaces[ns]; sp != nil {
		names = sp.names
	}
	out := make([]unstructured.Object, 0, len(names))
	for _, obj := range names {
		out = append(out, obj)
	}
	return out
}

// Keys returns the keys of every object, sorted by namespace and name.
func (s *Store) Keys() []Key {
	s.mu.RLock()
	out := make([]Key, 0, s.n)
	for ns, sp := range s.spaces {
		for name := range sp.names {
			out = append(out, Key{ns, name})
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, compareKeys)
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
	defer s.mu.RUnlock()
	idx, ok := s.indices[indexName]
	if !ok {
		return nil, fmt.Errorf("by index %q: %w", indexName, ErrUnknownIndex)
	}
	keys := idx[value]
	out := make([]unstructured.Object, 0, len(keys))
	for k := range keys {
		out = append(out, s.spaces[k.Namespace].names[k.Name])
	}
	return out, nil
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
		for ns, sp := range s.spaces {
			for name, obj := range sp.names {
				idx.add(f(obj), Key{ns, strings.Clone(name)})
			}
		}
	}
	return nil
}

// put stores obj under its key and returns what it replaced. obj must be
// the informer's own copy.
func (s *Store) put(obj unstructured.Object) (old unstructured.Object, existed bool) {
	k := ObjectKey(obj)
	s.mu.Lock()
	defer s.mu.Unlock()
	sp, ok := s.spaces[k.Namespace]
	if !ok {
		sp = &space{names: map[string]unstructured.Object{}}
		s.spaces[strings.Clone(k.Namespace)] = sp
	}
	old, existed = sp.names[k.Name]
	sp.names[k.Name] = obj
	if !existed {
		s.n++
		sp.peak = max(sp.peak, len(sp.names))
	}
	s.reindex(k, old, obj, existed, true)
	return old, existed
}

// remove deletes the object under k and returns it.
func (s *Store) remove(k Key) (old unstructured.Object, existed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.spaces[k.Namespace]
	if sp == nil {
		return unstructured.Object{}, false
	}
	old, existed = sp.names[k.Name]
	if !existed {
		return old, false
	}
	delete(sp.names, k.Name)
	switch n := len(sp.names); {
	case n == 0:
		delete(s.spaces, k.Namespace)
	case sp.peak > 1024 && n < sp.peak/4:
		// Rebuilt at the current size after three quarters of the peak
		// went: the copy costs less than the deletes did.
		names := make(map[string]unstructured.Object, n)
		for name, obj := range sp.names {
			names[name] = obj
		}
		sp.names, sp.peak = names, n
	}
	s.n--
	s.reindex(k, old, unstructured.Object{}, true, false)
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
