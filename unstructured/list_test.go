package unstructured

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const configMapList = `{"apiVersion":"v1","kind":"ConfigMapList",
 "metadata":{"resourceVersion":"991","continue":"tok-1","remainingItemCount":12},
 "items":[
  {"metadata":{"name":"a","namespace":"ns","resourceVersion":"10"},"data":{"k":"1"}},
  {"metadata":{"name":"b","namespace":"ns","resourceVersion":"11"},"data":{"k":"2"}}
 ]}`

func TestParseList(t *testing.T) {
	t.Parallel()
	for name, parse := range map[string]func([]byte) (List, error){
		"copy":    ParseList,
		"no copy": ParseListNoCopy,
		"string":  func(b []byte) (List, error) { return ParseListString(string(b)) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l, err := parse([]byte(configMapList))
			require.NoError(t, err)
			assert.Equal(t, "v1", l.APIVersion())
			assert.Equal(t, "ConfigMapList", l.Kind())
			assert.Equal(t, "991", l.ResourceVersion())
			assert.Equal(t, "tok-1", l.Continue())
			n, ok := l.RemainingItemCount()
			assert.True(t, ok)
			assert.Equal(t, int64(12), n)
			assert.Equal(t, 2, l.Len())
			items := l.Items()
			require.Len(t, items, 2)
			assert.Equal(t, "a", items[0].Name())
			assert.Equal(t, "11", items[1].ResourceVersion())
			assert.Equal(t, "2", items[1].Get("data.k").String())
			assert.Equal(t, `{"metadata":{"name":"a","namespace":"ns","resourceVersion":"10"},"data":{"k":"1"}}`, items[0].String())
			assert.Equal(t, "b", l.Item(1).Name())
			var names []string
			for i, it := range l.All() {
				assert.Equal(t, items[i].String(), it.String())
				names = append(names, it.Name())
			}
			assert.Equal(t, []string{"a", "b"}, names)
			assert.Equal(t, "tok-1", l.Get("metadata.continue").String())
			items[0] = Object{}
			assert.Equal(t, "a", l.Item(0).Name(), "Items returned the list's own slice")
		})
	}
}

// Items are sub-strings of the list: no JSON is copied.
func TestListItemsShareMemory(t *testing.T) {
	t.Parallel()
	data := []byte(configMapList)
	l, err := ParseListNoCopy(data)
	require.NoError(t, err)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	end := start + uintptr(len(data))
	for _, it := range l.Items() {
		p := uintptr(unsafe.Pointer(unsafe.StringData(it.String())))
		assert.True(t, p >= start && p < end, "item is not inside the input buffer")
	}
	c := l.Item(0).Clone()
	p := uintptr(unsafe.Pointer(unsafe.StringData(c.String())))
	assert.False(t, p >= start && p < end, "Clone shares the buffer")
	assert.Equal(t, l.Item(0).String(), c.String())

	copied, err := ParseList(data)
	require.NoError(t, err)
	p = uintptr(unsafe.Pointer(unsafe.StringData(copied.Item(0).String())))
	assert.False(t, p >= start && p < end, "ParseList did not copy")
}

func TestParseListEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		items int
		want  error
	}{
		{"empty items", `{"kind":"PodList","items":[]}`, 0, nil},
		{"null items", `{"kind":"PodList","metadata":{},"items":null}`, 0, nil},
		{"no items", `{"kind":"Status","status":"Failure"}`, 0, nil},
		{"items before metadata", `{"items":[{"a":1}],"metadata":{"continue":"c"}}`, 1, nil},
		{"nested items key is not the list's", `{"spec":{"items":[1,2]},"items":[{"a":1}]}`, 1, nil},
		{"truncated", configMapList[:len(configMapList)-10], 0, ErrMalformed},
		{"truncated in item", configMapList[:120], 0, ErrMalformed},
		{"item not object", `{"items":[{"a":1},2]}`, 0, ErrNotObject},
		{"items not array", `{"items":{"a":1}}`, 0, ErrMalformed},
		{"duplicate key in item", `{"items":[{"metadata":{"name":"a","name":"b"}}]}`, 0, ErrDuplicateKey},
		{"duplicate items", `{"items":[],"items":[]}`, 0, ErrDuplicateKey},
		{"not an object", `[{"a":1}]`, 0, ErrNotObject},
		{"too deep", `{"items":[` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `]}`, 0, ErrTooDeep},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, err := ParseList([]byte(tc.in))
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
				assert.Zero(t, l.Len())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.items, l.Len())
		})
	}
	l, err := ParseList([]byte(`{"items":[{"a":1}],"metadata":{"continue":"c","resourceVersion":"7"}}`))
	require.NoError(t, err)
	assert.Equal(t, "c", l.Continue())
	assert.Equal(t, "7", l.ResourceVersion())
	_, ok := l.RemainingItemCount()
	assert.False(t, ok)
	assert.Nil(t, List{}.Items())
	out, err := json.Marshal(map[string]List{"a": l, "b": {}})
	require.NoError(t, err)
	assert.Equal(t, `{"a":{"items":[{"a":1}],"metadata":{"continue":"c","resourceVersion":"7"}},"b":null}`, string(out))
}

