package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"

	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// Stream timeouts, as the kubelet's defaults.
const (
	streamIdleTimeout     = 4 * time.Hour
	streamCreationTimeout = remotecommand.DefaultStreamCreationTimeout
)

// handler serves the kubelet API the API server proxies to.
func (a *agent) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", a.authenticated(a.serveLogs))
	for _, p := range []string{"/exec/{ns}/{pod}/{container}", "/exec/{ns}/{pod}/{uid}/{container}"} {
		mux.HandleFunc("GET "+p, a.authenticated(a.serveExec))
		mux.HandleFunc("POST "+p, a.authenticated(a.serveExec))
	}
	for _, p := range []string{"/attach/{ns}/{pod}/{container}", "/attach/{ns}/{pod}/{uid}/{container}"} {
		mux.HandleFunc("GET "+p, a.authenticated(a.serveAttach))
		mux.HandleFunc("POST "+p, a.authenticated(a.serveAttach))
	}
	for _, p := range []string{"/portForward/{ns}/{pod}", "/portForward/{ns}/{pod}/{uid}"} {
		mux.HandleFunc("GET "+p, a.authenticated(a.servePortForward))
		mux.HandleFunc("POST "+p, a.authenticated(a.servePortForward))
	}
	return mux
}

// authenticated admits only clients with a certificate the client CA
// signed (the TLS handshake verified it).
func (a *agent) authenticated(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

// podAndContainer resolves the request's pod and container, or answers 404.
func (a *agent) podAndContainer(w http.ResponseWriter, r *http.Request, needContainer bool) (*podRuntime, *ctr, bool) {
	ns, name, uid := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("uid")
	p := a.lookup(ns, name, uid)
	if p == nil {
		http.Error(w, fmt.Sprintf("pod %q does not exist", name), http.StatusNotFound)
		return nil, nil, false
	}
	if !needContainer {
		return p, nil, true
	}
	cname := r.PathValue("container")
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range append(append([]*ctr(nil), p.inits...), p.ctrs...) {
		if c.spec.Name == cname {
			return p, c, true
		}
	}
	http.Error(w, fmt.Sprintf("container %q not found in pod %q", cname, name), http.StatusNotFound)
	return nil, nil, false
}

func (a *agent) serveLogs(w http.ResponseWriter, r *http.Request) {
	o, err := parseLogOptions(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p, c, ok := a.podAndContainer(w, r, true)
	if !ok {
		return
	}
	p.mu.Lock()
	l := c.log
	if o.previous {
		l = c.prevLog
	}
	reason := ""
	if c.state.Waiting != nil {
		reason = c.state.Waiting.Reason
	}
	p.mu.Unlock()
	if l == nil {
		if o.previous {
			http.Error(w, fmt.Sprintf("previous terminated container %q in pod %q not found", c.spec.Name, p.name), http.StatusBadRequest)
		} else {
			http.Error(w, fmt.Sprintf("container %q in pod %q is waiting to start: %s", c.spec.Name, p.name, reason), http.StatusBadRequest)
		}
		return
	}
	serveLog(r.Context(), w, l, o)
}

func (a *agent) serveExec(w http.ResponseWriter, r *http.Request) {
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p, c, ok := a.podAndContainer(w, r, true)
	if !ok {
		return
	}
	remotecommand.ServeExec(w, r, &streams{p: p, c: c}, p.name, string(p.uid), c.spec.Name, r.URL.Query()["command"],
		opts, streamIdleTimeout, streamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

func (a *agent) serveAttach(w http.ResponseWriter, r *http.Request) {
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p, c, ok := a.podAndContainer(w, r, true)
	if !ok {
		return
	}
	if c.spec.TTY && opts.Stderr {
		// The kubelet attaches with the container's tty, whatever the
		// request says, and the runtime refuses a tty with a separate
		// stderr (the answer a real node gives, gRPC status included).
		http.Error(w, "rpc error: code = InvalidArgument desc = tty and stderr cannot both be true", http.StatusInternalServerError)
		return
	}
	remotecommand.ServeAttach(w, r, &streams{p: p, c: c}, p.name, string(p.uid), c.spec.Name,
		opts, streamIdleTimeout, streamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

func (a *agent) servePortForward(w http.ResponseWriter, r *http.Request) {
	p, _, ok := a.podAndContainer(w, r, false)
	if !ok {
		return
	}
	opts, err := portforward.NewV4Options(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	portforward.ServePortForward(w, r, &streams{p: p}, p.name, string(p.uid), opts,
		streamIdleTimeout, streamCreationTimeout, portforward.SupportedProtocols)
}

// streams implements the streaming library's Executor, Attacher and
// PortForwarder for one pod (and container).
type streams struct {
	p *podRuntime
	c *ctr
}

// drain consumes terminal resize events: processes run without a terminal.
func drain(ctx context.Context, resize <-chan remotecommand.TerminalSize) {
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-resize:
				if !ok {
					return
				}
			}
		}
	}()
}

// ExecInContainer runs cmd on the host with the container's environment and
// working directory, as a process of the pod (killed with it). With tty it
// runs on a pseudo-terminal of its own that the client's resizes size.
func (s *streams) ExecInContainer(ctx context.Context, _, _, _ string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, _ time.Duration) error {
	p, c := s.p, s.c
	if !tty {
		drain(ctx, resize)
	}
	if len(cmd) == 0 {
		return fmt.Errorf("no command")
	}
	p.mu.Lock()
	pod, running := p.pod, c.state.Running != nil
	p.mu.Unlock()
	if !running || p.isStopping() {
		return fmt.Errorf("container %q in pod %q is not running", c.spec.Name, p.name)
	}
	env, err := p.a.environment(ctx, pod, &c.spec)
	if err != nil {
		return err
	}
	path, err := lookPath(cmd[0], envValue(env, "PATH"))
	if err != nil {
		return utilexec.CodeExitError{Err: err, Code: 127}
	}
	argv := p.procArgv(append([]string{path}, cmd[1:]...))

	var io3 stdio
	var copies sync.WaitGroup
	var closers []*os.File
	if tty {
		master, slave, err := openTerminal()
		if err != nil {
			return err
		}
		defer master.Close()
		resizeTerminal(ctx, master, resize)
		io3 = stdio{in: slave, out: slave, err: slave, tty: true}
		closers = append(closers, slave)
		if in != nil {
			// Typed at the terminal; its end is not an end of file for
			// the process (a terminal has none but ^D), so it only stops.
			go func() { _, _ = io.Copy(master, in) }()
		}
		if out == nil {
			out = errw // a TTY merges the two; the client may ask for either
		}
		if out != nil {
			copies.Go(func() { _, _ = io.Copy(out, terminalOutput{master}) })
		}
	} else {
		if in != nil {
			r, w, err := os.Pipe()
			if err != nil {
				return err
			}
			io3.in = r
			closers = append(closers, r)
			go func() { _, _ = io.Copy(w, in); w.Close() }()
		}
		pipeOut := func(dst io.Writer) (*os.File, error) {
			if dst == nil {
				return nil, nil
			}
			r, w, err := os.Pipe()
			if err != nil {
				return nil, err
			}
			closers = append(closers, w)
			copies.Go(func() { _, _ = io.Copy(dst, r); r.Close() })
			return w, nil
		}
		if io3.out, err = pipeOut(out); err != nil {
			return err
		}
		if io3.err, err = pipeOut(errw); err != nil {
			return err
		}
	}
	pr, err := p.a.starter.start(argv, env, workingDir(&c.spec, p.dir), io3)
	for _, f := range closers {
		f.Close()
	}
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.execs[pr] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.execs, pr)
		p.mu.Unlock()
	}()
	select {
	case <-pr.done:
	case <-ctx.Done():
		pr.signal(syscall.SIGKILL)
		<-pr.done
	}
	copies.Wait()
	if pr.code != 0 {
		return utilexec.CodeExitError{Err: fmt.Errorf("error executing command %v, exit code %d", cmd, pr.code), Code: pr.code}
	}
	return nil
}

// AttachContainer streams the container's live output, and the client's
// input to the container's stdin when its spec has stdin: true, until the
// run ends or the client leaves. As containerd's CRI does it, the end of
// the client's stdin closes the container's stdin when the spec says
// stdinOnce (without tty): the process reads EOF and the attach goes on
// until it ends; otherwise the client detaches, and the next attach writes
// to the same open stdin. A container with tty: true has one terminal for
// the run; the client's resizes size it.
func (s *streams) AttachContainer(ctx context.Context, _, _, _ string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	p, c := s.p, s.c
	p.mu.Lock()
	l, stdin, term, running := c.log, c.stdin, c.term, c.state.Running != nil
	p.mu.Unlock()
	if term != nil {
		resizeTerminal(ctx, term, resize)
	} else {
		drain(ctx, resize)
	}
	if !running || l == nil {
		return fmt.Errorf("container %q in pod %q is not running", c.spec.Name, p.name)
	}
	if tty && errw == nil {
		errw = out
	}
	sub := &subscriber{}
	if out != nil {
		sub.out = out
	}
	if errw != nil {
		sub.err = errw
	}
	unsubscribe, over := l.subscribe(sub)
	defer unsubscribe()
	detached := make(chan struct{})
	if in != nil && stdin != nil {
		go func() {
			_, _ = io.Copy(stdin, in)
			if c.spec.StdinOnce && term == nil {
				stdin.Close()
				return
			}
			close(detached)
		}()
	}
	select {
	case <-over:
	case <-detached:
	case <-ctx.Done():
	}
	return nil
}

// PortForward connects stream to 127.0.0.1:port in the pod's network
// namespace (netns.go).
func (s *streams) PortForward(ctx context.Context, _, _ string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	conn, err := s.p.dialPort(ctx, port)
	if err != nil {
		return fmt.Errorf("pod %s/%s: port %d: %w", s.p.ns, s.p.name, port, err)
	}
	defer conn.Close()
	go func() {
		_, _ = io.Copy(conn, stream)
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.CloseWrite() // the client is done sending; keep reading
		}
	}()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	_, _ = io.Copy(stream, conn)
	return nil
}
