package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	v1 "k8s.io/api/core/v1"
)

// The pod network. When the agent runs as root with iproute2's `ip` at
// hand (and --pod-network is not "loopback"), it makes one network
// namespace of its own, kubedyn-<pid>, joined to the root namespace by a
// veth pair on a /24 between 10.200.0.0 and 10.254.255.0 that no address
// or route on the machine already uses (chosen under a machine-wide lock,
// so agents starting together pick different ones): the root end
// (kdn<pid>) has .1, which with --serving-ca-key-file is also the nodes'
// InternalIP where the kubelet API listens (main.go); the namespace's end
// (eth0) has .2 as its primary address; and every pod that is not
// hostNetwork gets an address of its own from .3 to .254, added to eth0 as
// a /32, reported as status.podIP and given back when the pod has
// finished. Traffic stays between the two namespaces: there is no default
// route in the namespace and nothing is forwarded or translated.
//
// All those pods share the one namespace, so they share its port space,
// as they shared the host's loopback before: two pods cannot listen on the
// same port, and a pod's server bound to 127.0.0.1 is reachable by every
// pod (and by port-forward, which, like a container runtime, dials
// 127.0.0.1:<port> inside the namespace). A server that binds 0.0.0.0 or
// its pod's IP is also reachable from the root namespace at that IP, which
// is what the API server's pods/proxy and services/proxy need.
//
// Container processes and exec'd commands enter the namespace through the
// shim (proc.go): its first argument --netns=PATH makes it setns(2) on its
// locked thread before it starts the command, so the command is born in
// the namespace. That needs nothing outside this binary (nsenter is not
// assumed), and the shim already stands between the agent and every
// process. The agent itself enters the namespace only on throwaway locked
// threads (inNamespace), to dial for port-forward and to open the API
// server relay: a listener on 127.0.0.1:<API port> inside the namespace
// that pipes each connection to the API server on the root namespace's
// loopback, so KUBERNETES_SERVICE_HOST/PORT keep working unchanged.
//
// The namespace goes when the agent exits, on SIGTERM and SIGINT too (its
// veth pair with it); a namespace kubedyn-<pid> whose agent died without
// cleaning up (SIGKILL) is removed by the next agent that starts.

// Pod network modes (--pod-network).
const (
	podNetworkAuto     = "auto"
	podNetworkLoopback = "loopback"
)

// podNetPrefix is the namespace name prefix; the agent's pid follows.
const podNetPrefix = "kubedyn-"

// netnsDir is where `ip netns` keeps its named namespaces.
const netnsDir = "/run/netns"

// netnsFlag is the shim's first argument that names the namespace to enter.
const netnsFlag = "--netns="

// podNetwork is the agent's pod network namespace. Safe for concurrent
// use.
type podNetwork struct {
	name    string     // namespace name
	path    string     // its bind mount under netnsDir
	hostIf  string     // the veth end in the root namespace
	podIf   string     // the veth end in the namespace
	base    netip.Addr // the subnet's .0
	gateway netip.Addr // .1, the root end's address
	ns      *os.File   // an open handle on the namespace, for setns

	mu    sync.Mutex
	used  [256]bool
	next  int
	relay net.Listener
}

