package transport

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentinels matched with errors.Is against an *APIError. Matching uses the
// Status reason first and falls back to the HTTP status code only when the
// reason is empty or unknown.
var (
	// ErrNotFound: reason NotFound, or 404.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: reason AlreadyExists (409 with that reason only).
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: reason Conflict, or 409 without a known reason.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: reason Invalid, or 422. The field errors are in
	// APIError.Causes.
	ErrInvalid = errors.New("invalid")
	// ErrForbidden: reason Forbidden, or 403.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthorized: reason Unauthorized, or 401.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrGone: reasons Gone and Expired (a watch or continue token too old),
	// or 410.
	ErrGone = errors.New("gone")
	// ErrTooManyRequests: reason TooManyRequests, or 429.
	ErrTooManyRequests = errors.New("too many requests")
	// ErrServerTimeout: reasons ServerTimeout and Timeout, or 504.
	ErrServerTimeout = errors.New("server timeout")
	// ErrMethodNotSupported: reason MethodNotAllowed, or 405.
	ErrMethodNotSupported = errors.New("method not supported")
	// ErrBadRequest: reason BadRequest, or 400.
	ErrBadRequest = errors.New("bad request")
	// ErrUnsupportedMediaType: reason UnsupportedMediaType, or 415 (for
	// example a strategic merge patch sent to a custom resource).
	ErrUnsupportedMediaType = errors.New("unsupported media type")
	// ErrInternalError: reason InternalError, or 500.
	ErrInternalError = errors.New("internal error")
	// ErrServiceUnavailable: reason ServiceUnavailable, or 503.
	ErrServiceUnavailable = errors.New("service unavailable")

	// ErrInvalidName is wrapped by ValidatePathSegment for a name or
	// namespace that could change the request URL. No request is sent.
	ErrInvalidName = errors.New("invalid name")
	// ErrResponseTooLarge is wrapped when a response body exceeds
	// Config.MaxResponseBytes.
	ErrResponseTooLarge = errors.New("response body too large")
)

// reasonSentinels maps metav1.StatusReason values to sentinels.
var reasonSentinels = map[string]error{
	"NotFound":             ErrNotFound,
	"AlreadyExists":        ErrAlreadyExists,
	"Conflict":             ErrConflict,
	"Invalid":              ErrInvalid,
	"Forbidden":            ErrForbidden,
	"Unauthorized":         ErrUnauthorized,
	"Gone":                 ErrGone,
	"Expired":              ErrGone,
	"TooManyRequests":      ErrTooManyRequests,
	"ServerTimeout":        ErrServerTimeout,
	"Timeout":              ErrServerTimeout,
	"MethodNotAllowed":     ErrMethodNotSupported,
	"BadRequest":           ErrBadRequest,
	"UnsupportedMediaType": ErrUnsupportedMediaType,
	"InternalError":        ErrInternalError,
	"ServiceUnavailable":   ErrServiceUnavailable,
}

// codeSentinels maps HTTP status codes to sentinels, used only when the
// reason is empty or unknown.
var codeSentinels = map[int]error{
	http.StatusBadRequest:           ErrBadRequest,
	http.StatusUnauthorized:         ErrUnauthorized,
	http.StatusForbidden:            ErrForbidden,
	http.StatusNotFound:             ErrNotFound,
	http.StatusMethodNotAllowed:     ErrMethodNotSupported,
	http.StatusConflict:             ErrConflict,
	http.StatusGone:                 ErrGone,
	http.StatusUnsupportedMediaType: ErrUnsupportedMediaType,
	http.StatusUnprocessableEntity:  ErrInvalid,
	http.StatusTooManyRequests:      ErrTooManyRequests,
	http.StatusInternalServerError:  ErrInternalError,
	http.StatusServiceUnavailable:   ErrServiceUnavailable,
	http.StatusGatewayTimeout:       ErrServerTimeout,
}

// APIError is a response with a status other than 2xx (and 304 from Do),
// decoded from the server's metav1.Status body when the body is one. A body
// that is not a Status (an HTML page from a proxy) leaves Reason empty and
// puts a trimmed snippet of the body in Message.
//
// The fields hold what the server sent (Message unabridged, Body its first
// MaxErrorBodyBytes bytes); Error() is safe to print: it cuts the message
// to MaxErrorMessageBytes and replaces control characters (newlines,
// terminal escapes) with spaces.
//
// Match it with errors.Is against the sentinels (ErrNotFound, ...) or get it
// with errors.As. An APIError is not modified after it is returned and may be
// read from several goroutines.
type APIError struct {
	// StatusCode is the HTTP status code of the response.
	StatusCode int
	// Reason is the Status reason, such as "NotFound"; empty when the body
	// was not a Status or carried none.
	Reason string
	// Message is the Status message, or a snippet of a non-Status body.
	Message string
	// Details is the Status details; nil when absent.
	Details *StatusDetails
	// Header holds the response headers (Retry-After, Warning, ...).
	Header http.Header
	// Body is the raw response body, at most MaxErrorBodyBytes of it (the
	// rest is not read); nil when the response had none.
	Body []byte
}

// Bounds on what an error response can cost.
const (
	// MaxErrorBodyBytes is how much of an error response's body is read
	// and kept in APIError.Body.
	MaxErrorBodyBytes = 1 << 20
	// MaxErrorMessageBytes bounds the message APIError.Error quotes; the
	// whole message stays in APIError.Message.
	MaxErrorMessageBytes = 1024
)

