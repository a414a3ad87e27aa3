package unstructured

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"
)

func objectStrings(objs []Object) []string {
	if len(objs) == 0 {
		return nil
	}
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.String()
	}
	return out
}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"json object compacted, order kept", "{\n  \"kind\": \"Pod\",\n  \"apiVersion\": \"v1\",\n  \"n\": 9007199254740993\n}\n",
			[]string{`{"kind":"Pod","apiVersion":"v1","n":9007199254740993}`}},
		{"json List", `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"A"},{"apiVersion":"v1","kind":"B"}]}`,
			[]string{`{"apiVersion":"v1","kind":"A"}`, `{"apiVersion":"v1","kind":"B"}`}},
		{"json typed list fills apiVersion and kind", `{"apiVersion":"apps/v1","kind":"DeploymentList","items":[{"metadata":{"name":"a"}},{"kind":"Other","metadata":{"name":"b"}},{},{"apiVersion":"","kind":""}]}`,
			[]string{`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a"}}`, `{"apiVersion":"apps/v1","kind":"Other","metadata":{"name":"b"}}`,
				`{"apiVersion":"apps/v1","kind":"Deployment"}`, `{"apiVersion":"apps/v1","kind":"Deployment"}`}},
		{"kind ending in List without items is an object", `{"kind":"AllowList","spec":{}}`,
			[]string{`{"kind":"AllowList","spec":{}}`}},
		{"empty", "", nil},
		{"only comments", "# nothing\n---\n# still nothing\n", nil},
		{"yaml documents", "# leading comment\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n---   # empty\n\n---\nkind: Secret\napiVersion: v1\n...\n",
			[]string{`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}`, `{"kind":"Secret","apiVersion":"v1"}`}},
		{"yaml key order kept", "z: 1\na: 2\nm:\n  y: 1\n  b: 2\n", []string{`{"z":1,"a":2,"m":{"y":1,"b":2}}`}},
		{"yaml scalars", "s: yes\nb: true\nn: null\nt: ~\ne:\nq: \"123\"\nf: 1.5\nexp: 1e3\noct: 0644\nhex: 0x1F\nneg: -7\nts: 2026-11-28T10:00:00Z\ndate: 2026-11-28\nlit: |\n  line1\n  line2\nfold: >-\n  a\n  b\n",
			[]string{`{"s":"yes","b":true,"n":null,"t":null,"e":null,"q":"123","f":1.5,"exp":1e3,"oct":420,"hex":31,"neg":-7,"ts":"2026-11-28T10:00:00Z","date":"2026-11-28","lit":"line1\nline2\n","fold":"a b"}`}},
		{"yaml non-string keys", "1: a\ntrue: b\n", []string{`{"1":"a","true":"b"}`}},
		{"yaml strings escaped", "s: \"tab\\there \\\"q\\\" <&>\"\n", []string{`{"s":"tab\there \"q\" <&>"}`}},
		{"yaml anchors and merge", "base: &b\n  x: 1\n  y: 2\nuse:\n  <<: *b\n  y: 3\n  z: 4\nlist: [*b, *b]\n",
			[]string{`{"base":{"x":1,"y":2},"use":{"y":3,"z":4,"x":1},"list":[{"x":1,"y":2},{"x":1,"y":2}]}`}},
		{"yaml merge list", "a: &a {p: 1}\nb: &b {p: 2, q: 2}\nc:\n  <<: [*a, *b]\n",
			[]string{`{"a":{"p":1},"b":{"p":2,"q":2},"c":{"p":1,"q":2}}`}},
		{"yaml List and typed list", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: x}\n---\napiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: p}\n",
			[]string{`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"x"}}`, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}`}},
		{"json documents as yaml", "{\"a\": 1}\n---\n{\"b\": [1, 2]}\n", []string{`{"a":1}`, `{"b":[1,2]}`}},
		{"flow mapping after a comment", "# c\n{a: 1, b: [x, y]}", []string{`{"a":1,"b":["x","y"]}`}},
		{"separator with text is content", "a: |\n  x\n  --- not a separator\n", []string{`{"a":"x\n--- not a separator\n"}`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs, err := Decode([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.want, objectStrings(objs))
			for _, o := range objs {
				_, err := ParseString(o.String())
				assert.NoError(t, err, "output is a valid Object")
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       string
		doc      int
		line     int
		want     error
		contains string
	}{
		{"truncated json", "{\n\"kind\": \"Pod\",\n\"metadata\": {\"name\": \"a\"", 1, 1, ErrMalformed, "line 3"},
		{"duplicate json key", `{"metadata":{"name":"a","name":"b"}}`, 1, 1, ErrDuplicateKey, `"name"`},
		{"yaml syntax in third doc", "a: 1\n---\nb: 2\n---\nc: [1,\n", 3, 5, ErrMalformed, "line"},
		{"yaml duplicate key", "a: 1\n---\nmetadata:\n  name: a\n  name: b\n", 2, 3, ErrDuplicateKey, "line 5"},
		{"yaml sequence document", "- a\n- b\n", 1, 1, ErrNotObject, "sequence"},
		{"yaml scalar document", "a: 1\n---\njust text\n", 2, 3, ErrNotObject, "scalar"},
		{"json array", `[{"a":1}]`, 1, 1, ErrNotObject, "sequence"},
		{"list item not object", `{"kind":"List","items":[1]}`, 1, 1, ErrNotObject, "item"},
		{"yaml list item not object", "kind: List\nitems: [1]\n", 1, 1, ErrNotObject, "item"},
		{"non-scalar key", "? [a]\n: 1\n", 1, 1, ErrMalformed, "scalar"},
		{"infinity", "a: .inf\n", 1, 1, ErrInvalidValue, "inf"},
		{"bad merge", "a:\n  <<: 1\n", 1, 1, ErrMalformed, "merge"},
		{"invalid utf8 yaml", "a: \xff\xfe\n", 1, 1, ErrMalformed, ""},
		{"too deep yaml", "a: " + strings.Repeat("[", MaxDepth+5) + strings.Repeat("]", MaxDepth+5) + "\n", 1, 1, ErrTooDeep, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs, err := Decode([]byte(tc.in))
			require.Error(t, err)
			assert.Nil(t, objs)
			var de *DecodeError
			require.True(t, errors.As(err, &de), "%T %v", err, err)
			assert.Equal(t, tc.doc, de.Document, err.Error())
			assert.Equal(t, tc.line, de.Line, err.Error())
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
			}
			assert.Contains(t, err.Error(), tc.contains)
			assert.Contains(t, err.Error(), fmt.Sprintf("document %d (line %d)", tc.doc, tc.line))
		})
	}
}

func TestDecodeTooLarge(t *testing.T) {
	t.Parallel()
	_, err := Decode(make([]byte, MaxObjectBytes+1))
	assert.ErrorIs(t, err, ErrTooLarge)
}

// A "billion laughs" document (CVE-2019-11253) is refused from its node
// count before any alias is expanded, so it fails at once instead of
// eating memory.
func TestDecodeAliasBomb(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\na0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [", i, i)
		for j := range 9 {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	_, err := Decode([]byte(b.String()))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "aliases")

	// The size is measured on the unexpanded node graph: each node is
	// weighed once (memoised), so the check costs as many steps as the
	// document has nodes, not the 9^10 it would expand to. (Without the
	// check, Decode would try to build that and the test would time out.)
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte(b.String()), &doc))
	err = checkExpansion(doc.Content[0], 0)
	assert.ErrorIs(t, err, ErrTooLarge)

	// A modest use of aliases still works.
	objs, err := Decode([]byte("a: &x [1, 2]\nb: *x\nc: *x\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{`{"a":[1,2],"b":[1,2],"c":[1,2]}`}, objectStrings(objs))
}

func TestDecodeYAMLInsideJSONLooking(t *testing.T) {
	t.Parallel()
	// Starts like JSON but is YAML flow with a separator: decoded as YAML.
	objs, err := Decode([]byte("{a: 1}\n---\n{b: 2}\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{`{"a":1}`, `{"b":2}`}, objectStrings(objs))
	// Without a separator, a broken JSON object reports the JSON error.
	// kubectl's rule: a lone document that starts with '{' is JSON.
	for _, in := range []string{`{"a": 1,}`, `{a: 1}`} {
		_, err = Decode([]byte(in))
		var se *SyntaxError
		assert.True(t, errors.As(err, &se), "%v", err)
	}
}

// Aliases to a large scalar are weighed by their bytes, not only their count.
func TestDecodeAliasBytes(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("big: &big \"" + strings.Repeat("x", 1<<20) + "\"\nmany: [")
	for i := range 100 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("*big")
	}
	b.WriteString("]\n")
	_, err := Decode([]byte(b.String()))
	assert.ErrorIs(t, err, ErrTooLarge)
}

func TestDecodeDeepYAML(t *testing.T) {
	t.Parallel()
	for _, n := range []int{MaxDepth + 1, 100000} {
		in := "a: " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n"
		_, err := Decode([]byte(in))
		require.Error(t, err, "depth %d", n)
		var de *DecodeError
		assert.True(t, errors.As(err, &de))
	}
}

// Decode reads its input in place but returns objects that own their text:
// overwriting the input afterwards changes none of them.
func TestDecodeDoesNotKeepInput(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"json":      `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}`,
		"json list": "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMapList\",\n \"items\":[{\"metadata\":{\"name\":\"a\"}},{\"kind\":\"ConfigMap\"}]}",
		"yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\nkind: List\nitems:\n- kind: Secret\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data := []byte(in)
			objs, err := Decode(data)
			require.NoError(t, err)
			require.NotEmpty(t, objs)
			before := objectStrings(objs)
			for i := range data {
				data[i] = ' '
			}
			assert.Equal(t, before, objectStrings(objs))
			for _, o := range objs {
				_, err := ParseString(o.String())
				assert.NoError(t, err)
			}
		})
	}
}

// compactValid drops whitespace between tokens only, as json.Compact does.
func TestCompactValid(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"{}": "{}",
		" {\n\t\"a\" : [ 1 , 2 ] ,\r\n \"b\":{ } }\n": `{"a":[1,2],"b":{}}`,
		`{"a b":" x\t\"\\ y ","c":null}`:              `{"a b":" x\t\"\\ y ","c":null}`,
		"{\"k\": \"\\\\\" , \"é\" : -1.5e3 }":         "{\"k\":\"\\\\\",\"é\":-1.5e3}",
	} {
		assert.Equal(t, want, string(compactValid(in)), "%q", in)
	}
}