// setupPodNetwork makes the agent's pod network, or returns nil (having
// logged why) when the agent should keep every pod on the host's loopback.
// apiAddr is the API server's host:port, relayed into the namespace when it
// is on loopback.
func setupPodNetwork(ctx context.Context, mode, apiAddr string) (*podNetwork, error) {
	switch mode {
	case podNetworkLoopback:
		slog.Info("pod network: loopback (--pod-network=loopback): every pod has the IP " + loopbackIP)
		return nil, nil
	case podNetworkAuto:
	default:
		return nil, fmt.Errorf("--pod-network: %q is neither %q nor %q", mode, podNetworkAuto, podNetworkLoopback)
	}
	if os.Geteuid() != 0 {
		slog.Info("pod network: not root, falling back to loopback: every pod has the IP " + loopbackIP)
		return nil, nil
	}
	if _, err := exec.LookPath("ip"); err != nil {
		slog.Info("pod network: no `ip` command, falling back to loopback: every pod has the IP "+loopbackIP, "err", err)
		return nil, nil
	}
	removeStaleNamespaces(ctx)
	n, err := newPodNetwork(ctx, os.Getpid())
	if err != nil {
		slog.Warn("pod network: cannot make one, falling back to loopback: every pod has the IP "+loopbackIP, "err", err)
		return nil, nil
	}
	if host, port, err := net.SplitHostPort(apiAddr); err == nil && isLoopback(host) {
		if err := n.startRelay(net.JoinHostPort(loopbackIP, port), apiAddr); err != nil {
			n.close()
			return nil, fmt.Errorf("pod network: API server relay: %w", err)
		}
	}
	slog.Info("pod network ready", "namespace", n.name, "subnet", n.base.String()+"/24", "gateway", n.gateway, "veth", n.hostIf)
	return n, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// ipCmd runs `ip args...` and returns its error with its output.
func ipCmd(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// ipOutput runs `ip args...` and returns its standard output.
func ipOutput(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return string(out), nil
}

// newPodNetwork makes the namespace and veth pair for the agent with pid,
// on a free subnet. Choosing the subnet and claiming it (the root end's
// address) happen under a machine-wide lock, so agents starting together
// never pick the same one.
func newPodNetwork(ctx context.Context, pid int) (n *podNetwork, err error) {
	n = &podNetwork{
		name:   podNetPrefix + strconv.Itoa(pid),
		hostIf: "kdn" + strconv.Itoa(pid),
		podIf:  "eth0",
		next:   3,
	}
	n.path = filepath.Join(netnsDir, n.name)
	unlock, err := lockFile("/run/kubedyn-pod-network.lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	base, err := freeSubnet(ctx, pid)
	if err != nil {
		return nil, err
	}
	n.base = base
	n.gateway = n.addr(1)
	defer func() {
		if err != nil {
			n.close()
		}
	}()
	steps := [][]string{
		{"netns", "add", n.name},
		{"link", "add", n.hostIf, "type", "veth", "peer", "name", n.podIf, "netns", n.name},
		{"addr", "add", n.gateway.String() + "/24", "dev", n.hostIf},
		{"link", "set", n.hostIf, "up"},
		{"-n", n.name, "link", "set", "lo", "up"},
		{"-n", n.name, "addr", "add", n.addr(2).String() + "/24", "dev", n.podIf},
		{"-n", n.name, "link", "set", n.podIf, "up"},
	}
	for _, s := range steps {
		if err := ipCmd(ctx, s...); err != nil {
			return n, err
		}
	}
	if n.ns, err = os.Open(n.path); err != nil {
		return n, err
	}
	return n, nil
}

// addr is the subnet's address with host part i.
func (n *podNetwork) addr(i int) netip.Addr {
	b := n.base.As4()
	b[3] = byte(i)
	return netip.AddrFrom4(b)
}

// lockFile takes an exclusive flock on path, waiting for it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// freeSubnet finds a /24 in 10.200.0.0-10.254.255.0 that overlaps no
// address and no route of the root namespace (the default route aside),
// starting at a point derived from pid so concurrent agents rarely probe
// the same candidates.
func freeSubnet(ctx context.Context, pid int) (netip.Addr, error) {
	taken, err := usedPrefixes(ctx)
	if err != nil {
		return netip.Addr{}, err
	}
	const first, count = 200, 55 // second octets 200..254
	start := pid % (count * 256)
	for i := range count * 256 {
		k := (start + i) % (count * 256)
		cand := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(first + k/256), byte(k % 256), 0}), 24)
		free := true
		for _, t := range taken {
			if t.Overlaps(cand) {
				free = false
				break
			}
		}
		if free {
			return cand.Addr(), nil
		}
	}
	return netip.Addr{}, errors.New("no free /24 in 10.200.0.0/16-10.254.0.0/16")
}

