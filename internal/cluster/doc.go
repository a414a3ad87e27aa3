// Package cluster runs a throwaway Kubernetes control plane on loopback for
// kubedyn's end-to-end tests: the upstream kube-apiserver v1.37.2 and etcd,
// and on request kube-controller-manager and kube-scheduler v1.37.2 and a
// node agent whose pods run as local processes.
//
// The package uses the standard library only; the Kubernetes code lives in the
// separate Go module internal/realserver, which [EnsureBinaries] compiles with
// the go command on first use.
//
// # Binaries
//
// [EnsureBinaries] builds kube-apiserver, etcd, kube-controller-manager,
// kube-scheduler and node-agent into
// $XDG_CACHE_HOME/kubedyn/realserver/<key>/ (see [os.UserCacheDir]), where the
// key hashes internal/realserver's go.mod, go.sum and command sources, the Go
// version and the build flags. A warm call only hashes those files and returns.
// A lock file serialises concurrent builders (several test binaries started by
// one `go test ./...`), and the finished directory is renamed into place, so a
// reader never sees half-written binaries.
//
// # Control plane
//
// [Start] picks free loopback ports, makes a fresh data directory, generates a
// CA, a serving certificate for 127.0.0.1 and localhost, client certificates
// (the admin, each component, the API server's kubelet and front-proxy
// clients), a service-account key pair and a static token file, starts etcd
// and then kube-apiserver with RBAC authorisation and request-header
// (front proxy) authentication as kubeadm sets it up, and waits until /readyz answers 200
// over a CA-verified connection. It writes a kubeconfig with real CA data and
// the contexts "admin" (token in group system:masters), "nobody" (a token with
// no rights), "impersonator" and "admin-cert" (client certificate).
//
// [Options.Components] adds, started together and each waited for on its
// /healthz:
//
//   - [ControllerManager]: kube-controller-manager with its default
//     controllers (garbage collector, namespace, service account and token,
//     root CA publisher, deployment, replicaset, job, endpointslice, node
//     lifecycle, ...), no leader election, each controller acting as its own
//     service account (--use-service-account-credentials), tokens signed with
//     the API server's service-account key. No cloud provider and no CSR
//     signing key: certificate signing requests stay unsigned.
//   - [Scheduler]: kube-scheduler, no leader election.
//   - [NodeAgent]: the node agent (internal/realserver/cmd/node-agent)
//     registers [Options.Nodes] Nodes, keeps their
//     Leases and Ready condition fresh and runs the pods bound to them: each
//     container's command and args run as host processes under the pod's
//     restart policy, deletion is honoured with its grace period, and the
//     kubelet API (/containerLogs, /exec, /attach, /portForward) is served
//     with Kubernetes' streaming library to the API server, which
//     authenticates with a client certificate and verifies the agent's
//     serving certificate. Run as root with iproute2's ip, the agent makes
//     a pod network: a network namespace of its own (kubedyn-<pid>) joined
//     to the host by a veth pair (kdn<pid>) on a /24 in 10.200.0.0 to
//     10.254.255.0 that no address or route on the machine uses (chosen
//     under a machine-wide lock, so concurrent clusters get different
//     ones). Every pod that is not hostNetwork gets an address of its own
//     there (status.podIP), so the API server's pods/proxy and
//     services/proxy and the endpointslice controller reach it; those pods
//     share the namespace's port space and its 127.0.0.1, which is where
//     port-forwarding to port N connects and where the API server is
//     relayed for KUBERNETES_SERVICE_HOST/PORT. The Nodes' InternalIP (and
//     the pods' hostIP) is the veth's root-side address, where the agent
//     serves its kubelet API too with a certificate it signs with the CA's
//     key (written as ca.key in [Cluster.Dir] for it), so nodes/proxy works.
//     Traffic stays between the two namespaces: no default route, no
//     forwarding, nothing sent elsewhere. Not root or no ip, or with
//     [Options.LoopbackPods]: every pod IP and the node's address are
//     127.0.0.1 and port-forwarding to a pod's port N reaches the host's
//     127.0.0.1:N, as for hostNetwork pods.
//     Images are recorded, never pulled; volumes, probes, resource limits
//     and security contexts are not emulated; a container with neither
//     command nor args runs no process and stays Running until deleted.
//
// The ServiceAccount admission plugin stays disabled, so pods can be created
// before a namespace's "default" service account exists and get no token
// volume.
//
// # Cleanup
//
// Every process runs in its own process group with a parent-death signal
// (SIGKILL; SIGTERM for the node agent) bound to a thread that stays alive
// as long as the [Cluster], so they die with the test binary even when it
// panics or times out. The node agent starts each container under a small
// shim that kills the container's whole process group when the agent dies,
// so grandchildren go too; on SIGTERM it kills its pods' process groups and
// deletes its pod network, and at start it deletes the namespaces of agents
// that died without doing so (SIGKILL). [Cluster.Stop] stops the node agent
// first (SIGTERM), then kills every other process group, waits for them and
// removes the data directory.
//
// # Environment
//
//   - KUBEDYN_REALSERVER_BIN ([BinDirEnv]) points at prebuilt binaries (all
//     five); nothing is built.
//   - KUBEDYN_CLUSTER_KEEP, when set, keeps the data directory (with a log
//     per process) of a control plane that failed to start, for debugging.
//
// # Sharing
//
// One control plane per component set per test binary: call [Shared] (or
// [SharedWith] for a given component set; [ForTest] and [ForTestWith] in
// tests) and run the package's tests through [Main] or [MainWith] from
// TestMain, which stops the shared control planes after the tests finish.
package cluster
