package connect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/moby/spdystream"
)

// ProtocolPortForward is the WebSocket subprotocol of port-forward: SPDY/3.1
// frames of the portforward.k8s.io protocol tunnelled inside binary
// WebSocket messages. kube-apiserver 1.31 and later (PortForwardWebsockets,
// on by default) unwraps it and speaks SPDY to the node.
const ProtocolPortForward = "SPDY/3.1+portforward.k8s.io"

// PortForwardOptions configure a port-forward; nil means the defaults. The
// struct is read, never modified.
type PortForwardOptions struct {
	// StreamTimeout bounds how long Dial waits for the server to accept a
	// connection's streams; 0 means 30 seconds.
	StreamTimeout time.Duration
}

// PortError is an error the node reported for one forwarded connection,
// such as nothing listening on the pod's port. The connection's Read
// returns it once the data that came before it is read. A PortError is not
// modified after it is returned and may be read from several goroutines.
type PortError struct {
	// Port is the pod's port.
	Port int
	// Message is the node's message.
	Message string
}

// Error reads like "port 8080: error forwarding port 8080 to pod ...".
func (e *PortError) Error() string { return "port " + strconv.Itoa(e.Port) + ": " + e.Message }

// PortForward is one port-forward session to a pod: a WebSocket carrying
// SPDY, over which each forwarded connection is a pair of streams (data and
// error). A PortForward is safe for concurrent use by multiple goroutines;
// Close ends it with every connection and listener it made.
type PortForward struct {
	c       *Client
	op      string
	timeout time.Duration
	spdy    *spdystream.Connection
	cancel  context.CancelFunc
	nextID  atomic.Int64

	mu        sync.Mutex
	closed    bool
	listeners []net.Listener
	conns     map[*portConn]struct{}
	done      chan struct{}
	wg        sync.WaitGroup
}