// usedPrefixes lists the IPv4 prefixes of the root namespace's addresses
// and routes, all tables, the default route left out.
func usedPrefixes(ctx context.Context) ([]netip.Prefix, error) {
	var out []netip.Prefix
	ifaces, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	for _, a := range ifaces {
		if ipn, ok := a.(*net.IPNet); ok {
			if p, err := netip.ParsePrefix(ipn.String()); err == nil && p.Addr().Is4() {
				out = append(out, p.Masked(), netip.PrefixFrom(p.Addr(), 32))
			}
		}
	}
	routes, err := ipOutput(ctx, "-4", "route", "show", "table", "all")
	if err != nil {
		return nil, err
	}
	for line := range strings.Lines(routes) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		dst := f[0]
		switch dst {
		case "unicast", "local", "broadcast", "multicast", "throw", "unreachable", "prohibit", "blackhole", "nat", "anycast":
			if len(f) < 2 {
				continue
			}
			dst = f[1]
		}
		if dst == "default" {
			continue
		}
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		p, err := netip.ParsePrefix(dst)
		if err != nil || !p.Addr().Is4() || p.Bits() == 0 {
			continue
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// removeStaleNamespaces deletes the namespaces (and with them their veth
// pairs) and root-side veth ends of agents that are no longer running.
func removeStaleNamespaces(ctx context.Context) {
	entries, _ := os.ReadDir(netnsDir)
	for _, e := range entries {
		pid, ok := strings.CutPrefix(e.Name(), podNetPrefix)
		if !ok || !staleAgent(pid) {
			continue
		}
		if err := ipCmd(ctx, "netns", "delete", e.Name()); err != nil {
			slog.Warn("pod network: remove a dead agent's namespace", "namespace", e.Name(), "err", err)
		} else {
			slog.Info("pod network: removed a dead agent's namespace", "namespace", e.Name())
		}
	}
	links, err := ipOutput(ctx, "-o", "link", "show")
	if err != nil {
		return
	}
	for line := range strings.Lines(links) {
		// "12: kdn4242@if11: <...>"
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		if pid, ok := strings.CutPrefix(name, "kdn"); ok && staleAgent(pid) {
			_ = ipCmd(ctx, "link", "delete", name)
		}
	}
}

// staleAgent reports whether pid (a decimal string) names no running node
// agent: no such process, or one that runs another program.
func staleAgent(pid string) bool {
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return false // not a name this agent makes
	}
	if n == os.Getpid() {
		return false
	}
	if err := syscall.Kill(n, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	comm, err := os.ReadFile("/proc/" + pid + "/comm")
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	self, _ := os.ReadFile("/proc/self/comm")
	return !bytes.Equal(comm, self)
}

// close removes the namespace and the veth pair. Processes still inside
// keep the namespace alive (without its name) until they end.
func (n *podNetwork) close() {
	n.mu.Lock()
	relay := n.relay
	n.mu.Unlock()
	if relay != nil {
		relay.Close()
	}
	if n.ns != nil {
		n.ns.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ipCmd(ctx, "netns", "delete", n.name); err != nil && !strings.Contains(err.Error(), "No such file") {
		slog.Warn("pod network: delete namespace", "err", err)
	}
	// Deleting the namespace destroys the pair once nothing holds it; the
	// root end goes at once if it is still there.
	_ = ipCmd(ctx, "link", "delete", n.hostIf)
	slog.Info("pod network removed", "namespace", n.name)
}

// allocate gives a pod an address of its own in the namespace.
func (n *podNetwork) allocate(ctx context.Context) (netip.Addr, error) {
	n.mu.Lock()
	host := 0
	for i := range 252 { // .3 to .254, round robin so an address is not reused at once
		h := 3 + (n.next-3+i)%252
		if !n.used[h] {
			host = h
			break
		}
	}
	if host == 0 {
		n.mu.Unlock()
		return netip.Addr{}, errors.New("pod network: every address of the subnet is in use")
	}
	n.used[host] = true
	n.next = host + 1
	n.mu.Unlock()
	a := n.addr(host)
	if err := ipCmd(ctx, "-n", n.name, "addr", "add", a.String()+"/32", "dev", n.podIf); err != nil {
		n.mu.Lock()
		n.used[host] = false
		n.mu.Unlock()
		return netip.Addr{}, err
	}
	return a, nil
}

// release takes a pod's address away.
func (n *podNetwork) release(a netip.Addr) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ipCmd(ctx, "-n", n.name, "addr", "del", a.String()+"/32", "dev", n.podIf); err != nil {
		slog.Warn("pod network: release address", "addr", a, "err", err)
	}
	n.mu.Lock()
	n.used[a.As4()[3]] = false
	n.mu.Unlock()
}

// inNamespace runs f on an OS thread that has entered the namespace. The
// thread is thrown away afterwards (its goroutine ends still locked), so no
// other goroutine ever runs in the namespace by accident.
func (n *podNetwork) inNamespace(f func()) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with this goroutine
		if err := setns(int(n.ns.Fd())); err != nil {
			errc <- fmt.Errorf("enter network namespace %s: %w", n.name, err)
			return
		}
		f()
		errc <- nil
	}()
	return <-errc
}

