// Package connect speaks the Kubernetes API's streaming subresources: exec
// and attach (WebSocket, v5.channel.k8s.io with v4 as a fallback),
// port-forward (SPDY/3.1 tunnelled through a WebSocket), pod logs (an
// io.ReadCloser or a line iterator that resumes a dropped follow) and the
// proxy subresources of pods, services and nodes (an ordinary
// *http.Client).
//
// It imports transport only: every handshake goes through
// transport.Client.Upgrade, so TLS, credentials (never sent to another
// origin), impersonation, proxies, the user agent and the rate limit are
// the ones every other request uses, and a refusal before any stream is the
// server's *transport.APIError (match it with errors.Is against
// transport.ErrForbidden, ErrNotFound, ErrBadRequest, ...).
//
// # Exec and attach
//
// Exec runs a command and waits for it: nil for exit code 0, an *ExitError
// for another code (the session worked; it is not a transport failure), an
// error wrapping io.ErrUnexpectedEOF when the connection ends before the
// exit status, the context's error when ctx ends first. Streams are plain
// io.Reader and io.Writer values in ExecOptions; the end of Stdin closes
// the command's stdin (v5), so cat-like commands finish.
//
// # Port-forward
//
// PortForward opens one connection to a pod; Dial hands out a net.Conn per
// forwarded connection, Listen serves a local listener. An error the node
// reports for a connection (nothing listens on the pod's port) is returned
// by that connection's Read as a *PortError.
//
// # Logs
//
// Logs returns the log as an io.ReadCloser, LogLines as an iter.Seq2 of
// lines. A follow ends cleanly when ctx ends, and by default survives a
// dropped connection: it asks again from the last line's timestamp and
// drops the lines it already delivered.
//
// # Proxy
//
// ProxyClient returns an *http.Client whose requests go to a pod, service
// or node through the API server's proxy subresource.
package connect
