// Command node-agent is a small kubelet for kubedyn's end-to-end tests. It
// registers Nodes (on its pod network's address, or 127.0.0.1; see below),
// keeps their Leases and Ready condition
// fresh, and runs the pods the scheduler binds to them as local processes:
// each container's command and args run on the host (the image is recorded,
// never pulled), under the pod's restart policy, with the pod's status,
// container states, restart counts and exit codes written back, and deletion
// honoured with the grace period (SIGTERM, then SIGKILL). It serves the
// kubelet endpoints the API server proxies to — /containerLogs, /exec,
// /attach and /portForward — with Kubernetes' own streaming library
// (k8s.io/cri-streaming).
//
// A TTY exec, and a container with tty: true, runs on a real
// pseudo-terminal that the client's resizes size (tty.go). A container with
// stdin: true keeps its stdin for attach, with containerd's rules: the end
// of an attached client's stdin closes it under stdinOnce (without a tty),
// and otherwise only detaches that client.
//
// Pod networking (netns.go): run as root with iproute2, the agent makes a
// network namespace of its own joined to the host by a veth pair on a free
// /24 in 10.0.0.0/8, and every pod that is not hostNetwork gets an address
// of its own there, reported as status.podIP, so the API server's
// pods/proxy and services/proxy (and the endpointslice controller) reach
// it. Those pods share the namespace, and with it one port space and one
// 127.0.0.1; port-forwarding to port N reaches 127.0.0.1:N inside it, and
// KUBERNETES_SERVICE_HOST/PORT (the API server on 127.0.0.1) are relayed
// into it. Nothing leaves the machine: the namespace has no default route.
// Given the CA's key (--serving-ca-key-file), the agent also serves its
// kubelet API on the veth's root-side address, with a certificate it signs
// itself, and reports that address as its nodes' InternalIP and its pods'
// hostIP, so nodes/proxy reaches it; otherwise the nodes stay on
// 127.0.0.1. Without root or `ip` (or with --pod-network=loopback) every
// pod shares the host's network: its IP is 127.0.0.1 and its port N is the
// host's 127.0.0.1:N. hostNetwork pods always share the host's network,
// with their node's address as pod IP.
//
// Volumes, probes, resource limits, security contexts and images are not
// emulated; a container with neither command nor args "runs" with no
// process until its pod is deleted.
//
// It is test infrastructure: internal/cluster starts it.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/record"
)

// loopbackIP is the address of the agent's kubelet API, of its nodes and
// of hostNetwork pods when there is no pod network, and of every pod in
// the loopback fallback.
const loopbackIP = "127.0.0.1"

// agent runs the pods of its nodes.
type agent struct {
	client    kubernetes.Interface
	podLister corelisters.PodLister
	starter   *starter
	root      string
	nodes     []string
	port      int
	apiHost   string
	apiPort   string
	net       *podNetwork // nil: every pod is on the host's loopback
	// nodeIP is the nodes' InternalIP and the pods' hostIP: the pod
	// network's root-side address when the agent serves there too, else
	// loopbackIP.
	nodeIP string

	// events records the kubelet's pod events (Pulled, Created, Started,
	// Killing, BackOff, Failed) per node.
	events map[string]record.EventRecorder

	mu   sync.Mutex
	pods map[types.UID]*podRuntime
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == shimArg {
		runShim(os.Args[2:])
	}
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the agent's user")
	nodes := flag.String("nodes", "kubedyn-node-1", "comma-separated names of the nodes to register")
	listen := flag.String("listen", "127.0.0.1:10250", "address of the kubelet API (host must be 127.0.0.1)")
	certFile := flag.String("tls-cert-file", "", "serving certificate")
	keyFile := flag.String("tls-private-key-file", "", "serving key")
	clientCA := flag.String("client-ca-file", "", "CA whose client certificates may use the kubelet API")
	root := flag.String("root-dir", "", "directory for pod logs and working directories")
	caKey := flag.String("serving-ca-key-file", "", "key of the --client-ca-file CA; with a pod network, the agent signs itself a serving certificate for the network's root-side address and moves its nodes there (optional)")
	podNet := flag.String("pod-network", podNetworkAuto, `"auto": a network namespace with an address per pod when root with iproute2, else loopback; "loopback": every pod on 127.0.0.1`)
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err := run(*kubeconfig, *nodes, *listen, *certFile, *keyFile, *clientCA, *root, *podNet, *caKey); err != nil {
		slog.Error("node-agent", "err", err)
		os.Exit(1)
	}
}

