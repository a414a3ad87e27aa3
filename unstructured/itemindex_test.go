package unstructured

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// randomDoc writes random JSON for the key index's tests: objects whose
// keys hold dots, slashes, digits, colons, wildcard characters, unicode
// and (where escapes is set) JSON escapes; arrays of objects; strings with
// escapes; and whitespace anywhere between tokens.
type randomDoc struct {
	r       *rand.Rand
	b       strings.Builder
	pretty  bool
	escapes bool     // top-level keys may hold JSON escapes
	paths   []string // paths to values written, built with Path and by hand
}

var randomKeys = []string{
	"metadata", "data", "spec", "status", "kind", "apiVersion", "name",
	"log.level", "app.kubernetes.io/name", "8080", "a:b", ":x", "x*y", "q?",
	"#", "@this", "a|b", "é", "日本", "with space", "-1", "0", "items", "",
	"managedFields", "a\\b", `a"b`,
}

func (d *randomDoc) ws() {
	if !d.pretty {
		return
	}
	d.b.WriteString([]string{"", " ", "\n  ", "\t", "\r\n"}[d.r.IntN(5)])
}

// key writes key as JSON, escaped (\u forms, \/) when allowed and chosen.
func (d *randomDoc) key(k string, escape bool) {
	if escape && d.r.IntN(3) == 0 {
		d.b.WriteByte('"')
		for _, c := range k {
			switch {
			case c == '/':
				d.b.WriteString(`\/`)
			case c == '"' || c == '\\':
				d.b.WriteByte('\\')
				d.b.WriteRune(c)
			case c < 0x80 && d.r.IntN(4) == 0:
				fmt.Fprintf(&d.b, `\u%04x`, c)
			default:
				d.b.WriteRune(c)
			}
		}
		d.b.WriteByte('"')
		return
	}
	d.b.WriteString(strconv.Quote(k)) // no Go-only escapes for these keys
}

func (d *randomDoc) value(depth int, path []string) {
	d.paths = append(d.paths, Path(path...))
	switch n := d.r.IntN(10); {
	case depth < 4 && n < 4:
		d.object(depth+1, path, d.r.IntN(6), false)
	case depth < 4 && n < 6:
		d.b.WriteByte('[')
		d.ws()
		m := d.r.IntN(4)
		for i := range m {
			if i > 0 {
				d.b.WriteByte(',')
				d.ws()
			}
			p := append(path[:len(path):len(path)], strconv.Itoa(i))
			d.paths = append(d.paths, Path(path...)+"."+strconv.Itoa(i))
			if d.r.IntN(3) == 0 {
				d.value(depth+1, p)
			} else {
				d.object(depth+1, p, 1+d.r.IntN(3), false)
			}
		}
		d.ws()
		d.b.WriteByte(']')
	case n < 7:
		d.b.WriteString([]string{`"plain"`, `"esc\"aped\n\u00e9"`, `"{\"a\":1}"`, `""`, `"b"`}[d.r.IntN(5)])
	case n < 8:
		d.b.WriteString([]string{"0", "-1.5e3", "12345678901234567890", "7"}[d.r.IntN(4)])
	default:
		d.b.WriteString([]string{"true", "false", "null"}[d.r.IntN(3)])
	}
}

func (d *randomDoc) object(depth int, path []string, n int, top bool) {
	d.b.WriteByte('{')
	d.ws()
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		k := randomKeys[d.r.IntN(len(randomKeys))]
		if seen[k] {
			continue
		}
		seen[k] = true
		if len(seen) > 1 {
			d.b.WriteByte(',')
			d.ws()
		}
		d.key(k, !top || d.escapes)
		d.ws()
		d.b.WriteByte(':')
		d.ws()
		d.value(depth, append(path[:len(path):len(path)], k))
		d.ws()
	}
	d.b.WriteByte('}')
}

// randomList returns a list of random items and paths into them.
func randomList(seed uint64) (string, []string) {
	d := &randomDoc{r: rand.New(rand.NewPCG(seed, seed>>7))}
	d.pretty = d.r.IntN(2) == 0
	d.escapes = d.r.IntN(4) == 0
	d.b.WriteString(`{"kind":"XList","metadata":{"resourceVersion":"1"},"items":[`)
	d.ws()
	for i := range d.r.IntN(8) {
		if i > 0 {
			d.ws()
			d.b.WriteByte(',')
			d.ws()
		}
		d.object(0, nil, d.r.IntN(7), true)
	}
	d.ws()
	d.b.WriteString("]}")
	return d.b.String(), d.paths
}

