package e2e_test

import (
	"fmt"
	"io"
	"net/http"
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
)

// The tests in this file run the kubedyn binary's connect commands (logs,
// exec, port-forward) and get -w against the whole control plane, whose
// node agent runs pods as local processes.

// start runs kubedyn in the background; it is killed when the test ends.
func (c *kubedynCLI) start(args ...string) *testproc.Proc {
	c.t.Helper()
	return testproc.Start(c.t, exec.Command(c.bin, append([]string{"--kubeconfig", c.kc}, args...)...), planeWait)
}

// httpHello answers every GET with "hello from PATH"; it listens on
// 127.0.0.1 and prints its port first.
const httpHello = `import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b=("hello from "+self.path).encode()
        self.send_response(200)
        self.send_header("Content-Length",str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self,*a): pass
s=http.server.ThreadingHTTPServer(("127.0.0.1",0),H)
print(s.server_address[1],flush=True)
s.serve_forever()
`

// TestCLIConnect runs logs, exec and port-forward as processes against
// pods the node agent runs: a follow ended by SIGINT (exit 0), exit codes
// passed through, stdin, and an HTTP server reached with net/http through
// a forwarded port, by pod and through a Service's targetPort.
func TestCLIConnect(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	admin := planeAdmin(t)
	pods := admin.Resource("v1", "Pod").Namespace(ns)
	c := buildKubedynCLI(t, plane(t).Kubeconfig)
	connectPod(t, pods, "ticker", `i=0; while true; do i=$((i+1)); echo "line $i"; sleep 0.2; done`)

	t.Run("logs follow until SIGINT", func(t *testing.T) {
		p := c.start("logs", "-f", "ticker", "-n", ns)
		for i := 1; i <= 5; i++ {
			assert.Equal(t, fmt.Sprintf("line %d", i), p.Line(), "every line, in order")
		}
		start := time.Now()
		assert.Equal(t, 0, p.Stop(os.Interrupt), p.Stderr())
		assert.Empty(t, p.Stderr())
		t.Logf("ended %v after SIGINT", time.Since(start))
	})
	t.Run("logs tail and timestamps", func(t *testing.T) {
		out := c.ok("", "logs", "pod/ticker", "-n", ns, "--tail", "2", "--timestamps")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		require.Len(t, lines, 2, out)
		for _, l := range lines {
			assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line \d+$`, l)
		}
		out = c.ok("", "logs", "ticker", "-n", ns, "--limit-bytes", "7")
		assert.Equal(t, "line 1\n", out)
	})
	t.Run("exec passes the exit code through", func(t *testing.T) {
		out, errOut, code := c.run("", "exec", "ticker", "-n", ns, "--", "sh", "-c", "echo out; echo err >&2; exit 3")
		assert.Equal(t, 3, code, errOut)
		assert.Equal(t, "out\n", out)
		assert.Equal(t, "err\n", errOut)
		_, errOut, code = c.run("", "exec", "ticker", "-n", ns, "--", "/no/such/program")
		assert.Equal(t, 127, code, "the node's 127 for a missing program: %s", errOut)
		_, errOut, code = c.run("", "exec", "nope", "-n", ns, "--", "true")
		assert.Equal(t, 255, code)
		assert.Contains(t, errOut, `pods "nope" not found`)
		_, errOut, code = c.run("", "exec", "ticker", "-n", ns, "-c", "nope", "--", "true")
		assert.Equal(t, 255, code)
		assert.Contains(t, errOut, "container nope is not valid")
	})
	t.Run("exec -i with stdin", func(t *testing.T) {
		in := strings.Repeat("a line of input\n", 20000)
		out := c.ok(in, "exec", "-i", "ticker", "-n", ns, "--", "sh", "-c", "cat; echo done")
		assert.Equal(t, in+"done\n", out, "the end of stdin closes the command's")
		out = c.ok(in, "exec", "-i", "ticker", "-n", ns, "--", "wc", "-l")
		assert.Equal(t, "20000", strings.TrimSpace(out))
	})

	port := pyPod(t, ns, pods, admin.Connect(), "web", map[string]string{"app": "web"}, httpHello)
	_, err := admin.Resource("v1", "Service").Namespace(ns).Create(testContext(t), obj(t, fmt.Sprintf(
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"name":"http","port":80,"targetPort":%d}]}}`, port)), nil)
	require.NoError(t, err)
	forwarding := regexp.MustCompile(`^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)$`)
	for _, tc := range []struct{ name, target, ports string }{
		{"port-forward to a pod", "web", fmt.Sprintf(":%d", port)},
		{"port-forward through a Service", "svc/web", ":80"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := c.start("port-forward", tc.target, tc.ports, "-n", ns)
			m := forwarding.FindStringSubmatch(p.Line())
			require.NotNil(t, m, p.Stderr())
			assert.Equal(t, fmt.Sprint(port), m[2])
			for i := range 3 {
				resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%s/try/%d", m[1], i))
				require.NoError(t, err)
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.NoError(t, err)
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, fmt.Sprintf("hello from /try/%d", i), string(b))
			}
			assert.Equal(t, 0, p.Stop(os.Interrupt), p.Stderr())
		})
	}
}

