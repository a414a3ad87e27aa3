package testserver

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// ExecRequest describes one exec or attach session on a pod's container.
// It is a plain value.
type ExecRequest struct {
	Namespace, Pod, Container string
	// Command is the command of an exec; it is empty for an attach.
	Command []string
	Attach  bool
	// TTY is the request's tty; for an attach, the container's tty: true
	// (the kubelet attaches with the container's setting).
	TTY    bool
	Stdin  bool
	Stdout bool
	Stderr bool
}

// TerminalSize is one resize event of a TTY session. It is a plain value.
type TerminalSize struct {
	Width  uint16 `json:"Width"`
	Height uint16 `json:"Height"`
}

// ExecStreams are the streams of a session. Stdin reads what the client
// sends and ends when it closes stdin (v5) or the connection; it is empty
// when stdin was not asked for. Writes to an output the client did not ask
// for are discarded. The writers are safe for concurrent use; Stdin and
// Resize are for one reader.
type ExecStreams struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Resize <-chan TerminalSize
}

// ExecHandler runs a session and returns the process's exit code. A
// non-zero code ends the session with the real server's NonZeroExitCode
// Status; an error with an InternalError Status. Each session runs the
// handler on its own goroutine; ctx ends when the client goes away.
type ExecHandler func(ctx context.Context, req ExecRequest, streams ExecStreams) (int, error)

// PortForwardRequest names the pod port a port-forward stream connects to.
// It is a plain value.
type PortForwardRequest struct {
	Namespace, Pod string
	Port           int
}

// PortForwardHandler serves one forwarded port: conn reads what the client
// sends on the port's data channel and writes back to it. A returned error
// is sent on the port's error channel. Each port runs the handler on its
// own goroutine; ctx ends when the client goes away.
type PortForwardHandler func(ctx context.Context, req PortForwardRequest, conn io.ReadWriter) error

// SetExecHandler replaces the handler of exec and attach sessions. The
// default understands `echo ARGS...`, `cat` (stdin to stdout), `true`,
// `false`, `sh -c "exit N"` and `sh -c "echo ..."`; attach copies stdin to
// stdout. Other commands fail as a missing executable does.
func (s *Server) SetExecHandler(h ExecHandler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.execHandler = h
}

// SetPortForwardHandler replaces the handler of forwarded ports; the
// default echoes every byte back.
func (s *Server) SetPortForwardHandler(h PortForwardHandler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pfHandler = h
}

func defaultExec(ctx context.Context, req ExecRequest, st ExecStreams) (int, error) {
	cmd := req.Command
	switch {
	case req.Attach || (len(cmd) == 1 && cmd[0] == "cat"):
		_, err := io.Copy(st.Stdout, st.Stdin)
		return 0, err
	case len(cmd) == 0:
		return 0, nil
	case cmd[0] == "echo":
		_, err := io.WriteString(st.Stdout, strings.Join(cmd[1:], " ")+"\n")
		return 0, err
	case cmd[0] == "true":
		return 0, nil
	case cmd[0] == "false":
		return 1, nil
	case (cmd[0] == "sh" || cmd[0] == "/bin/sh") && len(cmd) == 3 && cmd[1] == "-c":
		script := strings.TrimSpace(cmd[2])
		if rest, ok := strings.CutPrefix(script, "exit "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(rest))
			if err == nil {
				return n, nil
			}
		}
		if rest, ok := strings.CutPrefix(script, "echo "); ok {
			_, err := io.WriteString(st.Stdout, rest+"\n")
			return 0, err
		}
	}
	return 0, fmt.Errorf("failed to exec in container: failed to start exec: OCI runtime exec failed: exec failed: unable to start container process: exec: %q: executable file not found in $PATH", cmd[0])
}

func defaultPortForward(ctx context.Context, req PortForwardRequest, conn io.ReadWriter) error {
	_, err := io.Copy(conn, conn)
	return err
}

func boolParam(q url.Values, name string) bool {
	v := q.Get(name)
	return v == "true" || v == "1"
}

