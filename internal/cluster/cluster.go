package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Users in the token file. The admin is in group system:masters; nobody and
// the impersonator have no rights until a test grants them some with RBAC.
const (
	AdminUser        = "kubedyn-admin"
	NobodyUser       = "nobody"
	ImpersonatorUser = "impersonator"
)

// Components selects what [Start] runs besides etcd and kube-apiserver,
// which always run. Combine them with |. It is a plain value, safe to copy
// and share between goroutines.
type Components uint

// The optional components.
const (
	// ControllerManager is kube-controller-manager with its default
	// controllers (garbage collector, namespace, service account and token,
	// deployment, replicaset, job, endpointslice, ...).
	ControllerManager Components = 1 << iota
	// Scheduler is kube-scheduler.
	Scheduler
	// NodeAgent is the node agent: Nodes whose pods run as local processes
	// (on a pod network of their own when run as root), and the kubelet API
	// for logs, exec, attach and port-forward.
	NodeAgent

	// AllComponents is a whole control plane with a node agent.
	AllComponents = ControllerManager | Scheduler | NodeAgent
)

// Options configures [Start]. The zero value, or a nil *Options, means
// defaults: etcd and kube-apiserver alone. Start does not modify it.
type Options struct {
	// BinDir holds the binaries. Empty means [EnsureBinaries].
	BinDir string
	// Components selects the components to run besides etcd and
	// kube-apiserver. Zero means none: a test that needs only the API
	// server starts fastest.
	Components Components
	// Nodes is how many Nodes the node agent registers (named
	// kubedyn-node-1, kubedyn-node-2, ...). Zero means 1. It matters only
	// with [NodeAgent].
	Nodes int
	// Timeout bounds the wait for every component to become ready, per
	// attempt. Zero means 2 minutes.
	Timeout time.Duration
	// KeepData keeps the data directory (logs, etcd data, certificates)
	// after Stop, for debugging.
	KeepData bool
	// ExtraAPIServerArgs are appended to kube-apiserver's arguments; a later
	// flag overrides an earlier one.
	ExtraAPIServerArgs []string
	// LoopbackPods keeps the node agent's pods and nodes on 127.0.0.1 even
	// where it could make a pod network (--pod-network=loopback), as it
	// does when not run as root. It matters only with [NodeAgent].
	LoopbackPods bool
}

// Cluster is a running control plane on loopback: etcd, kube-apiserver and
// the [Components] that were asked for. Its fields are set by [Start] and
// must not be changed. Methods are safe for concurrent use by multiple
// goroutines.
type Cluster struct {
	// URL is the API server's base URL, https://127.0.0.1:<port>.
	URL string
	// CAPEM is the PEM-encoded CA that signed the serving certificate.
	CAPEM []byte
	// AdminToken authenticates as [AdminUser] in group system:masters.
	AdminToken string
	// NobodyToken authenticates as [NobodyUser], who may do nothing beyond
	// what RBAC grants every authenticated user (discovery, self reviews).
	NobodyToken string
	// ImpersonatorToken authenticates as [ImpersonatorUser], who has no
	// rights until a test grants some.
	ImpersonatorToken string
	// ClientCertPEM and ClientKeyPEM are an admin client certificate
	// (O=system:masters) signed by CAPEM's CA, which the server trusts.
	ClientCertPEM, ClientKeyPEM []byte
	// Kubeconfig is the path of a kubeconfig file with clusters, users and
	// contexts "admin" (current), "nobody", "impersonator" and "admin-cert".
	Kubeconfig string
	// EtcdURL is etcd's client URL.
	EtcdURL string
	// Dir is the data directory: certificates, token file, etcd data, the
	// node agent's pod directories and a log per process (etcd.log,
	// kube-apiserver.log, kube-controller-manager.log, kube-scheduler.log,
	// node-agent.log).
	Dir string
	// Components are the optional components that run.
	Components Components
	// Nodes are the names of the node agent's Nodes, empty without
	// [NodeAgent].
	Nodes []string

	keep     bool
	stopOnce sync.Once
	stopErr  error
	procs    []*process
	release  chan struct{} // closing it ends the thread that started the processes
}

// Start starts a fresh control plane and returns when /readyz answers 200, or
// fails with the tail of the failing process's log in the error. ctx bounds
// the start only (the binary build included); the processes outlive it until
// [Cluster.Stop] or the exit of the calling process. A port taken between
// choosing it and binding it is retried with new ports.
func Start(ctx context.Context, opts *Options) (*Cluster, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.BinDir == "" {
		dir, err := EnsureBinaries(ctx)
		if err != nil {
			return nil, err
		}
		o.BinDir = dir
	}
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		var c *Cluster
		c, err = start(ctx, &o)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, errPortTaken) || ctx.Err() != nil {
			break
		}
		slog.WarnContext(ctx, "cluster: port taken, retrying with new ports", "attempt", attempt, "err", err)
	}
	return nil, err
}

