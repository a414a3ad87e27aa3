package watch

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/unstructured"
)

func cm(ns, name, rv string, labels map[string]string, owners ...string) unstructured.Object {
	b := unstructured.NewBuilder("v1", "ConfigMap").
		Set("metadata.name", name).
		Set("metadata.resourceVersion", rv)
	if ns != "" {
		b.Set("metadata.namespace", ns)
	}
	for k, v := range labels {
		b.Set(unstructured.Path("metadata", "labels", k), v)
	}
	for i, uid := range owners {
		b.Set(fmt.Sprintf("metadata.ownerReferences.%d", i), map[string]any{
			"apiVersion": "example.com/v1", "kind": "Widget", "name": "w" + uid, "uid": uid, "controller": i == 0,
		})
	}
	obj, err := b.Object()
	if err != nil {
		panic(err)
	}
	return obj
}

func names(objs []unstructured.Object) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, ObjectKey(o).String())
	}
	sort.Strings(out)
	return out
}

// storeModes are the two kinds of Store: every behaviour of a plain store
// holds for a compressed one. The compressed store here fixes its
// dictionary after the first object, so the tests' small objects are
// compressed from the second on.
var storeModes = []struct {
	name string
	new  func() *Store
}{
	{"plain", newStore},
	{"compressed", func() *Store {
		s := newCompressedStore()
		s.pack.dictMin = 1
		return s
	}},
}

// forModes runs f as a parallel subtest per store mode.
func forModes(t *testing.T, f func(t *testing.T, newStore func() *Store)) {
	t.Helper()
	for _, m := range storeModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			f(t, m.new)
		})
	}
}

// hasNamespace reports whether s keeps a map for namespace ns.
func hasNamespace(s *Store, ns string) bool {
	if s.pack != nil {
		return s.blobs[ns] != nil
	}
	return s.objs[ns] != nil
}

func TestKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		key Key
		s   string
	}{
		{Key{"ns", "a"}, "ns/a"},
		{Key{"", "node-1"}, "node-1"},
	} {
		t.Run(tc.s, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.s, tc.key.String())
			assert.Equal(t, tc.key, ParseKey(tc.s))
		})
	}
	assert.Equal(t, Key{"ns", "a"}, ObjectKey(cm("ns", "a", "1", nil)))
}

func TestStorePutGetRemove(t *testing.T) {
	t.Parallel()
	forModes(t, testStorePutGetRemove)
}

func testStorePutGetRemove(t *testing.T, newStore func() *Store) {
	s := newStore()
	_, existed := s.put(cm("a", "x", "1", nil))
	assert.False(t, existed)
	s.put(cm("a", "y", "1", nil))
	s.put(cm("b", "x", "1", nil))
	s.put(cm("", "cluster", "1", nil))
	old, existed := s.put(cm("a", "x", "2", nil))
	require.True(t, existed)
	assert.Equal(t, "1", old.ResourceVersion())

	assert.Equal(t, 4, s.Len())
	got, ok := s.Get(Key{"a", "x"})
	require.True(t, ok)
	assert.Equal(t, "2", got.ResourceVersion())
	_, ok = s.Get(Key{"c", "x"})
	assert.False(t, ok)
	assert.Equal(t, []string{"a/x", "a/y"}, names(s.ListNamespace("a")))
	assert.Equal(t, []string{"cluster"}, names(s.ListNamespace("")))
	assert.Equal(t, []string{"a/x", "a/y", "b/x", "cluster"}, names(s.List()))
	assert.Equal(t, []Key{{"", "cluster"}, {"a", "x"}, {"a", "y"}, {"b", "x"}}, s.Keys())

	old, existed = s.remove(Key{"b", "x"})
	require.True(t, existed)
	assert.Equal(t, "b", old.Namespace())
	_, existed = s.remove(Key{"b", "x"})
	assert.False(t, existed)
	assert.Empty(t, s.ListNamespace("b"))
	assert.False(t, hasNamespace(s, "b"), "an emptied namespace is dropped")
	assert.Equal(t, 3, s.Len())
}

func TestStoreIndexes(t *testing.T) {
	t.Parallel()
	forModes(t, testStoreIndexes)
}