// PortForward opens a port-forward session to a pod. ctx bounds the
// handshake only; the session lasts until Close or until the connection to
// the server ends (Done). A refusal is the server's *transport.APIError
// (pod missing: ErrNotFound; not running or not on a node: ErrBadRequest;
// no permission for pods/portforward: ErrForbidden).
func (c *Client) PortForward(ctx context.Context, namespace, pod string, opts *PortForwardOptions) (*PortForward, error) {
	op := fmt.Sprintf("port-forward to pod %s/%s", namespace, pod)
	var o PortForwardOptions
	if opts != nil {
		o = *opts
	}
	if o.StreamTimeout <= 0 {
		o.StreamTimeout = 30 * time.Second
	}
	path, err := podPath(namespace, pod, "portforward")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	ws, err := c.dial(ctx, path, url.Values{}, []string{ProtocolPortForward})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if p := ws.Subprotocol(); p != ProtocolPortForward {
		_ = ws.Close(websocket.StatusProtocolError, "no common protocol")
		return nil, fmt.Errorf("%s: the server chose subprotocol %q, not %s", op, p, ProtocolPortForward)
	}
	// The tunnel lives until Close, not as long as the handshake's ctx.
	wsCtx, cancel := context.WithCancel(context.Background())
	nc := websocket.NetConn(wsCtx, ws, websocket.MessageBinary)
	conn, err := spdystream.NewConnection(nc, false)
	if err != nil {
		cancel()
		nc.Close()
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	pf := &PortForward{c: c, op: op, timeout: o.StreamTimeout, spdy: conn, cancel: cancel,
		conns: map[*portConn]struct{}{}, done: make(chan struct{})}
	go func() {
		// The server opens no streams of its own: refuse any.
		conn.Serve(func(s *spdystream.Stream) { _ = s.Refuse() })
		cancel()
		_ = nc.Close()
		close(pf.done)
	}()
	return pf, nil
}

// Done is closed when the session has ended: after Close, or when the
// connection to the server ended.
func (pf *PortForward) Done() <-chan struct{} { return pf.done }

// Close ends the session: every connection from Dial and every listener
// from Listen is closed. It waits for the goroutines serving listeners and
// returns nil; calling it again does nothing.
func (pf *PortForward) Close() error {
	pf.mu.Lock()
	if pf.closed {
		pf.mu.Unlock()
		return nil
	}
	pf.closed = true
	lns := pf.listeners
	conns := pf.conns
	pf.conns = nil
	pf.mu.Unlock()
	for _, ln := range lns {
		_ = ln.Close()
	}
	for c := range conns {
		c.reset()
	}
	_ = pf.spdy.Close()
	pf.cancel()
	<-pf.done
	pf.wg.Wait()
	return nil
}

// Dial opens a connection to port on the pod. The net.Conn's Read returns
// io.EOF when the pod's side closes, a *PortError when the node reports a
// failure (nothing listens on the port), and an error wrapping
// io.ErrUnexpectedEOF when the session's connection ends under it; Close
// ends the connection, CloseWrite (on the concrete type, as on a
// *net.TCPConn) only the sending half. Deadlines are not supported.
func (pf *PortForward) Dial(ctx context.Context, port int) (net.Conn, error) {
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("%s: port %d is out of range 1-65535", pf.op, port)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: port %d: %w", pf.op, port, err)
	}
	select {
	case <-pf.done:
		return nil, fmt.Errorf("%s: port %d: %w", pf.op, port, net.ErrClosed)
	default:
	}
	id := strconv.FormatInt(pf.nextID.Add(1)-1, 10)
	h := http.Header{}
	h.Set("streamType", "error")
	h.Set("port", strconv.Itoa(port))
	h.Set("requestID", id)
	errStream, err := pf.createStream(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("%s: port %d: error stream: %w", pf.op, port, err)
	}
	// Nothing is ever written to the error stream.
	_ = errStream.Close()
	h.Set("streamType", "data")
	data, err := pf.createStream(ctx, h)
	if err != nil {
		_ = errStream.Reset()
		return nil, fmt.Errorf("%s: port %d: data stream: %w", pf.op, port, err)
	}
	c := &portConn{pf: pf, port: port, data: data, errStream: errStream, errDone: make(chan struct{})}
	go func() {
		defer close(c.errDone)
		msg, _ := io.ReadAll(io.LimitReader(errStream, 64<<10))
		if len(msg) > 0 {
			c.remoteErr = &PortError{Port: port, Message: string(msg)}
		}
	}()
	pf.mu.Lock()
	if pf.closed {
		pf.mu.Unlock()
		c.reset()
		return nil, fmt.Errorf("%s: port %d: %w", pf.op, port, net.ErrClosed)
	}
	pf.conns[c] = struct{}{}
	pf.mu.Unlock()
	return c, nil
}

// createStream opens a stream and waits for the server's reply, at most
// the stream timeout and as long as ctx.
func (pf *PortForward) createStream(ctx context.Context, h http.Header) (*spdystream.Stream, error) {
	s, err := pf.spdy.CreateStream(h, nil, false)
	if err != nil {
		return nil, err
	}
	replied := make(chan error, 1)
	go func() { replied <- s.WaitTimeout(pf.timeout) }()
	select {
	case err := <-replied:
		if err != nil {
			_ = s.Reset()
			return nil, err
		}
		return s, nil
	case <-ctx.Done():
		_ = s.Reset()
		return nil, ctx.Err()
	case <-pf.done:
		return nil, net.ErrClosed
	}
}

func (pf *PortForward) forget(c *portConn) {
	pf.mu.Lock()
	delete(pf.conns, c)
	pf.mu.Unlock()
}

// Listen listens on addr (such as "127.0.0.1:0") and forwards each
// connection accepted there to port on the pod, until the listener or the
// session is closed. A connection the node fails (nothing listens on the
// pod's port) is closed and logged at Warn level. The listener's Addr gives
// the address picked.
func (pf *PortForward) Listen(addr string, port int) (net.Listener, error) {
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("%s: port %d is out of range 1-65535", pf.op, port)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pf.op, err)
	}
	pf.mu.Lock()
	if pf.closed {
		pf.mu.Unlock()
		ln.Close()
		return nil, fmt.Errorf("%s: %w", pf.op, net.ErrClosed)
	}
	pf.listeners = append(pf.listeners, ln)
	pf.wg.Add(1)
	pf.mu.Unlock()
	go func() {
		defer pf.wg.Done()
		for {
			local, err := ln.Accept()
			if err != nil {
				return
			}
			pf.wg.Go(func() { pf.serveLocal(local, port) })
		}
	}()
	go func() {
		// A session that ends on its own closes its listeners too.
		<-pf.done
		ln.Close()
	}()
	return ln, nil
}

