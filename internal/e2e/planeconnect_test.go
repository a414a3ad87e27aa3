package e2e_test

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/unstructured"
)

// A bare WebSocket client, enough to drive the API server's exec and
// port-forward channel protocols down to the node agent. The client side
// of connect lives in the library once the connect issue lands; these
// tests pin the server side of the whole plane.

// wsConn is a client WebSocket connection.
type wsConn struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

// dialWS opens path on the whole plane with the given subprotocol.
func dialWS(t *testing.T, path, protocol string) *wsConn {
	t.Helper()
	c := plane(t)
	u, err := url.Parse(c.URL)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(c.CAPEM))
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(time.Minute)))
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	req := "GET " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key) + "\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: " + protocol + "\r\nAuthorization: Bearer " + c.AdminToken + "\r\n\r\n"
	_, err = io.WriteString(conn, req)
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("upgrade %s: %s: %s", path, resp.Status, body)
	}
	assert.Equal(t, protocol, resp.Header.Get("Sec-WebSocket-Protocol"))
	return &wsConn{t: t, conn: conn, br: br}
}

// read returns the next data message (reassembled), or ok=false at close.
func (w *wsConn) read() (msg []byte, ok bool) {
	w.t.Helper()
	for {
		var h [2]byte
		if _, err := io.ReadFull(w.br, h[:]); err != nil {
			return nil, false
		}
		op, n := h[0]&0x0f, uint64(h[1]&0x7f)
		switch n {
		case 126:
			var b [2]byte
			_, err := io.ReadFull(w.br, b[:])
			require.NoError(w.t, err)
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			_, err := io.ReadFull(w.br, b[:])
			require.NoError(w.t, err)
			n = binary.BigEndian.Uint64(b[:])
		}
		require.Zero(w.t, h[1]&0x80, "a server does not mask its frames")
		payload := make([]byte, n)
		_, err := io.ReadFull(w.br, payload)
		require.NoError(w.t, err)
		switch op {
		case 8: // close
			return nil, false
		case 9, 10: // ping, pong
			continue
		}
		msg = append(msg, payload...)
		if h[0]&0x80 != 0 {
			return msg, true
		}
	}
}

// write sends one binary message, masked as a client must.
func (w *wsConn) write(payload []byte) {
	w.t.Helper()
	frame := []byte{0x82}
	switch n := len(payload); {
	case n < 126:
		frame = append(frame, 0x80|byte(n))
	case n < 1<<16:
		frame = append(frame, 0x80|126, byte(n>>8), byte(n))
	default:
		frame = append(frame, 0x80|127)
		frame = binary.BigEndian.AppendUint64(frame, uint64(n))
	}
	mask := make([]byte, 4)
	_, _ = rand.Read(mask)
	frame = append(frame, mask...)
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	_, err := w.conn.Write(frame)
	require.NoError(w.t, err)
}

// runningPod creates a pod whose container sleeps and waits until it runs.
func runningPod(t *testing.T, ns, name string) unstructured.Object {
	t.Helper()
	pods := planeAdmin(t).Resource("v1", "Pod").Namespace(ns)
	_, err := pods.Create(testContext(t), shellPod(t, name, "Never", "exec sleep 3600"), nil)
	require.NoError(t, err)
	return waitPod(t, pods, name, "the pod to be Running", func(p unstructured.Object) bool {
		return p.Get("status.phase").String() == "Running"
	})
}

