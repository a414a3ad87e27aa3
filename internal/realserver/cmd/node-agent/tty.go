package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
	v1 "k8s.io/api/core/v1"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
)

// A TTY exec, and every run of a container whose spec asks for tty: true,
// gets a real pseudo-terminal: the process has the terminal's slave side as
// stdin, stdout and stderr and as its controlling terminal (the shim leads
// a new session), and the agent keeps the master side. What the client
// sends on stdin is typed at the terminal (echoed and line-edited by the
// kernel's line discipline), what the process writes comes back with the
// terminal's \r\n line endings, and each resize the client sends sets the
// terminal's window size, so `stty size` sees it and the process gets
// SIGWINCH.

// openTerminal opens a new pseudo-terminal. The master is non-blocking and
// pollable (a Read blocked on it ends when it is closed); the slave is for
// a child process.
func openTerminal() (master, slave *os.File, err error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open a pseudo-terminal: %w", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0) // unlock the slave
	}
	if err != nil {
		unix.Close(fd)
		return nil, nil, fmt.Errorf("set up a pseudo-terminal: %w", err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	sfd, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(fd)
		return nil, nil, fmt.Errorf("open %s: %w", name, err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), os.NewFile(uintptr(sfd), name), nil
}

// setWindowSize sets the terminal's size; the kernel signals SIGWINCH to
// its foreground process group when it changes.
func setWindowSize(master *os.File, size remotecommand.TerminalSize) error {
	rc, err := master.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		serr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: size.Height, Col: size.Width})
	})
	return errors.Join(err, serr)
}

// resizeTerminal applies each size from resize to the terminal until the
// channel closes or ctx ends.
func resizeTerminal(ctx context.Context, master *os.File, resize <-chan remotecommand.TerminalSize) {
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case size, ok := <-resize:
				if !ok {
					return
				}
				_ = setWindowSize(master, size) // fails only once the terminal is closed
			}
		}
	}()
}

// terminalOutput reads a terminal's master side. Once no process holds
// the slave side any more, Linux answers reads with EIO (after what was
// written has been read): that is the end of the output, reported as EOF.
type terminalOutput struct{ master *os.File }

func (t terminalOutput) Read(p []byte) (int, error) {
	n, err := t.master.Read(p)
	if errors.Is(err, syscall.EIO) {
		err = io.EOF
	}
	return n, err
}

// runIO is the stdio of one run of a container: pipes for stdout and
// stderr (and stdin with spec.stdin), or one terminal for all three with
// spec.tty.
type runIO struct {
	child stdio // the process's descriptors: the agent closes them once it started
	// stdin is where attach writes the container's stdin: the pipe's write
	// end, or the terminal's master (nil without spec.stdin).
	stdin *os.File
	// term is the terminal's master with spec.tty, for resizes.
	term    *os.File
	outputs map[string]*os.File // "stdout", "stderr": what the process writes
}

// newRunIO makes the descriptors of a run of c.
func newRunIO(c *v1.Container) (_ *runIO, err error) {
	r := &runIO{outputs: map[string]*os.File{}}
	defer func() {
		if err != nil {
			r.started()
			r.close()
		}
	}()
	if c.TTY {
		master, slave, err := openTerminal()
		if err != nil {
			return r, err
		}
		r.term, r.outputs["stdout"] = master, master
		r.child = stdio{in: slave, out: slave, err: slave, tty: true}
		if c.Stdin {
			r.stdin = master
		}
		return r, nil
	}
	for _, stream := range []string{"stdout", "stderr"} {
		pr, pw, err := os.Pipe()
		if err != nil {
			return r, err
		}
		r.outputs[stream] = pr
		if stream == "stdout" {
			r.child.out = pw
		} else {
			r.child.err = pw
		}
	}
	if c.Stdin {
		pr, pw, err := os.Pipe()
		if err != nil {
			return r, err
		}
		r.child.in, r.stdin = pr, pw
	}
	return r, nil
}

// started closes the process's descriptors in the agent.
func (r *runIO) started() {
	for _, f := range []*os.File{r.child.in, r.child.out, r.child.err} {
		if f != nil {
			f.Close()
		}
	}
}

// copyTo records the process's output in log until it ends (the pipes'
// EOF, or the terminal's hang-up).
func (r *runIO) copyTo(log *logFile, wg *sync.WaitGroup) {
	for stream, f := range r.outputs {
		var src io.Reader = f
		if f == r.term {
			src = terminalOutput{f}
		}
		wg.Go(func() { log.copyFrom(stream, src) })
	}
}

// close closes what the agent kept, once the output is copied.
func (r *runIO) close() {
	for _, f := range r.outputs {
		f.Close()
	}
	if r.stdin != nil {
		r.stdin.Close()
	}
}
