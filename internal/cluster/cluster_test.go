package cluster

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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
)

// helperEnv makes the test binary act as a program that starts a control
// plane, prints its pids and dies without stopping it.
const helperEnv = "KUBEDYN_CLUSTER_TEST_ORPHAN"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		orphanHelper()
		return
	}
	os.Exit(Main(m)) // stops the shared control plane the examples start
}

func orphanHelper() {
	var opts *Options
	if os.Getenv(helperEnv) == "all" {
		opts = &Options{Components: AllComponents}
	}
	c, err := Start(context.Background(), opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if opts != nil {
		if err := runSleeper(c); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	fmt.Printf("dir %s\n", c.Dir)
	for _, pid := range c.PIDs() {
		fmt.Printf("pid %d\n", pid)
	}
	panic("the helper dies without stopping its cluster")
}

// sleeperPod runs a shell whose children sleep: grandchildren of the shim,
// which only a kill of the whole process group reaches.
const sleeperPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"sleeper"},"spec":{"containers":[
	{"name":"c","image":"busybox","command":["sh","-c","sleep 3600 & sleep 3600 & wait"]}]}}`

// runSleeper creates the sleeper pod in c and waits until its processes
// run (at least the shell and two sleeps, found by their working directory
// under c.Dir).
func runSleeper(c *Cluster) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, err := http.NewRequest(http.MethodPost, c.URL+"/api/v1/namespaces/default/pods", strings.NewReader(sleeperPod))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("create pod: %s: %s", resp.Status, body)
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(2 * time.Minute)
	for len(processesUnder(c.Dir)) < 4 { // the shim, sh and two sleeps
		select {
		case <-tick.C:
		case <-deadline:
			return fmt.Errorf("the sleeper pod's processes did not start: %v", processesUnder(c.Dir))
		}
	}
	return nil
}

// processesUnder returns the pids of processes whose working directory is
// under dir (a pod's processes run in its directory under the cluster's).
func processesUnder(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err == nil && strings.HasPrefix(cwd, dir+string(filepath.Separator)) && !gone(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestStartServesAndStopCleansUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), SharedStartTimeout)
	defer cancel()
	c, err := Start(ctx, nil)
	require.NoError(t, err)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = c.Stop()
		}
	})

	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(c.CAPEM))
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(path, token string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+path, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, b
	}

	code, body := get("/readyz", c.AdminToken)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok", string(body))

	code, body = get("/api", c.AdminToken)
	require.Equal(t, http.StatusOK, code, string(body))
	var versions struct {
		Kind     string   `json:"kind"`
		Versions []string `json:"versions"`
	}
	require.NoError(t, json.Unmarshal(body, &versions))
	assert.Equal(t, "APIVersions", versions.Kind)
	assert.Equal(t, []string{"v1"}, versions.Versions)

	code, body = get("/version", c.AdminToken)
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(body), `"gitVersion": "v1.37.2`)

	code, _ = get("/api/v1/namespaces", c.AdminToken)
	assert.Equal(t, http.StatusOK, code)
	code, body = get("/api/v1/namespaces", c.NobodyToken)
	assert.Equal(t, http.StatusForbidden, code, string(body))
	assert.Contains(t, string(body), `User \"nobody\" cannot list resource \"namespaces\"`)
	code, _ = get("/api/v1/namespaces", "not-a-token")
	assert.Equal(t, http.StatusUnauthorized, code)

	// The client certificate authenticates too.
	cert, err := tls.X509KeyPair(c.ClientCertPEM, c.ClientKeyPEM)
	require.NoError(t, err)
	certClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}}
	resp, err := certClient.Get(c.URL + "/api/v1/namespaces/default")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// A client without the CA refuses the server.
	_, err = http.Get(c.URL + "/readyz")
	var unknown x509.UnknownAuthorityError
	assert.ErrorAs(t, err, &unknown)

	kc, err := os.ReadFile(c.Kubeconfig)
	require.NoError(t, err)
	assert.Contains(t, string(kc), "certificate-authority-data: ")
	assert.NotContains(t, string(kc), "insecure")
	assert.Contains(t, string(kc), "server: "+c.URL+"\n")
	assert.Contains(t, string(kc), "current-context: admin\n")

	pids := c.PIDs()
	require.Len(t, pids, 2)
	require.NoError(t, c.Stop())
	stopped = true
	for _, pid := range pids {
		assert.True(t, gone(pid), "process %d still runs after Stop", pid)
	}
	_, err = os.Stat(c.Dir)
	assert.True(t, errors.Is(err, os.ErrNotExist), "data dir %s remains: %v", c.Dir, err)
	assert.NoError(t, c.Stop(), "a second Stop returns the first result")
}

