package resource

import "github.com/kubedyn/kubedyn/connect"

// Connect returns a connect.Client for exec, attach, port-forward, logs and
// proxy requests that shares this Client's transport (TLS, credentials,
// impersonation, user agent, rate limit). It does no network I/O; each call
// returns a new value, and all of them are safe for concurrent use.
func (c *Client) Connect() *connect.Client { return connect.New(c.tc, nil) }