// serveStream answers exec, attach and portforward over WebSocket with the
// v5.channel.k8s.io and v4.channel.k8s.io protocols (portforward also
// portforward.k8s.io); other protocols, including SPDY, are refused.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, req request) {
	if req.sub == "portforward" {
		s.servePortForward(w, r, req)
		return
	}
	q := r.URL.Query()
	er := ExecRequest{
		Namespace: req.namespace, Pod: req.name, Attach: req.sub == "attach", Command: q["command"],
		TTY: boolParam(q, "tty"), Stdin: boolParam(q, "stdin"), Stdout: boolParam(q, "stdout"), Stderr: boolParam(q, "stderr"),
	}
	switch {
	case !er.Attach && len(er.Command) == 0:
		writeStatus(w, errBadRequest("you must specify at least 1 command"))
		return
	case !er.Stdin && !er.Stdout && !er.Stderr:
		writeStatus(w, errBadRequest("you must specify at least one of stdin, stdout, stderr"))
		return
	case er.TTY && er.Stderr:
		writeStatus(w, errBadRequest("stderr cannot be requested together with tty"))
		return
	}
	pod, container, err := s.podContainer(req, q.Get("container"), false)
	if err != nil {
		writeErr(w, err)
		return
	}
	er.Container = container
	// The kubelet attaches with the container's tty, whatever the request
	// says, and the runtime refuses a tty with a separate stderr: the API
	// server upgrades first and reports the node's refusal on the error
	// channel.
	refusal := ""
	if er.Attach && containerTTY(pod, container) {
		er.TTY = true
		if er.Stderr {
			refusal = "unable to upgrade connection: rpc error: code = InvalidArgument desc = tty and stderr cannot both be true"
		}
	}
	ws, proto := wsUpgrade(w, r, []string{"v5.channel.k8s.io", "v4.channel.k8s.io"})
	if ws == nil {
		return
	}
	s.mu.Lock()
	handler := s.execHandler
	s.mu.Unlock()
	if handler == nil {
		handler = defaultExec
	}
	ctx, cancel := s.sessionContext(ws)
	defer cancel()

	stdinR, stdinW := io.Pipe()
	resize := make(chan TerminalSize, 8)
	var readerDone sync.WaitGroup
	readerDone.Add(1)
	go func() {
		defer readerDone.Done()
		defer stdinW.Close()
		for {
			_, msg, err := ws.readMessage()
			if err != nil {
				cancel()
				return
			}
			if len(msg) == 0 {
				continue
			}
			switch ch, data := msg[0], msg[1:]; {
			case ch == 255 && proto == "v5.channel.k8s.io" && len(data) == 1 && data[0] == 0:
				stdinW.Close()
			case ch == 0:
				_, _ = stdinW.Write(data)
			case ch == 4:
				var ts TerminalSize
				if json.Unmarshal(data, &ts) == nil {
					select {
					case resize <- ts:
					default:
					}
				}
			}
		}
	}()

	streams := ExecStreams{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Resize: resize}
	if er.Stdin {
		streams.Stdin = stdinR
	}
	if er.Stdout {
		streams.Stdout = channelWriter{ws, 1}
	}
	if er.Stderr {
		streams.Stderr = channelWriter{ws, 2}
	}
	// The real server opens with an empty message on the lowest writable
	// channel.
	first := byte(3)
	switch {
	case er.Stdout:
		first = 1
	case er.Stderr:
		first = 2
	}
	_ = ws.writeFrame(wsBinary, []byte{first})

	code, herr := 0, error(nil)
	if refusal == "" {
		code, herr = handler(ctx, er, streams)
	}
	st := map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{}, "status": "Success"}
	switch {
	case refusal != "":
		st["status"], st["reason"], st["message"] = "Failure", "InternalError", "Internal error occurred: "+refusal
		st["details"] = map[string]any{"causes": []any{map[string]any{"message": refusal}}}
		st["code"] = http.StatusInternalServerError
	case herr != nil:
		st["status"], st["reason"], st["message"] = "Failure", "InternalError", "Internal error occurred: error executing command in container: "+herr.Error()
		st["code"] = http.StatusInternalServerError
	case code != 0:
		st["status"], st["reason"] = "Failure", "NonZeroExitCode"
		st["message"] = fmt.Sprintf("command terminated with non-zero exit code: error executing command %v, exit code %d", er.Command, code)
		st["details"] = map[string]any{"causes": []any{map[string]any{"reason": "ExitCode", "message": strconv.Itoa(code)}}}
	}
	body, _ := json.Marshal(st)
	_ = ws.writeFrame(wsBinary, append([]byte{3}, body...))
	ws.closeNormal()
	cancel()
	_ = stdinR.Close()
	readerDone.Wait()
}

