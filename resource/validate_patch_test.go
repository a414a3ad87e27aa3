package resource

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJSONPatchForValidation(t *testing.T) {
	const doc = `{"a":{"b":[1,2,3],"c":"x","d/e":1,"f~g":2}}`
	for _, tc := range []struct{ name, patch, want, err string }{
		{"add field", `[{"op":"add","path":"/a/z","value":true}]`, `{"a":{"b":[1,2,3],"c":"x","d/e":1,"f~g":2,"z":true}}`, ""},
		{"insert", `[{"op":"add","path":"/a/b/1","value":9}]`, `{"a":{"b":[1,9,2,3],"c":"x","d/e":1,"f~g":2}}`, ""},
		{"append", `[{"op":"add","path":"/a/b/-","value":9}]`, `{"a":{"b":[1,2,3,9],"c":"x","d/e":1,"f~g":2}}`, ""},
		{"replace escaped", `[{"op":"replace","path":"/a/d~1e","value":5},{"op":"replace","path":"/a/f~0g","value":6}]`, `{"a":{"b":[1,2,3],"c":"x","d/e":5,"f~g":6}}`, ""},
		{"remove element", `[{"op":"remove","path":"/a/b/0"}]`, `{"a":{"b":[2,3],"c":"x","d/e":1,"f~g":2}}`, ""},
		{"move", `[{"op":"move","from":"/a/c","path":"/c"}]`, `{"a":{"b":[1,2,3],"d/e":1,"f~g":2},"c":"x"}`, ""},
		{"copy", `[{"op":"copy","from":"/a/b","path":"/b"}]`, `{"a":{"b":[1,2,3],"c":"x","d/e":1,"f~g":2},"b":[1,2,3]}`, ""},
		{"test passes", `[{"op":"test","path":"/a/c","value":"x"}]`, doc, ""},
		{"test fails", `[{"op":"test","path":"/a/c","value":"y"}]`, "", "test failed"},
		{"replace missing", `[{"op":"replace","path":"/a/nope","value":1}]`, "", "no"},
		{"index out of range", `[{"op":"add","path":"/a/b/7","value":1}]`, "", "out of range"},
		{"not an array", `{"op":"add"}`, "", "array of operations"},
		{"unknown op", `[{"op":"frob","path":"/a"}]`, "", "unknown operation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d, p any
			require.NoError(t, json.Unmarshal([]byte(doc), &d))
			require.NoError(t, json.Unmarshal([]byte(tc.patch), &p))
			got, err := jsonPatch(d, p)
			if tc.err != "" {
				require.Error(t, err)
				assert.True(t, strings.Contains(err.Error(), tc.err), err.Error())
				return
			}
			require.NoError(t, err)
			b, err := json.Marshal(got)
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(b))
		})
	}
}
