package transport

import (
	"context"
	"net/http"
	"net/url"
)

// CONTRACT STUB: the transport helper replaces this file, keeping these
// signatures.

// Client sends requests to one API server. Clients are safe for concurrent use
// by multiple goroutines.
type Client struct{}

// New builds a Client from cfg. It does no network I/O.
func New(cfg *Config) (*Client, error) { panic("stub") }

// Request is one API request.
type Request struct {
	Method string
	// Path is the escaped absolute path, such as /api/v1/namespaces/default/pods.
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// Response is a complete response.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Do sends req and reads the whole body. A 2xx or 304 response is returned; any
// other status becomes an *APIError.
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) { panic("stub") }

// Stream sends req and returns the response with its body unread; the caller
// closes it. A non-2xx status becomes an *APIError.
func (c *Client) Stream(ctx context.Context, req *Request) (*http.Response, error) { panic("stub") }

// JoinPath escapes each segment with url.PathEscape and joins them into an
// absolute path.
func JoinPath(segments ...string) string { panic("stub") }

// ValidatePathSegment reports an error for a name or namespace that could
// change the URL: empty, ".", "..", or containing "/" or "%".
func ValidatePathSegment(what, name string) error { panic("stub") }
