package transport

import (
	"fmt"
	"net/url"
	"strings"
)

// JoinPath escapes each segment with url.PathEscape and joins them into an
// absolute path: JoinPath("api", "v1", "namespaces", "a b") is
// "/api/v1/namespaces/a%20b". Segments are not validated; check names and
// namespaces with ValidatePathSegment first. An empty segment yields "//",
// which Do and Stream refuse.
func JoinPath(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// ValidatePathSegment reports an error wrapping ErrInvalidName for a name or
// namespace that could change the URL: empty, ".", "..", or containing "/" or
// "%". what names the value in the message ("name", "namespace").
func ValidatePathSegment(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalidName, what)
	case name == "." || name == "..":
		return fmt.Errorf("%w: %s may not be %q", ErrInvalidName, what, name)
	case strings.ContainsAny(name, "/%"):
		return fmt.Errorf("%w: %s %q may not contain '/' or '%%'", ErrInvalidName, what, name)
	}
	return nil
}
