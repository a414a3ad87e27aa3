package unstructured

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A List whose items are null (what `items:` with nothing after it reads
// as) holds no objects; it is not itself an object to send.
func TestDecodeEmptyList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"yaml items with no value", "apiVersion: v1\nkind: List\nitems:\n"},
		{"yaml items null", "apiVersion: v1\nkind: List\nitems: null\n"},
		{"yaml items empty", "apiVersion: v1\nkind: List\nitems: []\n"},
		{"yaml List without items", "apiVersion: v1\nkind: List\nmetadata: {}\n"},
		{"json items null", `{"apiVersion":"v1","kind":"List","items":null}`},
		{"json typed list items null", `{"apiVersion":"v1","kind":"PodList","items":null}`},
		{"yaml typed list items null", "apiVersion: v1\nkind: ConfigMapList\nitems: ~\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs, err := Decode([]byte(tc.in))
			require.NoError(t, err)
			assert.Empty(t, objs)
		})
	}
}

// Concatenated JSON objects, as a shell loop over `kubectl get -o json`
// writes them, are one document each.
func TestDecodeConcatenatedJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		want  []string
		lines []int
	}{
		{"adjacent", `{"kind":"A"}{"kind":"B"}`, []string{`{"kind":"A"}`, `{"kind":"B"}`}, []int{1, 1}},
		{"newlines", "{\n  \"kind\": \"A\"\n}\n{\n  \"kind\": \"B\"\n}\n", []string{`{"kind":"A"}`, `{"kind":"B"}`}, []int{1, 4}},
		{"blank lines and tabs", "\n\t{\"kind\":\"A\"}\r\n\r\n  {\"kind\":\"B\"} \t {\"kind\":\"C\"}\n\n",
			[]string{`{"kind":"A"}`, `{"kind":"B"}`, `{"kind":"C"}`}, []int{2, 4, 4}},
		{"a list among them", `{"kind":"A"}` + "\n" + `{"apiVersion":"v1","kind":"List","items":[{"kind":"B"},{"kind":"C"}]}`,
			[]string{`{"kind":"A"}`, `{"kind":"B"}`, `{"kind":"C"}`}, []int{1, 2, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs, err := Decode([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.want, objectStrings(objs))
			decoded, err := DecodeManifest([]byte(tc.in), nil)
			require.NoError(t, err)
			require.Len(t, decoded, len(tc.want))
			for i, d := range decoded {
				assert.Equal(t, tc.lines[i], d.Source.Line, "object %d", i)
			}
		})
	}

	t.Run("errors name the object", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			in        string
			doc, line int
			want      error
		}{
			{"{\"kind\":\"A\"}\n{\"kind\":\"B\",\n\"kind\":\"C\"}\n", 2, 2, ErrDuplicateKey},
			{"{\"kind\":\"A\"}\n[1]\n", 2, 2, ErrNotObject},
			{"{\"kind\":\"A\"}\n{\"kind\":", 2, 2, ErrMalformed},
			{"{\"kind\":\"A\"} x", 2, 1, ErrMalformed},
		} {
			_, err := Decode([]byte(tc.in))
			var de *DecodeError
			require.True(t, errors.As(err, &de), "%q: %v", tc.in, err)
			assert.Equal(t, tc.doc, de.Document, "%q: %v", tc.in, err)
			assert.Equal(t, tc.line, de.Line, "%q: %v", tc.in, err)
			assert.ErrorIs(t, err, tc.want, tc.in)
		}
	})
}

