package e2e_test

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/connect"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// The tests in this file prove terminals and stdin through the whole
// plane: the node agent gives a TTY exec, and a container with tty: true,
// a real pseudo-terminal whose size the client's resizes set, and keeps a
// container's stdin (stdin: true, stdinOnce) for attach as containerd does.

// sizeLoop is a script that prints "got <line>" and the terminal's size
// (`stty size`: rows, then columns) for every line it reads, and "bye"
// once stdin ends.
const sizeLoop = `while read x; do echo "got $x"; stty size; done; echo bye`

// terminal drives a session running sizeLoop: it types lines and reads
// what the terminal shows.
type terminal struct {
	t     *testing.T
	in    *io.PipeWriter
	lines chan string // each line of output, without its "\n"
	sizes chan connect.TerminalSize
	n     int
	seen  []string // every line so far, for a failure's message
}

// newTerminal returns the streams to hand the session and the driver.
func newTerminal(t *testing.T) (*terminal, *connect.ExecOptions) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	term := &terminal{t: t, in: inW, lines: make(chan string, 1024), sizes: make(chan connect.TerminalSize, 1)}
	go readLines(outR, term.lines)
	t.Cleanup(func() { inW.Close(); outW.Close(); outR.Close() })
	return term, &connect.ExecOptions{TTY: true, Stdin: inR, Stdout: outW, TerminalSizes: term.sizes}
}

// readLines sends each line of r without its "\n" (a terminal's "\r"
// stays) and closes lines at the end.
func readLines(r io.Reader, lines chan<- string) {
	defer close(lines)
	br := bufio.NewReader(r)
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return
		}
		lines <- strings.TrimSuffix(l, "\n")
	}
}

var sizeLine = regexp.MustCompile(`^(\d+) (\d+)\r$`)

// next returns the next line of output.
func (term *terminal) next() string {
	term.t.Helper()
	select {
	case l, ok := <-term.lines:
		require.True(term.t, ok, "the output ended after %q", term.seen)
		term.seen = append(term.seen, l)
		return l
	case <-time.After(30 * time.Second):
		require.FailNow(term.t, "no output for 30s", "the output so far: %q", term.seen)
		return ""
	}
}

// typeLine types a line and returns the size the script printed for it,
// checking the terminal's echo and \r\n line endings on the way.
func (term *terminal) typeLine() (rows, cols string) {
	term.t.Helper()
	term.n++
	word := fmt.Sprintf("line-%d", term.n)
	_, err := io.WriteString(term.in, word+"\n")
	require.NoError(term.t, err)
	var seen []string
	for {
		l := term.next()
		seen = append(seen, l)
		if m := sizeLine.FindStringSubmatch(l); m != nil {
			// The terminal echoed the line as typed, and the script's
			// output came back with the terminal's \r\n.
			assert.Contains(term.t, seen, word+"\r", "the terminal echoes what is typed")
			assert.Contains(term.t, seen, "got "+word+"\r", "the script read the line")
			return m[1], m[2]
		}
	}
}

// waitSize types lines until the script reports the size: the resize
// travels on its own channel, so the line typed right after it may still
// see the size before (the kubelet gives no order between the two either).
func (term *terminal) waitSize(size connect.TerminalSize) {
	term.t.Helper()
	want := [2]string{fmt.Sprint(size.Height), fmt.Sprint(size.Width)}
	var got [2]string
	for i := range 50 {
		got[0], got[1] = term.typeLine()
		if got == want {
			term.t.Logf("%d rows, %d columns seen at line %d after the size was sent", size.Height, size.Width, i+1)
			return
		}
	}
	require.FailNow(term.t, "the terminal never got the size", "want rows and columns %v, last seen %v", want, got)
}

// resizes proves an initial size and a resize reach the process.
func (term *terminal) resizes() {
	term.t.Helper()
	first := connect.TerminalSize{Width: 100, Height: 30}
	term.sizes <- first
	term.waitSize(first)
	second := connect.TerminalSize{Width: 132, Height: 43}
	term.sizes <- second
	term.waitSize(second)
}

func TestConnectExecTTY(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	admin := planeAdmin(t)
	pods := admin.Resource("v1", "Pod").Namespace(ns)
	connectPod(t, pods, "shell", "exec sleep 3600")
	c := admin.Connect()

	t.Run("sizes, echo and ^D", func(t *testing.T) {
		term, opts := newTerminal(t)
		errc := make(chan error, 1)
		go func() { errc <- c.Exec(testContext(t), ns, "shell", []string{"sh", "-c", sizeLoop}, opts) }()
		term.resizes()
		// ^D at the start of a line is the terminal's end of file.
		_, err := io.WriteString(term.in, "\x04")
		require.NoError(t, err)
		assert.Equal(t, "bye\r", term.next())
		require.NoError(t, <-errc)
	})
	t.Run("stdout is a terminal, stderr merged into it", func(t *testing.T) {
		var out strings.Builder
		err := c.Exec(testContext(t), ns, "shell", []string{"sh", "-c", `test -t 0 && test -t 1 && test -t 2 && echo terminal; echo to stderr >&2; tty`}, &connect.ExecOptions{TTY: true, Stdout: &out})
		require.NoError(t, err)
		assert.Regexp(t, `^terminal\r\nto stderr\r\n/dev/pts/\d+\r\n$`, out.String())
	})
	t.Run("without TTY there is no terminal", func(t *testing.T) {
		var out strings.Builder
		err := c.Exec(testContext(t), ns, "shell", []string{"sh", "-c", `test -t 0 || test -t 1 || echo none`}, &connect.ExecOptions{Stdout: &out})
		require.NoError(t, err)
		assert.Equal(t, "none\n", out.String())
	})
	t.Run("the exit code comes through the terminal", func(t *testing.T) {
		err := c.Exec(testContext(t), ns, "shell", []string{"sh", "-c", "exit 7"}, &connect.ExecOptions{TTY: true})
		var exit *connect.ExitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, 7, exit.Code)
	})
}

