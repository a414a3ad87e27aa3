package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var allSentinels = []error{
	ErrNotFound, ErrAlreadyExists, ErrConflict, ErrInvalid, ErrForbidden, ErrUnauthorized,
	ErrGone, ErrTooManyRequests, ErrServerTimeout, ErrMethodNotSupported, ErrBadRequest,
	ErrUnsupportedMediaType, ErrInternalError, ErrServiceUnavailable,
}

func statusBody(code int, reason, message string) string {
	return fmt.Sprintf(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":%q,"reason":%q,"code":%d}`,
		message, reason, code)
}

func TestAPIErrorSentinels(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		code   int
		reason string
		want   error
	}{
		{"NotFound", 404, "NotFound", ErrNotFound},
		{"AlreadyExists", 409, "AlreadyExists", ErrAlreadyExists},
		{"Conflict", 409, "Conflict", ErrConflict},
		{"Invalid", 422, "Invalid", ErrInvalid},
		{"Forbidden", 403, "Forbidden", ErrForbidden},
		{"Unauthorized", 401, "Unauthorized", ErrUnauthorized},
		{"Gone", 410, "Gone", ErrGone},
		{"Expired", 410, "Expired", ErrGone},
		{"TooManyRequests", 429, "TooManyRequests", ErrTooManyRequests},
		{"ServerTimeout", 500, "ServerTimeout", ErrServerTimeout},
		{"Timeout", 504, "Timeout", ErrServerTimeout},
		{"MethodNotAllowed", 405, "MethodNotAllowed", ErrMethodNotSupported},
		{"BadRequest", 400, "BadRequest", ErrBadRequest},
		{"UnsupportedMediaType", 415, "UnsupportedMediaType", ErrUnsupportedMediaType},
		{"ServiceUnavailable", 503, "ServiceUnavailable", ErrServiceUnavailable},
		// Reason wins over the code.
		{"reason beats code", 500, "NotFound", ErrNotFound},
		// Fallback to the code when the reason is empty or unknown.
		{"empty reason 404", 404, "", ErrNotFound},
		{"unknown reason 409", 409, "SomethingNew", ErrConflict},
		{"empty reason 422", 422, "", ErrInvalid},
		{"empty reason 410", 410, "", ErrGone},
		{"empty reason 504", 504, "", ErrServerTimeout},
		{"empty reason 405", 405, "", ErrMethodNotSupported},
		{"empty reason 401", 401, "", ErrUnauthorized},
		{"empty reason 403", 403, "", ErrForbidden},
		{"empty reason 400", 400, "", ErrBadRequest},
		{"empty reason 429", 429, "", ErrTooManyRequests},
		{"unknown code", 418, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.code)
				fmt.Fprint(w, statusBody(tc.code, tc.reason, "boom"))
			}))
			t.Cleanup(srv.Close)
			c, err := New(&Config{Host: srv.URL, MaxRetries: -1})
			require.NoError(t, err)
			_, err = c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/api/v1/x", Body: []byte(`{}`)})
			require.Error(t, err)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.code, apiErr.StatusCode)
			assert.Equal(t, tc.reason, apiErr.Reason)
			assert.Equal(t, "boom", apiErr.Message)
			for _, s := range allSentinels {
				if s == tc.want {
					assert.ErrorIs(t, err, s)
				} else {
					assert.NotErrorIs(t, err, s, "unexpected match with %v", s)
				}
			}
			// Wrapped errors still match, the same sentinel and no other.
			wrapped := fmt.Errorf("ctx: %w", err)
			for _, s := range allSentinels {
				assert.Equal(t, s == tc.want, errors.Is(wrapped, s), "wrapped error against %v", s)
			}
		})
	}
}

func TestAPIErrorDetailsAndCauses(t *testing.T) {
	t.Parallel()
	body := `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
	"message":"Pod \"x\" is invalid: spec.containers[0].image: Required value","reason":"Invalid",
	"details":{"name":"x","group":"","kind":"Pod","uid":"u-1","retryAfterSeconds":2,
	"causes":[{"reason":"FieldValueRequired","message":"Required value","field":"spec.containers[0].image"},
	{"reason":"FieldValueInvalid","message":"bad","field":"metadata.name"}]},"code":422}`
	e := decodeAPIError(422, http.Header{}, []byte(body))
	assert.ErrorIs(t, e, ErrInvalid)
	require.NotNil(t, e.Details)
	assert.Equal(t, "x", e.Details.Name)
	assert.Equal(t, "Pod", e.Details.Kind)
	assert.Equal(t, "u-1", e.Details.UID)
	assert.Equal(t, []StatusCause{
		{Type: "FieldValueRequired", Message: "Required value", Field: "spec.containers[0].image"},
		{Type: "FieldValueInvalid", Message: "bad", Field: "metadata.name"},
	}, e.Causes())
	secs, ok := e.RetryAfter()
	assert.True(t, ok)
	assert.Equal(t, 2, secs)
	assert.Equal(t, `Pod "x" is invalid: spec.containers[0].image: Required value (422 Invalid)`, e.Error())
}