// Each decoded object knows the file, document and line it came from, so
// a later error can point at it.
func TestDecodeManifestSources(t *testing.T) {
	t.Parallel()
	manifest := "# header\n" + // 1
		"apiVersion: v1\n" + // 2
		"kind: Namespace\n" + // 3
		"metadata: {name: shop}\n" + // 4
		"---\n" + // 5
		"---\n" + // 6: document 3 starts at line 7 and is empty
		"\n" + // 7
		"apiVersion: v1\n" + // 8: document 3's object
		"kind: List\n" + // 9
		"items:\n" + // 10
		"- kind: ConfigMap\n" + // 11
		"  apiVersion: v1\n" + // 12
		"- kind: Secret\n" + // 13
		"  apiVersion: v1\n" + // 14
		"---\n" + // 15
		"{\"kind\": \"Service\", \"apiVersion\": \"v1\"}\n" // 16
	decoded, err := DecodeManifest([]byte(manifest), &DecodeOptions{Source: "deploy/app.yaml"})
	require.NoError(t, err)
	want := []Source{
		{Name: "deploy/app.yaml", Document: 1, Line: 2},
		{Name: "deploy/app.yaml", Document: 3, Line: 11, Item: 1},
		{Name: "deploy/app.yaml", Document: 3, Line: 13, Item: 2},
		{Name: "deploy/app.yaml", Document: 4, Line: 16},
	}
	require.Len(t, decoded, len(want))
	for i, d := range decoded {
		assert.Equal(t, want[i], d.Source, "object %d: %s", i, d.Object)
	}
	assert.Equal(t, "Namespace", decoded[0].Object.Kind())
	assert.Equal(t, "Secret", decoded[2].Object.Kind())
	assert.Equal(t, "deploy/app.yaml:1:2", decoded[0].Source.String())
	assert.Equal(t, "deploy/app.yaml:3:13 (item 2)", decoded[2].Source.String())
	assert.Equal(t, "document 1, line 2", Source{Document: 1, Line: 2}.String())

	// JSON lists: each item's own line.
	jsonList := "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n" +
		"  {\"kind\":\"A\"},\n" +
		"  {\"kind\":\"B\"}\n]}\n"
	decoded, err = DecodeManifest([]byte(jsonList), nil)
	require.NoError(t, err)
	require.Len(t, decoded, 2)
	assert.Equal(t, Source{Document: 1, Line: 2, Item: 1}, decoded[0].Source)
	assert.Equal(t, Source{Document: 1, Line: 3, Item: 2}, decoded[1].Source)

	// Errors carry the source name too.
	_, err = DecodeManifest([]byte("a: 1\n---\nb: [\n"), &DecodeOptions{Source: "x.yaml"})
	var de *DecodeError
	require.True(t, errors.As(err, &de))
	assert.Equal(t, "x.yaml", de.Source)
	assert.True(t, strings.HasPrefix(err.Error(), "x.yaml: document 2 (line 3): "), err.Error())

	// Decode and DecodeManifest agree.
	objs, err := Decode([]byte(manifest))
	require.NoError(t, err)
	decoded, err = DecodeManifest([]byte(manifest), nil)
	require.NoError(t, err)
	require.Len(t, objs, len(decoded))
	for i := range objs {
		assert.Equal(t, objs[i].String(), decoded[i].Object.String())
		assert.Empty(t, decoded[i].Source.Name)
	}
}

// The number of documents is capped; empty documents do not count.
func TestDecodeMaxDocuments(t *testing.T) {
	t.Parallel()
	three := "a: 1\n---\n---\nb: 2\n---\n# empty\n---\nc: 3\n"
	_, err := DecodeManifest([]byte(three), &DecodeOptions{MaxDocuments: 3})
	require.NoError(t, err)
	_, err = DecodeManifest([]byte(three), &DecodeOptions{MaxDocuments: 2})
	require.ErrorIs(t, err, ErrTooLarge)
	var de *DecodeError
	require.True(t, errors.As(err, &de))
	assert.Equal(t, 5, de.Document, err.Error())
	assert.Contains(t, err.Error(), "more than 2 documents")

	_, err = DecodeManifest([]byte(`{"a":1}{"b":2}{"c":3}`), &DecodeOptions{MaxDocuments: 2})
	require.ErrorIs(t, err, ErrTooLarge)

	var many strings.Builder
	for range DefaultMaxDocuments + 1 {
		many.WriteString("{}\n")
	}
	_, err = Decode([]byte(many.String()))
	require.ErrorIs(t, err, ErrTooLarge)
	objs, err := DecodeManifest([]byte(many.String()), &DecodeOptions{MaxDocuments: DefaultMaxDocuments + 1})
	require.NoError(t, err)
	assert.Len(t, objs, DefaultMaxDocuments+1)

	opts := &DecodeOptions{Source: "s"}
	_, err = DecodeManifest([]byte(three), opts)
	require.NoError(t, err)
	assert.Equal(t, DecodeOptions{Source: "s"}, *opts, "options are not modified")
}

// 60 MiB of empty documents decode quickly and without a YAML decoder (or
// anything else) allocated per document.
func TestDecodeManyEmptyDocuments(t *testing.T) {
	data := bytes.Repeat([]byte("---\n"), 60<<20/4)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	objs, err := Decode(data)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	assert.Empty(t, objs)
	allocated := after.TotalAlloc - before.TotalAlloc
	assert.Less(t, allocated, uint64(1<<20), "allocated %d bytes", allocated)
	assert.Less(t, after.Mallocs-before.Mallocs, uint64(1000))
	// A loose bound (the machine may be loaded, and -race slows the scan
	// several times); before, this input took 35 s and 1.9 GiB.
	t.Logf("60 MiB of empty documents: %v, %d bytes allocated", elapsed, allocated)
	assert.Less(t, elapsed, 30*time.Second)

	// Comment-only documents are skipped the same way.
	data = bytes.Repeat([]byte("# nothing here\n---\n"), 1<<20)
	runtime.ReadMemStats(&before)
	objs, err = Decode(data)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	assert.Empty(t, objs)
	assert.Less(t, after.Mallocs-before.Mallocs, uint64(1000))
}