// syntaxPaths use gjson's syntax, plain keys, escapes and edge cases.
var syntaxPaths = []string{
	"", ".", "..", "\\", "metadata", "metadata.name", "data.log\\.level", "data.:8080", ":8080",
	"8080", "metadata.", ".metadata", "metadata..name", "..metadata", "metadata\\", "data.log\\",
	"kind.x", "kind", "apiVersion.0", "spec.0", "spec.1.name", "spec.#", "spec.#.name",
	"spec.#(name==plain)", "spec.#(name==plain)#", "spec.#(name%\"p*\")#.data",
	"spec.#(name!=plain)", "metadata.*", "meta*.name", "meta?ata", "metadata|name",
	"metadata.name|@reverse", "metadata.@this", "metadata.@keys", "@this", "@this.metadata",
	"!true", "metadata.!true", "{metadata.name,kind}", "[metadata,kind]", "metadata.[name]",
	"metadata.{name}", "#", "#.name", "items", "items.0", "missing", "missing.x",
	"metadata.missing", "a:b", "a:b.x", "\\:x", ":x", "::x", "x\\*y", "x*y", "q\\?", "\\#",
	"\\@this", "a\\|b", "é", "日本.x", "with space", "-1", ":-1", "0", ":0", "0.0",
	"managedFields.0", "managedFields.#.name", "a\\\\b", `a"b`, `a\"b`, "status.é.0",
	"spec.managedFields.0.kind", "data.app\\.kubernetes\\.io\\/name", "data.name.#",
	"metadata.name.0", "data.items.#(kind)", "data.#(==1)", "metadata..", "data.log\\.level.x",
	`kind":`, `kind":.x`, `kind"`, `metadata.name":`, `data":{`,
}

// checkIndexedGets asserts that every read of every item of the list in
// text, through the key index, equals the read of the same text without
// the index and, for paths without the ':' key marker (which only Get
// understands), gjson.Get on the item's text: Result.Index included.
func checkIndexedGets(t *testing.T, text string, paths []string) (indexed int) {
	t.Helper()
	l, err := ParseListString(text)
	require.NoError(t, err, text)
	items := l.Items()
	for i, it := range l.All() {
		one := l.Item(i)
		require.Equal(t, it.String(), one.String())
		require.Equal(t, it.keys, one.keys, "item %d's key run from All and Item", i)
		require.Equal(t, it.keys, items[i].keys)
		if it.keys != nil {
			indexed++
		}
		plain := Object{raw: it.String()}
		for _, p := range paths {
			got := it.Get(p)
			if want := plain.Get(p); !sameResult(want, got) {
				assert.Equal(t, want, got, "path %q in %s", p, it.String())
				continue
			}
			if !strings.Contains(p, ":") {
				if want := gjson.Get(it.String(), p); !sameResult(want, got) {
					assert.Equal(t, want, got, "gjson: path %q in %s", p, it.String())
				}
			}
		}
	}
	return indexed
}

// sameResult reports whether a and b are equal in every field (NaN aside,
// which JSON cannot hold); assert.Equal is too slow for a million reads.
func sameResult(a, b gjson.Result) bool {
	return a.Type == b.Type && a.Raw == b.Raw && a.Str == b.Str && a.Num == b.Num &&
		a.Index == b.Index && slices.Equal(a.Indexes, b.Indexes) && (a.Indexes == nil) == (b.Indexes == nil)
}

// Reads through the key index return exactly what reads of the item's
// text return, for random lists (compact and pretty, keys with escapes)
// and for paths of every kind.
func TestIndexedGetMatchesGJSON(t *testing.T) {
	t.Parallel()
	indexed := 0
	for seed := range uint64(600) {
		text, paths := randomList(seed)
		paths = append(paths, syntaxPaths...)
		indexed += checkIndexedGets(t, text, paths)
		if t.Failed() {
			t.Fatalf("seed %d: %s", seed, text)
		}
	}
	assert.Greater(t, indexed, 600, "the key index was hardly used")
}

func FuzzIndexedGet(f *testing.F) {
	for _, p := range syntaxPaths {
		f.Add(uint64(len(p)), p)
	}
	f.Fuzz(func(t *testing.T, seed uint64, path string) {
		text, paths := randomList(seed)
		checkIndexedGets(t, text, append(paths[:min(len(paths), 20)], path))
	})
}