// containerTTY reports whether the pod's container has tty: true.
func containerTTY(pod map[string]any, container string) bool {
	for _, c := range asSlice(getMap(pod, "spec", true)["containers"]) {
		if c, ok := c.(map[string]any); ok && getString(c, "name") == container {
			tty, _ := c["tty"].(bool)
			return tty
		}
	}
	return false
}

// channelWriter writes each Write as one binary message on a channel.
type channelWriter struct {
	ws *wsConn
	ch byte
}

func (c channelWriter) Write(p []byte) (int, error) {
	if err := c.ws.writeFrame(wsBinary, append([]byte{c.ch}, p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// portConn is one forwarded port: reads come from the client's data
// channel, writes go back on it.
type portConn struct {
	io.Reader
	io.Writer
}

func (s *Server) servePortForward(w http.ResponseWriter, r *http.Request, req request) {
	if s.serveSPDYTunnel(w, r, req) {
		return
	}
	var ports []int
	for _, v := range r.URL.Query()["ports"] {
		for _, p := range strings.Split(v, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 16)
			if err != nil || n == 0 {
				writeStatus(w, errBadRequest(fmt.Sprintf("unable to parse %q as a port: %v", p, err)))
				return
			}
			ports = append(ports, int(n))
		}
	}
	if len(ports) == 0 {
		writeStatus(w, errBadRequest(`query parameter "ports" is required`))
		return
	}
	if _, _, err := s.podContainer(req, "", true); err != nil {
		writeErr(w, err)
		return
	}
	ws, _ := wsUpgrade(w, r, []string{"v4.channel.k8s.io", "portforward.k8s.io", ""})
	if ws == nil {
		return
	}
	s.mu.Lock()
	handler := s.pfHandler
	s.mu.Unlock()
	if handler == nil {
		handler = defaultPortForward
	}
	ctx, cancel := s.sessionContext(ws)
	defer cancel()
	readers := make([]*io.PipeReader, len(ports))
	writers := make([]*io.PipeWriter, len(ports))
	var handlers sync.WaitGroup
	for i, port := range ports {
		readers[i], writers[i] = io.Pipe()
		prefix := binary.LittleEndian.AppendUint16(nil, uint16(port))
		_ = ws.writeFrame(wsBinary, append([]byte{byte(2 * i)}, prefix...))
		_ = ws.writeFrame(wsBinary, append([]byte{byte(2*i + 1)}, prefix...))
		handlers.Add(1)
		go func() {
			defer handlers.Done()
			conn := portConn{Reader: readers[i], Writer: channelWriter{ws, byte(2 * i)}}
			if err := handler(ctx, PortForwardRequest{Namespace: req.namespace, Pod: req.name, Port: port}, conn); err != nil && ctx.Err() == nil {
				_, _ = channelWriter{ws, byte(2*i + 1)}.Write([]byte(err.Error()))
			}
		}()
	}
	for {
		_, msg, err := ws.readMessage()
		if err != nil {
			break
		}
		if len(msg) == 0 || int(msg[0]) >= 2*len(ports) || msg[0]%2 == 1 {
			continue
		}
		_, _ = writers[msg[0]/2].Write(msg[1:])
	}
	cancel()
	for _, pw := range writers {
		_ = pw.Close()
	}
	handlers.Wait()
	_ = ws.conn.Close()
}

// sessionContext returns a context for one WebSocket session that ends when
// the session's handler returns (cancel) or the server closes, in which case
// the connection is closed too so blocked reads return.
func (s *Server) sessionContext(ws *wsConn) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-s.done:
			cancel()
			_ = ws.conn.Close()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
