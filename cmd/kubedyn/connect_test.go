package main_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testproc"
	"github.com/kubedyn/kubedyn/internal/testserver"
)

// webPod is a pod of two containers with a named port, a Deployment and a
// Service that select it.
const webPod = `apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
spec:
  containers:
  - {name: main, image: busybox, ports: [{name: http, containerPort: 8080}]}
  - {name: side, image: busybox}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: main, image: busybox}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: plain, port: 81, targetPort: 9090}
`

// start runs kubedyn in the background; the process is killed when the
// test ends.
func (c *cli) start(stdin io.Reader, args ...string) *testproc.Proc {
	c.t.Helper()
	cmd := exec.Command(binary(c.t), append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="), c.env...)
	cmd.Stdin = stdin
	return testproc.Start(c.t, cmd, time.Minute)
}

func TestLogs(t *testing.T) {
	c, srv := newCLI(t)
	c.ok(webPod, "apply", "-f", "-")
	old := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	srv.AppendPodLog("default", "web-1", "main", old, "an old line")
	srv.AppendPodLog("default", "web-1", "main", time.Time{}, "first", "second", "third")
	srv.AppendPodLog("default", "web-1", "side", time.Time{}, "from the side")

	t.Run("defaulted container", func(t *testing.T) {
		r := c.run("", "logs", "web-1")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "an old line\nfirst\nsecond\nthird\n", r.stdout)
		assert.Equal(t, "Defaulted container \"main\" out of: main, side\n", r.stderr)
	})
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"container", []string{"-c", "side"}, "from the side\n"},
		{"tail", []string{"--tail", "2"}, "second\nthird\n"},
		{"tail 0", []string{"--tail=0"}, ""},
		{"limit bytes", []string{"--limit-bytes", "8"}, "an old l"},
		{"since", []string{"--since", "5m"}, "first\nsecond\nthird\n"},
		{"since time", []string{"--since-time", old.Add(time.Second).Format(time.RFC3339)}, "first\nsecond\nthird\n"},
		{"deployment picks its pod", []string{"deploy/web", "-c", "side"}, "from the side\n"},
		{"pod/NAME", []string{"pod/web-1", "-c", "side"}, "from the side\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"logs"}, tc.args...)
			if !strings.Contains(strings.Join(tc.args, " "), "/") {
				args = append(args, "web-1")
			}
			assert.Equal(t, tc.want, c.ok("", args...))
		})
	}
	t.Run("timestamps", func(t *testing.T) {
		out := c.ok("", "logs", "web-1", "--timestamps", "--tail", "1")
		assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z third\n$`, out)
	})
	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			code int
			msg  string
		}{
			{[]string{"logs", "nope"}, 1, `pods "nope" not found`},
			{[]string{"logs", "deploy/nope"}, 1, `deployments.apps "nope" not found`},
			{[]string{"logs", "web-1", "--since", "5m", "--since-time", "2026-01-01T00:00:00Z"}, 2, "one of --since and --since-time"},
			{[]string{"logs", "web-1", "--since-time", "yesterday"}, 2, "RFC 3339"},
			{[]string{"logs", "web-1", "--tail", "-2"}, 2, "--tail"},
			{[]string{"logs", "web-1", "-c", "nope"}, 2, "nope"},
			{[]string{"logs", "cm/x"}, 1, `configmaps "x" not found`},
		} {
			r := c.run("", tc.args...)
			assert.Equal(t, tc.code, r.code, "%v: %s", tc.args, r.stderr)
			assert.Contains(t, r.stderr, tc.msg, "%v", tc.args)
		}
	})
}

// TestLogsFollow: logs -f prints lines as they are written and ends with
// exit 0 on SIGINT and on SIGTERM.
func TestLogsFollow(t *testing.T) {
	c, srv := newCLI(t)
	c.ok(webPod, "apply", "-f", "-")
	last := "before"
	srv.AppendPodLog("default", "web-1", "main", time.Time{}, last)
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			r := c.start(nil, "logs", "-f", "web-1", "-c", "main", "--tail", "1")
			assert.Equal(t, last, r.Line())
			last = "after " + sig.String()
			srv.AppendPodLog("default", "web-1", "main", time.Time{}, last)
			assert.Equal(t, last, r.Line())
			assert.Equal(t, 0, r.Stop(sig), r.Stderr())
			assert.Empty(t, r.Stderr())
		})
	}
	t.Run("a cut connection is resumed", func(t *testing.T) {
		r := c.start(nil, "logs", "-f", "web-1", "-c", "main", "--tail", "1")
		assert.Equal(t, last, r.Line())
		for i := range 3 {
			srv.CutPodLogFollowers("default", "web-1", "main")
			line := fmt.Sprintf("after cut %d", i)
			srv.AppendPodLog("default", "web-1", "main", time.Time{}, line)
			assert.Equal(t, line, r.Line(), "once, in order")
		}
		assert.Equal(t, 0, r.Stop(os.Interrupt), r.Stderr())
		assert.Empty(t, r.Rest(), "no line repeated")
	})
}

func TestExec(t *testing.T) {
	c, _ := newCLI(t)
	c.ok(webPod, "apply", "-f", "-")
	t.Run("output", func(t *testing.T) {
		r := c.run("", "exec", "web-1", "-c", "main", "--", "echo", "hello", "world")
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "hello world\n", r.stdout)
	})
	t.Run("exit code passes through", func(t *testing.T) {
		for _, n := range []int{1, 3, 42} {
			r := c.run("", "exec", "web-1", "-c", "main", "--", "sh", "-c", fmt.Sprintf("exit %d", n))
			assert.Equal(t, n, r.code, r.stderr)
			assert.Empty(t, r.stderr, "the command's code is no kubedyn error")
		}
	})
	t.Run("stdin with -i", func(t *testing.T) {
		in := strings.Repeat("a line of input\n", 5000)
		r := c.run(in, "exec", "-i", "web-1", "-c", "main", "--", "cat")
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, in, r.stdout)
		r = c.run(in, "exec", "web-1", "-c", "main", "--", "cat")
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Empty(t, r.stdout, "no stdin without -i")
	})
	t.Run("a deployment's pod", func(t *testing.T) {
		r := c.run("", "exec", "deploy/web", "--", "echo", "hi")
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "hi\n", r.stdout)
		assert.Contains(t, r.stderr, `Defaulted container "main"`)
	})
	t.Run("-t without a terminal is ignored", func(t *testing.T) {
		r := c.run("", "exec", "-it", "web-1", "-c", "main", "--", "echo", "hi")
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "hi\n", r.stdout)
		assert.Contains(t, r.stderr, "Unable to use a TTY - input is not a terminal")
	})
	t.Run("kubedyn's own failures are 255", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			msg  string
		}{
			{[]string{"exec", "web-1", "echo", "hi"}, "after --"},
			{[]string{"exec", "web-1", "--"}, "command after -- is missing"},
			{[]string{"exec", "a", "b", "--", "echo"}, "one pod before --"},
			{[]string{"exec", "--nope", "web-1", "--", "echo"}, "unknown flag"},
			{[]string{"exec", "nope", "--", "echo"}, `pods "nope" not found`},
			{[]string{"exec", "web-1", "-c", "nope", "--", "echo"}, "nope"},
			{[]string{"exec", "web-1", "-c", "main", "--", "/no/such/program"}, "executable file not found"},
			{[]string{"--context", "missing", "exec", "web-1", "--", "echo"}, "missing"},
		} {
			r := c.run("", tc.args...)
			assert.Equal(t, 255, r.code, "%v: %s", tc.args, r.stderr)
			assert.Contains(t, r.stderr, tc.msg, "%v", tc.args)
		}
	})
}

// TestExecSignal: a signal that ends kubedyn before the command exits
// gives 128+n.
func TestExecSignal(t *testing.T) {
	c, srv := newCLI(t)
	c.ok(webPod, "apply", "-f", "-")
	srv.SetExecHandler(func(ctx context.Context, req testserver.ExecRequest, st testserver.ExecStreams) (int, error) {
		_, _ = io.WriteString(st.Stdout, "started\n")
		<-ctx.Done()
		return 0, nil
	})
	r := c.start(nil, "exec", "web-1", "-c", "main", "--", "sleep", "3600")
	assert.Equal(t, "started", r.Line())
	assert.Equal(t, 128+int(syscall.SIGTERM), r.Stop(syscall.SIGTERM), r.Stderr())
}

// setWinsize sets a terminal's size.
func setWinsize(t *testing.T, f *os.File, cols, rows uint16) {
	t.Helper()
	ws := struct{ rows, cols, x, y uint16 }{rows, cols, 0, 0}
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&ws)))
	require.Zero(t, errno)
}

// TestExecTTY runs exec -it with a terminal on standard input and output:
// the session asks for a TTY (and no stderr), the terminal's size is sent
// at once and again after SIGWINCH, the terminal is in raw mode during the
// session (what is typed is not echoed locally) and restored after it.
func TestExecTTY(t *testing.T) {
	c, srv := newCLI(t)
	c.ok(webPod, "apply", "-f", "-")
	type seen struct {
		req   testserver.ExecRequest
		sizes []testserver.TerminalSize
	}
	got := make(chan seen, 1)
	// The server reads stdin and resizes from one connection in order:
	// the test types only once the second size has arrived.
	firstSize, secondSize := make(chan struct{}), make(chan struct{})
	srv.SetExecHandler(func(ctx context.Context, req testserver.ExecRequest, st testserver.ExecStreams) (int, error) {
		s := seen{req: req}
		s.sizes = append(s.sizes, <-st.Resize)
		close(firstSize)
		s.sizes = append(s.sizes, <-st.Resize)
		close(secondSize)
		// Echo one typed line, then exit 5.
		line, _ := bufio.NewReader(st.Stdin).ReadString('\r')
		_, _ = io.WriteString(st.Stdout, "got "+strings.TrimSpace(line)+"\r\n")
		got <- s
		return 5, nil
	})
	master, tty := openPTY(t)
	setWinsize(t, tty, 120, 40)
	cmd := exec.Command(binary(t), "--kubeconfig", c.kubeconfig, "exec", "-it", "web-1", "-c", "main", "--", "sh")
	cmd.Stdin, cmd.Stdout = tty, tty
	var errb bytes.Buffer
	cmd.Stderr = &errb
	require.NoError(t, cmd.Start())
	var out testproc.Buffer
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(&out, master); close(copied) }()
	<-firstSize
	setWinsize(t, tty, 100, 30)
	require.NoError(t, cmd.Process.Signal(syscall.SIGWINCH))
	<-secondSize
	_, err := io.WriteString(master, "typed\r")
	require.NoError(t, err)
	s := <-got
	err = cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, errb.String())
	assert.Equal(t, 5, ee.ExitCode(), errb.String())
	tty.Close()
	<-copied
	assert.True(t, s.req.TTY)
	assert.True(t, s.req.Stdin)
	assert.False(t, s.req.Stderr, "a TTY merges stderr")
	assert.Equal(t, []testserver.TerminalSize{{Width: 120, Height: 40}, {Width: 100, Height: 30}}, s.sizes)
	assert.Equal(t, "got typed\r\n", out.String(), "raw mode: the typed line is not echoed locally")
}

func TestPortForward(t *testing.T) {
	c, srv := newCLI(t)
	c.ok(webPod, "apply", "-f", "-")
	ports := make(chan int, 10)
	srv.SetPortForwardHandler(func(ctx context.Context, req testserver.PortForwardRequest, conn io.ReadWriter) error {
		ports <- req.Port
		_, err := io.Copy(conn, conn)
		return err
	})
	forwarding := regexp.MustCompile(`^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)$`)
	echo := func(t *testing.T, port string) {
		t.Helper()
		conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", port))
		require.NoError(t, err)
		defer conn.Close()
		_, err = io.WriteString(conn, "ping")
		require.NoError(t, err)
		require.NoError(t, conn.(*net.TCPConn).CloseWrite())
		b, err := io.ReadAll(conn)
		require.NoError(t, err)
		assert.Equal(t, "ping", string(b))
	}
	for _, tc := range []struct {
		name   string
		args   []string
		remote []int
	}{
		{"pod, free local ports", []string{"web-1", ":8080", "0:7000"}, []int{8080, 7000}},
		{"named container port", []string{"pod/web-1", ":http"}, []int{8080}},
		{"service ports through targetPort", []string{"svc/web", ":80", ":plain"}, []int{8080, 9090}},
		{"deployment", []string{"deploy/web", ":8080"}, []int{8080}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.start(nil, append([]string{"port-forward"}, tc.args...)...)
			for _, want := range tc.remote {
				m := forwarding.FindStringSubmatch(r.Line())
				require.NotNil(t, m, r.Stderr())
				assert.Equal(t, fmt.Sprint(want), m[2])
				echo(t, m[1])
				assert.Equal(t, want, <-ports)
			}
			assert.Equal(t, 0, r.Stop(os.Interrupt), r.Stderr())
		})
	}
	t.Run("a connection the pod refuses", func(t *testing.T) {
		srv.SetPortForwardHandler(func(ctx context.Context, req testserver.PortForwardRequest, conn io.ReadWriter) error {
			return fmt.Errorf("nothing listens on port %d", req.Port)
		})
		defer srv.SetPortForwardHandler(func(ctx context.Context, req testserver.PortForwardRequest, conn io.ReadWriter) error {
			ports <- req.Port
			_, err := io.Copy(conn, conn)
			return err
		})
		r := c.start(nil, "port-forward", "web-1", ":8080")
		m := forwarding.FindStringSubmatch(r.Line())
		require.NotNil(t, m, r.Stderr())
		conn, err := net.Dial("tcp", "127.0.0.1:"+m[1])
		require.NoError(t, err)
		b, _ := io.ReadAll(conn)
		conn.Close()
		assert.Empty(t, b, "the local connection is closed")
		require.Eventually(t, func() bool { return strings.Contains(r.Stderr(), "nothing listens on port 8080") },
			time.Minute, 10*time.Millisecond, "reported on stderr")
		assert.Equal(t, 0, r.Stop(os.Interrupt), "the session went on: %s", r.Stderr())
	})
	t.Run("a local port given", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		free := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		r := c.start(nil, "port-forward", "web-1", fmt.Sprintf("%d:8080", free))
		assert.Equal(t, fmt.Sprintf("Forwarding from 127.0.0.1:%d -> 8080", free), r.Line())
		echo(t, fmt.Sprint(free))
		<-ports
		assert.Equal(t, fmt.Sprintf("Handling connection for %d", free), r.Line())
		// A connection still open does not hold the exit up.
		open, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", free))
		require.NoError(t, err)
		defer open.Close()
		_, err = io.WriteString(open, "x")
		require.NoError(t, err)
		_, err = io.ReadFull(open, make([]byte, 1))
		require.NoError(t, err)
		<-ports
		assert.Equal(t, 0, r.Stop(syscall.SIGTERM), r.Stderr())
		_, err = open.Read(make([]byte, 1))
		assert.Error(t, err, "the open connection is closed")
	})
	t.Run("errors", func(t *testing.T) {
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer busy.Close()
		for _, tc := range []struct {
			args []string
			code int
			msg  string
		}{
			{[]string{"port-forward", "nope", ":80"}, 1, `pods "nope" not found`},
			{[]string{"port-forward", "web-1", "x:80"}, 2, "local port must be a number"},
			{[]string{"port-forward", "web-1", "8080:"}, 2, "remote port is missing"},
			{[]string{"port-forward", "web-1", ":70000"}, 2, "1-65535"},
			{[]string{"port-forward", "web-1", ":nope"}, 2, `no container port named "nope"`},
			{[]string{"port-forward", "svc/web", ":82"}, 2, "service web has no port 82"},
			{[]string{"port-forward", "web-1", ":80", "--address", "here"}, 2, "--address"},
			{[]string{"port-forward", "web-1", fmt.Sprintf("%d:80", busy.Addr().(*net.TCPAddr).Port)}, 2, "address already in use"},
			{[]string{"port-forward", "web-1"}, 2, "requires at least 2 arg"},
		} {
			r := c.run("", tc.args...)
			assert.Equal(t, tc.code, r.code, "%v: %s", tc.args, r.stderr)
			assert.Contains(t, r.stderr, tc.msg, "%v", tc.args)
		}
	})
}
