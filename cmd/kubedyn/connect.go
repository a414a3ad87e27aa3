package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/tidwall/gjson"
	"golang.org/x/term"

	"github.com/kubedyn/kubedyn/connect"
	"github.com/kubedyn/kubedyn/transport"
)

// exitExecOwn is exec's exit code when kubedyn itself failed, as ssh's 255:
// every lower code may be the remote command's.
const exitExecOwn = 255

// podErr maps a failure to find the pod to an exit code: 1 for a pod that
// does not exist, 2 for the rest.
func podErr(err error) error {
	if errors.Is(err, errNoPod) {
		return &exitError{code: exitFailed, err: err}
	}
	return &exitError{code: exitCannotRun, err: err}
}

func newLogs(g *globals) *cobra.Command {
	var (
		containerName string
		follow        bool
		tail          int64
		since         time.Duration
		sinceTime     string
		timestamps    bool
		previous      bool
		limitBytes    int64
	)
	cmd := &cobra.Command{
		Use:   "logs (POD | TYPE/NAME)",
		Short: "Print a container's log",
		Long: `logs prints the log of a container of a pod. TYPE/NAME picks a pod of a
Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, ReplicationController or
Service by its selector, as kubectl does (running and ready first, then the
oldest).

With -f the log is followed until the container ends or SIGINT/SIGTERM (exit 0
either way); a dropped connection is resumed from the last line's timestamp,
so no line is lost or repeated. Exit codes: 0 the log was printed; 1 the pod
does not exist; 2 could not run (bad flags, a container that does not exist,
a refused request, a cut that could not be resumed).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if since != 0 && sinceTime != "" {
				return &exitError{code: exitCannotRun, err: errors.New("use one of --since and --since-time")}
			}
			if since < 0 {
				return &exitError{code: exitCannotRun, err: errors.New("--since must be positive")}
			}
			if tail < -1 {
				return &exitError{code: exitCannotRun, err: errors.New("--tail must be -1 (all lines) or more")}
			}
			if limitBytes < 0 {
				return &exitError{code: exitCannotRun, err: errors.New("--limit-bytes must not be negative")}
			}
			opts := &connect.LogOptions{Follow: follow, Previous: previous, Timestamps: timestamps, LimitBytes: limitBytes}
			if since > 0 {
				opts.SinceSeconds = sinceSeconds(since)
			}
			if sinceTime != "" {
				t, err := time.Parse(time.RFC3339, sinceTime)
				if err != nil {
					return &exitError{code: exitCannotRun, err: fmt.Errorf("--since-time: want RFC 3339, such as 2026-12-04T10:00:00Z: %w", err)}
				}
				opts.SinceTime = t
			}
			if tail >= 0 {
				opts.TailLines = &tail
			}
			c, err := g.client()
			if err != nil {
				return &exitError{code: exitCannotRun, err: err}
			}
			ref, err := g.resolvePod(ctx, c, args[0])
			if err != nil {
				return podErr(err)
			}
			opts.Container = container(ref.pod, containerName, g.errOut)
			rc, err := c.Connect().Logs(ctx, ref.pod.Namespace(), ref.pod.Name(), opts)
			if err != nil {
				if errors.Is(err, transport.ErrNotFound) {
					return &exitError{code: exitFailed, err: err}
				}
				return &exitError{code: exitCannotRun, err: err}
			}
			defer rc.Close()
			// A follow's reader ends with io.EOF when ctx ends: a signal is a
			// clean end.
			if _, err := io.Copy(g.out, rc); err != nil {
				return &exitError{code: exitCannotRun, err: err}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&containerName, "container", "c", "", "the container (default: the pod's default-container annotation, else its first)")
	fl.BoolVarP(&follow, "follow", "f", false, "stream the log as it is written, until the container ends or a signal")
	fl.Int64Var(&tail, "tail", -1, "only the last N lines (-1: all)")
	fl.DurationVar(&since, "since", 0, "only lines newer than this, such as 5m or 1h (whole seconds)")
	fl.StringVar(&sinceTime, "since-time", "", "only lines from this RFC 3339 time on (whole seconds)")
	fl.BoolVar(&timestamps, "timestamps", false, "prefix each line with the RFC 3339 time the node recorded")
	fl.BoolVarP(&previous, "previous", "p", false, "the log of the container's previous instance (after a restart)")
	fl.Int64Var(&limitBytes, "limit-bytes", 0, "stop after this many bytes (0: no limit)")
	return cmd
}

func newExec(g *globals) *cobra.Command {
	var containerName string
	var stdin, tty bool
	cmd := &cobra.Command{
		Use:   "exec (POD | TYPE/NAME) [-c CONTAINER] [-i] [-t] -- COMMAND [ARGS...]",
		Short: "Run a command in a container and pass its exit code on",
		Long: `exec runs a command in a container of a pod (or of a pod a workload or Service
selects, as logs does) with its standard output and error on kubedyn's.

-i sends kubedyn's standard input to the command; its end closes the command's
input, so cat-like commands finish. -t (with -i, on a terminal) gives the
command a terminal: the local one is put in raw mode for the session and its
size follows the window (SIGWINCH). Without a terminal on standard input -t is
ignored with a warning, as kubectl does.

Exit codes, as kubectl and ssh: the remote command's own exit code; 255 when
kubedyn failed (bad arguments, no usable kubeconfig, a pod or container that
does not exist, a refused request, a connection that broke before the command's
exit status arrived); 128+n when signal n (SIGINT, SIGTERM) ended kubedyn first.`,
		Args: func(cmd *cobra.Command, args []string) error {
			own := func(err error) error { return &exitError{code: exitExecOwn, err: err} }
			dash := cmd.ArgsLenAtDash()
			switch {
			case dash < 0:
				return own(errors.New("give the command after --: exec POD -- COMMAND [ARGS...]"))
			case dash != 1:
				return own(fmt.Errorf("want one pod before --, got %d arguments", dash))
			case len(args) == 1:
				return own(errors.New("the command after -- is missing"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExec(cmd.Context(), g, args[0], args[1:], containerName, stdin, tty)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitExecOwn, err: err}
	})
	fl := cmd.Flags()
	fl.StringVarP(&containerName, "container", "c", "", "the container (default: the pod's default-container annotation, else its first)")
	fl.BoolVarP(&stdin, "stdin", "i", false, "send standard input to the command")
	fl.BoolVarP(&tty, "tty", "t", false, "give the command a terminal (needs -i and a terminal on standard input)")
	return cmd
}

func runExec(ctx context.Context, g *globals, podArg string, command []string, containerName string, stdin, tty bool) error {
	own := func(err error) error { return &exitError{code: exitExecOwn, err: err} }
	opts := &connect.ExecOptions{Stdout: g.out, Stderr: g.errOut}
	var inFd, outFd int
	if tty {
		inF, ok := g.in.(*os.File)
		switch {
		case !stdin:
			fmt.Fprintln(g.errOut, "Unable to use a TTY: -t needs -i")
			tty = false
		case !ok || !term.IsTerminal(int(inF.Fd())):
			fmt.Fprintln(g.errOut, "Unable to use a TTY - input is not a terminal or the right kind of file")
			tty = false
		default:
			inFd, outFd = int(inF.Fd()), -1
			if outF, ok := g.out.(*os.File); ok && term.IsTerminal(int(outF.Fd())) {
				outFd = int(outF.Fd())
			}
		}
	}
	if stdin {
		opts.Stdin = g.in
	}
	c, err := g.client()
	if err != nil {
		return own(err)
	}
	ref, err := g.resolvePod(ctx, c, podArg)
	if err != nil {
		return own(err)
	}
	opts.Container = container(ref.pod, containerName, g.errOut)
	if tty {
		opts.TTY, opts.Stderr = true, nil
		sizeFd := outFd
		if sizeFd < 0 {
			sizeFd = inFd
		}
		sizes, stop := watchTerminalSize(sizeFd)
		defer stop()
		opts.TerminalSizes = sizes
		old, err := term.MakeRaw(inFd)
		if err != nil {
			return own(fmt.Errorf("put the terminal in raw mode: %w", err))
		}
		// Restored before the exit code is returned, and before any
		// message is printed.
		defer func() { _ = term.Restore(inFd, old) }()
	}
	err = c.Connect().Exec(ctx, ref.pod.Namespace(), ref.pod.Name(), command, opts)
	var exit *connect.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exit):
		return &exitError{code: exit.Code}
	case ctx.Err() != nil:
		if s := signalOf(ctx); s != 0 {
			return &exitError{code: 128 + int(s)}
		}
	}
	return own(err)
}

// watchTerminalSize sends the terminal's size now and after each window
// change, the latest size only, until stop.
func watchTerminalSize(fd int) (<-chan connect.TerminalSize, func()) {
	sizes := make(chan connect.TerminalSize, 1)
	send := func() {
		w, h, err := term.GetSize(fd)
		if err != nil {
			return
		}
		s := connect.TerminalSize{Width: uint16(w), Height: uint16(h)}
		for {
			select {
			case sizes <- s:
				return
			default:
				// A size nobody took yet is stale: replace it.
				select {
				case <-sizes:
				default:
				}
			}
		}
	}
	send()
	stop := notifyWinch(send)
	return sizes, stop
}

func newPortForward(g *globals) *cobra.Command {
	var addresses []string
	cmd := &cobra.Command{
		Use:   "port-forward (POD | TYPE/NAME) [LOCAL:]REMOTE...",
		Short: "Forward local ports to a pod",
		Long: `port-forward listens on local ports and forwards each connection to a port of a
pod, until SIGINT or SIGTERM (exit 0).

  8080        local 8080 to the pod's 8080
  9000:80     local 9000 to the pod's 80
  :80         a free local port (printed) to the pod's 80
  8080:http   local 8080 to the pod's container port named http
  svc/web :80 a free local port to a pod of Service web, at the targetPort
              of the Service's port 80 (a Service port may be named too)

TYPE/NAME picks a pod as logs does; for svc/NAME the ports are the Service's,
translated to the pod's through targetPort. Each listener is announced as
kubectl does, "Forwarding from 127.0.0.1:PORT -> REMOTE", and so is each
connection, "Handling connection for PORT". A connection the pod refuses is
closed and reported on standard error; the session goes on. Exit
codes: 0 stopped by a signal; 1 the pod does not exist, or the connection to
the server was lost; 2 could not run (bad ports, a local port in use, a refused
request).`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPortForward(cmd.Context(), g, args[0], args[1:], addresses)
		},
	}
	cmd.Flags().StringSliceVar(&addresses, "address", []string{"127.0.0.1"}, "local addresses to listen on, comma-separated (localhost: 127.0.0.1 and ::1)")
	return cmd
}

// portSpec is one LOCAL:REMOTE argument; remote is a number or a port
// name until translated.
type portSpec struct {
	local  int
	remote string
	port   int
}

func parsePortSpecs(args []string) ([]portSpec, error) {
	var specs []portSpec
	for _, a := range args {
		l, r, ok := strings.Cut(a, ":")
		if !ok {
			l, r = a, a
		}
		if r == "" {
			return nil, fmt.Errorf("port %q: the remote port is missing", a)
		}
		s := portSpec{remote: r}
		if l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 0 || n > 65535 {
				if !ok {
					// A name alone: the local port follows the translation.
					s.local = -1
					specs = append(specs, s)
					continue
				}
				return nil, fmt.Errorf("port %q: the local port must be a number 0-65535", a)
			}
			s.local = n
		}
		specs = append(specs, s)
	}
	return specs, nil
}

// translatePorts turns each remote port into the pod's port number: a
// Service's port through its targetPort, a name through the pod's
// container ports.
func translatePorts(ref podRef, specs []portSpec) error {
	named := func(name string) (int, error) {
		for _, c := range ref.pod.Get("spec.containers").Array() {
			for _, p := range c.Get("ports").Array() {
				if p.Get("name").String() == name {
					return int(p.Get("containerPort").Int()), nil
				}
			}
		}
		return 0, fmt.Errorf("pod %s has no container port named %q", ref.pod.Name(), name)
	}
	for i := range specs {
		s := &specs[i]
		if ref.fromKind == "Service" {
			var sp = -1
			for j, p := range ref.from.Get("spec.ports").Array() {
				if p.Get("name").String() == s.remote || p.Get("port").String() == s.remote {
					sp = j
					if s.local < 0 {
						s.local = int(p.Get("port").Int())
					}
					break
				}
			}
			if sp < 0 {
				return fmt.Errorf("service %s has no port %s", ref.from.Name(), s.remote)
			}
			p := ref.from.Get(fmt.Sprintf("spec.ports.%d", sp))
			tp := p.Get("targetPort")
			switch {
			case !tp.Exists():
				s.port = int(p.Get("port").Int())
			case tp.Type == gjson.Number:
				s.port = int(tp.Int())
			default:
				n, err := named(tp.String())
				if err != nil {
					return err
				}
				s.port = n
			}
			continue
		}
		if n, err := strconv.Atoi(s.remote); err == nil {
			s.port = n
		} else {
			n, err := named(s.remote)
			if err != nil {
				return err
			}
			s.port = n
			if s.local < 0 {
				s.local = n
			}
		}
		if s.port < 1 || s.port > 65535 {
			return fmt.Errorf("port %s: the pod's port must be 1-65535", s.remote)
		}
	}
	return nil
}

func runPortForward(ctx context.Context, g *globals, podArg string, portArgs, addresses []string) error {
	specs, err := parsePortSpecs(portArgs)
	if err != nil {
		return &exitError{code: exitCannotRun, err: err}
	}
	var addrs []string
	optionalV6 := false
	for _, a := range addresses {
		if a == "localhost" {
			addrs = append(addrs, "127.0.0.1", "::1")
			optionalV6 = true
			continue
		}
		if net.ParseIP(a) == nil {
			return &exitError{code: exitCannotRun, err: fmt.Errorf("--address %q: want an IP address or localhost", a)}
		}
		addrs = append(addrs, a)
	}
	c, err := g.client()
	if err != nil {
		return &exitError{code: exitCannotRun, err: err}
	}
	ref, err := g.resolvePod(ctx, c, podArg)
	if err != nil {
		return podErr(err)
	}
	if err := translatePorts(ref, specs); err != nil {
		return &exitError{code: exitCannotRun, err: err}
	}
	pf, err := c.Connect().PortForward(ctx, ref.pod.Namespace(), ref.pod.Name(), nil)
	if err != nil {
		if errors.Is(err, transport.ErrNotFound) {
			return &exitError{code: exitFailed, err: err}
		}
		return &exitError{code: exitCannotRun, err: err}
	}
	var wg sync.WaitGroup
	var listeners []net.Listener
	defer func() {
		// Listeners first, then the session (which cuts the connections
		// still open), then wait for their goroutines.
		for _, ln := range listeners {
			ln.Close()
		}
		pf.Close()
		wg.Wait()
	}()
	for _, s := range specs {
		local := s.local
		for _, a := range addrs {
			ln, err := net.Listen("tcp", net.JoinHostPort(a, strconv.Itoa(local)))
			if err != nil {
				if optionalV6 && a == "::1" {
					continue // no IPv6 loopback here
				}
				return &exitError{code: exitCannotRun, err: err}
			}
			listeners = append(listeners, ln)
			// A free port picked for the first address is used for the
			// others too.
			local = ln.Addr().(*net.TCPAddr).Port
			fmt.Fprintf(g.out, "Forwarding from %s -> %d\n", ln.Addr(), s.port)
			wg.Go(func() { g.forward(ctx, pf, ln, local, s.port) })
		}
	}
	select {
	case <-ctx.Done():
		return nil
	case <-pf.Done():
		return failedf("lost connection to pod %s/%s", ref.pod.Namespace(), ref.pod.Name())
	}
}

// forward serves a local listener until it is closed: each connection
// accepted is announced as kubectl does ("Handling connection for 8080")
// and copied both ways to a connection to the pod's port. A connection the
// pod refuses (nothing listens there) is closed and reported on standard
// error; the others go on.
func (g *globals) forward(ctx context.Context, pf *connect.PortForward, ln net.Listener, local, remote int) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		fmt.Fprintf(g.out, "Handling connection for %d\n", local)
		wg.Go(func() {
			defer conn.Close()
			fail := func(err error) {
				if ctx.Err() == nil {
					fmt.Fprintf(g.errOut, "error: an error occurred forwarding %d -> %d: %v\n", local, remote, err)
				}
			}
			dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			pod, err := pf.Dial(dctx, remote)
			cancel()
			if err != nil {
				fail(err)
				return
			}
			defer pod.Close()
			sent := make(chan struct{})
			go func() {
				defer close(sent)
				_, _ = io.Copy(pod, conn)
				if cw, ok := pod.(interface{ CloseWrite() error }); ok {
					_ = cw.CloseWrite()
				}
			}()
			if _, err := io.Copy(conn, pod); err != nil {
				fail(err)
			}
			// The pod's side is done: so is the local connection (which
			// ends the copy the other way).
			conn.Close()
			<-sent
		})
	}
}