// TestCLIGetWatch: get -w prints the server's table, then the server's row
// for an update and a delete, and ends with exit 0 on SIGINT.
func TestCLIGetWatch(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	c := buildKubedynCLI(t, plane(t).Kubeconfig)
	cm := func(name, data string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: " + ns + ", labels: {app: w}}\ndata: {" + data + "}\n"
	}
	c.ok(cm("one", "a: x")+"---\n"+cm("two", "a: x"), "apply", "-f", "-")
	row := func(event, name, data string) *regexp.Regexp {
		return regexp.MustCompile(`^` + event + `\s+` + name + `\s+` + data + `\s+\S+\s+w$`)
	}
	p := c.start("get", "configmaps", "-n", ns, "-l", "app=w", "-w", "--output-watch-events", "-L", "app")
	assert.Regexp(t, `^EVENT\s+NAME\s+DATA\s+AGE\s+APP$`, p.Line())
	assert.Regexp(t, row("ADDED", "one", "1"), p.Line())
	assert.Regexp(t, row("ADDED", "two", "1"), p.Line())
	c.ok(cm("two", "a: x, b: y"), "apply", "-f", "-")
	assert.Regexp(t, row("MODIFIED", "two", "2"), p.Line())
	c.ok("", "delete", "cm/one", "-n", ns)
	assert.Regexp(t, row("DELETED", "one", "1"), p.Line())
	assert.Equal(t, 0, p.Stop(os.Interrupt), p.Stderr())

	out := c.ok("", "get", "configmaps,pods", "-n", ns, "-l", "app=w", "--show-labels")
	assert.Regexp(t, `(?m)^NAME\s+DATA\s+AGE\s+LABELS\nconfigmap/two\s+2\s+\S+\s+app=w$`, out)
}

// openTerminal opens a pseudo-terminal pair: what a process writes to tty
// comes out of master, what is written to master is typed on tty.
func openTerminal(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	require.NoError(t, err)
	t.Cleanup(func() { master.Close() })
	var n uint32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n)))
	require.Zero(t, errno)
	var unlock int32
	_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock)))
	require.Zero(t, errno)
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { tty.Close() })
	return master, tty
}

// setTerminalSize sets a terminal's size.
func setTerminalSize(t *testing.T, f *os.File, cols, rows uint16) {
	t.Helper()
	ws := struct{ rows, cols, x, y uint16 }{rows, cols, 0, 0}
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&ws)))
	require.Zero(t, errno)
}

// echoOn reports whether the terminal echoes what is typed (raw mode
// turns it off).
func echoOn(t *testing.T, f *os.File) bool {
	t.Helper()
	var tio syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&tio)))
	require.Zero(t, errno)
	return tio.Lflag&syscall.ECHO != 0
}

// TestCLIExecTerminal runs kubedyn exec -it with a pseudo-terminal as its
// standard input and output against the whole plane, whose node agent
// gives the command a real terminal: the local terminal is raw during the
// session (the remote one echoes) and restored after it, its size reaches
// the command at once and after SIGWINCH, ^D ends the command, and a TTY
// command's exit code is kubedyn's.
func TestCLIExecTerminal(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	pods := planeAdmin(t).Resource("v1", "Pod").Namespace(ns)
	c := buildKubedynCLI(t, plane(t).Kubeconfig)
	connectPod(t, pods, "shell", "exec sleep 3600")

	master, tty := openTerminal(t)
	setTerminalSize(t, tty, 120, 40)
	require.True(t, echoOn(t, tty))
	cmd := exec.Command(c.bin, "--kubeconfig", c.kc, "exec", "-it", "shell", "-n", ns, "--", "sh", "-c", sizeLoop)
	cmd.Stdin, cmd.Stdout = tty, tty
	var errb testproc.Buffer
	cmd.Stderr = &errb
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 1024)
	go readLines(master, lines)
	var seen []string
	next := func() string {
		t.Helper()
		select {
		case l := <-lines:
			seen = append(seen, l)
			return l
		case <-time.After(30 * time.Second):
			require.FailNow(t, "no output for 30s", "so far: %q; stderr: %s", seen, errb.String())
			return ""
		}
	}
	n := 0
	// typeLine types a line and returns the size the script printed.
	typeLine := func() string {
		t.Helper()
		n++
		word := fmt.Sprintf("line-%d", n)
		_, err := io.WriteString(master, word+"\r")
		require.NoError(t, err)
		for {
			if m := sizeLine.FindStringSubmatch(next()); m != nil {
				echoes := 0
				for _, l := range seen {
					if l == word+"\r" {
						echoes++
					}
				}
				assert.Equal(t, 1, echoes, "the remote terminal echoes, the local (raw) one does not: %q", seen)
				return m[1] + " " + m[2]
			}
		}
	}
	waitSize := func(want string) {
		t.Helper()
		for range 50 {
			if typeLine() == want {
				return
			}
		}
		require.FailNow(t, "the command never saw the size", "want %s; so far %q", want, seen)
	}
	// What is typed before kubedyn puts the terminal in raw mode is
	// echoed locally too: type once it has.
	require.Eventually(t, func() bool { return !echoOn(t, tty) }, planeWait, 5*time.Millisecond, "raw mode during the session")
	waitSize("40 120")
	setTerminalSize(t, tty, 100, 30)
	require.NoError(t, cmd.Process.Signal(syscall.SIGWINCH))
	waitSize("30 100")
	_, err := io.WriteString(master, "\x04") // ^D: the remote terminal's end of file
	require.NoError(t, err)
	for next() != "bye\r" {
	}
	require.NoError(t, cmd.Wait(), errb.String())
	assert.True(t, echoOn(t, tty), "the terminal is restored")

	cmd = exec.Command(c.bin, "--kubeconfig", c.kc, "exec", "-it", "shell", "-n", ns, "--", "sh", "-c", "exit 7")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, &errb
	err = cmd.Run()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, errb.String())
	assert.Equal(t, 7, ee.ExitCode())
	assert.True(t, echoOn(t, tty), "restored after a non-zero exit too")
}