// TestChildrenDieWithTheParent runs a helper process that starts a control
// plane and panics without stopping it; the parent-death signal must kill
// every process: etcd and kube-apiserver alone, and a whole plane whose node
// agent runs a pod with grandchildren.
func TestChildrenDieWithTheParent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), SharedStartTimeout)
	defer cancel()
	_, err := EnsureBinaries(ctx) // build outside the helper's lifetime
	require.NoError(t, err)

	for _, tc := range []struct {
		mode  string
		procs int
	}{{"api", 2}, {"all", 5}} {
		t.Run(tc.mode, func(t *testing.T) {
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"="+tc.mode)
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			var pids []int
			var dir string
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if d, ok := strings.CutPrefix(sc.Text(), "dir "); ok {
					dir = d
				}
				if p, ok := strings.CutPrefix(sc.Text(), "pid "); ok {
					pid, err := strconv.Atoi(p)
					require.NoError(t, err)
					pids = append(pids, pid)
				}
			}
			err = cmd.Wait()
			require.Error(t, err, "the helper must die of its panic")
			require.Len(t, pids, tc.procs, "helper stderr:\n%s", stderr.String())
			require.True(t, strings.HasPrefix(filepath.Base(dir), "kubedyn-cluster-"), dir)
			t.Cleanup(func() { os.RemoveAll(dir) })

			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			deadline := time.After(30 * time.Second)
			for _, pid := range pids {
				for !gone(pid) {
					select {
					case <-tick.C:
					case <-deadline:
						_ = syscall.Kill(-pid, syscall.SIGKILL)
						t.Fatalf("process %d outlived its parent", pid)
					}
				}
			}
			if tc.mode == "all" {
				// SIGTERM, the agent's parent-death signal, lets it remove
				// its pod network before it exits.
				assert.Empty(t, podNetworkLeft(pids[len(pids)-1]), "the dead node agent's pod network")
			}
			for left := processesUnder(dir); len(left) > 0; left = processesUnder(dir) {
				select {
				case <-tick.C:
				case <-deadline:
					for _, pid := range left {
						_ = syscall.Kill(pid, syscall.SIGKILL)
					}
					t.Fatalf("pod processes %v outlived the node agent", left)
				}
			}
		})
	}
}

// TestStopEndsPodProcesses starts a whole plane, runs a pod with
// grandchildren, and checks that Stop leaves no process behind.
func TestStopEndsPodProcesses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), SharedStartTimeout)
	defer cancel()
	// A namespace that an agent killed outright left behind: the next
	// agent removes it.
	stale := 0
	if podNetworkExpected() {
		dead := exec.Command("true")
		require.NoError(t, dead.Run())
		stale = dead.Process.Pid
		out, err := exec.Command("ip", "netns", "add", "kubedyn-"+strconv.Itoa(stale)).CombinedOutput()
		require.NoError(t, err, "%s", out)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "delete", "kubedyn-"+strconv.Itoa(stale)).Run() })
	}
	start := time.Now()
	c, err := Start(ctx, &Options{Components: AllComponents, Nodes: 2})
	require.NoError(t, err)
	t.Logf("whole plane started in %s", time.Since(start).Round(time.Millisecond))
	if stale != 0 {
		assert.Empty(t, podNetworkLeft(stale), "the dead agent's namespace after a new agent started")
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = c.Stop()
		}
	})
	assert.Equal(t, []string{"kubedyn-node-1", "kubedyn-node-2"}, c.Nodes)
	assert.Equal(t, AllComponents, c.Components)
	require.NoError(t, runSleeper(c))
	pids := append(c.PIDs(), processesUnder(c.Dir)...)
	require.Len(t, pids, 5+4)
	agent := c.PIDs()[len(c.PIDs())-1]
	if podNetworkExpected() {
		assert.Len(t, podNetworkLeft(agent), 2, "running as root with ip, the node agent has a pod network")
	}

	require.NoError(t, c.Stop())
	stopped = true
	for _, pid := range pids {
		assert.True(t, gone(pid), "process %d runs after Stop", pid)
	}
	assert.Empty(t, podNetworkLeft(agent), "the node agent's pod network after Stop")
}