func (pf *PortForward) serveLocal(local net.Conn, port int) {
	defer local.Close()
	ctx, cancel := context.WithTimeout(context.Background(), pf.timeout)
	remote, err := pf.Dial(ctx, port)
	cancel()
	if err != nil {
		pf.c.logger.Warn("port-forward: connection failed", "op", pf.op, "local", local.RemoteAddr().String(), "error", err)
		return
	}
	defer remote.Close()
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		_, _ = io.Copy(remote, local)
		_ = remote.(*portConn).CloseWrite()
	}()
	if _, err := io.Copy(local, remote); err != nil && !pf.isClosed() {
		// A Close cuts open connections on purpose: that is no failure.
		pf.c.logger.Warn("port-forward: connection failed", "op", pf.op, "local", local.RemoteAddr().String(), "error", err)
	}
	// The pod's side is done: end the local connection (which also ends
	// the copy the other way).
	local.Close()
	<-sent
}

// isClosed reports whether Close has been called.
func (pf *PortForward) isClosed() bool {
	pf.mu.Lock()
	defer pf.mu.Unlock()
	return pf.closed
}

// portConn is one forwarded connection: a data stream and an error stream.
type portConn struct {
	pf        *PortForward
	port      int
	data      *spdystream.Stream
	errStream *spdystream.Stream
	errDone   chan struct{}
	remoteErr *PortError // set before errDone closes

	closeOnce sync.Once
	closed    atomic.Bool
}

func (c *portConn) Read(p []byte) (int, error) {
	n, err := c.data.Read(p)
	if err == nil || n > 0 {
		return n, nil
	}
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	// The data stream ended: the node's error, if any, has been or is
	// about to be read from the error stream.
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-c.errDone:
	case <-t.C:
	}
	if c.remoteErr != nil {
		return 0, c.remoteErr
	}
	// spdystream closes the connection's channel before it ends the
	// streams of a connection that went away, so a stream that ended
	// because the session did is told from one the pod's side finished.
	select {
	case <-c.pf.spdy.CloseChan():
		if c.closed.Load() {
			return 0, net.ErrClosed
		}
		return 0, fmt.Errorf("%s: port %d: the session ended before the connection did: %w", c.pf.op, c.port, io.ErrUnexpectedEOF)
	default:
	}
	return 0, io.EOF
}

func (c *portConn) Write(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	// spdystream sends a Write as one data frame; keep frames moderate.
	written := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), 32<<10)]
		if _, err := c.data.Write(chunk); err != nil {
			if c.remoteErr != nil {
				return written, c.remoteErr
			}
			return written, fmt.Errorf("%s: port %d: %w", c.pf.op, c.port, err)
		}
		written += len(chunk)
		p = p[len(chunk):]
	}
	return written, nil
}

// CloseWrite ends the sending half: the pod's side reads EOF.
func (c *portConn) CloseWrite() error { return c.data.Close() }

func (c *portConn) Close() error {
	c.reset()
	c.pf.forget(c)
	return nil
}

func (c *portConn) reset() {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		_ = c.data.Close()
		_ = c.data.Reset()
		_ = c.errStream.Reset()
	})
}

type pfAddr string

func (a pfAddr) Network() string { return "portforward" }
func (a pfAddr) String() string  { return string(a) }

func (c *portConn) LocalAddr() net.Addr { return pfAddr("local") }
func (c *portConn) RemoteAddr() net.Addr {
	return pfAddr(c.pf.op + ":" + strconv.Itoa(c.port))
}

var errNoDeadlines = errors.New("port-forward connections do not support deadlines")

func (c *portConn) SetDeadline(time.Time) error      { return errNoDeadlines }
func (c *portConn) SetReadDeadline(time.Time) error  { return errNoDeadlines }
func (c *portConn) SetWriteDeadline(time.Time) error { return errNoDeadlines }
