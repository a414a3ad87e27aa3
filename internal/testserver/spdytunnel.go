package testserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/spdystream"
)

// protocolSPDYTunnel is port-forward's WebSocket subprotocol since
// Kubernetes 1.31: SPDY/3.1 frames of portforward.k8s.io carried in binary
// messages. kube-apiserver unwraps it itself (PortForwardWebsockets, on by
// default); other WebSocket protocols pass through to the node.
const protocolSPDYTunnel = "SPDY/3.1+portforward.k8s.io"

// serveSPDYTunnel answers a port-forward that offers the SPDY tunnel
// protocol and reports whether it did. Each forwarded connection is a pair
// of streams with the same requestID and port headers, streamType error and
// data; the handler's error is written to the error stream, then both are
// closed, as the kubelet does.
func (s *Server) serveSPDYTunnel(w http.ResponseWriter, r *http.Request, req request) bool {
	offered := false
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			offered = offered || strings.TrimSpace(p) == protocolSPDYTunnel
		}
	}
	if !offered {
		return false
	}
	if _, _, err := s.podContainer(req, "", true); err != nil {
		writeErr(w, err)
		return true
	}
	ws, _ := wsUpgrade(w, r, []string{protocolSPDYTunnel})
	if ws == nil {
		return true
	}
	s.mu.Lock()
	handler := s.pfHandler
	s.mu.Unlock()
	if handler == nil {
		handler = defaultPortForward
	}
	ctx, cancel := s.sessionContext(ws)
	defer cancel()
	conn, err := spdystream.NewConnection(&wsNetConn{ws: ws}, true)
	if err != nil {
		_ = ws.conn.Close()
		return true
	}
	var mu sync.Mutex
	pending := map[string][2]*spdystream.Stream{} // requestID -> error, data
	var handlers sync.WaitGroup
	conn.Serve(func(st *spdystream.Stream) {
		h := st.Headers()
		_ = st.SendReply(http.Header{}, false)
		id, typ := h.Get("requestID"), h.Get("streamType")
		mu.Lock()
		pair := pending[id]
		switch typ {
		case "error":
			pair[0] = st
		case "data":
			pair[1] = st
		default:
			mu.Unlock()
			_ = st.Reset()
			return
		}
		if pair[0] == nil || pair[1] == nil {
			pending[id] = pair
			mu.Unlock()
			return
		}
		delete(pending, id)
		mu.Unlock()
		errStream, data := pair[0], pair[1]
		handlers.Go(func() {
			defer data.Close()
			defer errStream.Close()
			port, err := strconv.ParseUint(h.Get("port"), 10, 16)
			if err != nil || port == 0 {
				fmt.Fprintf(errStream, "invalid port header %q", h.Get("port"))
				return
			}
			herr := handler(ctx, PortForwardRequest{Namespace: req.namespace, Pod: req.name, Port: int(port)}, data)
			if herr != nil {
				_, _ = fmt.Fprintf(errStream, "error forwarding port %d to pod %s, uid : %v", port, req.name, herr)
			}
		})
	})
	cancel()
	handlers.Wait()
	_ = conn.Close()
	_ = ws.conn.Close()
	return true
}

// wsNetConn is a WebSocket seen as a byte stream: reads run through the
// binary messages one after another, each write is one binary message.
type wsNetConn struct {
	ws     *wsConn
	unread []byte
	once   sync.Once
}

func (c *wsNetConn) Read(p []byte) (int, error) {
	for len(c.unread) == 0 {
		op, msg, err := c.ws.readMessage()
		if errors.Is(err, errWSClosed) {
			return 0, io.EOF
		}
		if err != nil {
			return 0, err
		}
		if op != wsBinary {
			return 0, fmt.Errorf("websocket: unexpected message type %d in a SPDY tunnel", op)
		}
		c.unread = msg
	}
	n := copy(p, c.unread)
	c.unread = c.unread[n:]
	return n, nil
}

func (c *wsNetConn) Write(p []byte) (int, error) {
	if err := c.ws.writeFrame(wsBinary, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *wsNetConn) Close() error {
	c.once.Do(c.ws.closeNormal)
	return nil
}

func (c *wsNetConn) LocalAddr() net.Addr                { return c.ws.conn.LocalAddr() }
func (c *wsNetConn) RemoteAddr() net.Addr               { return c.ws.conn.RemoteAddr() }
func (c *wsNetConn) SetDeadline(t time.Time) error      { return c.ws.conn.SetDeadline(t) }
func (c *wsNetConn) SetReadDeadline(t time.Time) error  { return c.ws.conn.SetReadDeadline(t) }
func (c *wsNetConn) SetWriteDeadline(t time.Time) error { return c.ws.conn.SetWriteDeadline(t) }