// podNetworkExpected reports whether the node agent can make a pod
// network here: root, with iproute2's ip.
func podNetworkExpected() bool {
	_, err := exec.LookPath("ip")
	return os.Geteuid() == 0 && err == nil
}

// podNetworkLeft lists what of the pod network of the node agent with pid
// exists: its network namespace and the root end of its veth pair.
func podNetworkLeft(pid int) []string {
	var left []string
	ns := "/run/netns/kubedyn-" + strconv.Itoa(pid)
	if _, err := os.Stat(ns); err == nil {
		left = append(left, ns)
	}
	if _, err := net.InterfaceByName("kdn" + strconv.Itoa(pid)); err == nil {
		left = append(left, "link kdn"+strconv.Itoa(pid))
	}
	return left
}

func TestEnsureBinariesWarmDoesNotRebuild(t *testing.T) {
	// With KUBEDYN_REALSERVER_BIN set, EnsureBinaries would return that
	// directory without looking at the cache, and this test would prove
	// nothing: the cache path is what it tests.
	t.Setenv(BinDirEnv, "")
	ctx, cancel := context.WithTimeout(context.Background(), SharedStartTimeout)
	defer cancel()
	dir, err := EnsureBinaries(ctx)
	require.NoError(t, err)
	root, err := RepositoryRoot()
	require.NoError(t, err)
	key, err := sourceKey(filepath.Join(root, realserverDir))
	require.NoError(t, err)
	assert.Equal(t, key, filepath.Base(dir), "the directory is the cache entry of the current sources")
	assert.True(t, complete(dir))
	before, err := os.Stat(filepath.Join(dir, APIServerBinary))
	require.NoError(t, err)

	// The same file (not a rebuilt copy) proves no rebuild; no wall-clock
	// bound, which a loaded CI machine could break.
	builtBefore := builds.Load()
	again, err := EnsureBinaries(ctx)
	require.NoError(t, err)
	assert.Equal(t, dir, again)
	assert.Equal(t, builtBefore, builds.Load(), "a warm call runs no go build")
	after, err := os.Stat(filepath.Join(dir, APIServerBinary))
	require.NoError(t, err)
	assert.Equal(t, before.ModTime(), after.ModTime())
	assert.True(t, os.SameFile(before, after))
}

func TestSourceKey(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(src, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	write("go.mod", "module x\n")
	write("go.sum", "")
	write("cmd/a/main.go", "package main\n")
	k1, err := sourceKey(src)
	require.NoError(t, err)
	k2, err := sourceKey(src)
	require.NoError(t, err)
	assert.Equal(t, k1, k2, "the key is deterministic")

	write("cmd/a/README", "not Go")
	k3, err := sourceKey(src)
	require.NoError(t, err)
	assert.Equal(t, k1, k3, "only .go files under cmd count")

	write("cmd/a/main.go", "package main // changed\n")
	k4, err := sourceKey(src)
	require.NoError(t, err)
	assert.NotEqual(t, k1, k4)

	write("go.sum", "x v1.0.0 h1:abc\n")
	k5, err := sourceKey(src)
	require.NoError(t, err)
	assert.NotEqual(t, k4, k5)

	require.NoError(t, os.Remove(filepath.Join(src, "go.sum")))
	_, err = sourceKey(src)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestRepositoryRoot(t *testing.T) {
	root, err := RepositoryRoot()
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "internal", "realserver", "go.mod"))
	assert.NoError(t, err)

	t.Chdir(t.TempDir())
	_, err = RepositoryRoot()
	assert.ErrorIs(t, err, ErrNoRepository)
}

func TestLockFileWaitsAndHonoursContext(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := lockFile(context.Background(), path)
	require.NoError(t, err)

	// flock locks belong to the open file description, so a second open in
	// this process contends like another process would.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = lockFile(ctx, path)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	unlock()
	unlock2, err := lockFile(context.Background(), path)
	require.NoError(t, err)
	unlock2()
}

