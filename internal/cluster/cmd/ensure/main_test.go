package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/cluster"
)

// TestStoppingGoRunStopsTheControlPlane runs `go run . -start` as the README
// shows it and stops it the two ways a user does: SIGTERM to the go run
// process alone (which go run does not pass on: it dies, and ensure must
// notice), and SIGINT to the whole process group (Ctrl-C in a terminal,
// which go run ignores and ensure handles). Either way no process of the
// control plane may remain and its data directory must be gone.
func TestStoppingGoRunStopsTheControlPlane(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), cluster.SharedStartTimeout)
	defer cancel()
	_, err := cluster.EnsureBinaries(ctx) // build outside the measured runs
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		stop func(pid int) error
	}{
		{"SIGTERM to go run", func(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }},
		{"SIGINT to the process group", func(pid int) error { return syscall.Kill(-pid, syscall.SIGINT) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.CommandContext(ctx, goCommand(), "run", ".", "-start", "-api-only")
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a group of its own, like a shell job
			// An orphaned ensure would hold stderr open: Wait returns anyway.
			cmd.WaitDelay = 5 * time.Second
			var stderr syncBuffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })

			var pids []int
			var kubeconfig string
			sc := bufio.NewScanner(stdout)
			for kubeconfig == "" && sc.Scan() {
				line := sc.Text()
				if v, ok := strings.CutPrefix(line, "PIDS="); ok {
					for f := range strings.FieldsSeq(v) {
						pid, err := strconv.Atoi(f)
						require.NoError(t, err)
						pids = append(pids, pid)
					}
				}
				if v, ok := strings.CutPrefix(line, "KUBECONFIG="); ok {
					kubeconfig = v
				}
			}
			require.NotEmpty(t, kubeconfig, "ensure printed no KUBECONFIG; stderr:\n%s", stderr.String())
			require.Len(t, pids, 2, "etcd and kube-apiserver")
			dir := filepath.Dir(kubeconfig)
			for _, pid := range pids {
				require.False(t, gone(pid), "process %d runs before the stop", pid)
			}

			require.NoError(t, tc.stop(cmd.Process.Pid))
			_ = cmd.Wait() // go run ends (killed, or after its child)

			// A pid and a directory have no event to wait on: poll them.
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			deadline := time.After(time.Minute)
			for _, pid := range pids {
				for !gone(pid) {
					select {
					case <-tick.C:
					case <-deadline:
						_ = syscall.Kill(-pid, syscall.SIGKILL)
						t.Fatalf("process %d of the control plane outlived `go run`; stderr:\n%s", pid, stderr.String())
					}
				}
			}
			for {
				_, err := os.Stat(dir)
				if errors.Is(err, os.ErrNotExist) {
					break
				}
				select {
				case <-tick.C:
					continue
				case <-deadline:
					_ = os.RemoveAll(dir)
					assert.Fail(t, "the data directory remains after ensure stopped", dir)
				}
				break
			}
		})
	}
}

// syncBuffer is a strings.Builder safe to write from the process's copying
// goroutine while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// goCommand is the go command that runs this test.
func goCommand() string {
	if r := os.Getenv("GOROOT"); r != "" {
		if p := filepath.Join(r, "bin", "go"); isFile(p) {
			return p
		}
	}
	return "go"
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// gone reports whether pid no longer runs (absent, or a zombie).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}
