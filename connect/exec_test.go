package connect_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/connect"
	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/transport"
)

func TestExec(t *testing.T) {
	t.Parallel()
	srv, c, tc := setup(t)
	createPod(t, tc, "web")

	t.Run("echo", func(t *testing.T) {
		var out bytes.Buffer
		err := c.Exec(ctx(t), "default", "web", []string{"echo", "hello", "world"}, &connect.ExecOptions{Stdout: &out})
		require.NoError(t, err)
		assert.Equal(t, "hello world\n", out.String())
	})
	t.Run("the handshake goes through the transport", func(t *testing.T) {
		srv.ResetRequests()
		require.NoError(t, c.Exec(ctx(t), "default", "web", []string{"true"}, nil))
		reqs := srv.Requests()
		require.Len(t, reqs, 1)
		r := reqs[0]
		assert.Equal(t, "HTTP/1.1", r.Proto)
		assert.Equal(t, "/api/v1/namespaces/default/pods/web/exec", r.Path)
		assert.Equal(t, []string{"true"}, r.Query["command"])
		assert.Equal(t, "true", r.Query.Get("stdout"))
		assert.Equal(t, transport.DefaultUserAgent, r.Header.Get("User-Agent"))
		assert.Equal(t, "Bearer "+srv.Token(), r.Header.Get("Authorization"))
		assert.Equal(t, "v5.channel.k8s.io,v4.channel.k8s.io", r.Header.Get("Sec-WebSocket-Protocol"))
	})
	t.Run("cat ends when stdin closes", func(t *testing.T) {
		var out bytes.Buffer
		err := c.Exec(ctx(t), "default", "web", []string{"cat"}, &connect.ExecOptions{Stdin: strings.NewReader("line 1\nline 2\n"), Stdout: &out})
		require.NoError(t, err)
		assert.Equal(t, "line 1\nline 2\n", out.String())
	})
	t.Run("non-zero exit is an ExitError", func(t *testing.T) {
		err := c.Exec(ctx(t), "default", "web", []string{"sh", "-c", "exit 3"}, nil)
		var exit *connect.ExitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, 3, exit.Code)
		assert.Equal(t, "command terminated with exit code 3", err.Error())
	})
	t.Run("missing container", func(t *testing.T) {
		err := c.Exec(ctx(t), "default", "web", []string{"true"}, &connect.ExecOptions{Container: "nope"})
		require.ErrorIs(t, err, transport.ErrBadRequest)
		assert.Contains(t, err.Error(), "container nope is not valid for pod web")
	})
	t.Run("missing pod", func(t *testing.T) {
		err := c.Exec(ctx(t), "default", "nope", []string{"true"}, nil)
		require.ErrorIs(t, err, transport.ErrNotFound)
	})
	t.Run("bad input", func(t *testing.T) {
		assert.ErrorContains(t, c.Exec(ctx(t), "default", "web", nil, nil), "the command is empty")
		assert.ErrorIs(t, c.Exec(ctx(t), "default", "../x", []string{"true"}, nil), transport.ErrInvalidName)
		assert.ErrorContains(t, c.Exec(ctx(t), "default", "web", []string{"true"}, &connect.ExecOptions{TTY: true, Stderr: io.Discard}), "leave Stderr nil")
	})
}

func TestExecInternalErrorIsAnAPIError(t *testing.T) {
	t.Parallel()
	_, c, tc := setup(t)
	createPod(t, tc, "web")
	err := c.Exec(ctx(t), "default", "web", []string{"no-such-program"}, nil)
	var apiErr *transport.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, transport.ErrInternalError)
	assert.Contains(t, apiErr.Message, "executable file not found")
}

