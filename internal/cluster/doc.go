// Package cluster runs a throwaway Kubernetes control plane — the upstream
// kube-apiserver v1.37.2 and etcd — on loopback for kubedyn's end-to-end
// tests.
//
// The package uses the standard library only; the Kubernetes code lives in the
// separate Go module internal/realserver, which [EnsureBinaries] compiles with
// the go command on first use.
//
// # Binaries
//
// [EnsureBinaries] builds kube-apiserver and etcd into
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
// CA, a serving certificate for 127.0.0.1 and localhost, an admin client
// certificate, a service-account key pair and a static token file, starts etcd
// and then kube-apiserver with RBAC authorisation, and waits until /readyz
// answers 200 over a CA-verified connection. It writes a kubeconfig with real
// CA data and the contexts "admin" (token in group system:masters), "nobody"
// (a token with no rights) and "admin-cert" (client certificate).
//
// No controller manager, scheduler or kubelet runs: pods are stored but never
// start, namespaces stay Terminating after deletion (no namespace controller),
// no "default" service account is created (the ServiceAccount admission
// plugin is disabled so pods can be created), and owner references are not
// garbage-collected.
//
// # Cleanup
//
// Both processes run in their own process group with a parent-death signal
// (SIGKILL) bound to a thread that stays alive as long as the [Cluster], so
// they die with the test binary even when it panics or times out.
// [Cluster.Stop] kills both process groups, waits for them and removes the
// data directory.
//
// # Environment
//
//   - KUBEDYN_REALSERVER_BIN ([BinDirEnv]) points at prebuilt kube-apiserver
//     and etcd binaries; nothing is built.
//   - KUBEDYN_CLUSTER_KEEP, when set, keeps the data directory (with
//     etcd.log and kube-apiserver.log) of a control plane that failed to
//     start, for debugging.
//
// # Sharing
//
// One control plane per test binary: call [Shared] from tests and run the
// package's tests through [Main] from TestMain, which stops the shared control
// plane after the tests finish.
package cluster