// stdinPod creates a pod whose container keeps a stdin (and a terminal
// with tty) running script, and waits until it is Running and Ready.
func stdinPod(t *testing.T, pods resource.Handle, name, script string, stdinOnce, tty bool) {
	t.Helper()
	p := shellPod(t, name, "Never", script)
	p = set(t, p, "spec.containers.0.stdin", true)
	p = set(t, p, "spec.containers.0.stdinOnce", stdinOnce)
	p = set(t, p, "spec.containers.0.tty", tty)
	_, err := pods.Create(testContext(t), p, nil)
	require.NoError(t, err)
	waitPod(t, pods, name, "pod "+name+" to be Running and Ready", func(p unstructured.Object) bool {
		return p.Get("status.phase").String() == "Running" && podReady(p)
	})
}

// attachLines attaches with a stdin the test writes to and hands back each
// line of stdout.
type attachLines struct {
	in    *io.PipeWriter
	lines chan string
	errc  chan error
}

func attach(t *testing.T, c *connect.Client, ns, pod string) *attachLines {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	a := &attachLines{in: inW, lines: make(chan string, 1024), errc: make(chan error, 1)}
	go readLines(outR, a.lines)
	go func() {
		a.errc <- c.Attach(testContext(t), ns, pod, &connect.ExecOptions{Stdin: inR, Stdout: outW})
		outW.Close()
	}()
	t.Cleanup(func() { inW.Close(); outR.Close() })
	return a
}

// say writes line to the attached stdin and waits for want on stdout.
func (a *attachLines) say(t *testing.T, line, want string) {
	t.Helper()
	_, err := io.WriteString(a.in, line+"\n")
	require.NoError(t, err)
	a.expect(t, want)
}

func (a *attachLines) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case l, ok := <-a.lines:
		require.True(t, ok, "stdout ended before %q", want)
		assert.Equal(t, want, l)
	case <-time.After(30 * time.Second):
		require.FailNow(t, "no output for 30s", "waiting for %q", want)
	}
}

// end waits for the attach to return.
func (a *attachLines) end(t *testing.T) error {
	t.Helper()
	select {
	case err := <-a.errc:
		return err
	case <-time.After(30 * time.Second):
		require.FailNow(t, "the attach did not end within 30s")
		return nil
	}
}

func TestConnectAttachStdin(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	admin := planeAdmin(t)
	pods := admin.Resource("v1", "Pod").Namespace(ns)
	c := admin.Connect()

	t.Run("stdin stays open from one attach to the next", func(t *testing.T) {
		stdinPod(t, pods, "cat", "exec cat", false, false)
		first := attach(t, c, ns, "cat")
		first.say(t, "one", "one")
		// Closing the client's stdin detaches it; cat reads on.
		require.NoError(t, first.in.Close())
		require.NoError(t, first.end(t))
		second := attach(t, c, ns, "cat")
		second.say(t, "two", "two")
		require.NoError(t, second.in.Close())
		require.NoError(t, second.end(t))
		p, err := pods.Get(testContext(t), "cat", nil)
		require.NoError(t, err)
		assert.Equal(t, "Running", p.Get("status.phase").String())
	})
	t.Run("stdinOnce: the end of stdin is the process's EOF", func(t *testing.T) {
		stdinPod(t, pods, "once", `while read x; do echo "got $x"; done; echo "stdin closed"`, true, false)
		a := attach(t, c, ns, "once")
		a.say(t, "a", "got a")
		a.say(t, "b", "got b")
		require.NoError(t, a.in.Close())
		a.expect(t, "stdin closed")
		// The attach lasts until the process ends.
		require.NoError(t, a.end(t))
		p := waitPod(t, pods, "once", "pod once to succeed", func(p unstructured.Object) bool {
			return p.Get("status.phase").String() == "Succeeded"
		})
		assert.Equal(t, int64(0), p.Get("status.containerStatuses.0.state.terminated.exitCode").Int())
	})
	t.Run("a tty container's terminal", func(t *testing.T) {
		stdinPod(t, pods, "tty", sizeLoop, false, true)
		term, opts := newTerminal(t)
		errc := make(chan error, 1)
		go func() { errc <- c.Attach(testContext(t), ns, "tty", opts) }()
		term.resizes()
		// Closing stdin detaches from the terminal; the shell runs on.
		require.NoError(t, term.in.Close())
		require.NoError(t, <-errc)
		p, err := pods.Get(testContext(t), "tty", nil)
		require.NoError(t, err)
		assert.Equal(t, "Running", p.Get("status.phase").String())

		// The log records what the terminal showed, echo and \r\n included,
		// as a node's log of a tty container does.
		rc, err := c.Logs(testContext(t), ns, "tty", nil)
		require.NoError(t, err)
		logged, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err)
		assert.Contains(t, string(logged), "line-1\r\ngot line-1\r\n")

		// The node attaches with the container's terminal whatever the
		// client asks, and a terminal has no separate stderr.
		var out, errOut strings.Builder
		err = c.Attach(testContext(t), ns, "tty", &connect.ExecOptions{Stdout: &out, Stderr: &errOut})
		require.ErrorIs(t, err, transport.ErrInternalError)
		t.Logf("attach with stderr to a tty container: %v", err)
		assert.Contains(t, err.Error(), "tty and stderr cannot both be true")
	})
}
