package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/coder/websocket"

	"github.com/kubedyn/kubedyn/transport"
)

// The channel protocols of exec and attach, newest first. v5 adds the
// close signal that ends the command's stdin; v4 has the same channels and
// the exit status as a Status on the error channel.
const (
	ProtocolV5 = "v5.channel.k8s.io"
	ProtocolV4 = "v4.channel.k8s.io"
)

// Channels of the exec and attach protocols.
const (
	chStdin  = 0
	chStdout = 1
	chStderr = 2
	chError  = 3
	chResize = 4
	chClose  = 255
)

// ExecOptions configure an exec or attach session; nil means the defaults
// (the pod's only container, stdout and stderr discarded). A stream is
// requested from the server only when its field is set. The struct is read,
// never modified.
type ExecOptions struct {
	// Container names the container; empty means the pod's only one (the
	// server refuses an empty name for a pod with several).
	Container string
	// Stdin, when set, is copied to the command's stdin. When it returns
	// io.EOF the command's stdin is closed (over v5.channel.k8s.io; v4
	// has no way to say so, and the command sees the end only when the
	// session ends). A Read that blocks is not interrupted when the session
	// ends: its goroutine ends when the Read returns, and what it read is
	// dropped.
	Stdin io.Reader
	// Stdout and Stderr receive the command's output. Writes happen on the
	// session's goroutine, in order; a slow writer slows the stream down
	// rather than growing a buffer.
	Stdout, Stderr io.Writer
	// TTY asks for a terminal: the command's stderr is merged into stdout,
	// so Stderr must be nil.
	TTY bool
	// TerminalSizes, with TTY, sends each size received to the terminal
	// (a resize). The session stops reading it when it ends.
	TerminalSizes <-chan TerminalSize
}

// TerminalSize is a terminal's width and height in characters. It is a
// plain value.
type TerminalSize struct {
	Width  uint16 `json:"Width"`
	Height uint16 `json:"Height"`
}

// ExitError reports a command that ran and exited with a non-zero code. It
// is not a transport failure: the session worked. Get it with errors.As.
// An ExitError is not modified after it is returned and may be read from
// several goroutines.
type ExitError struct {
	// Code is the process's exit code (128+n for a process killed by
	// signal n, as shells report it).
	Code int
	// Message is the server's message, such as "command terminated with
	// non-zero exit code: ...".
	Message string
}

// Error reads like "command terminated with exit code 3".
func (e *ExitError) Error() string {
	return "command terminated with exit code " + strconv.Itoa(e.Code)
}

// Exec runs command in a container of a pod and waits for it to end. It
// returns nil when the command exits with 0, an *ExitError for any other
// exit code, the server's *transport.APIError when the request is refused
// before any stream (pod or container missing, pod not on a node, no
// permission for pods/exec) or when the session fails inside the server
// (the node cannot be reached), an error wrapping io.ErrUnexpectedEOF when
// the connection ends before the exit status arrives, and the context's
// error when ctx ends first (the connection is closed at once; the command
// is left to the server, which ends it with the connection).
//
// The session speaks v5.channel.k8s.io, or v4.channel.k8s.io with a server
// that offers nothing newer, over a WebSocket opened through the
// transport.
func (c *Client) Exec(ctx context.Context, namespace, pod string, command []string, opts *ExecOptions) error {
	op := fmt.Sprintf("exec in pod %s/%s", namespace, pod)
	if len(command) == 0 {
		return fmt.Errorf("%s: the command is empty", op)
	}
	q := url.Values{"command": command}
	return c.session(ctx, op, namespace, pod, "exec", q, opts)
}

