package testserver

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wsClient is a minimal WebSocket client for the tests.
type wsClient struct {
	conn  *tls.Conn
	br    *bufio.Reader
	proto string
}

// dialWS opens a WebSocket to p offering protocols; it returns the HTTP
// status and, on 101, the connection.
func dialWS(t *testing.T, srv *Server, p string, protocols ...string) (int, *wsClient) {
	t.Helper()
	u, err := url.Parse(srv.URL())
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(srv.CAPEM()))
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n",
		p, u.Host, srv.Token(), base64.StdEncoding.EncodeToString(key))
	if len(protocols) > 0 {
		req += "Sec-WebSocket-Protocol: " + strings.Join(protocols, ", ") + "\r\n"
	}
	_, err = conn.Write([]byte(req + "\r\n"))
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	if res.StatusCode != http.StatusSwitchingProtocols {
		return res.StatusCode, nil
	}
	return res.StatusCode, &wsClient{conn: conn, br: br, proto: res.Header.Get("Sec-WebSocket-Protocol")}
}

func (c *wsClient) send(op byte, payload []byte) error {
	hdr := []byte{0x80 | op}
	n := len(payload)
	switch {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n <= 0xffff:
		hdr = append(hdr, 0x80|126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	mask := make([]byte, 4)
	_, _ = rand.Read(mask)
	hdr = append(hdr, mask...)
	masked := make([]byte, n)
	for i := range payload {
		masked[i] = payload[i] ^ mask[i%4]
	}
	_, err := c.conn.Write(append(hdr, masked...))
	return err
}

func (c *wsClient) sendChannel(ch byte, data string) error {
	return c.send(wsBinary, append([]byte{ch}, data...))
}

// recv returns the next data message; io.EOF after a close frame.
func (c *wsClient) recv() ([]byte, error) {
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return nil, err
		}
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(c.br, b[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(c.br, b[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(c.br, payload); err != nil {
			return nil, err
		}
		switch h[0] & 0x0f {
		case wsClose:
			return nil, io.EOF
		case wsPing, wsPong:
			continue
		}
		return payload, nil
	}
}

// session reads every channel message until the close and returns the
// collected output per channel.
func (c *wsClient) session(t *testing.T) map[byte]string {
	t.Helper()
	out := map[byte]string{}
	for {
		msg, err := c.recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		require.NotEmpty(t, msg)
		out[msg[0]] += string(msg[1:])
	}
}

func createPod(t *testing.T, c *tclient, name string, containers ...string) {
	t.Helper()
	var cs []string
	for _, n := range containers {
		cs = append(cs, fmt.Sprintf(`{"name":%q,"image":"busybox"}`, n))
	}
	r := c.do("POST", "/api/v1/namespaces/default/pods", fmt.Sprintf(`{"metadata":{"name":%q},"spec":{"containers":[%s]}}`, name, strings.Join(cs, ",")))
	require.Equal(t, http.StatusCreated, r.code, string(r.raw))
}

func TestExec(t *testing.T) {
	t.Parallel()
	c := setup(t)
	createPod(t, c, "box", "main")
	base := "/api/v1/namespaces/default/pods/box/exec?"
	for _, tc := range []struct {
		name, query string
		protocols   []string
		wantProto   string
		stdout      string
		status      string
		reason      string
	}{
		{"echo v5", "command=echo&command=hello&command=world&stdout=true", []string{"v5.channel.k8s.io", "v4.channel.k8s.io"}, "v5.channel.k8s.io", "hello world\n", "Success", ""},
		{"echo v4 only", "command=echo&command=hi&stdout=1&stderr=1", []string{"v4.channel.k8s.io"}, "v4.channel.k8s.io", "hi\n", "Success", ""},
		{"exit code", "command=sh&command=-c&command=exit%203&stdout=true", []string{"v5.channel.k8s.io"}, "v5.channel.k8s.io", "", "Failure", "NonZeroExitCode"},
		{"missing executable", "command=nope&stdout=true", []string{"v5.channel.k8s.io"}, "v5.channel.k8s.io", "", "Failure", "InternalError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, ws := dialWS(t, c.srv, base+tc.query, tc.protocols...)
			require.Equal(t, http.StatusSwitchingProtocols, code)
			assert.Equal(t, tc.wantProto, ws.proto)
			out := ws.session(t)
			assert.Equal(t, tc.stdout, out[1])
			var st map[string]any
			require.NoError(t, json.Unmarshal([]byte(out[3]), &st), out[3])
			assert.Equal(t, tc.status, st["status"])
			if tc.reason != "" {
				assert.Equal(t, tc.reason, st["reason"])
			}
			if tc.reason == "NonZeroExitCode" {
				assert.Equal(t, "3", path(st, "details.causes.0.message"))
				assert.Equal(t, "ExitCode", path(st, "details.causes.0.reason"))
			}
		})
	}

	for _, tc := range []struct{ name, query string }{
		{"no command", "stdout=true"},
		{"no streams", "command=ls"},
		{"tty with stderr", "command=ls&stdout=true&stderr=true&tty=true"},
	} {
		code, _ := dialWS(t, c.srv, base+tc.query, "v5.channel.k8s.io")
		assert.Equal(t, http.StatusBadRequest, code, tc.name)
	}
	code, _ := dialWS(t, c.srv, base+"command=ls&stdout=true", "SPDY/3.1+portforward.k8s.io")
	assert.Equal(t, http.StatusBadRequest, code, "no common protocol")
	code, _ = dialWS(t, c.srv, "/api/v1/namespaces/default/pods/nope/exec?command=ls&stdout=true", "v5.channel.k8s.io")
	assert.Equal(t, http.StatusNotFound, code)
}

func TestExecStdinAndResize(t *testing.T) {
	t.Parallel()
	c := setup(t)
	createPod(t, c, "box", "main")
	sizes := make(chan TerminalSize, 1)
	c.srv.SetExecHandler(func(ctx context.Context, req ExecRequest, st ExecStreams) (int, error) {
		if req.TTY {
			sizes <- <-st.Resize
		}
		data, err := io.ReadAll(st.Stdin)
		if err != nil {
			return 0, err
		}
		_, err = fmt.Fprintf(st.Stdout, "%s:%s", req.Container, strings.ToUpper(string(data)))
		return 0, err
	})
	code, ws := dialWS(t, c.srv, "/api/v1/namespaces/default/pods/box/exec?command=upper&stdin=true&stdout=true&tty=true", "v5.channel.k8s.io")
	require.Equal(t, http.StatusSwitchingProtocols, code)
	require.NoError(t, ws.sendChannel(4, `{"Width":120,"Height":40}`))
	require.NoError(t, ws.sendChannel(0, "abc"))
	require.NoError(t, ws.sendChannel(0, "def"))
	require.NoError(t, ws.send(wsBinary, []byte{255, 0})) // v5: close stdin
	out := ws.session(t)
	assert.Equal(t, "main:ABCDEF", out[1])
	assert.Equal(t, TerminalSize{Width: 120, Height: 40}, <-sizes)
	assert.Contains(t, out[3], `"Success"`)
}

func TestAttachDefault(t *testing.T) {
	t.Parallel()
	c := setup(t)
	createPod(t, c, "two", "a", "b")
	code, _ := dialWS(t, c.srv, "/api/v1/namespaces/default/pods/two/attach?stdin=true&stdout=true", "v5.channel.k8s.io")
	assert.Equal(t, http.StatusBadRequest, code, "two containers: one must be chosen")
	code, ws := dialWS(t, c.srv, "/api/v1/namespaces/default/pods/two/attach?container=b&stdin=true&stdout=true", "v5.channel.k8s.io")
	require.Equal(t, http.StatusSwitchingProtocols, code)
	require.NoError(t, ws.sendChannel(0, "ping"))
	require.NoError(t, ws.send(wsBinary, []byte{255, 0}))
	assert.Equal(t, "ping", ws.session(t)[1])
}

func TestPortForward(t *testing.T) {
	t.Parallel()
	c := setup(t)
	createPod(t, c, "web", "main")
	code, ws := dialWS(t, c.srv, "/api/v1/namespaces/default/pods/web/portforward?ports=8080,9090", "v4.channel.k8s.io")
	require.Equal(t, http.StatusSwitchingProtocols, code)
	// Each channel opens with its port, little endian.
	want := map[byte]uint16{0: 8080, 1: 8080, 2: 9090, 3: 9090}
	for range 4 {
		msg, err := ws.recv()
		require.NoError(t, err)
		require.Len(t, msg, 3)
		assert.Equal(t, want[msg[0]], binary.LittleEndian.Uint16(msg[1:]))
	}
	require.NoError(t, ws.sendChannel(2, "hello 9090"))
	msg, err := ws.recv()
	require.NoError(t, err)
	assert.Equal(t, byte(2), msg[0])
	assert.Equal(t, "hello 9090", string(msg[1:]), "the default handler echoes")

	c.srv.SetPortForwardHandler(func(ctx context.Context, req PortForwardRequest, conn io.ReadWriter) error {
		return fmt.Errorf("error forwarding port %d to pod %s: connection refused", req.Port, req.Pod)
	})
	code, ws2 := dialWS(t, c.srv, "/api/v1/namespaces/default/pods/web/portforward?ports=5432", "portforward.k8s.io")
	require.Equal(t, http.StatusSwitchingProtocols, code)
	var errText string
	for errText == "" {
		msg, err := ws2.recv()
		require.NoError(t, err)
		if msg[0] == 1 && len(msg) > 3 {
			errText = string(msg[1:])
		}
	}
	assert.Equal(t, "error forwarding port 5432 to pod web: connection refused", errText)

	code, _ = dialWS(t, c.srv, "/api/v1/namespaces/default/pods/web/portforward", "v4.channel.k8s.io")
	assert.Equal(t, http.StatusBadRequest, code)
	code, _ = dialWS(t, c.srv, "/api/v1/namespaces/default/pods/web/portforward?ports=http", "v4.channel.k8s.io")
	assert.Equal(t, http.StatusBadRequest, code)
}
