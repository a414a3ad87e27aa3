package unstructured

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// referenceCheck is an independent oracle built on encoding/json's token
// reader: it reports whether s is one JSON object with no duplicate key and
// no nesting deeper than MaxDepth.
func referenceCheck(s string) bool {
	if !json.Valid([]byte(s)) {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		expect bool // the next string token is a key
	}
	var stack []*frame
	first := true
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return true
		}
		if err != nil {
			return false
		}
		if first {
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return false
			}
			first = false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.expect {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].expect = true
				}
				continue
			}
			k := tok.(string)
			if top.keys[k] {
				return false
			}
			top.keys[k] = true
			top.expect = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, keys: map[string]bool{}, expect: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > MaxDepth {
			return false
		}
		// A value completed inside an object: the next token is a key.
		if d, ok := tok.(json.Delim); !ok || d == '}' || d == ']' {
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].expect = true
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":{"b":[1,2,{"c":null}]}}`, `{"a":"\u0061","\u0061":1}`,
		`{"items":[{"a":1},{"b":2}],"metadata":{"continue":"x"}}`, `[]`, `{"a":`, `{"a":1e5,"b":-0.5}`,
		"{\"k\xff\":1,\"k\xfe\":2}", `{"a":"\ud800"}`, configMapList,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseString(s)
		if err == nil {
			if o.String() != s {
				t.Fatal("Parse changed the bytes")
			}
			if !json.Valid([]byte(s)) {
				t.Fatalf("accepted invalid JSON %q", s)
			}
			if !gjson.Valid(s) || !gjson.Parse(s).IsObject() {
				t.Fatalf("accepted %q that gjson does not see as an object", s)
			}
			var want bytes.Buffer
			if err := json.Compact(&want, []byte(s)); err != nil {
				t.Fatalf("json.Compact refused %q: %v", s, err)
			}
			if got := compactValid(s); string(got) != want.String() {
				t.Fatalf("compactValid(%q) = %q, json.Compact %q", s, got, want.String())
			}
		}
		if want := referenceCheck(s); want != (err == nil) {
			t.Fatalf("Parse(%q) error %v, reference says valid=%v", s, err, want)
		}
		l, lerr := ParseListString(s)
		if err != nil {
			if lerr == nil {
				t.Fatalf("ParseList accepted what Parse refused: %q", s)
			}
			return
		}
		items := gjson.Get(s, "items")
		if lerr != nil {
			if items.IsArray() {
				ok := true
				items.ForEach(func(_, v gjson.Result) bool { ok = v.IsObject(); return ok })
				if ok {
					t.Fatalf("ParseList refused a list Parse accepts: %v", lerr)
				}
			}
			return
		}
		if items.IsArray() && int(items.Get("#").Int()) != l.Len() {
			t.Fatalf("ParseList found %d items, gjson %d", l.Len(), items.Get("#").Int())
		}
		if l.Len() > 0 && l.Item(0).String() != items.Get("0").Raw {
			t.Fatalf("item 0 differs: %q vs %q", l.Item(0).String(), items.Get("0").Raw)
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n",
		"a: 1\n---\nb: [1, 2]\n---\n# c\n",
		"kind: List\nitems:\n- {kind: A}\n- {kind: B}\n",
		"a: &x {b: 1}\nc:\n  <<: *x\n  d: 2\n",
		"a: &a [1,2]\nb: [*a,*a,*a]\n",
		`{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"p"}}]}`,
		"a: 0644\nb: yes\nc: 9007199254740993\nd: 1e400\n",
		"a: |\n  x\n  y\n",
	} {
		f.Add([]byte(s))
	}
	f.Add([]byte("{\"kind\":\"A\"}\n{\"kind\":\"List\",\"items\":null} {}"))
	f.Add([]byte("kind: List\nitems:\n---\n---\nkind: B\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSources(t, data)
		objs, err := Decode(data)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error is not a *DecodeError: %T %v", err, err)
			}
			if objs != nil {
				t.Fatal("objects returned with an error")
			}
			return
		}
		for _, o := range objs {
			if _, err := ParseString(o.String()); err != nil {
				t.Fatalf("Decode returned an invalid object %q: %v", o.String(), err)
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, []byte(o.String())); err != nil || buf.String() != o.String() {
				t.Fatalf("output is not compact JSON: %q", o.String())
			}
		}
	})
}

// checkSources holds DecodeManifest to Decode's answer and its sources to
// the input: documents count up from 1 and lines lie within the input.
func checkSources(t *testing.T, data []byte) {
	decoded, err := DecodeManifest(data, &DecodeOptions{Source: "f"})
	objs, err2 := Decode(data)
	if (err == nil) != (err2 == nil) || len(decoded) != len(objs) {
		t.Fatalf("DecodeManifest and Decode disagree: %v / %v", err, err2)
	}
	// YAML also breaks lines at a lone "\r".
	lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1
	doc := 0
	for i, d := range decoded {
		if d.Object.String() != objs[i].String() {
			t.Fatalf("object %d differs", i)
		}
		s := d.Source
		if s.Name != "f" || s.Document < 1 || s.Document < doc || s.Line < 1 || s.Line > lines || s.Item < 0 {
			t.Fatalf("bad source %+v (input of %d lines)", s, lines)
		}
		doc = s.Document
	}
}