// StatusDetails is metav1.StatusDetails: the object the Status is about and
// the causes. It is a plain value, not modified after decoding.
type StatusDetails struct {
	// Name is the name of the object the Status is about, if any.
	Name string `json:"name,omitempty"`
	// Group is that object's API group.
	Group string `json:"group,omitempty"`
	// Kind is that object's kind, or its resource name (such as "pods").
	Kind string `json:"kind,omitempty"`
	// UID is that object's UID, when the server gives it.
	UID string `json:"uid,omitempty"`
	// Causes are the individual failures, such as field errors.
	Causes []StatusCause `json:"causes,omitempty"`
	// RetryAfterSeconds is the server's suggested wait before retrying;
	// 0 when none.
	RetryAfterSeconds int `json:"retryAfterSeconds,omitempty"`
}

// StatusCause is one cause, such as a field error of an Invalid response. It
// is a plain value.
type StatusCause struct {
	// Type is the cause's "reason" on the wire (FieldValueInvalid,
	// FieldValueRequired, FieldManagerConflict, ...).
	Type string `json:"reason,omitempty"`
	// Message is the human-readable description of the cause.
	Message string `json:"message,omitempty"`
	// Field is the path of the field at fault, such as
	// "spec.containers[0].image"; empty when the cause is not about one.
	Field string `json:"field,omitempty"`
}

// Error reads like `pods "x" not found (404 NotFound)`. The message is cut
// to MaxErrorMessageBytes (saying how much was left out) and its control
// characters are replaced by spaces, so a hostile server cannot flood a log
// line or send terminal escapes through it; the reason is bounded likewise.
func (e *APIError) Error() string {
	msg := printable(e.Message, MaxErrorMessageBytes)
	if msg == "" {
		msg = strings.ToLower(http.StatusText(e.StatusCode))
		if msg == "" {
			msg = "unexpected response"
		}
	}
	reason := printable(e.Reason, maxReasonBytes)
	if reason == "" {
		reason = http.StatusText(e.StatusCode)
	}
	if reason == "" {
		return msg + " (" + strconv.Itoa(e.StatusCode) + ")"
	}
	return msg + " (" + strconv.Itoa(e.StatusCode) + " " + reason + ")"
}

// Is reports whether target is the sentinel for this error's reason or, when
// the reason is empty or unknown, for its status code.
func (e *APIError) Is(target error) bool {
	return target != nil && e.sentinel() == target
}

func (e *APIError) sentinel() error {
	if s, ok := reasonSentinels[e.Reason]; ok {
		return s
	}
	return codeSentinels[e.StatusCode]
}

// Causes returns the Status causes (the field errors of an Invalid
// response, the managers of an apply conflict); nil when there are none.
func (e *APIError) Causes() []StatusCause {
	if e.Details == nil {
		return nil
	}
	return e.Details.Causes
}

// RetryAfter returns the server's requested delay in seconds, from the
// Retry-After header or the Status details, and whether there was one.
func (e *APIError) RetryAfter() (seconds int, ok bool) {
	if s, ok := parseRetryAfter(e.Header); ok {
		return s, true
	}
	if e.Details != nil && e.Details.RetryAfterSeconds > 0 {
		return e.Details.RetryAfterSeconds, true
	}
	return 0, false
}

// maxReasonBytes bounds the reason Error quotes (real reasons are short
// CamelCase words).
const maxReasonBytes = 64

// printable returns s with every run of control characters (C0, DEL, C1,
// and the Unicode bidi controls) replaced by one space, invalid UTF-8
// replaced by U+FFFD, trimmed, and cut to at most max bytes on a rune
// boundary, with a note of how many bytes were left out.
func printable(s string, max int) string {
	var b strings.Builder
	space := false
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				r = '\uFFFD'
			}
		}
		if unicode.IsControl(r) || isBidiControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		if b.Len()+utf8.RuneLen(r) > max {
			return strings.TrimSpace(b.String()) + fmt.Sprintf("... (%d more bytes)", len(s)-i)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isBidiControl reports the Unicode bidirectional formatting characters,
// which can make printed text read differently from what it is.
func isBidiControl(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069') || r == '\u200E' || r == '\u200F' || r == '\u061C'
}

// wireStatus is metav1.Status as it appears on the wire.
type wireStatus struct {
	Kind    string         `json:"kind"`
	Status  string         `json:"status"`
	Message string         `json:"message"`
	Reason  string         `json:"reason"`
	Details *StatusDetails `json:"details"`
	Code    int            `json:"code"`
}

// maxSnippet bounds the message taken from a body that is not a Status.
const maxSnippet = 256

// decodeAPIError builds the APIError for a response with the given code,
// headers and (possibly truncated) body.
func decodeAPIError(code int, header http.Header, body []byte) *APIError {
	e := &APIError{StatusCode: code, Header: header}
	if len(body) > 0 {
		e.Body = body
	}
	var st wireStatus
	if len(body) > 0 && json.Unmarshal(body, &st) == nil && st.Kind == "Status" {
		e.Reason = st.Reason
		e.Message = st.Message
		e.Details = st.Details
		return e
	}
	e.Message = snippet(body)
	return e
}

// snippet collapses whitespace in body and cuts it to maxSnippet bytes on a
// rune boundary, replacing invalid UTF-8.
func snippet(body []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "\uFFFD")), " ")
	if len(s) <= maxSnippet {
		return s
	}
	cut := maxSnippet
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
