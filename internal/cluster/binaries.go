package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Names of the binaries [EnsureBinaries] puts in its directory.
const (
	APIServerBinary         = "kube-apiserver"
	EtcdBinary              = "etcd"
	ControllerManagerBinary = "kube-controller-manager"
	SchedulerBinary         = "kube-scheduler"
	NodeAgentBinary         = "node-agent"
)

// binaries are the names every complete build directory holds.
var binaries = []string{APIServerBinary, EtcdBinary, ControllerManagerBinary, SchedulerBinary, NodeAgentBinary}

// realserverDir is the module that builds the binaries, relative to the
// repository root.
const realserverDir = "internal/realserver"

// buildFlags are passed to `go build`; they are part of the cache key. The
// version variables make /version report v1.37.2 as a release build would
// (a module build otherwise says v0.0.0-master).
var buildFlags = []string{"-ldflags=-s -w" +
	" -X k8s.io/component-base/version.gitMajor=1" +
	" -X k8s.io/component-base/version.gitMinor=37" +
	" -X k8s.io/component-base/version.gitVersion=v1.37.2" +
	" -X k8s.io/component-base/version.gitTreeState=clean"}

// ErrNoRepository reports that the kubedyn source tree (the directory holding
// internal/realserver/go.mod) was not found above the working directory.
var ErrNoRepository = errors.New("cluster: internal/realserver/go.mod not found above the working directory")

// EnsureBinaries returns a directory holding the kube-apiserver, etcd,
// kube-controller-manager, kube-scheduler and node-agent binaries built from
// internal/realserver, building them first when the cache
// ([os.UserCacheDir]/kubedyn/realserver, or $TMPDIR/kubedyn-cache/... without
// one) has no directory for the current sources. A cold build takes minutes; a
// warm call hashes a few files and returns. It is safe to call concurrently
// from several goroutines and processes: builders take a lock file, and the
// finished directory appears by an atomic rename. Build errors include the
// tail of the go command's output.
func EnsureBinaries(ctx context.Context) (dir string, err error) {
	if dir := os.Getenv(BinDirEnv); dir != "" {
		if !complete(dir) {
			return "", fmt.Errorf("cluster: $%s=%s does not hold every one of the executables %s", BinDirEnv, dir, strings.Join(binaries, ", "))
		}
		return dir, nil
	}
	root, err := RepositoryRoot()
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		// No $HOME or $XDG_CACHE_HOME (some CI sandboxes): a shared
		// temporary directory still lets later runs on this machine reuse
		// the build.
		cache = filepath.Join(os.TempDir(), "kubedyn-cache")
	}
	return ensureIn(ctx, filepath.Join(root, realserverDir), filepath.Join(cache, "kubedyn", "realserver"))
}

// BinDirEnv names an environment variable that, when set, points
// [EnsureBinaries] at a directory of prebuilt binaries (all five) instead of
// building them.
const BinDirEnv = "KUBEDYN_REALSERVER_BIN"

// builds counts the go builds ensureIn ran, for tests.
var builds atomic.Int64

// ensureIn builds the module in src into base/<key of src>, or finds it there.
func ensureIn(ctx context.Context, src, base string) (dir string, err error) {
	key, err := sourceKey(src)
	if err != nil {
		return "", fmt.Errorf("cluster: hash %s: %w", src, err)
	}
	dir = filepath.Join(base, key)
	if complete(dir) {
		return dir, nil
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("cluster: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(base, key+".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if complete(dir) { // another process built it while we waited
		return dir, nil
	}
	tmp, err := os.MkdirTemp(base, key+".tmp-")
	if err != nil {
		return "", fmt.Errorf("cluster: %w", err)
	}
	defer os.RemoveAll(tmp)
	slog.InfoContext(ctx, "cluster: building the control plane binaries (minutes on a cold cache)", "src", src, "dir", dir, "binaries", binaries)
	start := time.Now()
	builds.Add(1)
	args := append([]string{"build"}, buildFlags...)
	args = append(args, "-o", tmp+string(filepath.Separator), "./cmd/...")
	cmd := exec.CommandContext(ctx, goCommand(), args...)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false", "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("cluster: go build in %s: %w\n%s", src, err, tail(out.Bytes(), 40))
	}
	if !complete(tmp) {
		return "", fmt.Errorf("cluster: go build in %s did not produce every one of %s\n%s", src, strings.Join(binaries, ", "), tail(out.Bytes(), 40))
	}
	if err := os.Rename(tmp, dir); err != nil && !complete(dir) {
		return "", fmt.Errorf("cluster: %w", err)
	}
	slog.InfoContext(ctx, "cluster: built the control plane binaries", "dir", dir, "took", time.Since(start).Round(time.Second))
	prune(base, key, time.Now())
	return dir, nil
}

// Cache entries prune removes: builds of other sources unused this long,
// and temporary directories of builds that died this long ago.
const (
	pruneAfter    = 7 * 24 * time.Hour
	pruneTmpAfter = time.Hour
)

// prune removes, from the cache directory base, binaries built from other
// sources (other keys) older than pruneAfter and temporary build directories
// older than pruneTmpAfter. It runs after a build, so a cache holds at most
// the builds of the last week. Failures are ignored: pruning is best effort.
func prune(base, key string, now time.Time) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if name == key || strings.HasPrefix(name, key+".") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		age := now.Sub(fi.ModTime())
		switch {
		case strings.Contains(name, ".tmp-") && age > pruneTmpAfter,
			e.IsDir() && !strings.Contains(name, ".") && age > pruneAfter:
			_ = os.RemoveAll(filepath.Join(base, name))
			_ = os.Remove(filepath.Join(base, name+".lock"))
		}
	}
}

// RepositoryRoot returns the nearest directory at or above the working
// directory that holds internal/realserver/go.mod, or [ErrNoRepository].
func RepositoryRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("cluster: %w", err)
	}
	for d := wd; ; {
		if _, err := os.Stat(filepath.Join(d, realserverDir, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("%w (from %s)", ErrNoRepository, wd)
		}
		d = parent
	}
}

// sourceKey hashes everything that determines the binaries.
func sourceKey(src string) (string, error) {
	files := []string{"go.mod", "go.sum"}
	err := filepath.WalkDir(filepath.Join(src, "cmd"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") {
			rel, err := filepath.Rel(src, p)
			if err != nil {
				return err
			}
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	slices.Sort(files)
	h := sha256.New()
	fmt.Fprintf(h, "%s %s/%s %q\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, buildFlags)
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(f), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:20], nil
}

// complete reports whether dir holds every binary.
func complete(dir string) bool {
	for _, b := range binaries {
		fi, err := os.Stat(filepath.Join(dir, b))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

// lockFile takes an exclusive flock on path, polling so that ctx can cancel
// the wait. The returned function releases it.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cluster: lock: %w", err)
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("cluster: lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("cluster: waiting for %s: %w", path, ctx.Err())
		case <-tick.C:
		}
	}
}

// goCommand returns the go command: $GOROOT/bin/go when GOROOT is set (go
// test sets it for test binaries), else "go" from PATH.
func goCommand() string {
	if r := os.Getenv("GOROOT"); r != "" {
		p := filepath.Join(r, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
