package unstructured

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// configMapListJSON builds a ConfigMapList of n items shaped like a real
// server's answer: metadata with labels, annotations (a last-applied
// configuration among them) and managedFields, and a data map.
func configMapListJSON(n int) []byte {
	var b strings.Builder
	b.Grow(n * 1400)
	b.WriteString(`{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"7340912","continue":"eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NzM0MDkxMiwic3RhcnQiOiJjZmctOTk5OVx1MDAwMCJ9"},"items":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		ns := fmt.Sprintf("team-%02d", i%37)
		fmt.Fprintf(&b, `{"metadata":{"name":"cfg-%05d","namespace":%q,"uid":"6f1c2a%02x-4b7e-4d21-9a3c-%012x","resourceVersion":"%d","creationTimestamp":"2026-11-%02dT%02d:%02d:%02dZ",`,
			i, ns, i%256, i*7919, 7300000+i, 1+i%28, i%24, i%60, (i*7)%60)
		fmt.Fprintf(&b, `"labels":{"app.kubernetes.io/name":"svc-%d","app.kubernetes.io/part-of":"shop","tier":"backend","release":"r%d"},`, i%113, i%5)
		fmt.Fprintf(&b, `"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"v1\",\"data\":{\"app.properties\":\"...\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg-%05d\",\"namespace\":\"%s\"}}\n","owner":"platform@example.com"},`, i, ns)
		b.WriteString(`"managedFields":[{"manager":"kubectl-client-side-apply","operation":"Update","apiVersion":"v1","time":"2026-11-28T10:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:data":{".":{},"f:app.properties":{},"f:log.level":{},"f:feature.flags":{},"f:timeout":{}},"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{},"f:owner":{}},"f:labels":{".":{},"f:app.kubernetes.io/name":{},"f:app.kubernetes.io/part-of":{},"f:release":{},"f:tier":{}}}}}]},`)
		fmt.Fprintf(&b, `"data":{"app.properties":"server.port=%d\nserver.threads=%d\ncache.size=%d\ndb.url=jdbc:postgresql://db-%d.%s.svc:5432/app\n","log.level":"%s","feature.flags":"checkout-v2,search-v3,recs-%d","timeout":"%ds"}}`,
			8000+i%1000, 8+i%56, 1024*(1+i%16), i%9, ns, []string{"info", "debug", "warn"}[i%3], i%7, 5+i%55)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

var benchList = sync.OnceValue(func() []byte { return configMapListJSON(10000) })

func TestBenchListShape(t *testing.T) {
	data := configMapListJSON(200)
	l, err := ParseList(data)
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 200 || l.Item(199).Name() != "cfg-00199" || l.Item(3).Get("data.log\\.level").String() != "info" {
		t.Fatalf("unexpected list: %d items, %q", l.Len(), l.Item(199).Name())
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
}

var sink int

// BenchmarkListParseNoCopy is the floor for BenchmarkListParseRead: the
// validating, indexing parse of the 10,000-item list alone.
func BenchmarkListParseNoCopy(b *testing.B) {
	src := benchList()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		l, err := ParseListNoCopy(src)
		if err != nil {
			b.Fatal(err)
		}
		sink = l.Len()
	}
}

// BenchmarkListParseRead is the list benchmark's work exactly: parse the
// 10,000-item list without a copy, then read name, resourceVersion and one
// data key of each item from All. Its time over BenchmarkListParseNoCopy's
// is what the reads cost.
func BenchmarkListParseRead(b *testing.B) {
	src := benchList()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		l, err := ParseListNoCopy(src)
		if err != nil {
			b.Fatal(err)
		}
		sink = readItems(l)
	}
}

// readItems reads name, resourceVersion and one data key of every item,
// through All, which allocates nothing.
func readItems(l List) int {
	n := 0
	for _, it := range l.All() {
		n += len(it.Get("metadata.name").Str)
		n += len(it.Get("metadata.resourceVersion").Str)
		n += len(it.Get(`data.log\.level`).Str)
	}
	return n
}

// BenchmarkListReadsOnly is BenchmarkListParseRead's reads without the
// parse: name, resourceVersion and one data key of each of 10,000 items.
func BenchmarkListReadsOnly(b *testing.B) {
	l, err := ParseListNoCopy(benchList())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		sink = readItems(l)
	}
}

// BenchmarkListItemLoop visits the 10,000 items by index: Item walks at
// most keyGroup-1 starts to find an item's key run.
func BenchmarkListItemLoop(b *testing.B) {
	l, err := ParseListNoCopy(benchList())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for i := range l.Len() {
			n += len(l.Item(i).String())
		}
		sink = n
	}
}

// readItemsEncodingJSON is readItems done the usual way: encoding/json into
// map[string]any.
func readItemsEncodingJSON(src []byte) (int, error) {
	var m map[string]any
	if err := json.Unmarshal(src, &m); err != nil {
		return 0, err
	}
	n := 0
	for _, it := range m["items"].([]any) {
		item := it.(map[string]any)
		meta := item["metadata"].(map[string]any)
		n += len(meta["name"].(string))
		n += len(meta["resourceVersion"].(string))
		n += len(item["data"].(map[string]any)["log.level"].(string))
	}
	return n, nil
}

// BenchmarkListEncodingJSONMap is the baseline: encoding/json into
// map[string]any and the same three reads.
func BenchmarkListEncodingJSONMap(b *testing.B) {
	src := benchList()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		n, err := readItemsEncodingJSON(src)
		if err != nil {
			b.Fatal(err)
		}
		sink = n
	}
}

// BenchmarkParseList: ParseList including its copy of the body.
func BenchmarkParseList(b *testing.B) {
	src := benchList()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		l, err := ParseList(src)
		if err != nil {
			b.Fatal(err)
		}
		sink = l.Len()
	}
}

