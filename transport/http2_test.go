package transport

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHTTP2AndUpgrade(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "ca")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "websocket" {
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			defer conn.Close()
			_, _ = io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			line, _ := brw.ReadString('\n')
			_, _ = io.WriteString(conn, "echo:"+line)
			return
		}
		_, _ = io.WriteString(w, r.Proto)
	})
	srv := tlsServerH2(t, ca, h)
	c, err := New(&Config{Host: srv.URL, TLS: TLSConfig{CAData: ca.pem}})
	require.NoError(t, err)
	assert.NotNil(t, c.base0.HTTP2)
	assert.NotZero(t, c.base0.HTTP2.SendPingTimeout, "HTTP/2 health checks are on")
	resp, err := c.Do(context.Background(), &Request{Path: "/"})
	require.NoError(t, err)
	assert.Equal(t, "HTTP/2.0", string(resp.Body))

	// An upgrade through HTTPClient falls back to HTTP/1.1 and hands back
	// the raw connection, as WebSocket dialers need.
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/exec", nil)
	require.NoError(t, err)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	up, err := c.HTTPClient().Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, up.StatusCode)
	rw, ok := up.Body.(io.ReadWriteCloser)
	require.True(t, ok)
	defer rw.Close()
	_, err = io.WriteString(rw, "hello\n")
	require.NoError(t, err)
	line, err := bufio.NewReader(rw).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "echo:hello\n", line)
}