func run(kubeconfig, nodes, listen, certFile, keyFile, clientCA, root, podNet, caKey string) error {
	for name, v := range map[string]string{"--kubeconfig": kubeconfig, "--tls-cert-file": certFile,
		"--tls-private-key-file": keyFile, "--client-ca-file": clientCA, "--root-dir": root} {
		if v == "" {
			return fmt.Errorf("%s is required", name)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 100, 200
	cfg.UserAgent = "kubedyn-node-agent"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	if host != loopbackIP {
		return fmt.Errorf("--listen: the agent serves on %s only, not %q", loopbackIP, host)
	}
	var port int
	if _, err := fmt.Sscanf(portStr, "%d", &port); err != nil || port <= 0 {
		return fmt.Errorf("--listen: bad port %q", portStr)
	}
	u, err := url.Parse(cfg.Host)
	if err != nil {
		return err
	}
	st, err := newStarter()
	if err != nil {
		return err
	}
	a := &agent{client: client, starter: st, root: root, port: port,
		apiHost: u.Hostname(), apiPort: u.Port(), pods: map[types.UID]*podRuntime{}}
	for n := range strings.SplitSeq(nodes, ",") {
		if n = strings.TrimSpace(n); n != "" {
			a.nodes = append(a.nodes, n)
		}
	}
	if len(a.nodes) == 0 {
		return errors.New("--nodes names no node")
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	if a.net, err = setupPodNetwork(ctx, podNet, u.Host); err != nil {
		return err
	}
	if a.net != nil {
		defer a.net.close() // after shutdown has ended the pods
	}
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	defer broadcaster.Shutdown()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	a.events = map[string]record.EventRecorder{}
	for _, n := range a.nodes {
		a.events[n] = broadcaster.NewRecorder(scheme.Scheme, v1.EventSource{Component: "kubelet", Host: n})
	}

	// The kubelet API: the API server authenticates with a client
	// certificate signed by clientCA; /healthz is open.
	caPEM, err := os.ReadFile(clientCA)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("%s holds no certificate", clientCA)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	// With a pod network and the CA's key, the nodes' address is the
	// network's root-side one, not loopback, so the API server's
	// nodes/proxy reaches the agent: it serves there too, with a
	// certificate for both addresses.
	a.nodeIP = loopbackIP
	var nodeLn net.Listener
	if a.net != nil && caKey != "" {
		gw := a.net.gateway.String()
		if cert, err = servingCert(clientCA, caKey, loopbackIP, gw); err != nil {
			return fmt.Errorf("--serving-ca-key-file: %w", err)
		}
		if nodeLn, err = net.Listen("tcp", net.JoinHostPort(gw, portStr)); err != nil {
			return err
		}
		a.nodeIP = gw
	}
	srv := &http.Server{
		Handler: a.handler(),
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{cert},
			ClientCAs:    pool,
			ClientAuth:   tls.VerifyClientCertIfGiven,
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"http/1.1"}, // streaming upgrades need HTTP/1.1
		},
		ReadHeaderTimeout: 30 * time.Second,
	}

	for _, n := range a.nodes {
		if err := a.registerNode(ctx, n); err != nil {
			return fmt.Errorf("register node %s: %w", n, err)
		}
	}
	factory := informers.NewSharedInformerFactory(client, 0)
	podInformer := factory.Core().V1().Pods()
	a.podLister = podInformer.Lister()
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { a.podChanged(ctx, o) },
		UpdateFunc: func(_, o any) { a.podChanged(ctx, o) },
		DeleteFunc: func(o any) { a.podDeleted(o) },
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("informer for %v did not sync", typ)
		}
	}
	for _, n := range a.nodes {
		go a.heartbeat(ctx, n)
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	if nodeLn != nil {
		go func() { errc <- srv.ServeTLS(nodeLn, "", "") }()
	}
	slog.Info("node-agent ready", "nodes", a.nodes, "listen", listen, "nodeIP", a.nodeIP)

	select {
	case <-ctx.Done():
	case err := <-errc:
		a.shutdown()
		return err
	}
	a.shutdown()
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return nil
}

// shutdown kills every pod's processes at once: the cluster is going away.
func (a *agent) shutdown() {
	a.mu.Lock()
	pods := make([]*podRuntime, 0, len(a.pods))
	for _, p := range a.pods {
		pods = append(pods, p)
	}
	a.mu.Unlock()
	for _, p := range pods {
		p.gone()
	}
	deadline := time.After(5 * time.Second)
	for _, p := range pods {
		select {
		case <-p.done:
		case <-deadline:
			return
		}
	}
}

func (a *agent) ours(pod *v1.Pod) bool {
	for _, n := range a.nodes {
		if pod.Spec.NodeName == n {
			return true
		}
	}
	return false
}

func (a *agent) podChanged(ctx context.Context, o any) {
	pod, ok := o.(*v1.Pod)
	if !ok || !a.ours(pod) {
		return
	}
	a.mu.Lock()
	p := a.pods[pod.UID]
	if p == nil {
		if pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed {
			a.mu.Unlock()
			return // finished before this agent started
		}
		p = newPodRuntime(a, pod)
		a.pods[pod.UID] = p
		go p.run(ctx)
	}
	a.mu.Unlock()
	p.update(pod)
}

func (a *agent) podDeleted(o any) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	pod, ok := o.(*v1.Pod)
	if !ok {
		return
	}
	a.mu.Lock()
	p := a.pods[pod.UID]
	delete(a.pods, pod.UID)
	a.mu.Unlock()
	if p != nil {
		p.gone()
		go func() {
			<-p.done
			_ = os.RemoveAll(p.dir)
		}()
	}
}

// lookup finds the running pod ns/name (and uid, when given).
func (a *agent) lookup(ns, name, uid string) *podRuntime {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.pods {
		if p.ns == ns && p.name == name && (uid == "" || string(p.uid) == uid) {
			return p
		}
	}
	return nil
}