func benchObject(b *testing.B) Object {
	l, err := ParseList(configMapListJSON(1))
	if err != nil {
		b.Fatal(err)
	}
	return l.Item(0).Clone()
}

// BenchmarkGet reads two scalars with plain paths: no allocation.
func BenchmarkGet(b *testing.B) {
	o := benchObject(b)
	b.ReportAllocs()
	for b.Loop() {
		sink = len(o.Get("metadata.resourceVersion").Str) + len(o.Get("data.timeout").Str)
	}
}

// BenchmarkGetEscaped reads a key with a dot, through Path.
func BenchmarkGetEscaped(b *testing.B) {
	o := benchObject(b)
	path := Path("data", "log.level")
	b.ReportAllocs()
	for b.Loop() {
		sink = len(o.Get(path).Str)
	}
}

func BenchmarkParse(b *testing.B) {
	o := benchObject(b)
	data := o.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		sink = len(p.raw)
	}
}

func BenchmarkSet(b *testing.B) {
	o := benchObject(b)
	b.ReportAllocs()
	for b.Loop() {
		p, err := o.Set("metadata.labels.tier", "frontend")
		if err != nil {
			b.Fatal(err)
		}
		sink = len(p.raw)
	}
}

func BenchmarkBuilder(b *testing.B) {
	o := benchObject(b)
	b.ReportAllocs()
	for b.Loop() {
		p, err := o.Builder().
			Set("metadata.labels.tier", "frontend").
			Set(Path("metadata", "annotations", "example.com/rev"), 42).
			Delete("metadata.managedFields").
			Set("data.timeout", "60s").
			Object()
		if err != nil {
			b.Fatal(err)
		}
		sink = len(p.raw)
	}
}

// allocatedBytes returns the bytes the heap handed out while f ran. The
// caller must not run in parallel with other tests.
func allocatedBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestListReadAllocationBudget holds the list reader to the memory
// target without timing anything: validating a list, finding its items and
// reading three fields of each allocates at most a third of what
// encoding/json into map[string]any allocates for the same bytes, with and
// without the copy of the body, and malformed input is still refused. (The
// speed target, 4x, is measured by BenchmarkListParseRead against
// BenchmarkListEncodingJSONMap; a timing assertion would be flaky.)
// Not parallel: heap statistics count every goroutine's allocations.
func TestListReadAllocationBudget(t *testing.T) {
	src := configMapListJSON(2000)
	read := func(parse func([]byte) (List, error)) func() {
		return func() {
			l, err := parse(src)
			if err != nil {
				t.Fatal(err)
			}
			sink = readItems(l)
		}
	}
	baseline := func() {
		n, err := readItemsEncodingJSON(src)
		if err != nil {
			t.Fatal(err)
		}
		sink = n
	}
	read(ParseListNoCopy)() // warm the scanner pool
	theirs := allocatedBytes(baseline)
	noCopy := allocatedBytes(read(ParseListNoCopy))
	withCopy := allocatedBytes(read(ParseList))
	t.Logf("encoding/json %d bytes, ParseListNoCopy %d, ParseList %d (body %d)", theirs, noCopy, withCopy, len(src))
	if noCopy*3 > theirs {
		t.Errorf("ParseListNoCopy and reads allocated %d bytes, more than a third of encoding/json's %d", noCopy, theirs)
	}
	if withCopy*3 > theirs {
		t.Errorf("ParseList and reads allocated %d bytes, more than a third of encoding/json's %d", withCopy, theirs)
	}
	if _, err := ParseListNoCopy(src[:len(src)-1]); !errors.Is(err, ErrMalformed) {
		t.Errorf("a truncated list was not refused: %v", err)
	}
}

// manifestYAML is a multi-document manifest of n ConfigMaps.
func manifestYAML(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\n# config %d\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-%05d\n  namespace: team-%02d\n  labels:\n    app.kubernetes.io/name: svc-%d\n    tier: backend\ndata:\n  app.properties: |\n    server.port=%d\n    cache.size=%d\n  log.level: info\n", i, i, i%37, i%113, 8000+i%1000, 1024*(1+i%16))
	}
	return []byte(b.String())
}

var benchManifest = sync.OnceValue(func() []byte { return manifestYAML(500) })

// BenchmarkDecodeYAML: 500 YAML documents.
func BenchmarkDecodeYAML(b *testing.B) {
	src := benchManifest()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		objs, err := Decode(src)
		if err != nil || len(objs) != 500 {
			b.Fatal(err, len(objs))
		}
	}
}

var benchJSONList = sync.OnceValue(func() []byte { return configMapListJSON(2000) })

// BenchmarkDecodeJSONList: a JSON ConfigMapList of 2,000 items, expanded.
func BenchmarkDecodeJSONList(b *testing.B) {
	src := benchJSONList()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		objs, err := Decode(src)
		if err != nil || len(objs) != 2000 {
			b.Fatal(err, len(objs))
		}
	}
}
