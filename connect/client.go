package connect

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/coder/websocket"

	"github.com/kubedyn/kubedyn/transport"
)

// Client runs exec, attach, port-forward, logs and proxy requests against
// one API server through a transport.Client, whose TLS, credentials,
// impersonation, proxy, user agent and rate limit every handshake uses.
// Clients are safe for concurrent use by multiple goroutines.
type Client struct {
	t      *transport.Client
	logger *slog.Logger
}

// Options change how a Client behaves; nil means the defaults. The struct
// is read, never modified.
type Options struct {
	// Logger receives Debug records for sessions and Warn records for
	// failures nobody else sees (a forwarded connection that failed on a
	// local listener). Nil means slog.Default().
	Logger *slog.Logger
}

// New returns a Client that sends its requests through t. It does no
// network I/O.
func New(t *transport.Client, opts *Options) *Client {
	c := &Client{t: t}
	if opts != nil {
		c.logger = opts.Logger
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	return c
}

// maxMessage bounds one WebSocket message from the server. The API server
// sends stream data in chunks of at most 32 KiB and SPDY frames of at most
// 16 MiB; a bigger message is a broken or hostile peer.
const maxMessage = 17 << 20

// podPath returns the path of a pod's subresource after checking the names.
func podPath(namespace, pod, sub string) (string, error) {
	if err := transport.ValidatePathSegment("namespace", namespace); err != nil {
		return "", err
	}
	if err := transport.ValidatePathSegment("pod name", pod); err != nil {
		return "", err
	}
	return transport.JoinPath("api", "v1", "namespaces", namespace, "pods", pod, sub), nil
}

// dial opens a WebSocket to path offering protocols, in order of
// preference. The handshake goes through transport.Client.Upgrade, so it
// gets the credentials, user agent and error decoding of every other
// request; a refusal comes back as the server's *transport.APIError.
func (c *Client) dial(ctx context.Context, path string, q url.Values, protocols []string) (*websocket.Conn, error) {
	rt := &upgradeRoundTripper{t: c.t, req: transport.Request{Path: path, Query: q}}
	// The URL only satisfies the library's parser: the round tripper sends
	// rt.req through the transport, which owns the server's address.
	u := c.t.Host() + path
	conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPClient:   &http.Client{Transport: rt, CheckRedirect: noRedirect},
		Subprotocols: protocols,
	})
	if err != nil {
		if rt.err != nil {
			return nil, rt.err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	conn.SetReadLimit(maxMessage)
	return conn, nil
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// upgradeRoundTripper hands the WebSocket library's handshake request to
// transport.Client.Upgrade, keeping only its headers (Connection, Upgrade,
// Sec-WebSocket-*), and remembers the transport's own error so callers get
// it unwrapped.
type upgradeRoundTripper struct {
	t   *transport.Client
	req transport.Request
	err error
}

func (rt *upgradeRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	req := rt.req
	req.Header = r.Header.Clone()
	resp, err := rt.t.Upgrade(r.Context(), &req)
	if err != nil {
		rt.err = err
		return nil, err
	}
	return resp, nil
}
