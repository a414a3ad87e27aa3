package cluster

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// shared is the control plane of this process, started by the first Shared
// call and stopped by Main.
var shared struct {
	mu  sync.Mutex
	c   *Cluster
	err error
	ran bool
}

// SharedStartTimeout bounds the first [Shared] call, including a cold build
// of the binaries.
const SharedStartTimeout = 15 * time.Minute

// Shared returns this process's control plane, starting it on the first call
// with default options. A failed start is remembered and returned to every
// later caller, so one broken start fails every test quickly. It is safe for
// concurrent use; callers wait while the first call starts the cluster. The
// cluster lives until [StopShared] (which [Main] calls).
func Shared(ctx context.Context) (*Cluster, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.ran {
		shared.ran = true
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), SharedStartTimeout)
		defer cancel()
		start := time.Now()
		shared.c, shared.err = Start(ctx, nil)
		if shared.err == nil {
			slog.Info("cluster: shared control plane started", "url", shared.c.URL, "took", time.Since(start).Round(time.Millisecond))
		}
	}
	return shared.c, shared.err
}

// ForTest returns the shared control plane ([Shared]) or fails t.
func ForTest(t testing.TB) *Cluster {
	t.Helper()
	c, err := Shared(context.Background())
	if err != nil {
		t.Fatalf("start the shared control plane: %v", err)
	}
	return c
}

// StopShared stops the shared control plane if one was started. Later
// [Shared] calls return the stopped cluster.
func StopShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.c == nil {
		return nil
	}
	return shared.c.Stop()
}

// Main runs the tests of m and then stops the shared control plane, and
// returns the exit code for os.Exit. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(cluster.Main(m)) }
//
// When a test panics or the test binary times out, deferred code does not
// run; the parent-death signal kills the processes instead, and only the
// data directory under os.TempDir is left behind.
func Main(m *testing.M) int {
	code := m.Run()
	if err := StopShared(); err != nil {
		slog.Error("cluster: stop the shared control plane", "err", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}
