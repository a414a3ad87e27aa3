package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// Every container process and every exec'd command runs under a shim: this
// same binary started as `node-agent shim -- <command> <args...>`. The agent
// starts the shim as the leader of a new process group; the shim starts the
// command in that group and exits with its status (128+n when a signal n
// ended it, as container runtimes report). The shim exists for two reasons.
// A parent-death signal reaches only a direct child, so when the agent dies
// (killed with the test binary that started it) the shim gets
// shimDeathSignal and kills its whole process group, grandchildren included
// — nothing a pod started outlives `make test`. And a first argument
// --netns=PATH (which names no command) makes the shim enter that network
// namespace before it starts the command, which is how pods join the pod
// network (netns.go).

// shimDeathSignal is the parent-death signal of every shim. The agent itself
// only ever sends SIGTERM and SIGKILL to a process group.
const shimDeathSignal = syscall.SIGUSR2

// shimArg is the first argument that makes this binary a shim.
const shimArg = "shim"

// runShim is main for the shim. It never returns.
func runShim(args []string) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "node-agent shim: no command")
		os.Exit(128)
	}
	runtime.LockOSThread() // the child's parent-death signal is bound to this thread
	if path, ok := strings.CutPrefix(args[0], netnsFlag); ok {
		// The pod network (netns.go): the command is born in the namespace
		// this thread enters.
		args = args[1:]
		if err := enterNetns(path); err != nil || len(args) == 0 {
			fmt.Fprintf(os.Stderr, "node-agent shim: network namespace %s: %v\n", path, cmp.Or(err, errNoCommand))
			os.Exit(128)
		}
	}
	parent := os.Getppid()
	sigs := make(chan os.Signal, 4)
	// Caught (not ignored) signals are reset to their defaults in the child,
	// so the command still gets SIGTERM from a group kill; the shim only
	// outlives it long enough to report its status.
	signal.Notify(sigs, shimDeathSignal, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	if os.Getppid() != parent || parent == 1 {
		_ = syscall.Kill(0, syscall.SIGKILL) // the agent died before we got here
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "node-agent shim: %v\n", err)
		os.Exit(128)
	}
	go func() {
		for s := range sigs {
			if s == shimDeathSignal && os.Getppid() != parent {
				_ = syscall.Kill(0, syscall.SIGKILL) // the whole group, this shim included
			}
		}
	}()
	_ = cmd.Wait()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ws.Exited():
		os.Exit(ws.ExitStatus())
	case ws.Signaled():
		os.Exit(128 + int(ws.Signal()))
	}
	os.Exit(128)
}

// starter starts shims from one goroutine locked to its OS thread: the
// parent-death signal fires when the thread that forked a child exits, and
// this thread lives as long as the agent.
type starter struct {
	self string
	reqs chan func()
}

func newStarter() (*starter, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	s := &starter{self: self, reqs: make(chan func())}
	go func() {
		runtime.LockOSThread() // never unlocked
		for f := range s.reqs {
			f()
		}
	}()
	return s, nil
}

// proc is a started shim with the command under it.
type proc struct {
	cmd  *exec.Cmd
	pgid int
	done chan struct{} // closed once the shim has exited and status is set
	// code is the exit code (128+n for a signal), valid after done.
	code int
}

// stdio are the descriptors a process gets; nil means /dev/null.
type stdio struct {
	in, out, err *os.File
	// tty: in is a terminal's slave side, which becomes the controlling
	// terminal of a new session that the shim leads (its process group
	// is the terminal's foreground group).
	tty bool
}

// start starts `shim -- argv...` with env in dir, as a new process group
// (a new session with io.tty).
func (s *starter) start(argv, env []string, dir string, io stdio) (*proc, error) {
	cmd := exec.Command(s.self, append([]string{shimArg, "--"}, argv...)...)
	cmd.Env = env
	cmd.Dir = dir
	if io.in != nil {
		cmd.Stdin = io.in
	}
	if io.out != nil {
		cmd.Stdout = io.out
	}
	if io.err != nil {
		cmd.Stderr = io.err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: shimDeathSignal}
	if io.tty {
		// A new session is a new process group too, led by the shim.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0, Pdeathsig: shimDeathSignal}
	}
	errc := make(chan error, 1)
	s.reqs <- func() { errc <- cmd.Start() }
	if err := <-errc; err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, pgid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		switch {
		case ws.Exited():
			p.code = ws.ExitStatus()
		case ws.Signaled():
			p.code = 128 + int(ws.Signal())
		default:
			p.code = 128
		}
		// A container ends with its main process: whatever it left running
		// in its group goes too.
		_ = syscall.Kill(-p.pgid, syscall.SIGKILL)
		close(p.done)
	}()
	return p, nil
}

// signal sends sig to the process group.
func (p *proc) signal(sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		_ = syscall.Kill(-p.pgid, sig)
	}
}

// lookPath finds file in the directories of pathEnv, as a shell would.
func lookPath(file, pathEnv string) (string, error) {
	if strings.Contains(file, "/") {
		if isExecutable(file) {
			return file, nil
		}
		return "", fmt.Errorf("exec: %q: no such executable file", file)
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", file)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

var errNoCommand = errors.New("no command")