// The three reads of the list benchmark, and every accessor, go through
// the index and agree with the item's text read alone.
func TestIndexedAccessors(t *testing.T) {
	t.Parallel()
	text := `{"items":[` +
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"ns","uid":"u1","generateName":"a-",` +
		`"resourceVersion":"10","generation":3,"labels":{"app":"x"},"annotations":{"k":"v"},` +
		`"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"u0","controller":true}],` +
		`"finalizers":["f"],"creationTimestamp":"2026-01-02T03:04:05Z","deletionTimestamp":"2026-01-03T03:04:05Z",` +
		`"managedFields":[{"manager":"m","fieldsV1":{"f:data":{"f:log.level":{}}}}]},"data":{"log.level":"debug"}},` +
		` {"metadata" : {"name":"b"} , "data":{"log.level":"info"} } ]}`
	l, err := ParseListString(text)
	require.NoError(t, err)
	for i, it := range l.All() {
		require.NotNil(t, it.keys, "item %d has no key index", i)
		plain := Object{raw: it.String()}
		assert.Equal(t, plain.Name(), it.Name())
		assert.Equal(t, plain.Namespace(), it.Namespace())
		assert.Equal(t, plain.GenerateName(), it.GenerateName())
		assert.Equal(t, plain.UID(), it.UID())
		assert.Equal(t, plain.ResourceVersion(), it.ResourceVersion())
		assert.Equal(t, plain.Generation(), it.Generation())
		assert.Equal(t, plain.Labels(), it.Labels())
		assert.Equal(t, plain.Annotations(), it.Annotations())
		assert.Equal(t, plain.OwnerReferences(), it.OwnerReferences())
		assert.Equal(t, plain.Finalizers(), it.Finalizers())
		assert.Equal(t, plain.IsDeleting(), it.IsDeleting())
		assert.Equal(t, plain.APIVersion(), it.APIVersion())
		assert.Equal(t, plain.Kind(), it.Kind())
		ct, ok := it.CreationTimestamp()
		pct, pok := plain.CreationTimestamp()
		assert.Equal(t, pct, ct)
		assert.Equal(t, pok, ok)
		assert.Equal(t, plain.Get(`data.log\.level`), it.Get(`data.log\.level`))
	}
	assert.Equal(t, "a", l.Item(0).Name())
	assert.Equal(t, "debug", l.Item(0).Get(`data.log\.level`).Str)
	assert.Equal(t, "b", l.Item(1).Name())
	assert.Equal(t, "info", l.Item(1).Get(Path("data", "log.level")).Str)
}

// Objects made from an item carry no index: their text is new, and a
// clone must not keep the list's memory alive.
func TestIndexNotInherited(t *testing.T) {
	t.Parallel()
	l, err := ParseListString(`{"items":[{"metadata":{"name":"a"},"data":{"k":"v"}}]}`)
	require.NoError(t, err)
	it := l.Item(0)
	require.NotNil(t, it.keys)
	assert.Nil(t, it.Clone().keys)
	set, err := it.Set("data.k", "w")
	require.NoError(t, err)
	assert.Nil(t, set.keys)
	assert.Equal(t, "w", set.Get("data.k").Str)
	del, err := it.Delete("data")
	require.NoError(t, err)
	assert.Nil(t, del.keys)
	assert.False(t, del.Get("data.k").Exists())
	built, err := it.Builder().Set("data.x", 1).Object()
	require.NoError(t, err)
	assert.Nil(t, built.keys)
	assert.Equal(t, it.String(), it.Clone().String(), "compare Objects by String")
}

// Key runs are found again for every item however many items and keys
// there are: across the groups of keyGroup items, the chunks of starts and
// the chunks of runs, with items without keys (or with escaped keys, or
// more keys than a chunk holds) in between.
func TestIndexRunsAcrossChunks(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(`{"items":[`)
	const n = 2*listIndexChunk + 5
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		switch {
		case i%7 == 3:
			b.WriteString(`{}`)
		case i%11 == 5:
			fmt.Fprintf(&b, `{"n\u0061me":"x","i":%d}`, i)
		case i == 1000:
			b.WriteByte('{')
			for k := range keyChunk {
				fmt.Fprintf(&b, `"k%d":%d,`, k, k)
			}
			fmt.Fprintf(&b, `"i":%d}`, i)
		default:
			b.WriteByte('{')
			for k := range i % 13 {
				fmt.Fprintf(&b, `"k%d":%d,`, k, k)
			}
			fmt.Fprintf(&b, `"i":%d}`, i)
		}
	}
	b.WriteString(`]}`)
	l, err := ParseListString(b.String())
	require.NoError(t, err)
	require.Equal(t, n, l.Len())
	require.Greater(t, len(l.items.keys), 2, "the runs fill several chunks")
	for i, it := range l.All() {
		one := l.Item(i)
		require.Equal(t, it.keys, one.keys, "item %d", i)
		switch {
		case i%7 == 3:
			assert.Nil(t, it.keys, "item %d", i)
			assert.False(t, it.Get("i").Exists())
			continue
		case i%11 == 5 || i == 1000:
			assert.Nil(t, it.keys, "item %d", i)
		default:
			require.NotNil(t, it.keys, "item %d", i)
			assert.Len(t, keyOffsets(it.keys), i%13+1, "item %d", i)
		}
		r := it.Get("i")
		assert.Equal(t, int64(i), r.Int(), "item %d", i)
		assert.Equal(t, gjson.Get(it.String(), "i"), r, "item %d", i)
		if i%13 > 2 && i%11 != 5 && i != 1000 {
			assert.Equal(t, int64(2), it.Get("k2").Int(), "item %d", i)
		}
	}
}
