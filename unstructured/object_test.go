package unstructured

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

const podJSON = `{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {
    "name": "web-0",
    "generateName": "web-",
    "namespace": "default",
    "uid": "8c6a3b1e-1111-2222-3333-444455556666",
    "resourceVersion": "12345",
    "generation": 9007199254740993,
    "creationTimestamp": "2026-11-28T10:00:00Z",
    "deletionTimestamp": "2026-11-28T11:30:00Z",
    "labels": {"app": "web", "tier": "front"},
    "annotations": {"kubernetes.io/change-cause": "deploy v2"},
    "finalizers": ["example.com/cleanup", "foregroundDeletion"],
    "ownerReferences": [
      {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "u-1", "controller": true, "blockOwnerDeletion": true},
      {"apiVersion": "v1", "kind": "ConfigMap", "name": "cfg", "uid": "u-2"}
    ]
  },
  "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}
}`

func TestAccessors(t *testing.T) {
	t.Parallel()
	o, err := ParseString(podJSON)
	require.NoError(t, err)

	assert.Equal(t, "v1", o.APIVersion())
	assert.Equal(t, "Pod", o.Kind())
	gvk, err := o.GroupVersionKind()
	require.NoError(t, err)
	assert.Equal(t, GroupVersionKind{Version: "v1", Kind: "Pod"}, gvk)
	assert.Equal(t, "web-0", o.Name())
	assert.Equal(t, "web-", o.GenerateName())
	assert.Equal(t, "default", o.Namespace())
	assert.Equal(t, "8c6a3b1e-1111-2222-3333-444455556666", o.UID())
	assert.Equal(t, "12345", o.ResourceVersion())
	assert.Equal(t, int64(9007199254740993), o.Generation())
	assert.Equal(t, map[string]string{"app": "web", "tier": "front"}, o.Labels())
	assert.Equal(t, map[string]string{"kubernetes.io/change-cause": "deploy v2"}, o.Annotations())
	assert.Equal(t, []string{"example.com/cleanup", "foregroundDeletion"}, o.Finalizers())
	assert.Equal(t, []OwnerReference{
		{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "web", UID: "u-1", Controller: true, BlockOwnerDeletion: true},
		{APIVersion: "v1", Kind: "ConfigMap", Name: "cfg", UID: "u-2"},
	}, o.OwnerReferences())
	ts, ok := o.DeletionTimestamp()
	assert.True(t, ok)
	assert.True(t, ts.Equal(time.Date(2026, 11, 28, 11, 30, 0, 0, time.UTC)))
	assert.True(t, o.IsDeleting())
	ct, ok := o.CreationTimestamp()
	assert.True(t, ok)
	assert.True(t, ct.Equal(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)))
	assert.Equal(t, "nginx:1.27", o.Get("spec.containers.0.image").String())
}

