package watch

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/unstructured"
)

// varied renders version v of object i: labels, owners and data change
// with both, so index values move between versions.
func varied(ns string, i, v int) unstructured.Object {
	var owners []string
	for j := range (i + v) % 3 {
		owners = append(owners, fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs-%d","uid":"uid-%d","controller":%v}`, (i+j)%7, (i+j+v)%7, j == 0))
	}
	return unstructured.MustParse(fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg-%03d","namespace":%q,"uid":"u-%d","resourceVersion":"%d","labels":{"app":"a%d","tier":"t%d"},"ownerReferences":[%s]},"data":{"k":"%s","v":"%d"}}`,
		i, ns, i, 1000*v+i, (i+v)%5, i%3, strings.Join(owners, ","), strings.Repeat(fmt.Sprint(v), 1+i%40), v))
}

// TestCompressedStoreMatchesPlain drives a plain and a compressed store
// (with its real dictionary threshold, so the first objects are held
// before the dictionary is fixed and the rest are compressed) through the
// same puts, updates and deletes, adding indexes half way, and checks
// after every batch that every read gives identical objects.
func TestCompressedStoreMatchesPlain(t *testing.T) {
	t.Parallel()
	plain, packed := newStore(), newCompressedStore()
	namespaces := []string{"", "a", "b"}
	rng := rand.New(rand.NewPCG(7, 13))
	version := map[Key]int{}
	indexers := map[string]IndexFunc{
		IndexOwnerUID:      OwnerUIDs,
		IndexControllerUID: ControllerUID,
		"app":              LabelIndex("app"),
		"k":                FieldIndex("data.k"),
	}
	sorted := func(objs []unstructured.Object) []string {
		out := make([]string, len(objs))
		for i, o := range objs {
			out[i] = o.String()
		}
		slices.Sort(out)
		return out
	}
	compare := func(step int) {
		require.Equal(t, plain.Len(), packed.Len(), "step %d", step)
		require.Equal(t, plain.Keys(), packed.Keys(), "step %d", step)
		require.Equal(t, sorted(plain.List()), sorted(packed.List()), "step %d", step)
		for _, ns := range append(namespaces, "none") {
			require.Equal(t, sorted(plain.ListNamespace(ns)), sorted(packed.ListNamespace(ns)), "step %d ns %q", step, ns)
		}
		for i := range 120 {
			k := Key{namespaces[i%3], fmt.Sprintf("cfg-%03d", i)}
			po, pok := plain.Get(k)
			co, cok := packed.Get(k)
			require.Equal(t, pok, cok, "step %d %s", step, k)
			require.Equal(t, po.String(), co.String(), "step %d %s", step, k)
			prv, pok := plain.ResourceVersionOf(k)
			crv, cok := packed.ResourceVersionOf(k)
			require.Equal(t, pok, cok)
			require.Equal(t, prv, crv, "step %d %s", step, k)
		}
		if plain.indexers == nil {
			return
		}
		for name := range indexers {
			pv, err := plain.IndexValues(name)
			require.NoError(t, err)
			cv, err := packed.IndexValues(name)
			require.NoError(t, err)
			require.Equal(t, pv, cv, "step %d index %s", step, name)
			for _, v := range pv {
				pk, err := plain.KeysByIndex(name, v)
				require.NoError(t, err)
				ck, err := packed.KeysByIndex(name, v)
				require.NoError(t, err)
				require.Equal(t, pk, ck, "step %d index %s=%s", step, name, v)
				po, err := plain.ByIndex(name, v)
				require.NoError(t, err)
				co, err := packed.ByIndex(name, v)
				require.NoError(t, err)
				require.Equal(t, sorted(po), sorted(co), "step %d index %s=%s", step, name, v)
			}
		}
	}
	for step := range 1500 {
		i := rng.IntN(120)
		k := Key{namespaces[i%3], fmt.Sprintf("cfg-%03d", i)}
		if _, ok := version[k]; ok && rng.IntN(4) == 0 {
			pold, pok := plain.remove(k)
			cold, cok := packed.remove(k)
			require.Equal(t, pok, cok)
			require.Equal(t, pold.String(), cold.String(), "the removed object is returned")
			delete(version, k)
		} else {
			version[k]++
			obj := varied(k.Namespace, i, version[k])
			pold, pok := plain.put(obj)
			cold, cok := packed.put(obj.Clone())
			require.Equal(t, pok, cok)
			require.Equal(t, pold.String(), cold.String(), "the replaced object is returned")
		}
		if step == 700 {
			require.NoError(t, plain.AddIndexers(indexers))
			require.NoError(t, packed.AddIndexers(indexers))
		}
		if step%100 == 0 || step == 1499 {
			compare(step)
		}
	}
	kinds := map[byte]int{}
	for _, sp := range packed.blobs {
		for _, b := range sp.names {
			kinds[b[0]]++
		}
	}
	t.Logf("blobs by kind: %d raw, %d deflated", kinds[blobRaw], kinds[blobDeflate])
	assert.Greater(t, kinds[blobDeflate], 10*kinds[blobRaw], "nearly every object is compressed")
}