func TestAPIErrorMessage(t *testing.T) {
	t.Parallel()
	e := decodeAPIError(404, nil, []byte(statusBody(404, "NotFound", `pods "x" not found`)))
	assert.Equal(t, `pods "x" not found (404 NotFound)`, e.Error())
	e = decodeAPIError(502, nil, nil)
	assert.Equal(t, "bad gateway (502 Bad Gateway)", e.Error())
	assert.Nil(t, e.Causes())
	_, ok := e.RetryAfter()
	assert.False(t, ok)
}

func TestAPIErrorNonJSONBody(t *testing.T) {
	t.Parallel()
	html := "<html>\n  <head><title>502 Bad Gateway</title></head>\n<body>" + strings.Repeat("x", 1000) + "</body></html>"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, html)
	}))
	t.Cleanup(srv.Close)
	c, err := New(&Config{Host: srv.URL, MaxRetries: -1})
	require.NoError(t, err)
	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadGateway, apiErr.StatusCode)
	assert.Empty(t, apiErr.Reason)
	assert.True(t, strings.HasPrefix(apiErr.Message, "<html> <head><title>502 Bad Gateway</title></head> <body>xxx"), apiErr.Message)
	assert.LessOrEqual(t, len(apiErr.Message), maxSnippet+3)
	assert.True(t, strings.HasSuffix(apiErr.Message, "..."))
	assert.Contains(t, err.Error(), "(502 Bad Gateway)")
	for _, s := range allSentinels {
		assert.NotErrorIs(t, err, s)
	}
}

func TestAPIErrorJSONButNotStatus(t *testing.T) {
	t.Parallel()
	e := decodeAPIError(404, nil, []byte(`{"kind":"Pod","message":"nope"}`))
	assert.Empty(t, e.Reason)
	assert.Equal(t, `{"kind":"Pod","message":"nope"}`, e.Message)
	assert.ErrorIs(t, e, ErrNotFound)
}

func TestSnippetInvalidUTF8(t *testing.T) {
	t.Parallel()
	s := snippet([]byte("a\xffb"))
	assert.Equal(t, "a\uFFFDb", s)
	long := strings.Repeat("é", 300)
	s = snippet([]byte(long))
	assert.True(t, strings.HasSuffix(s, "..."))
	assert.True(t, strings.HasPrefix(long, strings.TrimSuffix(s, "...")))
}

// TestAPIErrorBoundsAndCleansMessage: a huge Status message with newlines
// and terminal escapes is cut and cleaned in Error() but kept whole on the
// value, and the raw body is kept (bounded by MaxErrorBodyBytes).
func TestAPIErrorBoundsAndCleansMessage(t *testing.T) {
	t.Parallel()
	huge := "line1\nline2\r\n\x1b[31mred\x1b[0m\u202Eevil\x7f" + strings.Repeat("x", 900<<10)
	st, err := json.Marshal(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure",
		"code": 500, "reason": "Internal\nError\x1b[2J", "message": huge})
	require.NoError(t, err)
	body := string(st)
	_, srv := newRecorded(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		if r.URL.Path == "/toolarge" {
			_, _ = w.Write([]byte(strings.Repeat("y", MaxErrorBodyBytes+10)))
			return
		}
		_, _ = w.Write([]byte(body))
	})
	c, err := New(&Config{Host: srv.URL, MaxRetries: -1})
	require.NoError(t, err)
	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.True(t, huge == apiErr.Message, "the raw message stays on the value")
	assert.True(t, body == string(apiErr.Body), "the raw body stays on the value")

	msg := err.Error()
	assert.LessOrEqual(t, len(msg), MaxErrorMessageBytes+200)
	assert.True(t, strings.HasPrefix(msg, "line1 line2 [31mred [0m evil xxx"), msg[:60])
	assert.Contains(t, msg, "more bytes)")
	for _, r := range msg {
		assert.False(t, r < 0x20 || r == 0x7f || r == '\u202E', "control character %U in Error()", r)
	}
	assert.True(t, strings.HasSuffix(msg, "(500 Internal Error [2J)"), msg[len(msg)-40:])

	_, err = c.Do(context.Background(), &Request{Path: "/toolarge"})
	require.ErrorAs(t, err, &apiErr)
	assert.Len(t, apiErr.Body, MaxErrorBodyBytes)
	assert.LessOrEqual(t, len(err.Error()), maxSnippet+100)

	t.Run("printable", func(t *testing.T) {
		t.Parallel()
		for in, want := range map[string]string{
			"":                "",
			"plain":           "plain",
			"a\n\n\tb":        "a b",
			"\x00lead":        "lead",
			"trail\n":         "trail",
			"bad\xffutf8":     "bad\uFFFDutf8",
			"héllo wö":        "héllo wö",
			"0123456789":      "0123456789",
			"01234567890":     "0123456789... (1 more bytes)",
			"012345678é":      "012345678... (2 more bytes)",
			"\u2066iso\u2069": "iso",
		} {
			assert.Equal(t, want, printable(in, 10), "%q", in)
		}
	})
}
