package cluster

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// shared holds the control planes of this process, one per component set,
// each started by its first caller and stopped by Main.
var shared struct {
	mu     sync.Mutex
	opts   Options // the base options, set by MainWith before the tests run
	planes map[Components]*sharedPlane
}

// sharedPlane is one shared control plane. Its mutex is held while it
// starts, so that callers of other planes need not wait for it.
type sharedPlane struct {
	mu  sync.Mutex
	c   *Cluster
	err error
	ran bool
}

// SharedStartTimeout bounds the first [Shared] call, including a cold build
// of the binaries.
const SharedStartTimeout = 25 * time.Minute

// Shared returns this process's control plane, starting it on the first call
// with the options given to [MainWith] (defaults under [Main]: etcd and
// kube-apiserver alone). A failed start is remembered and returned to every
// later caller, so one broken start fails every test quickly. It is safe for
// concurrent use; callers wait while the first call starts the cluster. The
// cluster lives until [StopShared] (which [Main] calls).
func Shared(ctx context.Context) (*Cluster, error) {
	shared.mu.Lock()
	cs := shared.opts.Components
	shared.mu.Unlock()
	return SharedWith(ctx, cs)
}

// SharedWith is [Shared] for the control plane with the given components:
// a process has at most one shared plane per component set, so that tests
// which need a quiet API server (nothing else writes to it) and tests which
// need controllers, a scheduler and a node agent can run side by side in
// one test binary. The other options are those given to [MainWith].
func SharedWith(ctx context.Context, components Components) (*Cluster, error) {
	components &= AllComponents
	shared.mu.Lock()
	if shared.planes == nil {
		shared.planes = map[Components]*sharedPlane{}
	}
	p := shared.planes[components]
	if p == nil {
		p = &sharedPlane{}
		shared.planes[components] = p
	}
	opts := shared.opts
	shared.mu.Unlock()

	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.ran {
		p.ran = true
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), SharedStartTimeout)
		defer cancel()
		start := time.Now()
		opts.Components = components
		p.c, p.err = Start(ctx, &opts)
		if p.err == nil {
			slog.Info("cluster: shared control plane started", "url", p.c.URL,
				"components", p.c.Components.String(), "took", time.Since(start).Round(time.Millisecond))
		}
	}
	return p.c, p.err
}

// TB is the part of [testing.TB] that [ForTest] uses. ForTest calls it
// from the calling goroutine only.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// ForTest returns the shared control plane ([Shared]) or fails t.
func ForTest(t TB) *Cluster {
	t.Helper()
	c, err := Shared(context.Background())
	if err != nil {
		t.Fatalf("start the shared control plane: %v", err)
	}
	return c
}

// ForTestWith returns the shared control plane with the given components
// ([SharedWith]) or fails t. ForTestWith(t, AllComponents) is a whole
// cluster whose pods run.
func ForTestWith(t TB, components Components) *Cluster {
	t.Helper()
	c, err := SharedWith(context.Background(), components)
	if err != nil {
		t.Fatalf("start the shared control plane (%s): %v", components, err)
	}
	return c
}

// StopShared stops every shared control plane that was started. Later
// [Shared] calls return the stopped clusters.
func StopShared() error {
	shared.mu.Lock()
	planes := make([]*sharedPlane, 0, len(shared.planes))
	for _, p := range shared.planes {
		planes = append(planes, p)
	}
	shared.mu.Unlock()
	var errs []error
	for _, p := range planes {
		p.mu.Lock()
		if p.c != nil {
			errs = append(errs, p.c.Stop())
		}
		p.mu.Unlock()
	}
	return errors.Join(errs...)
}

// Runner runs a package's tests and returns the exit code; *testing.M is
// one. [Main] calls Run once, from its own goroutine.
type Runner interface {
	Run() (code int)
}

// Main runs the tests of m and then stops the shared control planes, and
// returns the exit code for os.Exit. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(cluster.Main(m)) }
//
// When a test panics or the test binary times out, deferred code does not
// run; the parent-death signal kills the processes instead, and only the
// data directories under os.TempDir are left behind.
func Main(m Runner) int {
	return MainWith(m, nil)
}

// MainWith is [Main] with the options the shared control planes start with;
// opts.Components chooses the components of [Shared] and [ForTest] (for
// example AllComponents for a whole cluster), while [SharedWith] overrides
// them per call.
func MainWith(m Runner, opts *Options) int {
	shared.mu.Lock()
	if opts != nil {
		shared.opts = *opts
	}
	shared.mu.Unlock()
	code := m.Run()
	if err := StopShared(); err != nil {
		slog.Error("cluster: stop the shared control planes", "err", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}