func TestKubeconfigDocument(t *testing.T) {
	t.Parallel()
	c := &Cluster{URL: "https://127.0.0.1:6443", CAPEM: []byte("ca"), AdminToken: "a", NobodyToken: "n",
		ImpersonatorToken: "i", ClientCertPEM: []byte("cert"), ClientKeyPEM: []byte("key")}
	got := string(c.kubeconfig())
	for _, want := range []string{
		"server: https://127.0.0.1:6443\n",
		"certificate-authority-data: Y2E=\n",
		"- name: nobody\n  user:\n    token: n\n",
		"client-certificate-data: Y2VydA==\n",
		"- name: impersonator\n  context:\n    cluster: kubedyn-e2e\n    user: impersonator\n",
		"current-context: admin\n",
	} {
		assert.Contains(t, got, want)
	}
}

// gone reports whether pid no longer runs (absent, or a zombie awaiting its
// reaper).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// Format: pid (comm) state ...
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func TestPruneRemovesOldBuildsOnly(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	now := time.Now()
	mk := func(name string, age time.Duration, dir bool) {
		p := filepath.Join(base, name)
		if dir {
			require.NoError(t, os.Mkdir(p, 0o755))
		} else {
			require.NoError(t, os.WriteFile(p, nil, 0o644))
		}
		require.NoError(t, os.Chtimes(p, now.Add(-age), now.Add(-age)))
	}
	mk("current", 30*24*time.Hour, true)
	mk("current.lock", 30*24*time.Hour, false)
	mk("current.tmp-1", 2*time.Hour, true) // ours: another builder may be busy
	mk("oldkey", 8*24*time.Hour, true)
	mk("oldkey.lock", 8*24*time.Hour, false)
	mk("recentkey", 24*time.Hour, true)
	mk("other.tmp-2", 2*time.Hour, true)
	mk("other.tmp-3", time.Minute, true)

	prune(base, "current", now)
	entries, err := os.ReadDir(base)
	require.NoError(t, err)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	assert.ElementsMatch(t, []string{"current", "current.lock", "current.tmp-1", "recentkey", "other.tmp-3"}, left)
}

// fakeRealserver writes a tiny module with the two commands into a temp dir.
func fakeRealserver(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(src, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	write("go.mod", "module example.com/fake\n\ngo 1.26\n")
	write("go.sum", "")
	for _, b := range binaries {
		write("cmd/"+b+"/main.go", "package main\n\nfunc main() {}\n")
	}
	return src
}

func TestEnsureInBuildsOnceUnderConcurrency(t *testing.T) {
	src := fakeRealserver(t)
	base := filepath.Join(t.TempDir(), "cache")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	before := builds.Load()
	const callers = 4
	dirs := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { dirs[i], errs[i] = ensureIn(ctx, src, base) })
	}
	wg.Wait()
	for i := range callers {
		require.NoError(t, errs[i])
		assert.Equal(t, dirs[0], dirs[i])
	}
	assert.Equal(t, int64(1), builds.Load()-before, "concurrent callers share one build")
	assert.True(t, complete(dirs[0]))
	entries, err := os.ReadDir(base)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tmp-", "no temporary directory is left")
	}

	// A changed source is a new key and a new build.
	require.NoError(t, os.WriteFile(filepath.Join(src, "cmd", "etcd", "main.go"), []byte("package main\n\nfunc main() { println() }\n"), 0o644))
	again, err := ensureIn(ctx, src, base)
	require.NoError(t, err)
	assert.NotEqual(t, dirs[0], again)
	assert.Equal(t, int64(2), builds.Load()-before)

	// A build failure reports the compiler's output.
	require.NoError(t, os.WriteFile(filepath.Join(src, "cmd", "etcd", "main.go"), []byte("package main\n\nfunc main() { undefinedThing() }\n"), 0o644))
	_, err = ensureIn(ctx, src, base)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "undefined: undefinedThing")
}

func TestEnsureBinariesHonoursBinDirEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(BinDirEnv, dir)
	_, err := EnsureBinaries(context.Background())
	assert.ErrorContains(t, err, "does not hold every one")
	for _, b := range binaries[:len(binaries)-1] {
		require.NoError(t, os.WriteFile(filepath.Join(dir, b), []byte("#!/bin/sh\n"), 0o755))
	}
	_, err = EnsureBinaries(context.Background())
	assert.ErrorContains(t, err, "does not hold every one", "one binary missing")
	require.NoError(t, os.WriteFile(filepath.Join(dir, binaries[len(binaries)-1]), []byte("#!/bin/sh\n"), 0o755))
	got, err := EnsureBinaries(context.Background())
	require.NoError(t, err)
	assert.Equal(t, dir, got)
}

