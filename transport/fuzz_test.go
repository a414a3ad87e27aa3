package transport

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzPathSegment checks that a name accepted by ValidatePathSegment stays
// exactly one path segment, whatever it contains, and that "." and ".." and
// names holding "/" never reach the wire even when validation is skipped.
func FuzzPathSegment(f *testing.F) {
	for _, s := range []string{"a", "..", ".", "a/b", "%2e%2e", "a?b#c", "a b", "\xff", "~x", ";x=1", "a%2Fb"} {
		f.Add(s)
	}
	c, err := New(&Config{Host: "https://example.invalid/prefix"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name string) {
		p := JoinPath("api", "v1", "namespaces", name, "pods")
		u, err := c.url(&Request{Path: p})
		if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
			if err == nil {
				t.Fatalf("path with segment %q accepted: %s", name, u)
			}
			return
		}
		if err != nil {
			t.Fatalf("JoinPath(%q) refused: %v", name, err)
		}
		if ValidatePathSegment("name", name) != nil {
			return
		}
		segs := strings.Split(u.Path, "/")
		if len(segs) != 7 || segs[5] != name || segs[1] != "prefix" {
			t.Fatalf("name %q became path %q", name, u.Path)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.Host != "example.invalid" {
			t.Fatalf("name %q changed the URL: %s", name, u)
		}
	})
}

// FuzzDecodeAPIError checks that any body gives an APIError with a bounded,
// valid UTF-8 message and an Error() that never panics.
func FuzzDecodeAPIError(f *testing.F) {
	f.Add(404, []byte(`{"kind":"Status","reason":"NotFound","message":"x","code":404}`))
	f.Add(502, []byte("<html>bad gateway</html>"))
	f.Add(422, []byte(`{"kind":"Status","details":{"causes":[{"reason":"FieldValueInvalid","field":"a"}]}}`))
	f.Add(500, []byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, code int, body []byte) {
		e := decodeAPIError(code, http.Header{}, body)
		_ = e.Error()
		_ = e.Causes()
		_, _ = e.RetryAfter()
		if e.Reason == "" && (!utf8.ValidString(e.Message) || len(e.Message) > maxSnippet+3) {
			t.Fatalf("bad snippet %q", e.Message)
		}
	})
}

// FuzzParseWarnings checks that a well-formed warning survives inside
// arbitrary surroundings and that parsing never panics.
func FuzzParseWarnings(f *testing.F) {
	f.Add(`299 - "text"`, "deprecated")
	f.Add(`299 - "a, b", 299 - "c"`, `with "quotes" and \ backslash`)
	f.Fuzz(func(t *testing.T, junk, text string) {
		_ = ParseWarnings(junk)
		if !utf8.ValidString(text) || strings.ContainsAny(text, "\r\n") {
			return
		}
		quoted := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(text) + `"`
		ws := ParseWarnings(`299 - ` + quoted)
		if len(ws) != 1 || ws[0].Text != text || ws[0].Code != 299 || ws[0].Agent != "-" {
			t.Fatalf("warning %q parsed as %+v", text, ws)
		}
	})
}
