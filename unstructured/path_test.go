package unstructured

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

func TestPathEscaping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		segments []string
		want     string
	}{
		{"plain", []string{"metadata", "name"}, "metadata.name"},
		{"dots and slash", []string{"metadata", "annotations", "kubernetes.io/change-cause"}, `metadata.annotations.kubernetes\.io\/change-cause`},
		{"all digits", []string{"data", "8080"}, "data.:8080"},
		{"leading zero digits", []string{"007"}, ":007"},
		{"append index", []string{"-1"}, ":-1"},
		{"leading colon", []string{":x"}, `\:x`},
		{"inner colon", []string{"a:b"}, "a:b"},
		{"wildcards", []string{"a*b?c"}, `a\*b\?c`},
		{"hash", []string{"#"}, `\#`},
		{"modifier", []string{"@reverse"}, `\@reverse`},
		{"pipe and bang", []string{"a|b", "!true"}, `a\|b.\!true`},
		{"query chars", []string{"#(a==b)"}, `\#\(a\=\=b\)`},
		{"backslash", []string{`a\b`}, `a\\b`},
		{"brackets", []string{"[a]", "{b}"}, `\[a\].\{b\}`},
		{"unicode", []string{"héllo"}, "héllo"},
		{"none", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, Path(tc.segments...))
		})
	}
}

// Each key that gjson or sjson treat specially must round-trip through
// Path: Set creates exactly that key, Get reads it back, and the raw
// object holds the key literally.
func TestPathRoundTrip(t *testing.T) {
	t.Parallel()
	keys := []string{
		"kubernetes.io/change-cause", "a.b.c", "*", "a*", "?", "#", "#(x==1)", "@reverse", "@this",
		"a|b", `back\slash`, "!true", "!", "=", "(", ")", "[0]", "{a}", "0", "123", "007", "-1",
		":x", ":", "::1", ":123", "a:b", "x y", "tab\there", "new\nline", "quote\"d", "é", "日本",
		"..", ".", "-", "_", "\x00", "\u2028", "true", "null", "a.#", "1.2", "1e5",
		"a\xffb", "\xfe", "\xc3", "ok\xe6\x97", // invalid UTF-8: stored with U+FFFD, read back through Path
	}
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			checkKeyRoundTrip(t, key, "v")
		})
	}
}

func checkKeyRoundTrip(t *testing.T, key, value string) {
	t.Helper()
	base := MustParse(`{"metadata":{"name":"n","labels":{"x":"y"}}}`)
	for _, parent := range [][]string{{"metadata", "labels"}, {"metadata", "annotations"}, {"spec"}} {
		path := Path(append(parent, key)...)
		o, err := base.Set(path, value)
		require.NoError(t, err, "set %q", path)
		got := o.Get(path)
		require.True(t, got.Exists(), "get %q in %s", path, o)
		assert.Equal(t, value, got.String(), "get %q in %s", path, o)
		container := o.Get(Path(parent...))
		require.True(t, container.IsObject(), "parent %v is not an object in %s", parent, o)
		m := map[string]string{}
		container.ForEach(func(k, v gjson.Result) bool {
			m[k.String()] = v.String()
			return true
		})
		assert.Equal(t, value, m[validString(key)], "key %q not stored literally in %s", key, o)
		if parent[1:] != nil && parent[len(parent)-1] == "labels" {
			assert.Equal(t, "y", m["x"])
		}

		// Overwrite in place, then delete.
		o2, err := o.Set(path, "w")
		require.NoError(t, err)
		assert.Equal(t, "w", o2.Get(path).String())
		assert.Equal(t, len(o.Get(Path(parent...)).Map()), len(o2.Get(Path(parent...)).Map()), "overwrite added a key: %s", o2)
		o3, err := o2.Delete(path)
		require.NoError(t, err)
		assert.False(t, o3.Get(path).Exists(), "delete %q left %s", path, o3)
	}
}

// The pitfalls of raw gjson/sjson paths that Path exists to avoid.
func TestPathPitfalls(t *testing.T) {
	t.Parallel()
	doc := `{"metadata":{"labels":{}}}`

	// sjson turns an all-digit segment into an array index...
	raw, err := sjson.Set(doc, "metadata.annotations.0", "v")
	require.NoError(t, err)
	assert.Equal(t, `["v"]`, gjson.Get(raw, "metadata.annotations").Raw)
	// ...Path's ':' marker makes it an object key, and Get understands it.
	o, err := MustParse(doc).Set(Path("metadata", "annotations", "0"), "v")
	require.NoError(t, err)
	assert.Equal(t, `{"0":"v"}`, o.Get("metadata.annotations").Raw)
	assert.Equal(t, "v", o.Get(Path("metadata", "annotations", "0")).String())

	// A dotted key written without escaping nests objects.
	raw, err = sjson.Set(doc, "metadata.labels.app.kubernetes.io/name", "v")
	require.NoError(t, err)
	assert.False(t, gjson.Get(raw, gjson.Escape("app.kubernetes.io/name")).Exists())
	o, err = MustParse(doc).Set(Path("metadata", "labels", "app.kubernetes.io/name"), "v")
	require.NoError(t, err)
	assert.Equal(t, `{"app.kubernetes.io/name":"v"}`, o.Get("metadata.labels").Raw)

	// An unescaped '#' segment is silently ignored by sjson: Set refuses it.
	_, err = MustParse(doc).Set("metadata.labels.#", "v")
	assert.ErrorIs(t, err, ErrInvalidPath)
	o, err = MustParse(doc).Set(Path("metadata", "labels", "#"), "v")
	require.NoError(t, err)
	assert.Equal(t, `{"#":"v"}`, o.Get("metadata.labels").Raw)

	// A key that looks like a modifier is read literally through Path.
	mod := MustParse(`{"a":{"@reverse":1,"b":[1,2]}}`)
	assert.Equal(t, "1", mod.Get(Path("a", "@reverse")).Raw)
}

