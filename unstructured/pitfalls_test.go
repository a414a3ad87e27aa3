package unstructured

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// TestGjsonSjsonPitfalls has one row per pitfall listed in the design notes
// ("gjson and sjson pitfalls"): each row first shows the raw library's
// behaviour where that is the pitfall, then checks that this package does
// the right thing.
func TestGjsonSjsonPitfalls(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pitfall string
		check   func(t *testing.T)
	}{
		{"gjson does not validate: truncated input still answers", func(t *testing.T) {
			in := `{"metadata":{"name":"a"`
			assert.Equal(t, "a", gjson.Get(in, "metadata.name").String())
			_, err := ParseString(in)
			assert.ErrorIs(t, err, ErrMalformed)
			_, err = ParseList([]byte(`{"items":[{"metadata":{"name":"a"}}`))
			assert.ErrorIs(t, err, ErrMalformed)
			_, err = Decode([]byte(in))
			assert.ErrorIs(t, err, ErrMalformed)
		}},
		{"duplicate keys: gjson returns the first, the server keeps the last", func(t *testing.T) {
			in := `{"metadata":{"name":"first","name":"last"}}`
			assert.Equal(t, "first", gjson.Get(in, "metadata.name").String())
			_, err := ParseString(in)
			assert.ErrorIs(t, err, ErrDuplicateKey)
			_, err = ParseString(`{"spec":{"a":{"k":1,"k":2}}}`)
			assert.ErrorIs(t, err, ErrDuplicateKey, "anywhere, not only in metadata")
			_, err = Decode([]byte("metadata:\n  name: a\n  name: b\n"))
			assert.ErrorIs(t, err, ErrDuplicateKey, "in YAML too")
		}},
		{"depth: gjson.Valid accepts 200,000 nested brackets", func(t *testing.T) {
			in := `{"a":` + strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + `}`
			assert.True(t, gjson.Valid(in))
			_, err := ParseString(in)
			assert.ErrorIs(t, err, ErrTooDeep)
			_, err = Decode([]byte("a: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000)))
			assert.ErrorIs(t, err, ErrTooDeep, "YAML too")
		}},
		{"size: untrusted input is capped", func(t *testing.T) {
			_, err := Parse(make([]byte, MaxObjectBytes+1))
			assert.ErrorIs(t, err, ErrTooLarge)
			_, err = Decode(make([]byte, MaxObjectBytes+1))
			assert.ErrorIs(t, err, ErrTooLarge)
		}},
		{"path syntax: special characters in keys", func(t *testing.T) {
			o := MustParse(`{"metadata":{"annotations":{"a.b/c*?#@|\\!=()":"v"}}}`)
			assert.False(t, gjson.Get(o.String(), "metadata.annotations.a.b/c*?#@|\\!=()").Exists())
			assert.Equal(t, "v", o.Get(Path("metadata", "annotations", `a.b/c*?#@|\!=()`)).String())
		}},
		{"path syntax: modifiers cannot be turned off", func(t *testing.T) {
			o := MustParse(`{"x":{"@reverse":"literal","list":[1,2]}}`)
			assert.Equal(t, "literal", o.Get(Path("x", "@reverse")).String())
			_, err := o.Set("x.@reverse", 1)
			assert.ErrorIs(t, err, ErrInvalidPath)
		}},
		{"sjson turns an all-digit segment into an array index", func(t *testing.T) {
			raw, err := sjson.Set(`{}`, "data.80", "x")
			require.NoError(t, err)
			assert.Equal(t, `{"data":[`, raw[:9])
			o, err := New("v1", "ConfigMap").Set(Path("data", "80"), "x")
			require.NoError(t, err)
			assert.Equal(t, `{"80":"x"}`, o.Get("data").Raw)
			assert.Equal(t, "x", o.Get(Path("data", "80")).String())
		}},
		{"a key that starts with ':' needs an escape", func(t *testing.T) {
			raw, err := sjson.Set(`{}`, "a.:x", 1)
			require.NoError(t, err)
			assert.Equal(t, `{"a":{"x":1}}`, raw, "sjson drops the colon")
			o, err := New("", "").Set(Path("a", ":x"), 1)
			require.NoError(t, err)
			assert.Equal(t, `{"a":{":x":1}}`, o.String())
			assert.Equal(t, int64(1), o.Get(Path("a", ":x")).Int())
		}},
		{"an unescaped # segment is silently ignored by sjson", func(t *testing.T) {
			raw, err := sjson.Set(`{"a":[1]}`, "a.#", 2)
			require.NoError(t, err)
			assert.Equal(t, `{"a":[1]}`, raw)
			_, err = MustParse(`{"a":[1]}`).Set("a.#", 2)
			assert.ErrorIs(t, err, ErrInvalidPath)
		}},
		{"numbers: never through float64", func(t *testing.T) {
			o, err := New("v1", "X").Set("n", int64(9007199254740993))
			require.NoError(t, err)
			assert.Equal(t, "9007199254740993", o.Get("n").Raw)
			assert.Equal(t, int64(9007199254740993), o.Get("n").Int())
			assert.NotEqual(t, int64(9007199254740993), int64(o.Get("n").Float()), "Float is the trap")
			u, err := o.Set("u", uint64(18446744073709551615))
			require.NoError(t, err)
			assert.Equal(t, "18446744073709551615", u.Get("u").Raw)
		}},
		{"invalid UTF-8 passes both validators", func(t *testing.T) {
			in := "{\"metadata\":{\"name\":\"a\xffb\"}}"
			assert.True(t, gjson.Valid(in))
			o, err := ParseString(in)
			require.NoError(t, err, "kept as bytes")
			assert.Equal(t, in, o.String())
			assert.Equal(t, "a\uFFFDb", o.Name(), "replaced when materialised by an accessor")
		}},
		{"YAML alias bombs", func(t *testing.T) {
			doc := "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
			for i := 'b'; i <= 'k'; i++ {
				doc += string(i) + ": &" + string(i) + " [" + strings.Repeat("*"+string(i-1)+",", 9) + "*" + string(i-1) + "]\n"
			}
			_, err := Decode([]byte(doc))
			assert.ErrorIs(t, err, ErrTooLarge)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.pitfall, func(t *testing.T) {
			t.Parallel()
			tc.check(t)
		})
	}
}