// setns moves the calling thread into the network namespace fd refers to.
func setns(fd int) error {
	return unix.Setns(fd, unix.CLONE_NEWNET)
}

// dial connects to addr from inside the namespace. The socket is made on a
// thread in the namespace and belongs to it from then on.
func (n *podNetwork) dial(ctx context.Context, addr string) (net.Conn, error) {
	var conn net.Conn
	var err error
	if e := n.inNamespace(func() {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", addr)
	}); e != nil {
		return nil, e
	}
	return conn, err
}

// startRelay listens on addr inside the namespace and pipes every
// connection to target in the root namespace.
func (n *podNetwork) startRelay(addr, target string) error {
	var ln net.Listener
	var err error
	if e := n.inNamespace(func() { ln, err = net.Listen("tcp", addr) }); e != nil {
		return e
	}
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.relay = ln
	n.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				out, err := net.DialTimeout("tcp", target, 10*time.Second)
				if err != nil {
					return
				}
				defer out.Close()
				pipe(in, out)
			}()
		}
	}()
	return nil
}

// pipe copies both ways between a and b, passing on half-closes, until
// both directions are done.
func pipe(a, b net.Conn) {
	var wg sync.WaitGroup
	half := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		} else {
			dst.Close()
		}
	}
	wg.Go(func() { half(a, b) })
	wg.Go(func() { half(b, a) })
	wg.Wait()
}

// shimArgs prefixes argv with the shim's netns argument when the process
// must run in the namespace.
func (n *podNetwork) shimArgs(argv []string) []string {
	return append([]string{netnsFlag + n.path}, argv...)
}

// enterNetns moves the calling (locked) thread into the network namespace
// bound at path.
func enterNetns(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return setns(int(f.Fd()))
}

// inPodNetwork reports whether the pod's processes run in the pod network.
func (p *podRuntime) inPodNetwork() bool {
	return p.a.net != nil && !p.hostNetwork
}

// attachNetwork gives the pod its address: one of the pod network's, or
// the node's for a hostNetwork pod (or when there is no pod network). It
// retries, with a FailedCreatePodSandBox event, until it succeeds or the
// pod stops, and reports whether it succeeded.
func (p *podRuntime) attachNetwork(ctx context.Context) bool {
	if !p.inPodNetwork() {
		p.mu.Lock()
		p.ip = p.a.nodeIP
		p.mu.Unlock()
		return true
	}
	wait := backoffBase
	for {
		a, err := p.a.net.allocate(ctx)
		if err == nil {
			p.mu.Lock()
			p.ip, p.netAddr = a.String(), a
			p.mu.Unlock()
			return true
		}
		p.event(v1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: %v", err)
		select {
		case <-time.After(wait):
			wait = min(2*wait, backoffMax)
		case <-p.stopping:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// detachNetwork gives the pod's address back once its processes are gone.
func (p *podRuntime) detachNetwork() {
	p.mu.Lock()
	a := p.netAddr
	p.netAddr = netip.Addr{}
	p.mu.Unlock()
	if a.IsValid() {
		p.a.net.release(a)
	}
}

// podIP is the pod's address, or "" before it has one.
func (p *podRuntime) podIP() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ip
}

// procArgv is what the shim runs for argv: in the pod network's
// namespace unless the pod is on the host's network.
func (p *podRuntime) procArgv(argv []string) []string {
	if !p.inPodNetwork() {
		return argv
	}
	return p.a.net.shimArgs(argv)
}

// dialPort connects to the pod's port, as a container runtime's
// port-forward does: 127.0.0.1:port inside the pod's network namespace
// (the host's loopback for a hostNetwork pod or without a pod network).
func (p *podRuntime) dialPort(ctx context.Context, port int32) (net.Conn, error) {
	addr := net.JoinHostPort(loopbackIP, strconv.Itoa(int(port)))
	if !p.inPodNetwork() {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	return p.a.net.dial(ctx, addr)
}

// podIPOf is the address of the pod the agent runs, or the node's when
// it does not (yet) run it.
func (a *agent) podIPOf(pod *v1.Pod) string {
	a.mu.Lock()
	p := a.pods[pod.UID]
	a.mu.Unlock()
	if p != nil {
		if ip := p.podIP(); ip != "" {
			return ip
		}
	}
	return a.nodeIP
}
