package connect_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/connect"
	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/transport"
)

func TestPortForwardDial(t *testing.T) {
	t.Parallel()
	srv, c, tc := setup(t)
	createPod(t, tc, "web")
	srv.SetPortForwardHandler(func(ctx context.Context, req testserver.PortForwardRequest, conn io.ReadWriter) error {
		if req.Port == 9999 {
			return errors.New("dial tcp4 127.0.0.1:9999: connect: connection refused")
		}
		_, err := io.Copy(conn, conn)
		return err
	})
	pf, err := c.PortForward(ctx(t), "default", "web", nil)
	require.NoError(t, err)
	defer pf.Close()

	t.Run("echo round trips", func(t *testing.T) {
		conn, err := pf.Dial(ctx(t), 8080)
		require.NoError(t, err)
		defer conn.Close()
		buf := make([]byte, 5)
		for i := range 100 {
			msg := fmt.Sprintf("m%04d", i)
			_, err := io.WriteString(conn, msg)
			require.NoError(t, err)
			_, err = io.ReadFull(conn, buf)
			require.NoError(t, err)
			require.Equal(t, msg, string(buf))
		}
	})
	t.Run("several connections and a large transfer", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				conn, err := pf.Dial(ctx(t), 8080)
				if !assert.NoError(t, err) {
					return
				}
				defer conn.Close()
				data := make([]byte, 4<<20)
				_, _ = rand.Read(data)
				go func() {
					_, _ = conn.Write(data)
					_ = conn.(interface{ CloseWrite() error }).CloseWrite()
				}()
				got, err := io.ReadAll(conn)
				assert.NoError(t, err)
				assert.True(t, bytes.Equal(data, got), "echoed %d of %d bytes", len(got), len(data))
			})
		}
		wg.Wait()
	})
	t.Run("the node's error surfaces on the connection", func(t *testing.T) {
		conn, err := pf.Dial(ctx(t), 9999)
		require.NoError(t, err)
		defer conn.Close()
		_, err = io.ReadAll(conn)
		var pe *connect.PortError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, 9999, pe.Port)
		assert.Contains(t, pe.Message, "connection refused")
	})
	t.Run("bad port", func(t *testing.T) {
		_, err := pf.Dial(ctx(t), 0)
		assert.ErrorContains(t, err, "out of range")
	})
}

func TestPortForwardListen(t *testing.T) {
	t.Parallel()
	_, c, tc := setup(t)
	createPod(t, tc, "web")
	pf, err := c.PortForward(ctx(t), "default", "web", nil)
	require.NoError(t, err)
	ln, err := pf.Listen("127.0.0.1:0", 8080)
	require.NoError(t, err)
	for range 3 {
		local, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		_, err = io.WriteString(local, "hello")
		require.NoError(t, err)
		require.NoError(t, local.(*net.TCPConn).CloseWrite())
		got, err := io.ReadAll(local)
		require.NoError(t, err)
		assert.Equal(t, "hello", string(got))
		local.Close()
	}
	require.NoError(t, pf.Close())
	<-pf.Done()
	_, err = net.Dial("tcp", ln.Addr().String())
	assert.Error(t, err, "closing the session closes its listeners")
	_, err = pf.Dial(ctx(t), 8080)
	assert.ErrorIs(t, err, net.ErrClosed)
}

func TestPortForwardRefused(t *testing.T) {
	t.Parallel()
	_, c, _ := setup(t)
	_, err := c.PortForward(ctx(t), "default", "nope", nil)
	assert.ErrorIs(t, err, transport.ErrNotFound)
}

func TestPortForwardSessionCut(t *testing.T) {
	t.Parallel()
	srv, _, tc := setup(t)
	createPod(t, tc, "web")
	c, r := relayed(t, srv)
	pf, err := c.PortForward(ctx(t), "default", "web", nil)
	require.NoError(t, err)
	defer pf.Close()
	conn, err := pf.Dial(ctx(t), 8080)
	require.NoError(t, err)
	_, err = io.WriteString(conn, "partial")
	require.NoError(t, err)
	buf := make([]byte, 7)
	_, err = io.ReadFull(conn, buf)
	require.NoError(t, err)
	r.Cut()
	_, err = io.ReadAll(conn)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "a cut session is never a clean end")
	<-pf.Done()
}

func TestPortForwardCloseLeavesNoGoroutine(t *testing.T) {
	srv, c, tc := setup(t)
	createPod(t, tc, "web")
	_ = srv
	before := runtime.NumGoroutine()
	for range 3 {
		pf, err := c.PortForward(ctx(t), "default", "web", nil)
		require.NoError(t, err)
		conn, err := pf.Dial(ctx(t), 80)
		require.NoError(t, err)
		_, err = io.WriteString(conn, "x")
		require.NoError(t, err)
		_, err = io.ReadFull(conn, make([]byte, 1))
		require.NoError(t, err)
		_, err = pf.Listen("127.0.0.1:0", 80)
		require.NoError(t, err)
		require.NoError(t, pf.Close())
		_, err = conn.Read(make([]byte, 1))
		assert.ErrorIs(t, err, net.ErrClosed)
	}
	tc.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond) // polling a count, not synchronising
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before, "goroutines left after Close")
}

// TestPortForwardCloseIsNoFailure: closing the session cuts the local
// listener's open connections (a browser's or net/http's kept-alive one,
// say) as the caller asked, so nothing is reported as a failed connection.
func TestPortForwardCloseIsNoFailure(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	tc, err := transport.New(&transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()})
	require.NoError(t, err)
	t.Cleanup(tc.CloseIdleConnections)
	var logs bytes.Buffer
	c := connect.New(tc, &connect.Options{Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	createPod(t, tc, "web")
	pf, err := c.PortForward(ctx(t), "default", "web", nil)
	require.NoError(t, err)
	ln, err := pf.Listen("127.0.0.1:0", 8080)
	require.NoError(t, err)
	local, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer local.Close()
	_, err = io.WriteString(local, "x")
	require.NoError(t, err)
	_, err = io.ReadFull(local, make([]byte, 1))
	require.NoError(t, err, "the connection is forwarded")
	require.NoError(t, pf.Close())
	_, err = io.ReadAll(local)
	require.NoError(t, err, "the local connection ends")
	assert.Empty(t, logs.String())
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
