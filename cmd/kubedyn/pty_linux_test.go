package main_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openPTY opens a pseudo-terminal pair: what the command writes to tty
// comes out of master.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	require.NoError(t, err)
	t.Cleanup(func() { master.Close() })
	var n uint32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n)))
	require.Zero(t, errno)
	var unlock int32
	_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock)))
	require.Zero(t, errno)
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	return master, tty
}

// TestTerminalProgress runs apply --wait with standard output on a
// terminal: the count and state lines are drawn and rewritten in place, and
// the final lines end up below; through a pipe (every other test) there is
// no escape sequence at all.
func TestTerminalProgress(t *testing.T) {
	c, _ := newCLI(t)
	master, tty := openPTY(t)
	cmd := exec.Command(binary(t), "--kubeconfig", c.kubeconfig, "apply", "-f", "-", "--wait", "--timeout=20s")
	cmd.Stdin = bytes.NewReader([]byte(configMaps))
	cmd.Stdout = tty
	var errb bytes.Buffer
	cmd.Stderr = &errb
	require.NoError(t, cmd.Start())
	tty.Close() // the child holds its own copy
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { _, _ = io.Copy(&out, master); close(done) }() // ends with EIO once the child exits
	require.NoError(t, cmd.Wait(), errb.String())
	<-done
	s := out.String()
	assert.Contains(t, s, "\x1b[2K1 of 2 objects done")
	assert.Contains(t, s, "\x1b[2K2 of 2 objects done")
	assert.Contains(t, s, "\x1b[J", "state lines are cleared")
	assert.Contains(t, s, "ConfigMap default/one Current")
	assert.Contains(t, s, "2 created; 2 ready, 0 not ready")

	piped := c.ok(configMaps, "apply", "-f", "-", "--wait", "--timeout=20s")
	assert.NotContains(t, piped, "\x1b[")
}