var errPortTaken = errors.New("address already in use")

func start(ctx context.Context, o *Options) (_ *Cluster, err error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "kubedyn-cluster-")
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	c := &Cluster{Dir: dir, keep: o.KeepData, release: make(chan struct{})}
	defer func() {
		if err != nil {
			c.keep = c.keep || os.Getenv("KUBEDYN_CLUSTER_KEEP") != ""
			_ = c.Stop()
		}
	}()
	p, err := writePKI(dir)
	if err != nil {
		return nil, fmt.Errorf("cluster: certificates: %w", err)
	}
	c.CAPEM, c.ClientCertPEM, c.ClientKeyPEM = p.caPEM, p.clientCertPEM, p.clientKeyPEM
	c.AdminToken, c.NobodyToken, c.ImpersonatorToken = randomToken(), randomToken(), randomToken()
	tokens := filepath.Join(dir, "tokens.csv")
	tokenCSV := fmt.Sprintf("%s,%s,uid-admin,\"system:masters\"\n%s,%s,uid-nobody\n%s,%s,uid-impersonator\n",
		c.AdminToken, AdminUser, c.NobodyToken, NobodyUser, c.ImpersonatorToken, ImpersonatorUser)
	if err := os.WriteFile(tokens, []byte(tokenCSV), 0o600); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	ports, err := freePorts(6)
	if err != nil {
		return nil, fmt.Errorf("cluster: free ports: %w", err)
	}
	clientURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	c.EtcdURL = clientURL
	c.URL = "https://127.0.0.1:" + strconv.Itoa(ports[2])
	c.Components = o.Components & AllComponents

	starter := newStarter(c.release)
	etcd, err := starter.start(filepath.Join(o.BinDir, EtcdBinary), filepath.Join(dir, "etcd.log"),
		"--name=default",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+clientURL,
		"--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL,
		"--unsafe-no-fsync",
		"--log-level=warn",
		"--log-outputs=stderr",
	)
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, etcd)
	if err := waitHealthy(ctx, etcd, http.DefaultClient, clientURL+"/health", ""); err != nil {
		return nil, err
	}

	kubeletClient, frontProxy := p.clients[kubeletClientUser], p.clients[frontProxyUser]
	args := []string{
		"--etcd-servers=" + clientURL,
		"--secure-port=" + strconv.Itoa(ports[2]),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--cert-dir=" + filepath.Join(dir, "certs"),
		"--tls-cert-file=" + p.serverCert,
		"--tls-private-key-file=" + p.serverKey,
		"--client-ca-file=" + p.caFile,
		"--token-auth-file=" + tokens,
		"--service-account-key-file=" + p.saPublicKey,
		"--service-account-signing-key-file=" + p.saPrivKey,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--endpoint-reconciler-type=none",
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--allow-privileged=true",
		"--disable-admission-plugins=ServiceAccount",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--logging-format=text",
		// The node agent's kubelet API: the API server authenticates with a
		// client certificate and verifies the agent's serving certificate.
		"--kubelet-client-certificate=" + kubeletClient[0],
		"--kubelet-client-key=" + kubeletClient[1],
		"--kubelet-certificate-authority=" + p.caFile,
		"--kubelet-preferred-address-types=InternalIP",
		// Request-header (front proxy) authentication, as kubeadm sets it
		// up: it completes kube-system/extension-apiserver-authentication,
		// which the controller manager's and scheduler's delegated
		// authentication read (without it they log errors while starting).
		"--requestheader-client-ca-file=" + p.caFile,
		"--requestheader-allowed-names=" + frontProxyUser,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + frontProxy[0],
		"--proxy-client-key-file=" + frontProxy[1],
	}
	args = append(args, o.ExtraAPIServerArgs...)
	api, err := starter.start(filepath.Join(o.BinDir, APIServerBinary), filepath.Join(dir, "kube-apiserver.log"), args...)
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, api)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	defer hc.CloseIdleConnections()
	if err := waitHealthy(ctx, api, hc, c.URL+"/readyz", c.AdminToken); err != nil {
		return nil, err
	}
	c.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, c.kubeconfig(), 0o600); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	slog.InfoContext(ctx, "cluster: kube-apiserver ready", "url", c.URL, "dir", dir)

	// The other components start together and are waited for together.
	type waiter struct {
		p   *process
		url string
	}
	var waits []waiter
	if c.Components&ControllerManager != 0 {
		kc, err := c.componentKubeconfig(p, controllerManagerUser)
		if err != nil {
			return nil, err
		}
		cm, err := starter.start(filepath.Join(o.BinDir, ControllerManagerBinary), filepath.Join(dir, "kube-controller-manager.log"),
			"--kubeconfig="+kc,
			"--authentication-kubeconfig="+kc,
			"--authorization-kubeconfig="+kc,
			"--bind-address=127.0.0.1",
			"--secure-port="+strconv.Itoa(ports[3]),
			"--tls-cert-file="+p.serverCert,
			"--tls-private-key-file="+p.serverKey,
			// One instance: no leader election to wait for.
			"--leader-elect=false",
			// Each controller acts as its own service account, as in
			// kubeadm and kind clusters, so RBAC applies per controller.
			"--use-service-account-credentials=true",
			"--service-account-private-key-file="+p.saPrivKey,
			"--root-ca-file="+p.caFile,
			"--cluster-name=kubedyn",
			"--controllers=*",
			"--kube-api-qps=100",
			"--kube-api-burst=200",
			"--profiling=false",
			"--logging-format=text",
		)
		if err != nil {
			return nil, err
		}
		c.procs = append(c.procs, cm)
		waits = append(waits, waiter{cm, "https://127.0.0.1:" + strconv.Itoa(ports[3]) + "/healthz"})
	}
	if c.Components&Scheduler != 0 {
		kc, err := c.componentKubeconfig(p, schedulerUser)
		if err != nil {
			return nil, err
		}
		sched, err := starter.start(filepath.Join(o.BinDir, SchedulerBinary), filepath.Join(dir, "kube-scheduler.log"),
			"--kubeconfig="+kc,
			"--authentication-kubeconfig="+kc,
			"--authorization-kubeconfig="+kc,
			"--bind-address=127.0.0.1",
			"--secure-port="+strconv.Itoa(ports[4]),
			"--tls-cert-file="+p.serverCert,
			"--tls-private-key-file="+p.serverKey,
			"--leader-elect=false",
			"--profiling=false",
			"--logging-format=text",
		)
		if err != nil {
			return nil, err
		}
		c.procs = append(c.procs, sched)
		waits = append(waits, waiter{sched, "https://127.0.0.1:" + strconv.Itoa(ports[4]) + "/healthz"})
	}
	if c.Components&NodeAgent != 0 {
		kc, err := c.componentKubeconfig(p, nodeAgentUser)
		if err != nil {
			return nil, err
		}
		n := max(o.Nodes, 1)
		for i := 1; i <= n; i++ {
			c.Nodes = append(c.Nodes, "kubedyn-node-"+strconv.Itoa(i))
		}
		podNetwork := "auto"
		if o.LoopbackPods {
			podNetwork = "loopback"
		}
		// SIGTERM when the test binary dies: the agent ends its pods and
		// removes its pod network (a network namespace and veth pair that
		// would otherwise outlive it).
		agent, err := starter.startWithDeathSignal(syscall.SIGTERM, filepath.Join(o.BinDir, NodeAgentBinary), filepath.Join(dir, "node-agent.log"),
			"--kubeconfig="+kc,
			"--nodes="+strings.Join(c.Nodes, ","),
			"--listen=127.0.0.1:"+strconv.Itoa(ports[5]),
			"--tls-cert-file="+p.agentCert,
			"--tls-private-key-file="+p.agentKey,
			"--client-ca-file="+p.caFile,
			"--serving-ca-key-file="+p.caKeyFile,
			"--root-dir="+filepath.Join(dir, "node-agent"),
			"--pod-network="+podNetwork,
		)
		if err != nil {
			return nil, err
		}
		agent.graceful = true
		c.procs = append(c.procs, agent)
		waits = append(waits, waiter{agent, "https://127.0.0.1:" + strconv.Itoa(ports[5]) + "/healthz"})
	}
	for _, w := range waits {
		if err := waitHealthy(ctx, w.p, hc, w.url, ""); err != nil {
			return nil, err
		}
	}
	if len(waits) > 0 {
		slog.InfoContext(ctx, "cluster: components ready", "components", c.Components.String(), "nodes", c.Nodes)
	}
	return c, nil
}

