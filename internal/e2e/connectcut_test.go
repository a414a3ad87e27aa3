package e2e_test

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/connect"
	"github.com/kubedyn/kubedyn/internal/testrelay"
)

// newRelay starts a relay in front of the whole plane's API server.
func newRelay(t *testing.T) *testrelay.Relay {
	t.Helper()
	u, err := url.Parse(plane(t).URL)
	require.NoError(t, err)
	return testrelay.New(t, u.Host)
}

// relayClient is an admin connect client whose connections go through r.
func relayClient(t *testing.T, r *testrelay.Relay) *connect.Client {
	t.Helper()
	cfg := planeConfig(t, "admin")
	cfg.Host = "https://" + r.Addr()
	return newClientFromConfig(t, cfg).Connect()
}

// TestConnectLogsFollowSurvivesCuts cuts a follow's connection three times
// while the container writes; every line arrives once, in order.
func TestConnectLogsFollowSurvivesCuts(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	pods := planeAdmin(t).Resource("v1", "Pod").Namespace(ns)
	connectPod(t, pods, "writer", `i=0; while [ $i -lt 300 ]; do echo "line $i"; i=$((i+1)); sleep 0.01; done; exec sleep 3600`)
	r := newRelay(t)
	c := relayClient(t, r)
	var got []string
	cutAt := map[int]bool{20: true, 90: true, 170: true}
	for l, err := range c.LogLines(testContext(t), ns, "writer", &connect.LogOptions{Follow: true}) {
		require.NoError(t, err)
		got = append(got, l.Text)
		if cutAt[len(got)] {
			r.Cut()
		}
		if l.Text == "line 299" {
			break
		}
	}
	var want []string
	for i := range 300 {
		want = append(want, fmt.Sprintf("line %d", i))
	}
	assert.Equal(t, want, got)
	assert.Equal(t, 3, r.Cuts())
}

// TestConnectCutMidStreamIsAnError cuts exec, a follow without resume and a
// port-forward mid-stream: each reports an error, none a clean short end.
func TestConnectCutMidStreamIsAnError(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	admin := planeAdmin(t)
	pods := admin.Resource("v1", "Pod").Namespace(ns)
	port := pyPod(t, ns, pods, admin.Connect(), "echo", nil, echoServer)

	t.Run("exec", func(t *testing.T) {
		r := newRelay(t)
		w := &signalWriter{first: make(chan struct{})}
		errc := make(chan error, 1)
		go func() {
			errc <- relayClient(t, r).Exec(testContext(t), ns, "echo", []string{"sh", "-c", "echo started; exec sleep 60"}, &connect.ExecOptions{Stdout: w})
		}()
		<-w.first
		r.Cut()
		select {
		case err := <-errc:
			require.Error(t, err)
			assert.False(t, errors.As(err, new(*connect.ExitError)), "a cut is not an exit: %v", err)
			t.Logf("exec cut: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("exec did not notice the cut")
		}
	})
	t.Run("logs without resume", func(t *testing.T) {
		r := newRelay(t)
		var last error
		n := 0
		for _, err := range relayClient(t, r).LogLines(testContext(t), ns, "echo", &connect.LogOptions{Follow: true, NoResume: true}) {
			if err != nil {
				last = err
				break
			}
			n++
			r.Cut()
		}
		assert.Equal(t, 1, n)
		require.Error(t, last)
		assert.Contains(t, last.Error(), "the stream was cut")
	})
	t.Run("port-forward", func(t *testing.T) {
		r := newRelay(t)
		pf, err := relayClient(t, r).PortForward(testContext(t), ns, "echo", nil)
		require.NoError(t, err)
		defer pf.Close()
		conn, err := pf.Dial(testContext(t), port)
		require.NoError(t, err)
		defer conn.Close()
		_, err = io.WriteString(conn, "hello")
		require.NoError(t, err)
		buf := make([]byte, 5)
		_, err = io.ReadFull(conn, buf)
		require.NoError(t, err)
		r.Cut()
		_, err = io.ReadAll(conn)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		select {
		case <-pf.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("the session did not end with its connection")
		}
	})
}