// Attach attaches to the running process of a container and waits until it
// ends or ctx does, with the same streams, results and errors as Exec.
// Stdin reaches the process only when the container's spec has stdin: true
// (a node ignores it otherwise); it is shared with other attached clients.
// When Stdin ends, a container with stdinOnce (and no tty) gets its stdin
// closed and the session lasts until the process ends; otherwise the
// client detaches, Attach returns nil, and the process reads on. A
// container with tty: true is attached to its terminal whatever TTY says,
// and the node refuses a separate stderr: ask for TTY and leave Stderr nil.
func (c *Client) Attach(ctx context.Context, namespace, pod string, opts *ExecOptions) error {
	op := fmt.Sprintf("attach to pod %s/%s", namespace, pod)
	return c.session(ctx, op, namespace, pod, "attach", url.Values{}, opts)
}

func (c *Client) session(ctx context.Context, op, namespace, pod, sub string, q url.Values, opts *ExecOptions) error {
	var o ExecOptions
	if opts != nil {
		o = *opts
	}
	if o.TTY && o.Stderr != nil {
		return fmt.Errorf("%s: a TTY merges stderr into stdout: leave Stderr nil", op)
	}
	if o.TerminalSizes != nil && !o.TTY {
		return fmt.Errorf("%s: TerminalSizes needs TTY", op)
	}
	if o.Stdin == nil && o.Stdout == nil && o.Stderr == nil {
		// The server needs at least one stream; the caller wants only the
		// exit code.
		o.Stdout = io.Discard
		if !o.TTY {
			o.Stderr = io.Discard
		}
	}
	path, err := podPath(namespace, pod, sub)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if o.Container != "" {
		if err := transport.ValidatePathSegment("container", o.Container); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		q.Set("container", o.Container)
	}
	for name, on := range map[string]bool{"stdin": o.Stdin != nil, "stdout": o.Stdout != nil, "stderr": o.Stderr != nil, "tty": o.TTY} {
		if on {
			q.Set(name, "true")
		}
	}
	conn, err := c.dial(ctx, path, q, []string{ProtocolV5, ProtocolV4})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer conn.CloseNow()
	proto := conn.Subprotocol()
	if proto != ProtocolV5 && proto != ProtocolV4 {
		_ = conn.Close(websocket.StatusProtocolError, "no common protocol")
		return fmt.Errorf("%s: the server chose subprotocol %q, not %s or %s", op, proto, ProtocolV5, ProtocolV4)
	}
	c.logger.DebugContext(ctx, "session open", "op", op, "protocol", proto)

	// sctx ends the helper goroutines: stdin and resize.
	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		conn.CloseNow()
		wg.Wait()
	}()
	if o.Stdin != nil {
		go func() {
			// Not in wg: a blocking Read on the caller's reader cannot be
			// interrupted, and the session must not wait for it.
			copyStdin(sctx, conn, o.Stdin, proto == ProtocolV5)
		}()
	}
	if o.TerminalSizes != nil {
		wg.Go(func() { sendSizes(sctx, conn, o.TerminalSizes) })
	}
	status, err := readSession(ctx, conn, o.Stdout, o.Stderr)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", op, ctx.Err())
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	// The server closes after the status; answer its close frame.
	_ = conn.Close(websocket.StatusNormalClosure, "")
	if err := status.err(); err != nil {
		var exit *ExitError
		if errors.As(err, &exit) {
			return exit
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// copyStdin sends r on the stdin channel, then (v5) the close signal.
func copyStdin(ctx context.Context, conn *websocket.Conn, r io.Reader, v5 bool) {
	buf := make([]byte, 1+32<<10)
	buf[0] = chStdin
	for {
		n, err := r.Read(buf[1:])
		if n > 0 {
			if werr := conn.Write(ctx, websocket.MessageBinary, buf[:1+n]); werr != nil {
				return
			}
		}
		if err != nil {
			// io.EOF or a failing reader: either way stdin is over.
			if v5 {
				_ = conn.Write(ctx, websocket.MessageBinary, []byte{chClose, chStdin})
			}
			return
		}
	}
}

func sendSizes(ctx context.Context, conn *websocket.Conn, sizes <-chan TerminalSize) {
	for {
		select {
		case <-ctx.Done():
			return
		case s, ok := <-sizes:
			if !ok {
				return
			}
			b, _ := json.Marshal(s)
			if conn.Write(ctx, websocket.MessageBinary, append([]byte{chResize}, b...)) != nil {
				return
			}
		}
	}
}

// readSession copies the output channels to their writers until the server
// sends the exit status and closes. It returns io.ErrUnexpectedEOF (wrapped)
// when the connection ends without a status.
func readSession(ctx context.Context, conn *websocket.Conn, stdout, stderr io.Writer) (*execStatus, error) {
	var status *execStatus
	var ch [1]byte
	buf := make([]byte, 32<<10)
	for {
		typ, r, err := conn.Reader(ctx)
		if err != nil {
			if status != nil {
				// Whatever ended the connection after the status (the
				// close frame, usually) changes nothing.
				return status, nil
			}
			if websocket.CloseStatus(err) == websocket.StatusNormalClosure || errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("the connection ended before the command's exit status: %w", io.ErrUnexpectedEOF)
			}
			return nil, fmt.Errorf("the connection failed before the command's exit status: %w", err)
		}
		if typ != websocket.MessageBinary {
			return nil, fmt.Errorf("the server sent a %v message; the channel protocol uses binary messages only", typ)
		}
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			continue // an empty message carries nothing
		}
		var w io.Writer
		switch ch[0] {
		case chStdout:
			w = stdout
		case chStderr:
			w = stderr
		case chError:
			b, err := io.ReadAll(io.LimitReader(r, transport.MaxErrorBodyBytes))
			if err != nil {
				return nil, fmt.Errorf("reading the exit status: %w", err)
			}
			if len(b) == 0 {
				continue
			}
			status, err = parseStatus(b)
			if err != nil {
				return nil, err
			}
			continue
		}
		if w == nil {
			// A channel we did not ask for, or the v5 close signal from
			// the server: nothing to deliver.
			if _, err := io.CopyBuffer(io.Discard, r, buf); err != nil {
				return nil, fmt.Errorf("reading channel %d: %w", ch[0], err)
			}
			continue
		}
		if _, err := io.CopyBuffer(writerOf{w}, r, buf); err != nil {
			var we *writeError
			if errors.As(err, &we) {
				return nil, fmt.Errorf("writing channel %d's output: %w", ch[0], we.err)
			}
			return nil, fmt.Errorf("reading channel %d: %w", ch[0], err)
		}
	}
}