// String names the components, joined by "+" ("none" for zero).
func (cs Components) String() string {
	var names []string
	for _, x := range []struct {
		c    Components
		name string
	}{{ControllerManager, "controller-manager"}, {Scheduler, "scheduler"}, {NodeAgent, "node-agent"}} {
		if cs&x.c != 0 {
			names = append(names, x.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "+")
}

// componentKubeconfig writes a kubeconfig for user's client certificate and
// returns its path.
func (c *Cluster) componentKubeconfig(p *pki, user string) (string, error) {
	files := p.clients[user]
	path := filepath.Join(c.Dir, strings.TrimSuffix(filepath.Base(files[0]), ".crt")+".kubeconfig")
	doc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: kubedyn
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: %s
  user:
    client-certificate: %s
    client-key: %s
contexts:
- name: default
  context:
    cluster: kubedyn
    user: %s
current-context: default
`, c.URL, p.caFile, user, files[0], files[1], user)
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		return "", fmt.Errorf("cluster: %w", err)
	}
	return path, nil
}

// Stop stops every process (the node agent first, which ends its pods'
// processes; then the others with SIGKILL to their whole process groups),
// waits for them to exit and removes the data directory unless
// [Options.KeepData] was set. Only the first call does anything; later calls
// return its result.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		var errs []error
		for i := len(c.procs) - 1; i >= 0; i-- {
			if err := c.procs[i].kill(); err != nil {
				errs = append(errs, err)
			}
		}
		close(c.release)
		if !c.keep {
			if err := os.RemoveAll(c.Dir); err != nil {
				errs = append(errs, err)
			}
		}
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}

// PIDs returns the process ids of etcd, kube-apiserver and the components
// that run, in start order; each is also its process group id.
func (c *Cluster) PIDs() []int {
	pids := make([]int, 0, len(c.procs))
	for _, p := range c.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	return pids
}

// kubeconfig renders the kubeconfig document.
func (c *Cluster) kubeconfig() []byte {
	b64 := base64.StdEncoding.EncodeToString
	var b bytes.Buffer
	fmt.Fprintf(&b, `apiVersion: v1
kind: Config
clusters:
- name: kubedyn-e2e
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    token: %s
- name: nobody
  user:
    token: %s
- name: impersonator
  user:
    token: %s
- name: admin-cert
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
`, c.URL, b64(c.CAPEM), c.AdminToken, c.NobodyToken, c.ImpersonatorToken, b64(c.ClientCertPEM), b64(c.ClientKeyPEM))
	for _, u := range []string{"admin", "nobody", "impersonator", "admin-cert"} {
		fmt.Fprintf(&b, "- name: %s\n  context:\n    cluster: kubedyn-e2e\n    user: %s\n    namespace: default\n", u, u)
	}
	b.WriteString("current-context: admin\n")
	return b.Bytes()
}

// process is one started binary.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done closes
	// graceful processes get SIGTERM and a few seconds before SIGKILL (the
	// node agent, which then ends its pods' process groups).
	graceful bool
}

// starter starts processes from one goroutine locked to its OS thread. The
// parent-death signal fires when the thread that forked a child exits, so
// that thread must live as long as the children: it exits when release is
// closed (after Stop has killed them) or with the whole process.
type starter struct {
	reqs chan func()
}

func newStarter(release <-chan struct{}) *starter {
	s := &starter{reqs: make(chan func())}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		for {
			select {
			case f := <-s.reqs:
				f()
			case <-release:
				return
			}
		}
	}()
	return s
}

func (s *starter) start(bin, logPath string, args ...string) (*process, error) {
	return s.startWithDeathSignal(syscall.SIGKILL, bin, logPath, args...)
}

// startWithDeathSignal starts bin with sig as its parent-death signal.
func (s *starter) startWithDeathSignal(sig syscall.Signal, bin, logPath string, args ...string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = filepath.Dir(logPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: sig}
	p := &process{name: filepath.Base(bin), cmd: cmd, log: logPath, done: make(chan struct{})}
	errc := make(chan error, 1)
	s.reqs <- func() { errc <- cmd.Start() }
	if err := <-errc; err != nil {
		return nil, fmt.Errorf("cluster: start %s: %w", p.name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// gracePeriod is how long a graceful process has between SIGTERM and
// SIGKILL.
const gracePeriod = 10 * time.Second

// kill kills the process group and waits for the process to exit.
func (p *process) kill() error {
	pid := p.cmd.Process.Pid
	if p.graceful {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(gracePeriod):
		}
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("cluster: %s (pid %d) did not exit after SIGKILL", p.name, pid)
	}
}

// failure describes a process that is not ready, with its log tail.
func (p *process) failure(what error) error {
	b, _ := os.ReadFile(p.log)
	if bytes.Contains(b, []byte("address already in use")) {
		what = fmt.Errorf("%w: %w", what, errPortTaken)
	}
	return fmt.Errorf("cluster: %s: %w\n--- last lines of %s ---\n%s", p.name, what, p.log, tail(b, 30))
}

// waitHealthy polls url until it answers 200, the process exits, or ctx ends.
func waitHealthy(ctx context.Context, p *process, hc *http.Client, url, token string) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
		} else {
			last = err.Error()
		}
		select {
		case <-p.done:
			return p.failure(fmt.Errorf("exited before ready (%v)", p.err))
		case <-ctx.Done():
			return p.failure(fmt.Errorf("not ready: %w (last: %s)", ctx.Err(), last))
		case <-tick.C:
		}
	}
}

// freePorts returns n distinct free TCP ports on 127.0.0.1. They are free
// when chosen; another process may take one before it is bound.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