func TestGjsonPathRewrite(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a.b", "a.b"},
		{"a.:0", "a.0"},
		{":0.:1", "0.1"},
		{`a.\:x`, `a.\:x`},
		{"a.b:c", "a.b:c"},
		{"a|:0", "a|0"},
		{`items.#(metadata.name==":x")`, `items.#(metadata.name==":x")`},
		{`a.@tostr:{"x":1}`, `a.@tostr:{"x":1}`},
		{`a\.:0`, `a\.:0`},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, gjsonPath(tc.in), tc.in)
	}
	assert.Zero(t, testing.AllocsPerRun(10, func() { _ = gjsonPath("metadata.name") }))
}

// FuzzPath: any key set through Path reads back equal, and is stored as a
// literal object key.
func FuzzPath(f *testing.F) {
	for _, k := range []string{"", "a", "a.b", "0", ":", ":0", "*", "#", "@this", `\`, "|", "!", "-1", "x\x00y", "é"} {
		f.Add(k, "value")
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		base := MustParse(`{"metadata":{"labels":{"x":"y"}}}`)
		if key == "" {
			// An empty key cannot be expressed in a path: writes refuse it.
			if _, err := base.Set(Path("metadata", "labels", key), value); !errors.Is(err, ErrInvalidPath) {
				t.Fatalf("set with an empty key: got %v, want ErrInvalidPath", err)
			}
			return
		}
		path := Path("metadata", "labels", key)
		o, err := base.Set(path, value)
		if err != nil {
			t.Fatalf("set %q: %v", path, err)
		}
		want := value
		if !utf8.ValidString(want) {
			want = validString(want)
		}
		if got := o.Get(path).String(); got != want {
			t.Fatalf("key %q: got %q want %q in %s", key, got, want, o)
		}
		if got := o.Labels()[validString(key)]; got != want {
			t.Fatalf("key %q not stored literally: labels %v", key, o.Labels())
		}
		if key != "x" && o.Labels()["x"] != "y" {
			t.Fatalf("key %q clobbered a sibling: %s", key, o)
		}
		nested, err := New("v1", "X").Set(Path("spec", key, key), value)
		if err != nil {
			t.Fatalf("set nested %q: %v", key, err)
		}
		if got := nested.Get(Path("spec", key, key)).String(); got != want {
			t.Fatalf("nested key %q: got %q in %s", key, got, nested)
		}
		d, err := o.Delete(path)
		if err != nil {
			t.Fatalf("delete %q: %v", path, err)
		}
		if d.Get(path).Exists() {
			t.Fatalf("delete %q left %s", path, d)
		}
	})
}

// The allocation-free walker for escaped paths agrees with gjson.
func FuzzGet(f *testing.F) {
	f.Add(podJSON, "metadata", "annotations", "kubernetes.io/change-cause")
	f.Add(`{"a":{"b.c":[1,{"d":"x"}]}}`, "a", "b.c", "1")
	f.Add(`{"a":{"b\u002ec":1,"b.c":2}}`, "a", "b.c", "")
	f.Add(`{"a":[{"x y":true}],"0":{"1":null}}`, "0", "1", "x")
	f.Add(`{"a":{"":1}}`, "a", "", "z")
	f.Add(`{"a":[1,[2,3]]}`, `a.\1.1`, `a.1.\0`, `\a`)
	f.Fuzz(func(t *testing.T, doc, s1, s2, s3 string) {
		o, err := ParseString(doc)
		if err != nil {
			return
		}
		for _, segs := range [][]string{{s1}, {s1, s2}, {s1, s2, s3}} {
			path := Path(segs...)
			for _, p := range []string{path, path + ".0", strings.ReplaceAll(path, ":", ""), s1, s1 + `\` + s2} {
				got := o.Get(p)
				want := gjson.Get(o.String(), gjsonPath(p))
				if got.Raw != want.Raw || got.Type != want.Type || got.Str != want.Str || got.Num != want.Num || (want.Exists() && got.Index != want.Index) {
					t.Fatalf("path %q in %s: got %+v, gjson %+v", p, doc, got, want)
				}
			}
		}
	})
}

func TestGetEscapedZeroAllocs(t *testing.T) {
	o := MustParse(podJSON)
	path := Path("metadata", "annotations", "kubernetes.io/change-cause")
	var v string
	allocs := testing.AllocsPerRun(100, func() { v = o.Get(path).Str })
	assert.Equal(t, "deploy v2", v)
	assert.Zero(t, allocs)
	ref := gjson.Get(o.String(), path)
	got := o.Get(path)
	assert.Equal(t, ref.Index, got.Index)
	assert.Equal(t, ref.Raw, got.Raw)
}

// The walker skips strings eight bytes at a time: put escapes and quotes at
// every position of those words and check that the value after is found.
func TestGetSkipsStringsAtEveryPosition(t *testing.T) {
	t.Parallel()
	for n := 0; n < 20; n++ {
		for p := 0; p <= n; p++ {
			for _, sp := range []string{`\"`, `\\`, `\\\"`, `\u0022`, `{`, `}`, `]`, `[`, `é`} {
				str := strings.Repeat("a", p) + sp + strings.Repeat("b", n-p)
				o := MustParse(`{"x":{"k":"` + str + `","l":["` + str + `"]},"t.u":1}`)
				got := o.Get(Path("t.u"))
				require.Equal(t, "1", got.Raw, "string %q", str)
				assert.Equal(t, gjson.Get(o.String(), Path("t.u")).Index, got.Index)
			}
		}
	}
}