func TestExecThroughTheAPIServer(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	runningPod(t, ns, "target")
	exec := func(script string) (stdout, stderr, status string) {
		t.Helper()
		q := url.Values{"command": {"sh", "-c", script}, "stdout": {"true"}, "stderr": {"true"}, "container": {"main"}}
		ws := dialWS(t, "/api/v1/namespaces/"+ns+"/pods/target/exec?"+q.Encode(), "v5.channel.k8s.io")
		for {
			msg, ok := ws.read()
			if !ok {
				return
			}
			if len(msg) == 0 {
				continue
			}
			switch msg[0] {
			case 1:
				stdout += string(msg[1:])
			case 2:
				stderr += string(msg[1:])
			case 3:
				status += string(msg[1:])
			}
		}
	}

	stdout, stderr, status := exec(`echo "out in $HOSTNAME"; echo err >&2; exit 3`)
	assert.Equal(t, "out in target\n", stdout)
	assert.Equal(t, "err\n", stderr)
	assert.Contains(t, status, `"reason":"NonZeroExitCode"`)
	assert.Contains(t, status, `"causes":[{"reason":"ExitCode","message":"3"}]`)

	stdout, _, status = exec(`echo fine`)
	assert.Equal(t, "fine\n", stdout)
	assert.Contains(t, status, `"status":"Success"`)
}

// TestPortForwardReachesTheHostPort forwards to a hostNetwork pod's port
// N, which on the node agent is the host's 127.0.0.1:N: such a pod shares
// the host's network and has its node's address. The test itself listens
// there.
func TestPortForwardReachesTheHostPort(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	pods := planeAdmin(t).Resource("v1", "Pod").Namespace(ns)
	_, err := pods.Create(testContext(t), set(t, shellPod(t, "fwd", "Never", "exec sleep 3600"), "spec.hostNetwork", true), nil)
	require.NoError(t, err)
	p := waitPod(t, pods, "fwd", "the pod to be Running", func(p unstructured.Object) bool {
		return p.Get("status.phase").String() == "Running"
	})
	assert.Equal(t, p.Get("status.hostIP").String(), p.Get("status.podIP").String(), "a hostNetwork pod has the node's address")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	served := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			served <- err.Error()
			return
		}
		defer conn.Close()
		_, _ = io.WriteString(conn, "hello from the host\n")
		line, _ := bufio.NewReader(conn).ReadString('\n')
		served <- line
	}()

	// v4.channel.k8s.io: per port a data channel (0) and an error channel
	// (1); the first message on each names the port (2 bytes, little endian).
	ws := dialWS(t, "/api/v1/namespaces/"+ns+"/pods/fwd/portforward?ports="+strconv.Itoa(port), "v4.channel.k8s.io")
	var data string
	for !strings.Contains(data, "\n") {
		msg, ok := ws.read()
		require.True(t, ok, "the stream ended early; data so far %q", data)
		require.NotEmpty(t, msg)
		if msg[0] != 0 {
			require.Len(t, msg, 3, "the error channel carries only its port header, got %q", msg[1:])
			continue
		}
		body := msg[1:]
		if len(body) == 2 && binary.LittleEndian.Uint16(body) == uint16(port) && data == "" {
			continue // the port header
		}
		data += string(body)
	}
	assert.Equal(t, "hello from the host\n", data)
	ws.write(append([]byte{0}, "ping\n"...))
	select {
	case got := <-served:
		assert.Equal(t, "ping\n", got)
	case <-time.After(time.Minute):
		t.Fatal("the listener got nothing back through the forward")
	}
}

func TestAttachStreamsLiveOutput(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	pods := planeAdmin(t).Resource("v1", "Pod").Namespace(ns)
	_, err := pods.Create(testContext(t), shellPod(t, "ticker", "Never", `i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done`), nil)
	require.NoError(t, err)
	waitPod(t, pods, "ticker", "the pod to be Running", func(p unstructured.Object) bool {
		return p.Get("status.phase").String() == "Running"
	})
	q := url.Values{"stdout": {"true"}, "stderr": {"true"}, "container": {"main"}}
	ws := dialWS(t, "/api/v1/namespaces/"+ns+"/pods/ticker/attach?"+q.Encode(), "v5.channel.k8s.io")
	var out string
	for strings.Count(out, "\n") < 2 {
		msg, ok := ws.read()
		require.True(t, ok, "attach ended early; got %q", out)
		if len(msg) > 0 && msg[0] == 1 {
			out += string(msg[1:])
		}
	}
	assert.Regexp(t, `^(tick \d+\n)+`, out, "attach sees the output written from now on")
}
