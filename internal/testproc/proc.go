// Package testproc runs a program in the background for a test and reads
// its standard output line by line: the CLI's tests run the kubedyn binary
// this way against the test server (cmd/kubedyn) and the real control plane
// (internal/e2e).
//
// It is test infrastructure, never imported by the library.
package testproc

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proc is a program running in the background. Line, Rest, Stop and Wait
// belong to the test's goroutine; Stderr may be read at any time.
type Proc struct {
	t           testing.TB
	cmd         *exec.Cmd
	lines       chan string
	stderr      *Buffer
	lineTimeout time.Duration
	once        sync.Once
	code        int
}

// Start starts cmd, whose Stdout and Stderr it sets, and kills it when the
// test ends. Line fails the test after waiting lineTimeout for a line.
func Start(t testing.TB, cmd *exec.Cmd, lineTimeout time.Duration) *Proc {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatalf("testproc: %v", err)
	}
	p := &Proc{t: t, cmd: cmd, lines: make(chan string, 10000), stderr: &Buffer{}, lineTimeout: lineTimeout}
	cmd.Stdout, cmd.Stderr = pw, p.stderr
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		t.Fatalf("testproc: start %s: %v", cmd.Path, err)
	}
	pw.Close() // the child holds its own copy
	go func() {
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		p.Wait()
	})
	return p
}

// Line returns the next line of standard output; it fails the test when
// the output ends or no line comes within the timeout.
func (p *Proc) Line() string {
	p.t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			p.t.Fatalf("the output ended; stderr:\n%s", p.stderr.String())
		}
		return l
	case <-time.After(p.lineTimeout):
		p.t.Fatalf("no output line in %v; stderr:\n%s", p.lineTimeout, p.stderr.String())
		return ""
	}
}

// Rest returns the lines left once the output has ended.
func (p *Proc) Rest() []string {
	var out []string
	for l := range p.lines {
		out = append(out, l)
	}
	return out
}

// Stderr returns what the program has written to standard error so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Stop sends sig and returns the exit code, as Wait.
func (p *Proc) Stop(sig os.Signal) int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("testproc: signal %v: %v", sig, err)
	}
	return p.Wait()
}

// Wait waits for the program to end and returns its exit code: -n when
// signal n ended it, -1000 when it could not be waited for.
func (p *Proc) Wait() int {
	p.once.Do(func() {
		err := p.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			p.code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				p.code = -int(ws.Signal())
			}
		case err != nil:
			p.code = -1000
		}
	})
	return p.code
}

// Buffer is a bytes.Buffer safe for a writer and readers in other
// goroutines.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
