package connectinterop

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"

	"github.com/kubedyn/kubedyn/connect"
)

// The node agent gives a TTY exec a real pseudo-terminal, so both clients
// can be shown to drive one the same way: the same bytes from a command
// on a terminal, the same exit code, and resizes that the process sees.

// sizeLoop prints "got <line>" and `stty size` for every line it reads.
const sizeLoop = `while read x; do echo "got $x"; stty size; done; echo bye`

var sizeLine = regexp.MustCompile(`^(\d+) (\d+)\r$`)

// session is one TTY exec running sizeLoop, through either client.
type session struct {
	t     *testing.T
	in    *io.PipeWriter
	lines chan string
	sizes chan connect.TerminalSize
	errc  chan error
	n     int
}

func newSession(t *testing.T) (s *session, stdin io.Reader, stdout io.Writer) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s = &session{t: t, in: inW, lines: make(chan string, 1024), sizes: make(chan connect.TerminalSize, 1), errc: make(chan error, 1)}
	go func() {
		defer close(s.lines)
		br := bufio.NewReader(outR)
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			s.lines <- strings.TrimSuffix(l, "\n")
		}
	}()
	t.Cleanup(func() { inW.Close(); outW.Close(); outR.Close() })
	return s, inR, outW
}

func (s *session) next() string {
	s.t.Helper()
	select {
	case l, ok := <-s.lines:
		require.True(s.t, ok, "the output ended")
		return l
	case <-time.After(30 * time.Second):
		require.FailNow(s.t, "no output for 30s")
		return ""
	}
}

// waitSize types lines until the script prints size (the resize and stdin
// channels have no order between them), checking the echo and \r\n.
func (s *session) waitSize(size connect.TerminalSize) {
	s.t.Helper()
	want := fmt.Sprintf("%d %d\r", size.Height, size.Width)
	for range 50 {
		s.n++
		word := fmt.Sprintf("line-%d", s.n)
		_, err := io.WriteString(s.in, word+"\n")
		require.NoError(s.t, err)
		assert.Equal(s.t, word+"\r", s.next(), "the terminal's echo")
		assert.Equal(s.t, "got "+word+"\r", s.next())
		got := s.next()
		require.Regexp(s.t, sizeLine, got)
		if got == want {
			return
		}
	}
	require.FailNow(s.t, "the terminal never got the size", "want %q", want)
}

// run proves an initial size and a resize reach the process, then ends it
// with ^D.
func (s *session) run() {
	s.t.Helper()
	for _, size := range []connect.TerminalSize{{Width: 100, Height: 30}, {Width: 132, Height: 43}} {
		s.sizes <- size
		s.waitSize(size)
	}
	_, err := io.WriteString(s.in, "\x04")
	require.NoError(s.t, err)
	assert.Equal(s.t, "bye\r", s.next())
	require.NoError(s.t, <-s.errc)
}

// sizeQueue is client-go's TerminalSizeQueue over a channel.
type sizeQueue chan connect.TerminalSize

func (q sizeQueue) Next() *remotecommand.TerminalSize {
	s, ok := <-q
	if !ok {
		return nil
	}
	return &remotecommand.TerminalSize{Width: s.Width, Height: s.Height}
}

func (e *env) ttyExecutor(t *testing.T, cmd []string, stdin bool) remotecommand.Executor {
	t.Helper()
	q := url.Values{"command": cmd, "container": {"main"}, "stdout": {"true"}, "tty": {"true"}}
	if stdin {
		q.Set("stdin", "true")
	}
	ex, err := remotecommand.NewWebSocketExecutor(e.rest, http.MethodGet, e.c.URL+"/api/v1/namespaces/"+e.ns+"/pods/shell/exec?"+q.Encode())
	require.NoError(t, err)
	return ex
}

func TestExecTTY(t *testing.T) {
	e := setup(t)
	e.pod(t, "shell", "exec sleep 3600")

	t.Run("resizes through connect", func(t *testing.T) {
		s, in, out := newSession(t)
		go func() {
			s.errc <- e.cc.Exec(ctx(t), e.ns, "shell", []string{"sh", "-c", sizeLoop}, &connect.ExecOptions{TTY: true, Stdin: in, Stdout: out, TerminalSizes: s.sizes})
		}()
		s.run()
	})
	t.Run("resizes through client-go", func(t *testing.T) {
		s, in, out := newSession(t)
		ex := e.ttyExecutor(t, []string{"sh", "-c", sizeLoop}, true)
		queue := make(sizeQueue)
		go func() {
			// client-go reads the queue on its own goroutine; feed it.
			for size := range s.sizes {
				queue <- size
			}
		}()
		go func() {
			s.errc <- ex.StreamWithContext(ctx(t), remotecommand.StreamOptions{Stdin: in, Stdout: out, Tty: true, TerminalSizeQueue: queue})
		}()
		s.run()
	})
	t.Run("the same bytes and exit code", func(t *testing.T) {
		cmd := []string{"sh", "-c", `echo out; echo err >&2; test -t 0 && echo terminal; printf 'a\tb\n'; exit 5`}
		var ours bytes.Buffer
		err := e.cc.Exec(ctx(t), e.ns, "shell", cmd, &connect.ExecOptions{TTY: true, Stdout: &ours})
		var exit *connect.ExitError
		require.ErrorAs(t, err, &exit)
		var theirs bytes.Buffer
		err = e.ttyExecutor(t, cmd, false).StreamWithContext(ctx(t), remotecommand.StreamOptions{Stdout: &theirs, Tty: true})
		var theirExit utilexec.ExitError
		require.True(t, errors.As(err, &theirExit), "client-go: %v", err)
		assert.Equal(t, theirExit.ExitStatus(), exit.Code)
		assert.Equal(t, 5, exit.Code)
		assert.Equal(t, theirs.String(), ours.String())
		assert.Equal(t, "out\r\nerr\r\nterminal\r\na\tb\r\n", ours.String())
	})
}