// TestLoopbackPods starts a node agent without its pod network: the pod
// and its node are on 127.0.0.1, and the agent makes no namespace.
func TestLoopbackPods(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), SharedStartTimeout)
	defer cancel()
	c, err := Start(ctx, &Options{Components: NodeAgent, LoopbackPods: true})
	require.NoError(t, err)
	defer c.Stop()
	pids := c.PIDs()
	assert.Empty(t, podNetworkLeft(pids[len(pids)-1]), "no pod network with LoopbackPods")

	call := func(method, path, body string, into any) int {
		t.Helper()
		return apiCall(t, c, method, path, body, into)
	}
	require.Equal(t, http.StatusCreated, call(http.MethodPost, "/api/v1/namespaces/default/pods",
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"lo"},"spec":{"nodeName":"kubedyn-node-1",
		"containers":[{"name":"c","image":"busybox","command":["sleep","3600"]}]}}`, nil))
	var pod struct {
		Status struct{ Phase, PodIP, HostIP string }
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for pod.Status.Phase != "Running" {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("the pod did not run: %+v", pod)
		}
		call(http.MethodGet, "/api/v1/namespaces/default/pods/lo", "", &pod)
	}
	assert.Equal(t, "127.0.0.1", pod.Status.PodIP)
	assert.Equal(t, "127.0.0.1", pod.Status.HostIP)
	var node struct {
		Status struct {
			Addresses []struct{ Type, Address string }
		}
	}
	require.Equal(t, http.StatusOK, call(http.MethodGet, "/api/v1/nodes/kubedyn-node-1", "", &node))
	assert.Contains(t, node.Status.Addresses, struct{ Type, Address string }{"InternalIP", "127.0.0.1"})
}

// apiCall sends a request to c's API server as the admin and decodes a
// successful answer into into (when not nil); it returns the status code.
func apiCall(t *testing.T, c *Cluster, method, path, body string, into any) int {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(t.Context(), method, c.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if into != nil && resp.StatusCode < 300 {
		require.NoError(t, json.Unmarshal(b, into), "%s", b)
	}
	return resp.StatusCode
}

// TestPodNetworksOfConcurrentClusters starts three node agents at once:
// each makes its own pod network on a /24 of its own (not root: each
// stays on loopback), and Stop removes each.
func TestPodNetworksOfConcurrentClusters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), SharedStartTimeout)
	defer cancel()
	clusters := make([]*Cluster, 3)
	errs := make([]error, len(clusters))
	var wg sync.WaitGroup
	for i := range clusters {
		wg.Go(func() { clusters[i], errs[i] = Start(ctx, &Options{Components: NodeAgent}) })
	}
	wg.Wait()
	for i, c := range clusters {
		require.NoError(t, errs[i])
		t.Cleanup(func() { _ = c.Stop() })
	}
	subnets := map[string]bool{}
	var agents []int
	for _, c := range clusters {
		var node struct {
			Status struct {
				Addresses []struct{ Type, Address string }
			}
		}
		require.Equal(t, http.StatusOK, apiCall(t, c, http.MethodGet, "/api/v1/nodes/kubedyn-node-1", "", &node))
		var ip net.IP
		for _, a := range node.Status.Addresses {
			if a.Type == "InternalIP" {
				ip = net.ParseIP(a.Address)
			}
		}
		require.NotNil(t, ip, "the node's InternalIP: %+v", node)
		require.Equal(t, podNetworkExpected(), !ip.IsLoopback(), "the node is on its agent's pod network when root with ip: %s", ip)
		subnets[ip.Mask(net.CIDRMask(24, 32)).String()] = true
		pids := c.PIDs()
		agents = append(agents, pids[len(pids)-1])
	}
	if podNetworkExpected() {
		assert.Len(t, subnets, len(clusters), "each agent has a /24 of its own: %v", subnets)
	}
	for i, c := range clusters {
		require.NoError(t, c.Stop())
		assert.Empty(t, podNetworkLeft(agents[i]), "agent %d's pod network after Stop", agents[i])
	}
}