func testStoreIndexes(t *testing.T, newStore func() *Store) {
	s := newStore()
	s.put(cm("a", "before", "1", map[string]string{"app": "web"}, "u1"))
	require.NoError(t, s.AddIndexers(DefaultIndexers()))
	require.NoError(t, s.AddIndexers(map[string]IndexFunc{
		"app":  LabelIndex("app"),
		"data": FieldIndex("data.k"),
	}))
	assert.ErrorIs(t, s.AddIndexers(map[string]IndexFunc{"app": LabelIndex("x")}), ErrIndexExists)
	_, err := s.ByIndex("nope", "x")
	assert.ErrorIs(t, err, ErrUnknownIndex)

	s.put(cm("a", "x", "1", map[string]string{"app": "web"}, "u1", "u2"))
	s.put(cm("b", "y", "1", map[string]string{"app": "db"}, "u2"))
	s.put(cm("b", "z", "1", nil))

	byIndex := func(idx, v string) []string {
		objs, err := s.ByIndex(idx, v)
		require.NoError(t, err)
		return names(objs)
	}
	assert.Equal(t, []string{"a/before", "a/x"}, byIndex("app", "web"), "objects stored before the index was added are indexed")
	assert.Equal(t, []string{"b/y"}, byIndex("app", "db"))
	assert.Equal(t, []string{"a/before", "a/x"}, byIndex(IndexOwnerUID, "u1"))
	assert.Equal(t, []string{"a/x", "b/y"}, byIndex(IndexOwnerUID, "u2"))
	assert.Equal(t, []string{"b/y"}, byIndex(IndexControllerUID, "u2"))
	assert.Equal(t, []string{"a/before", "a/x"}, byIndex(IndexControllerUID, "u1"))
	vals, err := s.IndexValues("app")
	require.NoError(t, err)
	assert.Equal(t, []string{"db", "web"}, vals)

	// An update moves the object between index values.
	s.put(cm("a", "x", "2", map[string]string{"app": "db"}, "u2"))
	assert.Equal(t, []string{"a/before"}, byIndex("app", "web"))
	assert.Equal(t, []string{"a/x", "b/y"}, byIndex("app", "db"))
	assert.Equal(t, []string{"a/before"}, byIndex(IndexOwnerUID, "u1"))
	keys, err := s.KeysByIndex("app", "db")
	require.NoError(t, err)
	assert.Equal(t, []Key{{"a", "x"}, {"b", "y"}}, keys)

	// A delete takes it out; an emptied value disappears.
	s.remove(Key{"a", "before"})
	assert.Empty(t, byIndex("app", "web"))
	vals, err = s.IndexValues("app")
	require.NoError(t, err)
	assert.Equal(t, []string{"db"}, vals)
}