func TestAccessorsAbsent(t *testing.T) {
	t.Parallel()
	o := New("apps/v1", "Deployment")
	assert.Equal(t, `{"apiVersion":"apps/v1","kind":"Deployment"}`, o.String())
	gvk, err := o.GroupVersionKind()
	require.NoError(t, err)
	assert.Equal(t, GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, gvk)
	assert.Empty(t, o.Name())
	assert.Nil(t, o.Labels())
	assert.Nil(t, o.Annotations())
	assert.Nil(t, o.OwnerReferences())
	assert.Nil(t, o.Finalizers())
	assert.Zero(t, o.Generation())
	_, ok := o.DeletionTimestamp()
	assert.False(t, ok)
	assert.False(t, o.IsDeleting())

	nulled := MustParse(`{"metadata":{"deletionTimestamp":null,"labels":{}}}`)
	assert.False(t, nulled.IsDeleting())
	assert.Nil(t, nulled.Labels())
	bad := MustParse(`{"metadata":{"deletionTimestamp":"yesterday"}}`)
	assert.True(t, bad.IsDeleting())
	_, ok = bad.DeletionTimestamp()
	assert.False(t, ok)

	_, err = New("", "Pod").GroupVersionKind()
	assert.Error(t, err)
	_, err = New("v1", "").GroupVersionKind()
	assert.Error(t, err)
	assert.Equal(t, "{}", New("", "").String())
	assert.Equal(t, `{"apiVersion":"a\"b","kind":"K"}`, New(`a"b`, "K").String())
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1)
	okDeep := strings.Repeat(`{"a":`, MaxDepth) + "1" + strings.Repeat("}", MaxDepth)
	deepArr := `{"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + "}"
	tests := []struct {
		name string
		in   string
		want error // nil means valid
	}{
		{"object", `{"a":1}`, nil},
		{"whitespace", " \n\t{ \"a\" : [ 1 , 2 ] }\r\n", nil},
		{"empty object", `{}`, nil},
		{"all value types", `{"s":"x\"\\\/\b\f\n\r\t\u00e9","n":-1.5e+3,"z":0,"t":true,"f":false,"nil":null,"a":[],"o":{}}`, nil},
		{"max depth", okDeep, nil},
		{"empty", ``, ErrMalformed},
		{"spaces", `   `, ErrMalformed},
		{"truncated", `{"metadata":{"name":"a"`, ErrMalformed},
		{"truncated string", `{"metadata":{"name":"a`, ErrMalformed},
		{"trailing comma", `{"a":1,}`, ErrMalformed},
		{"trailing data", `{"a":1}x`, ErrMalformed},
		{"two objects", `{"a":1}{"b":2}`, ErrMalformed},
		{"single quotes", `{'a':1}`, ErrMalformed},
		{"unquoted key", `{a:1}`, ErrMalformed},
		{"leading zero", `{"a":01}`, ErrMalformed},
		{"bare minus", `{"a":-}`, ErrMalformed},
		{"no fraction digit", `{"a":1.}`, ErrMalformed},
		{"no exponent digit", `{"a":1e}`, ErrMalformed},
		{"plus sign", `{"a":+1}`, ErrMalformed},
		{"NaN", `{"a":NaN}`, ErrMalformed},
		{"bad literal", `{"a":tru}`, ErrMalformed},
		{"bad escape", `{"a":"\x"}`, ErrMalformed},
		{"short unicode escape", `{"a":"\u12"}`, ErrMalformed},
		{"control char", "{\"a\":\"x\ny\"}", ErrMalformed},
		{"missing colon", `{"a" 1}`, ErrMalformed},
		{"missing comma", `{"a":1 "b":2}`, ErrMalformed},
		{"array not closed", `{"a":[1,2}`, ErrMalformed},
		{"array", `[{"a":1}]`, ErrNotObject},
		{"string", `"x"`, ErrNotObject},
		{"number", `42`, ErrNotObject},
		{"null", `null`, ErrNotObject},
		{"duplicate top", `{"a":1,"a":2}`, ErrDuplicateKey},
		{"duplicate in metadata", `{"metadata":{"name":"a","name":"b"}}`, ErrDuplicateKey},
		{"duplicate deep", `{"spec":{"x":[{"k":1,"k":1}]}}`, ErrDuplicateKey},
		{"duplicate escaped", `{"name":1,"n\u0061me":2}`, ErrDuplicateKey},
		{"duplicate after U+FFFD replacement", "{\"k\xff\":1,\"k\\ufffd\":2}", ErrDuplicateKey},
		{"duplicate invalid UTF-8 bytes", "{\"k\xfe\":1,\"k\xff\":2}", ErrDuplicateKey},
		{"distinct non-ASCII keys", `{"café":1,"cafe":2,"日本":3}`, nil},
		{"duplicate among many keys", manyKeys(100, true), ErrDuplicateKey},
		{"many distinct keys", manyKeys(100, false), nil},
		{"same key in sibling objects", `{"a":{"k":1},"b":{"k":1},"c":[{"k":1},{"k":2}]}`, nil},
		{"same key at different depths", `{"k":{"k":{"k":1}}}`, nil},
		{"too deep", deep, ErrTooDeep},
		{"too deep arrays", deepArr, ErrTooDeep},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, err := ParseString(tc.in)
			ob, errb := Parse([]byte(tc.in))
			if tc.want == nil {
				require.NoError(t, err)
				require.NoError(t, errb)
				assert.Equal(t, tc.in, o.String())
				assert.Equal(t, tc.in, ob.String())
				return
			}
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, errb, tc.want)
			var se *SyntaxError
			assert.True(t, errors.As(err, &se))
			assert.True(t, o.IsZero())
		})
	}
}

