//go:build linux

package kubeconfig

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// processState returns the state letter of /proc/<pid>/stat ("S", "R",
// "Z", ...), or "" when the process is gone.
func processState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// pid (comm) state ...; comm may hold spaces, so cut after the last ')'.
	rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
	f := strings.Fields(rest)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// TestExecTimeoutKillsForkedChildren: a plugin that forks a child and
// hangs is stopped by the timeout together with the child (its process
// group is killed), instead of leaving the child running.
func TestExecTimeoutKillsForkedChildren(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	p, err := NewExecProvider(pluginConfig(t, execAPIv1, "fork", ExecEnvVar{Name: "TEST_PIDFILE", Value: pidFile}), 500*time.Millisecond)
	require.NoError(t, err)
	_, err = p.Credentials(context.Background(), false)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	b, err := os.ReadFile(pidFile)
	require.NoError(t, err, "the plugin started its child before the timeout")
	pid, err := strconv.Atoi(string(b))
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	// The kill is asynchronous; wait (bounded) for the child to die. A
	// dead child is gone or a zombie awaiting its new parent.
	assert.Eventually(t, func() bool {
		st := processState(pid)
		return st == "" || st == "Z" || st == "X"
	}, 10*time.Second, 10*time.Millisecond, "the forked child survived the plugin's timeout")
}