// writerOf marks the errors of the caller's writer, so they are not
// mistaken for the connection's.
type writerOf struct{ w io.Writer }

func (w writerOf) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		err = &writeError{err}
	}
	return n, err
}

type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }

// execStatus is the metav1.Status the server sends on the error channel.
type execStatus struct {
	Status  string                   `json:"status"`
	Message string                   `json:"message"`
	Reason  string                   `json:"reason"`
	Code    int                      `json:"code"`
	Details *transport.StatusDetails `json:"details"`
}

func parseStatus(b []byte) (*execStatus, error) {
	var st execStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("the exit status is not a Status: %w", err)
	}
	return &st, nil
}

func (st *execStatus) err() error {
	if st.Status == "Success" {
		return nil
	}
	if st.Reason == "NonZeroExitCode" && st.Details != nil {
		for _, c := range st.Details.Causes {
			if c.Type == "ExitCode" {
				n, err := strconv.Atoi(c.Message)
				if err != nil {
					return fmt.Errorf("the exit code %q is not a number", c.Message)
				}
				return &ExitError{Code: n, Message: st.Message}
			}
		}
	}
	code := st.Code
	if code == 0 {
		code = http.StatusInternalServerError
	}
	return &transport.APIError{StatusCode: code, Reason: st.Reason, Message: st.Message, Details: st.Details}
}
