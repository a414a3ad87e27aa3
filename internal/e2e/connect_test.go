package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/connect"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// The tests in this file run the connect package against the whole control
// plane: kube-apiserver translates exec and attach (WebSocket v5) and
// tunnels port-forward (SPDY inside WebSocket) to the node agent's kubelet
// endpoints, which run the commands as local processes.

// connectPod creates a pod running script on the node agent and waits
// until it is Running and Ready.
func connectPod(t *testing.T, pods resource.Handle, name, script string) unstructured.Object {
	t.Helper()
	_, err := pods.Create(testContext(t), shellPod(t, name, "Never", script), nil)
	require.NoError(t, err)
	return waitPod(t, pods, name, "pod "+name+" to be Running and Ready", func(p unstructured.Object) bool {
		return p.Get("status.phase").String() == "Running" && podReady(p)
	})
}

// countingWriter counts bytes and samples the heap every 8 MiB.
type countingWriter struct {
	n       int64
	next    int64
	maxHeap uint64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	if w.n >= w.next {
		w.next += 8 << 20
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		w.maxHeap = max(w.maxHeap, ms.HeapInuse)
	}
	return len(p), nil
}

// signalWriter closes first at the first byte written.
type signalWriter struct {
	first chan struct{}
	once  atomic.Bool
}

func (w *signalWriter) Write(p []byte) (int, error) {
	if len(p) > 0 && w.once.CompareAndSwap(false, true) {
		close(w.first)
	}
	return len(p), nil
}

func TestConnectExec(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	admin := planeAdmin(t)
	pods := admin.Resource("v1", "Pod").Namespace(ns)
	connectPod(t, pods, "shell", "exec sleep 3600")
	c := admin.Connect()

	t.Run("echo", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := c.Exec(testContext(t), ns, "shell", []string{"echo", "hello", "world"}, &connect.ExecOptions{Stdout: &out, Stderr: &errOut})
		require.NoError(t, err)
		assert.Equal(t, "hello world\n", out.String())
		assert.Empty(t, errOut.String())
	})
	t.Run("stderr", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := c.Exec(testContext(t), ns, "shell", []string{"sh", "-c", "echo out; echo err >&2"}, &connect.ExecOptions{Stdout: &out, Stderr: &errOut})
		require.NoError(t, err)
		assert.Equal(t, "out\n", out.String())
		assert.Equal(t, "err\n", errOut.String())
	})
	t.Run("cat with stdin closed", func(t *testing.T) {
		var out bytes.Buffer
		in := strings.Repeat("a line of input\n", 10000)
		err := c.Exec(testContext(t), ns, "shell", []string{"cat"}, &connect.ExecOptions{Stdin: strings.NewReader(in), Stdout: &out})
		require.NoError(t, err)
		assert.Equal(t, len(in), out.Len())
		assert.Equal(t, in, out.String())
	})
	t.Run("exit 3 is an ExitError", func(t *testing.T) {
		err := c.Exec(testContext(t), ns, "shell", []string{"sh", "-c", "exit 3"}, nil)
		var exit *connect.ExitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, 3, exit.Code)
		assert.Contains(t, exit.Message, "exit code 3")
	})
	t.Run("a command that is not found", func(t *testing.T) {
		// The node agent reports it as a shell does: exit code 127.
		err := c.Exec(testContext(t), ns, "shell", []string{"/no/such/program"}, nil)
		var exit *connect.ExitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, 127, exit.Code)
	})
	t.Run("TTY with a resize", func(t *testing.T) {
		sizes := make(chan connect.TerminalSize, 1)
		sizes <- connect.TerminalSize{Width: 100, Height: 30}
		var out bytes.Buffer
		err := c.Exec(testContext(t), ns, "shell", []string{"sh", "-c", "echo in a tty"}, &connect.ExecOptions{TTY: true, Stdout: &out, TerminalSizes: sizes})
		require.NoError(t, err)
		assert.Equal(t, "in a tty", strings.TrimSpace(out.String()))
	})
	t.Run("100 MB of stdout in bounded memory", func(t *testing.T) {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		w := &countingWriter{}
		start := time.Now()
		err := c.Exec(testContext(t), ns, "shell", []string{"head", "-c", "104857600", "/dev/zero"}, &connect.ExecOptions{Stdout: w})
		require.NoError(t, err)
		took := time.Since(start)
		assert.Equal(t, int64(100<<20), w.n)
		grew := int64(w.maxHeap) - int64(before.HeapInuse)
		assert.Less(t, grew, int64(32<<20), "the heap grew by %d bytes while streaming", grew)
		t.Logf("100 MiB of stdout in %v (%.0f MiB/s), heap grew at most %d KiB", took, 100/took.Seconds(), grew>>10)
	})
	t.Run("cancelled by the context", func(t *testing.T) {
		before := runtime.NumGoroutine()
		cctx, cancel := context.WithCancel(testContext(t))
		w := &signalWriter{first: make(chan struct{})}
		errc := make(chan error, 1)
		go func() {
			errc <- c.Exec(cctx, ns, "shell", []string{"sh", "-c", "echo started; exec sleep 3600"}, &connect.ExecOptions{Stdout: w})
		}()
		<-w.first
		start := time.Now()
		cancel()
		err := <-errc
		require.ErrorIs(t, err, context.Canceled)
		assert.Less(t, time.Since(start), 2*time.Second)
		eventually(t, 10*time.Second, "the session's goroutines to end", func() bool {
			return runtime.NumGoroutine() <= before
		})
	})
	t.Run("missing container", func(t *testing.T) {
		err := c.Exec(testContext(t), ns, "shell", []string{"true"}, &connect.ExecOptions{Container: "nope"})
		require.ErrorIs(t, err, transport.ErrBadRequest)
		assert.Contains(t, err.Error(), "container nope is not valid for pod shell")
	})
	t.Run("missing pod", func(t *testing.T) {
		err := c.Exec(testContext(t), ns, "nope", []string{"true"}, nil)
		require.ErrorIs(t, err, transport.ErrNotFound)
	})
}

func TestConnectExecPodNotOnANode(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	admin := planeAdmin(t)
	pods := admin.Resource("v1", "Pod").Namespace(ns)
	// A node name nobody serves keeps the scheduler away and the pod
	// pending on a node that does not exist; no nodeName at all with a
	// selector nothing matches keeps it unbound.
	p := set(t, shellPod(t, "unbound", "Never", "exec sleep 3600"), "spec.nodeSelector", map[string]string{"kubedyn.io/none": "x"})
	_, err := pods.Create(testContext(t), p, nil)
	require.NoError(t, err)
	err = admin.Connect().Exec(testContext(t), ns, "unbound", []string{"true"}, nil)
	require.ErrorIs(t, err, transport.ErrBadRequest)
	assert.Contains(t, err.Error(), "does not have a host assigned")
}

var _ = errors.New