func TestExecTTYResize(t *testing.T) {
	t.Parallel()
	srv, c, tc := setup(t)
	createPod(t, tc, "web")
	srv.SetExecHandler(func(ctx context.Context, req testserver.ExecRequest, st testserver.ExecStreams) (int, error) {
		if !req.TTY || req.Stderr {
			return 2, nil
		}
		size := <-st.Resize
		_, err := io.WriteString(st.Stdout, fmt.Sprintf("size %dx%d\n", size.Width, size.Height))
		return 0, err
	})
	sizes := make(chan connect.TerminalSize, 1)
	sizes <- connect.TerminalSize{Width: 120, Height: 40}
	var out bytes.Buffer
	err := c.Exec(ctx(t), "default", "web", []string{"stty", "size"}, &connect.ExecOptions{TTY: true, Stdout: &out, TerminalSizes: sizes})
	require.NoError(t, err)
	assert.Equal(t, "size 120x40\n", out.String())
}

func TestExecCancelledByContext(t *testing.T) {
	t.Parallel()
	srv, c, tc := setup(t)
	createPod(t, tc, "web")
	started := make(chan struct{})
	srv.SetExecHandler(func(ctx context.Context, req testserver.ExecRequest, st testserver.ExecStreams) (int, error) {
		close(started)
		<-ctx.Done()
		return 0, nil
	})
	cctx, cancel := context.WithCancel(ctx(t))
	errc := make(chan error, 1)
	go func() { errc <- c.Exec(cctx, "default", "web", []string{"sleep", "3600"}, nil) }()
	<-started
	cancel()
	err := <-errc
	require.ErrorIs(t, err, context.Canceled)
}

func TestExecCutConnectionIsAnError(t *testing.T) {
	t.Parallel()
	srv, _, tc := setup(t)
	createPod(t, tc, "web")
	c, r := relayed(t, srv)
	srv.SetExecHandler(func(ctx context.Context, req testserver.ExecRequest, st testserver.ExecStreams) (int, error) {
		_, _ = io.WriteString(st.Stdout, "partial")
		<-ctx.Done()
		return 0, nil
	})
	// The network goes away once the client has the first output.
	out := &cutOnWrite{cut: r.Cut}
	err := c.Exec(ctx(t), "default", "web", []string{"x"}, &connect.ExecOptions{Stdout: out})
	require.Error(t, err)
	assert.False(t, errors.As(err, new(*connect.ExitError)))
	assert.Contains(t, err.Error(), "before the command's exit status")
	assert.Equal(t, "partial", out.buf.String())
}

// cutOnWrite calls cut after its first write.
type cutOnWrite struct {
	buf bytes.Buffer
	cut func()
}

func (w *cutOnWrite) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if w.cut != nil {
		w.cut()
		w.cut = nil
	}
	return len(p), nil
}

// TestAttachTTYContainer: a node attaches to a tty: true container with
// its terminal whatever the client asks, so a separate stderr is refused
// (the test server answers as kube-apiserver relays the node's refusal:
// after the upgrade, on the error channel).
func TestAttachTTYContainer(t *testing.T) {
	t.Parallel()
	_, c, tc := setup(t)
	body := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"term"},"spec":{"containers":[{"name":"main","image":"busybox:1.36","stdin":true,"tty":true}]}}`
	_, err := tc.Do(ctx(t), &transport.Request{Method: "POST", Path: "/api/v1/namespaces/default/pods", Body: []byte(body)})
	require.NoError(t, err)

	t.Run("with a separate stderr", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := c.Attach(ctx(t), "default", "term", &connect.ExecOptions{Stdout: &out, Stderr: &errOut})
		require.ErrorIs(t, err, transport.ErrInternalError)
		assert.Contains(t, err.Error(), "tty and stderr cannot both be true")
	})
	t.Run("with TTY", func(t *testing.T) {
		var out bytes.Buffer
		err := c.Attach(ctx(t), "default", "term", &connect.ExecOptions{TTY: true, Stdin: strings.NewReader("typed\n"), Stdout: &out})
		require.NoError(t, err)
		assert.Equal(t, "typed\n", out.String())
	})
}