func manyKeys(n int, dup bool) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"key`)
		b.WriteString(strings.Repeat("x", i))
		b.WriteString(`":1`)
	}
	if dup {
		b.WriteString(`,"key` + strings.Repeat("x", n/2) + `":2`)
	}
	b.WriteString("}")
	return b.String()
}

func TestParseTooLarge(t *testing.T) {
	t.Parallel()
	big := make([]byte, MaxObjectBytes+1)
	_, err := Parse(big)
	assert.ErrorIs(t, err, ErrTooLarge)
}

// gjson alone answers on truncated input; Parse refuses it, so Get never
// sees it.
func TestTruncatedInputRefused(t *testing.T) {
	t.Parallel()
	in := `{"metadata":{"name":"a"`
	require.Equal(t, "a", gjson.Get(in, "metadata.name").String(), "the gjson pitfall")
	_, err := ParseString(in)
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestParseCopies(t *testing.T) {
	t.Parallel()
	data := []byte(`{"metadata":{"name":"a"}}`)
	o, err := Parse(data)
	require.NoError(t, err)
	copy(data, `{"metadata":{"name":"b"}}`)
	assert.Equal(t, "a", o.Name())
	b := o.Bytes()
	b[0] = 'x'
	assert.Equal(t, `{"metadata":{"name":"a"}}`, o.String())
}

func TestGetZeroAllocs(t *testing.T) {
	o := MustParse(podJSON)
	var name, rv string
	var gen int64
	allocs := testing.AllocsPerRun(100, func() {
		name = o.Get("metadata.name").String()
		rv = o.Get("metadata.resourceVersion").Str
		gen = o.Get("metadata.generation").Int()
		_ = o.Get(`metadata.labels.app`).String()
	})
	assert.Zero(t, allocs)
	assert.Equal(t, "web-0", name)
	assert.Equal(t, "12345", rv)
	assert.Equal(t, int64(9007199254740993), gen)
	allocs = testing.AllocsPerRun(100, func() { name = o.Name() })
	assert.Zero(t, allocs, "Name allocates")
}

func TestSetValues(t *testing.T) {
	t.Parallel()
	base := MustParse(`{"kind":"ConfigMap"}`)
	tests := []struct {
		name  string
		value any
		raw   string
	}{
		{"string", "web", `"web"`},
		{"string escapes", "a\"b\\c\n\x01<>&", `"a\"b\\c\n\u0001<>&"`},
		{"invalid utf8 replaced", "a\xffb", `"a\ufffdb"`},
		{"line separator", "a\u2028b", `"a\u2028b"`},
		{"bool", true, `true`},
		{"nil", nil, `null`},
		{"int64 beyond float64", int64(9007199254740993), `9007199254740993`},
		{"max int64", int64(9223372036854775807), `9223372036854775807`},
		{"min int64", int64(-9223372036854775808), `-9223372036854775808`},
		{"max uint64", uint64(18446744073709551615), `18446744073709551615`},
		{"int", 42, `42`},
		{"int8", int8(-8), `-8`},
		{"uint16", uint16(16), `16`},
		{"float", 1.5, `1.5`},
		{"float32", float32(0.25), `0.25`},
		{"json.Number", json.Number("9007199254740993"), `9007199254740993`},
		{"raw message", json.RawMessage(`{"a":[1]}`), `{"a":[1]}`},
		{"object", MustParse(`{"x":1}`), `{"x":1}`},
		{"gjson result", gjson.Parse(`[1,2]`), `[1,2]`},
		{"map sorted", map[string]any{"b": 1, "a": int64(9007199254740993)}, `{"a":9007199254740993,"b":1}`},
		{"slice", []string{"x", "y"}, `["x","y"]`},
		{"struct", struct {
			A string `json:"a"`
		}{"<b>"}, `{"a":"<b>"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, err := base.Set("data.v", tc.value)
			require.NoError(t, err)
			assert.Equal(t, tc.raw, o.Get("data.v").Raw)
			assert.Equal(t, `{"kind":"ConfigMap"}`, base.String(), "receiver modified")
		})
	}
}

func TestLargeIntegerRoundTrip(t *testing.T) {
	t.Parallel()
	const n = 9007199254740993 // 2^53 + 1: float64 would make it ...992
	o, err := New("v1", "ConfigMap").Set("spec.replicas", int64(n))
	require.NoError(t, err)
	assert.Equal(t, `{"apiVersion":"v1","kind":"ConfigMap","spec":{"replicas":9007199254740993}}`, o.String())
	assert.Equal(t, int64(n), o.Get("spec.replicas").Int())
	assert.Equal(t, "9007199254740993", o.Get("spec.replicas").Raw)

	p, err := ParseString(`{"n":9007199254740993,"u":18446744073709551615}`)
	require.NoError(t, err)
	assert.Equal(t, int64(n), p.Get("n").Int())
	assert.Equal(t, uint64(18446744073709551615), p.Get("u").Uint())
	q, err := p.Set("other", "x")
	require.NoError(t, err)
	assert.Equal(t, "9007199254740993", q.Get("n").Raw)

	objs, err := Decode([]byte("n: 9007199254740993\nbig: 123456789012345678901234567890\n"))
	require.NoError(t, err)
	require.Len(t, objs, 1)
	assert.Equal(t, `{"n":9007199254740993,"big":123456789012345678901234567890}`, objs[0].String())
}

func TestSetErrors(t *testing.T) {
	t.Parallel()
	o := MustParse(`{"a":{"b":1},"arr":[1,2]}`)
	tests := []struct {
		name  string
		path  string
		value any
		want  error
	}{
		{"empty path", "", 1, ErrInvalidPath},
		{"empty segment", "a..b", 1, ErrInvalidPath},
		{"leading dot", ".a", 1, ErrInvalidPath},
		{"trailing dot", "a.", 1, ErrInvalidPath},
		{"colon only", "a.:", 1, ErrInvalidPath},
		{"wildcard", "a.*", 1, ErrInvalidPath},
		{"question", "a.b?", 1, ErrInvalidPath},
		{"hash", "arr.#", 1, ErrInvalidPath},
		{"query", "arr.#(a==1)", 1, ErrInvalidPath},
		{"modifier", "@reverse", 1, ErrInvalidPath},
		{"pipe", "a|b", 1, ErrInvalidPath},
		{"bang", "!true", 1, ErrInvalidPath},
		{"multipath", "[a,b]", 1, ErrInvalidPath},
		{"trailing backslash", `a\`, 1, ErrInvalidPath},
		{"NaN", "a.c", nanValue(), ErrInvalidValue},
		{"channel", "a.c", make(chan int), ErrInvalidValue},
		{"bad json.Number", "a.c", json.Number("1e"), ErrInvalidValue},
		{"bad raw message", "a.c", json.RawMessage(`{"x":`), ErrInvalidValue},
		{"duplicate raw message", "a.c", json.RawMessage(`{"x":1,"x":2}`), ErrInvalidValue},
		{"zero object", "a.c", Object{}, ErrInvalidValue},
		{"missing result", "a.c", gjson.Get(`{}`, "x"), ErrInvalidValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := o.Set(tc.path, tc.value)
			assert.ErrorIs(t, err, tc.want)
			assert.True(t, got.IsZero())
			if tc.want == ErrInvalidPath {
				_, err = o.Delete(tc.path)
				assert.ErrorIs(t, err, ErrInvalidPath)
			}
		})
	}
	_, err := o.SetRaw("a.c", `{"x":1`)
	assert.ErrorIs(t, err, ErrInvalidValue)
	_, err = o.SetRaw("a.c", `1 2`)
	assert.ErrorIs(t, err, ErrInvalidValue)
	_, err = o.SetRaw("a.c", ``)
	assert.ErrorIs(t, err, ErrInvalidValue)
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

func TestSetRawAndDelete(t *testing.T) {
	t.Parallel()
	o := MustParse(`{"metadata":{"name":"a","labels":{"x":"1"}},"spec":{"replicas":1}}`)
	o2, err := o.SetRaw("spec.template", `{"spec":{"containers":[]}}`)
	require.NoError(t, err)
	assert.Equal(t, `{"spec":{"containers":[]}}`, o2.Get("spec.template").Raw)

	o3, err := o2.Delete("metadata.labels.x")
	require.NoError(t, err)
	assert.False(t, o3.Get("metadata.labels.x").Exists())
	assert.True(t, o2.Get("metadata.labels.x").Exists(), "receiver modified")

	o4, err := o3.Delete("no.such.path")
	require.NoError(t, err)
	assert.Equal(t, o3.String(), o4.String())

	var zero Object
	z, err := zero.Set("metadata.name", "n")
	require.NoError(t, err)
	assert.Equal(t, `{"metadata":{"name":"n"}}`, z.String())
	zd, err := zero.Delete("a")
	require.NoError(t, err)
	assert.Equal(t, `{}`, zd.String())
	assert.False(t, zero.Get("a").Exists())

	arr, err := o.Set("spec.containers.0.image", "x")
	require.NoError(t, err)
	assert.Equal(t, `[{"image":"x"}]`, arr.Get("spec.containers").Raw, "a bare digit segment is an array index")
	_, err = MustParse(`{"a":{"b":"x"}}`).Set("a.b.c", 1)
	assert.ErrorIs(t, err, ErrInvalidPath, "a string is not replaced by an object")
	assert.ErrorContains(t, err, `"a.b" holds a string`)
	_, err = MustParse(`{"a":{"b":true}}`).Builder().Set("a.b.c.d", 1).Object()
	assert.ErrorIs(t, err, ErrInvalidPath)
	_, err = MustParse(`{"a":[1]}`).Set("a.b", 1)
	assert.ErrorIs(t, err, ErrInvalidPath, "a non-numeric key in an array")
	nul, err := MustParse(`{"spec":null}`).Set("spec.replicas", 1)
	require.NoError(t, err)
	assert.Equal(t, `{"spec":{"replicas":1}}`, nul.String())
	esc, err := MustParse(`{"a":{"b.c":1}}`).Set(Path("a", "b.c", "d"), 1)
	assert.ErrorIs(t, err, ErrInvalidPath, "escaped dots are not separators: %s", esc)
	pad, err := MustParse(`{"a":[1]}`).Set("a.2", 3)
	require.NoError(t, err)
	assert.Equal(t, `[1,null,3]`, pad.Get("a").Raw)
	app, err := MustParse(`{"a":[1]}`).Set("a.-1", 2)
	require.NoError(t, err)
	assert.Equal(t, `[1,2]`, app.Get("a").Raw, "-1 appends")
}

func TestBuilder(t *testing.T) {
	t.Parallel()
	o, err := NewBuilder("v1", "ConfigMap").
		Set("metadata.name", "cfg").
		Set(Path("metadata", "labels", "app.kubernetes.io/name"), "web").
		SetRaw("data", `{"a":"1"}`).
		Set(Path("data", "8080"), "port").
		Delete("data.a").
		Object()
	require.NoError(t, err)
	assert.Equal(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","labels":{"app.kubernetes.io/name":"web"}},"data":{"8080":"port"}}`, o.String())

	base := MustParse(`{"a":1}`)
	b := base.Builder().
		Set("a.*", 1).
		Set("b", 2).
		SetRaw("c", `{`).
		Set("d", make(chan int)).
		Delete("x|y")
	_, err = b.Object()
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalidPath)
	assert.ErrorIs(t, err, ErrInvalidValue)
	assert.Equal(t, 4, strings.Count(err.Error(), "\n")+1, "every failure is reported: %v", err)
	assert.Equal(t, `{"a":1}`, base.String())

	var zero Object
	z, err := zero.Builder().Object()
	require.NoError(t, err)
	assert.Equal(t, `{}`, z.String())
}

func TestCloneAndJSON(t *testing.T) {
	t.Parallel()
	o := MustParse(`{"a":1}`)
	c := o.Clone()
	assert.Equal(t, o.String(), c.String())

	type wrapper struct {
		Obj  Object `json:"obj"`
		None Object `json:"none"`
	}
	out, err := json.Marshal(wrapper{Obj: o})
	require.NoError(t, err)
	assert.Equal(t, `{"obj":{"a":1},"none":null}`, string(out))
	var w wrapper
	require.NoError(t, json.Unmarshal(out, &w))
	assert.Equal(t, `{"a":1}`, w.Obj.String())
	assert.True(t, w.None.IsZero())
	assert.Error(t, json.Unmarshal([]byte(`{"obj":{"a":1,"a":2}}`), &w))
	assert.Panics(t, func() { MustParse(`[]`) })
}

// Invalid UTF-8 is kept byte for byte in the object and by Get; typed
// accessors replace it with U+FFFD; Set of a Go string replaces it too.
func TestInvalidUTF8(t *testing.T) {
	t.Parallel()
	in := "{\"metadata\":{\"name\":\"a\xffb\",\"labels\":{\"k\xfe\":\"v\xfd\"}}}"
	o, err := ParseString(in)
	require.NoError(t, err)
	assert.Equal(t, in, o.String(), "bytes pass through")
	assert.Equal(t, "a\xffb", o.Get("metadata.name").String(), "Get returns the raw bytes")
	assert.Equal(t, "a\uFFFDb", o.Name(), "accessors return valid UTF-8")
	assert.Equal(t, map[string]string{"k\uFFFD": "v\uFFFD"}, o.Labels())
	o2, err := o.Set("metadata.namespace", "n\xff")
	require.NoError(t, err)
	assert.Equal(t, `"n\ufffd"`, o2.Get("metadata.namespace").Raw)
	assert.Equal(t, "a\xffb", o2.Get("metadata.name").String(), "untouched fields keep their bytes")
}

// Strings are scanned eight bytes at a time: put each kind of special byte
// at every position of those words and compare with encoding/json.
func TestStringScanEveryPosition(t *testing.T) {
	t.Parallel()
	specials := []string{"\x00", "\x01", "\x1f", " ", "\x7f", "\x80", "\xff", "\\n", "\\u00e9", "\\", "\"", "\\\"", "\\\\", "é", "\x21", "\x5b", "\x5d"}
	for n := 0; n < 20; n++ {
		for p := 0; p <= n; p++ {
			for _, sp := range specials {
				str := strings.Repeat("a", p) + sp + strings.Repeat("b", n-p)
				in := `{"k":"` + str + `","z":1}`
				_, err := ParseString(in)
				want := json.Valid([]byte(in))
				if want != (err == nil) {
					t.Fatalf("%q: Parse error %v, encoding/json valid=%v", in, err, want)
				}
			}
		}
	}
}

// Objects are shared between goroutines without locks: concurrent reads and
// writes of one Object never change it (run with -race).
func TestObjectConcurrentUse(t *testing.T) {
	t.Parallel()
	o := MustParse(podJSON)
	before := o.String()
	done := make(chan struct{})
	for g := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 200 {
				_ = o.Get(Path("metadata", "annotations", "kubernetes.io/change-cause")).String()
				n, err := o.Set("metadata.labels.g", g*1000+i)
				if err != nil {
					t.Error(err)
					return
				}
				if n.Get("metadata.labels.g").Int() != int64(g*1000+i) {
					t.Error("lost write")
					return
				}
				if _, err := ParseString(n.String()); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
	assert.Equal(t, before, o.String())
}

func TestValidateJSON(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]error{
		`{"a":1}`:       nil,
		`{"a":1,"a":2}`: ErrDuplicateKey,
		`{"a":`:         ErrMalformed,
		`[1]`:           ErrNotObject,
		`{"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`: ErrTooDeep,
	} {
		err := ValidateJSON([]byte(in))
		_, perr := Parse([]byte(in))
		if want == nil {
			assert.NoError(t, err)
		} else {
			assert.ErrorIs(t, err, want)
		}
		assert.Equal(t, perr, err, "ValidateJSON agrees with Parse")
	}
}

// ValidateJSON does not copy its input: validating 4 MiB allocates at most
// a pooled scanner's worth. (Counting allocations would be flaky: under the
// race detector sync.Pool drops some of what is put back.) Not parallel:
// heap statistics count every goroutine's allocations.
func TestValidateJSONDoesNotCopy(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := range 40000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name":"item-` + strconv.Itoa(i) + `","value":"` + strings.Repeat("v", 80) + `"}`)
	}
	b.WriteString(`]}`)
	data := []byte(b.String())
	require.NoError(t, ValidateJSON(data))
	got := allocatedBytes(func() { require.NoError(t, ValidateJSON(data)) })
	assert.Less(t, got, uint64(len(data)/8), "ValidateJSON allocated %d bytes for %d bytes of input", got, len(data))
}
