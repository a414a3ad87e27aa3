package connect_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/connect"
	"github.com/kubedyn/kubedyn/transport"
)

// rawServer serves h on plain HTTP and returns a connect client for it.
func rawServer(t *testing.T, h http.HandlerFunc) *connect.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	tc, err := transport.New(&transport.Config{Host: srv.URL})
	require.NoError(t, err)
	t.Cleanup(tc.CloseIdleConnections)
	return connect.New(tc, nil)
}

func TestExecOverV4(t *testing.T) {
	t.Parallel()
	c := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{connect.ProtocolV4}})
		if err != nil {
			return
		}
		defer conn.CloseNow()
		ctx := r.Context()
		_ = conn.Write(ctx, websocket.MessageBinary, []byte{1})
		_ = conn.Write(ctx, websocket.MessageBinary, append([]byte{1}, "from v4\n"...))
		_ = conn.Write(ctx, websocket.MessageBinary, append([]byte{3}, `{"metadata":{},"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"7"}]}}`...))
		_ = conn.Close(websocket.StatusNormalClosure, "")
	})
	var out bytes.Buffer
	err := c.Exec(ctx(t), "default", "web", []string{"x"}, &connect.ExecOptions{Stdout: &out})
	var exit *connect.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 7, exit.Code)
	assert.Equal(t, "from v4\n", out.String())
}

func TestExecStatusFailureIsAnAPIError(t *testing.T) {
	t.Parallel()
	// What kube-apiserver sends when it cannot reach the node: a Status
	// on the error channel, then a normal close.
	c := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{connect.ProtocolV5}})
		if err != nil {
			return
		}
		defer conn.CloseNow()
		_ = conn.Write(r.Context(), websocket.MessageBinary, append([]byte{3}, `{"metadata":{},"status":"Failure","message":"error dialing backend: dial tcp 127.0.0.1:1: connect: connection refused","reason":"InternalError","code":500}`...))
		_ = conn.Close(websocket.StatusNormalClosure, "")
	})
	err := c.Exec(ctx(t), "default", "web", []string{"x"}, nil)
	require.ErrorIs(t, err, transport.ErrInternalError)
	assert.Contains(t, err.Error(), "error dialing backend")
}

func TestServerThatDoesNotUpgrade(t *testing.T) {
	t.Parallel()
	c := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "plain answer")
	})
	err := c.Exec(ctx(t), "default", "web", []string{"x"}, nil)
	require.ErrorIs(t, err, transport.ErrNotUpgraded)
	_, err = c.PortForward(ctx(t), "default", "web", nil)
	require.ErrorIs(t, err, transport.ErrNotUpgraded)
}

func TestServerWithoutACommonProtocol(t *testing.T) {
	t.Parallel()
	c := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, nil) // chooses no subprotocol
		if err != nil {
			return
		}
		_ = conn.Close(websocket.StatusNormalClosure, "")
	})
	err := c.Exec(ctx(t), "default", "web", []string{"x"}, nil)
	assert.ErrorContains(t, err, `the server chose subprotocol ""`)
	_, err = c.PortForward(ctx(t), "default", "web", nil)
	assert.ErrorContains(t, err, `the server chose subprotocol ""`)
}

func TestExecStdinReaderBlockedDoesNotHoldTheSession(t *testing.T) {
	t.Parallel()
	c := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{connect.ProtocolV5}})
		if err != nil {
			return
		}
		defer conn.CloseNow()
		_ = conn.Write(r.Context(), websocket.MessageBinary, append([]byte{3}, `{"metadata":{},"status":"Success"}`...))
		_ = conn.Close(websocket.StatusNormalClosure, "")
	})
	pr, pw := io.Pipe()
	defer pw.Close()
	err := c.Exec(ctx(t), "default", "web", []string{"true"}, &connect.ExecOptions{Stdin: pr})
	require.NoError(t, err, "Exec returns when the command ends, though its Stdin never did")
}