// TestCompressedStoreReadsAreCopies checks that each read of a compressed
// object returns memory of its own (the caller owns it), that the store
// holds far less than the JSON, and that a key kept by the caller holds
// the small blob, not a decompressed object.
func TestCompressedStoreReadsAreCopies(t *testing.T) {
	t.Parallel()
	s := newCompressedStore()
	json := 0
	for i := range 200 {
		o := varied("ns", i, 1)
		json += len(o.String())
		s.put(o)
	}
	// cfg-000 came before the dictionary was complete and is held as it
	// is; cfg-150 is compressed. Both are read into new memory.
	require.Equal(t, blobRaw, s.blobs["ns"].names["cfg-000"][0])
	require.Equal(t, blobDeflate, s.blobs["ns"].names["cfg-150"][0])
	for i, name := range map[int]string{0: "cfg-000", 150: "cfg-150"} {
		a, ok := s.Get(Key{"ns", name})
		require.True(t, ok)
		b, ok := s.Get(Key{"ns", name})
		require.True(t, ok)
		assert.Equal(t, varied("ns", i, 1).String(), a.String())
		assert.Equal(t, a.String(), b.String())
		assert.NotSame(t, unsafe.StringData(a.String()), unsafe.StringData(b.String()), "%s: every read returns new memory", name)
	}
	held := 0
	for _, sp := range s.blobs {
		for name, blob := range sp.names {
			held += len(blob)
			assert.Same(t, unsafe.StringData(blob[2:]), unsafe.StringData(name), "the key is the name inside the blob")
		}
	}
	t.Logf("%d B of JSON held in %d B of blobs", json, held)
	assert.Less(t, held, json/3)
}

// TestCompressedStoreDamageSurfaces damages stored blobs in every way and
// checks that reads panic with an error naming the object rather than
// return a wrong object.
func TestCompressedStoreDamageSurfaces(t *testing.T) {
	t.Parallel()
	fill := func() (*Store, string) {
		s := newCompressedStore()
		s.pack.dictMin = 1
		for i := range 3 {
			s.put(varied("ns", i, 1))
		}
		blob := s.blobs["ns"].names["cfg-002"]
		require.Equal(t, blobDeflate, blob[0])
		return s, blob
	}
	_, blob := fill()
	_, _, body, err := blobHeader(blob)
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		damage func(string) string
	}{
		{"truncated stream", func(b string) string { return b[:len(b)-4] }},
		{"garbled stream", func(b string) string { return b[:body+2] + strings.Repeat("\xff", len(b)-body-2) }},
		{"length too short", func(b string) string { return b[:body] + "\x05" + b[body+2:] }},
		{"length too long", func(b string) string {
			return b[:body] + "\xff\x7f" + b[body+2:]
		}},
		{"unknown kind", func(b string) string { return "x" + b[1:] }},
		{"raw text not JSON", func(b string) string { return string(blobRaw) + b[1:body] + "{not json" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, blob := fill()
			s.blobs["ns"].names["cfg-002"] = tc.damage(blob)
			for name, read := range map[string]func(){
				"Get":           func() { s.Get(Key{"ns", "cfg-002"}) },
				"List":          func() { s.List() },
				"ListNamespace": func() { s.ListNamespace("ns") },
			} {
				func() {
					defer func() {
						v := recover()
						require.NotNil(t, v, "%s returned instead of panicking", name)
						err, ok := v.(error)
						require.True(t, ok, "%s panicked with %v", name, v)
						assert.Contains(t, err.Error(), `"cfg-002"`)
					}()
					read()
				}()
			}
			// The others read well.
			o, ok := s.Get(Key{"ns", "cfg-001"})
			require.True(t, ok)
			assert.Equal(t, varied("ns", 1, 1).String(), o.String())
		})
	}
}

// TestCompressReachesTheStore checks that InformerOptions.Compress gives
// an informer a compressed store, directly and through a Factory's
// defaults, and that the default store is plain.
func TestCompressReachesTheStore(t *testing.T) {
	t.Parallel()
	assert.Nil(t, NewInformer(nil, nil).Store().pack)
	assert.NotNil(t, NewInformer(nil, &InformerOptions{Compress: true}).Store().pack)
	f := NewFactory(&InformerOptions{Compress: true})
	assert.NotNil(t, f.Informer(&pageLW{}, nil).Store().pack)
	assert.Nil(t, f.Informer(&pageLW{}, &InformerOptions{}).Store().pack)
}

// FuzzPackRoundTrip checks that any object, whatever its name,
// resourceVersion and content, comes out of a blob exactly as it went in,
// with the name and resourceVersion readable without decompressing.
func FuzzPackRoundTrip(f *testing.F) {
	f.Add("cfg-001", "12345", "server.port=8080", 0)
	f.Add(strings.Repeat("n", 300), "", "", 1)
	f.Add("ünï/code", "9", strings.Repeat("\x00\xff", 50), 2)
	f.Add("a", "1", strings.Repeat("abc", 20000), 3)
	f.Fuzz(func(t *testing.T, name, rv, data string, dictFrom int) {
		obj, err := unstructured.NewBuilder("v1", "ConfigMap").
			Set("metadata.name", name).
			Set("metadata.namespace", "ns").
			Set("metadata.resourceVersion", rv).
			Set("data.v", data).
			Object()
		if err != nil {
			t.Skip() // not an object the server could send
		}
		p := &packer{dictMin: 1}
		// The dictionary: nothing alike, a sibling, or the object itself.
		switch (dictFrom%3 + 3) % 3 {
		case 0:
			p.encode(unstructured.MustParse(`{"unrelated":true}`), "x", "1")
		case 1:
			p.encode(varied("ns", 1, 1), "cfg-001", "1001")
		case 2:
			p.encode(obj, "x", "1")
		}
		require.NotNil(t, p.dict)
		blob, key := p.encode(obj, obj.Name(), obj.ResourceVersion())
		assert.Equal(t, obj.Name(), key)
		gotName, gotRV, _, err := blobHeader(blob)
		require.NoError(t, err)
		assert.Equal(t, obj.Name(), gotName)
		assert.Equal(t, obj.ResourceVersion(), gotRV)
		got, err := p.decode(blob)
		require.NoError(t, err)
		assert.Equal(t, obj.String(), got.String())
	})
}