// tinyItemsList returns a list of n empty items, the cheapest item a
// hostile server can send ("{}," is three bytes).
func tinyItemsList(n int) []byte {
	b := make([]byte, 0, 3*n+16)
	b = append(b, `{"items":[`...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "{}"...)
	}
	return append(b, "]}"...)
}

// A page of tiny items costs a small multiple of its bytes, not one
// 24-byte Object (plus growth) per item: the item index takes 4 bytes an
// item (and a quarter byte to find key runs) in fixed chunks, so building
// it copies nothing. Not parallel: heap
// statistics count every goroutine's allocations.
func TestListHeapBoundedByBytes(t *testing.T) {
	page := tinyItemsList(8 << 20) // 24 MiB, 8 Mi items
	n := uint64(len(page))
	for _, tc := range []struct {
		name  string
		parse func([]byte) (List, error)
		limit float64 // bytes of heap per byte of page
	}{
		{"ParseListNoCopy", ParseListNoCopy, 1.5},
		{"ParseList", ParseList, 2.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l List
			var err error
			var before, after, held runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			l, err = tc.parse(page)
			runtime.ReadMemStats(&after)
			require.NoError(t, err)
			runtime.GC()
			runtime.ReadMemStats(&held)
			require.Equal(t, 8<<20, l.Len())
			allocated := after.TotalAlloc - before.TotalAlloc
			retained := int64(held.HeapAlloc) - int64(before.HeapAlloc)
			t.Logf("page %d bytes: allocated %d (%.2fx), retained %d (%.2fx)", n, allocated, float64(allocated)/float64(n), retained, float64(retained)/float64(n))
			assert.LessOrEqual(t, float64(allocated), tc.limit*float64(n), "allocated while parsing")
			assert.LessOrEqual(t, float64(retained), tc.limit*float64(n), "held by the List")
			assert.Equal(t, "{}", l.Item(0).String())
			assert.Equal(t, "{}", l.Item(l.Len()-1).String())
			runtime.KeepAlive(l)
		})
	}
}

// Items are found again from the compact index exactly, whatever the
// whitespace between them.
func TestListItemBoundaries(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{"items":[{"a":1}]}`,
		`{"items":[ {"a":1} , {"b":[1,2]} ,{} ,  {"c":"}, {"}]}`,
		"{\"items\":[\n\t{\"a\":1}\r\n,\n{\"b\":2}\n\n]}",
		`{"metadata":{},"items":[{},{},{}],"kind":"X"}`,
	} {
		l, err := ParseListString(in)
		require.NoError(t, err)
		var want []string
		gjsonItems := Object{raw: in}.Get("items").Array()
		for _, r := range gjsonItems {
			want = append(want, r.Raw)
		}
		require.Equal(t, len(want), l.Len(), in)
		var got, all []string
		for i := range l.Len() {
			got = append(got, l.Item(i).String())
		}
		for _, it := range l.All() {
			all = append(all, it.String())
		}
		assert.Equal(t, want, got, in)
		assert.Equal(t, want, all, in)
		assert.Equal(t, want, objectStrings(l.Items()), in)
	}
	// Many items cross the index's chunks.
	l, err := ParseList(tinyItemsList(3*listIndexChunk + 7))
	require.NoError(t, err)
	assert.Equal(t, 3*listIndexChunk+7, l.Len())
	n := 0
	for i, it := range l.All() {
		assert.Equal(t, n, i)
		assert.Equal(t, "{}", it.String())
		n++
	}
	assert.Equal(t, l.Len(), n)
	assert.Equal(t, "{}", l.Item(listIndexChunk).String())
	assert.Panics(t, func() { l.Item(l.Len()) })
}
