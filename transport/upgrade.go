package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ErrNotUpgraded is wrapped when a server answers a protocol upgrade
// (WebSocket, SPDY) with a success status other than 101 Switching
// Protocols: it did not switch, so there is no stream to speak on.
var ErrNotUpgraded = errors.New("server did not upgrade the connection")

// Upgrade sends req as a protocol upgrade and returns the 101 Switching
// Protocols response, whose Body is an io.ReadWriteCloser carrying the new
// protocol; the caller closes it. req.Header must hold the upgrade headers
// (Connection, Upgrade and the protocol's own). The request goes through the
// same chain as Do and Stream: rate limit, credentials (only to the configured
// origin), impersonation, user agent, one re-authentication after a 401, and
// retries where they are safe (the handshake is a GET that changes nothing
// until the server switches protocols). Any status other than 101 becomes an
// *APIError, or, for a 2xx, an error wrapping ErrNotUpgraded. The context
// bounds the handshake; once switched, the connection is the caller's and
// only closing Body ends it.
func (c *Client) Upgrade(ctx context.Context, req *Request) (*http.Response, error) {
	resp, _, err := c.send(ctx, req, 0)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		if _, ok := resp.Body.(io.ReadWriteCloser); !ok {
			resp.Body.Close()
			return nil, fmt.Errorf("transport: %s: %w: the 101 response body is not writable (%T)", resp.Request.URL.Path, ErrNotUpgraded, resp.Body)
		}
		return resp, nil
	}
	defer resp.Body.Close()
	if !isSuccess(resp.StatusCode) {
		return nil, c.errorFrom(resp)
	}
	return nil, fmt.Errorf("transport: %s %s: %w: it answered %s", resp.Request.Method, resp.Request.URL.Path, ErrNotUpgraded, resp.Status)
}

// UserAgent returns the User-Agent the Client sends: Config.UserAgent, or
// DefaultUserAgent. Requests sent through HTTPClient do not get it on their
// own; callers that use HTTPClient set it.
func (c *Client) UserAgent() string { return c.userAgent }