func TestFieldIndex(t *testing.T) {
	t.Parallel()
	f := FieldIndex("spec.v")
	for _, tc := range []struct {
		name, obj string
		want      []string
	}{
		{"string", `{"spec":{"v":"a"}}`, []string{"a"}},
		{"number", `{"spec":{"v":12}}`, []string{"12"}},
		{"array", `{"spec":{"v":["a","b"]}}`, []string{"a", "b"}},
		{"null", `{"spec":{"v":null}}`, nil},
		{"missing", `{"spec":{}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, f(unstructured.MustParse(tc.obj)))
		})
	}
}

func TestStoreConcurrentReaders(t *testing.T) {
	t.Parallel()
	forModes(t, testStoreConcurrentReaders)
}

func testStoreConcurrentReaders(t *testing.T, newStore func() *Store) {
	s := newStore()
	require.NoError(t, s.AddIndexers(map[string]IndexFunc{"app": LabelIndex("app")}))
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 2000 {
			o := cm("ns", fmt.Sprint(i%100), fmt.Sprint(i), map[string]string{"app": fmt.Sprint(i % 3)})
			if i%7 == 0 {
				s.remove(ObjectKey(o))
			} else {
				s.put(o)
			}
		}
	})
	for range 3 {
		wg.Go(func() {
			for range 500 {
				_ = s.List()
				_, _ = s.ByIndex("app", "1")
				_ = s.Keys()
				_, _ = s.Get(Key{"ns", "5"})
			}
		})
	}
	wg.Wait()
	// Every index entry points at a stored object with that label.
	total := 0
	for _, v := range []string{"0", "1", "2"} {
		objs, err := s.ByIndex("app", v)
		require.NoError(t, err)
		for _, o := range objs {
			assert.Equal(t, v, o.Labels()["app"])
		}
		total += len(objs)
	}
	assert.Equal(t, s.Len(), total)
}

// TestStoreUpdatesPinNoOldVersions replaces every object of a store (with
// an index) by a new version and checks the heap does not grow: neither the
// name keys (substrings of the objects) nor index entries keep an old
// version alive. Not parallel: it reads heap statistics.
func TestStoreUpdatesPinNoOldVersions(t *testing.T) {
	// Fewer objects compressed: deflate under -race takes a millisecond.
	sizes := map[string]int{"plain": 5000, "compressed": 1000}
	for _, m := range storeModes {
		t.Run(m.name, func(t *testing.T) { testStoreUpdatesPinNoOldVersions(t, m.new, sizes[m.name]) })
	}
}

func testStoreUpdatesPinNoOldVersions(t *testing.T, newStore func() *Store, n int) {
	version := func(i, v int) unstructured.Object {
		return unstructured.MustParse(fmt.Sprintf(`{"metadata":{"namespace":"ns-%d","name":"obj-%05d","resourceVersion":"%d","labels":{"app":"a%d"}},"data":{"v":"%s"}}`,
			i%7, i, v, i%10, strings.Repeat("x", 1000)))
	}
	heap := func() uint64 {
		var m runtime.MemStats
		// Twice: pooled flate writers and readers go only at the second.
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := heap()
	s := newStore()
	require.NoError(t, s.AddIndexers(map[string]IndexFunc{"app": LabelIndex("app")}))
	for i := range n {
		s.put(version(i, 1))
	}
	first := heap() - base
	for v := 2; v <= 4; v++ {
		for i := range n {
			s.put(version(i, v))
		}
	}
	after := heap() - base
	t.Logf("store of %d objects: %d B after the first version, %d B after three more", n, first, after)
	assert.Less(t, float64(after), 1.05*float64(first), "old versions are kept alive")
	obj, ok := s.Get(Key{"ns-3", "obj-00003"})
	require.True(t, ok)
	assert.Equal(t, "4", obj.ResourceVersion())
	runtime.KeepAlive(s)
}

// TestStoreShrinksAfterMassDelete fills a namespace, deletes nearly all of
// it, and checks the heap comes back down: Go maps never shrink, so the
// store rebuilds a namespace's map once most of it is gone. Not parallel:
// it reads heap statistics.
func TestStoreShrinksAfterMassDelete(t *testing.T) {
	// Fewer objects compressed: deflate under -race takes a millisecond.
	sizes := map[string]int{"plain": 50000, "compressed": 5000}
	for _, m := range storeModes {
		t.Run(m.name, func(t *testing.T) { testStoreShrinksAfterMassDelete(t, m.new, sizes[m.name]) })
	}
}

func testStoreShrinksAfterMassDelete(t *testing.T, newStore func() *Store, n int) {
	heap := func() int64 {
		var m runtime.MemStats
		// Twice: the first GC only moves pooled deflate state (the
		// compressed store's writer and readers) to sync.Pool's victim
		// cache; the second frees it.
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	objs := make([]unstructured.Object, n)
	for i := range objs {
		objs[i] = unstructured.MustParse(fmt.Sprintf(`{"metadata":{"namespace":"ns","name":"o-%05d"}}`, i))
	}
	base := heap()
	s := newStore()
	for _, o := range objs {
		s.put(o)
	}
	full := heap() - base
	for _, o := range objs[100:] {
		s.remove(ObjectKey(o))
	}
	left := heap() - base
	t.Logf("map of %d objects: %d B; with 100 left: %d B", n, full, left)
	assert.Less(t, left, full/10)
	assert.Equal(t, 100, s.Len())
	assert.Len(t, s.ListNamespace("ns"), 100)
	runtime.KeepAlive(s)
	runtime.KeepAlive(objs)
}
