// Package e2e holds kubedyn's end-to-end tests: they run against a real
// kube-apiserver v1.37.2 and etcd (and, for some, the controller manager,
// scheduler and node agent) that internal/cluster builds from Go modules and
// starts once per test binary.
//
// # Running
//
//	go test -race -count=1 -timeout 20m ./internal/e2e/
//
// The first run on a machine builds the binaries (minutes); later runs reuse
// them from the user cache directory. `go run ./internal/cluster/cmd/ensure`
// builds them ahead of time.
//
// # Two control planes
//
// The test binary shares two control planes, each started on first use:
//
//   - the quiet one (cluster, admin, newNamespace, newRaw): etcd and
//     kube-apiserver alone. Nothing but the tests writes to it, so tests can
//     pin exact server values — counts of objects, managedFields, a status
//     they wrote by hand. Pods are stored but never start, deleted namespaces
//     stay Terminating and owner references are not garbage-collected.
//   - the whole one (plane, planeAdmin, planeNamespace, planeRaw): the same
//     plus kube-controller-manager, kube-scheduler and the node agent of
//     internal/cluster, so garbage collection, namespace deletion, service
//     accounts, Deployments, Jobs and pods move, and the API server proxies
//     logs, exec, attach and port-forward to the agent. Tests of behaviour
//     that needs a cluster that moves belong here; they wait for
//     controllers with eventually.
//
// Each test works in its own namespace (or on cluster-scoped objects with
// unique names) and may run in parallel.
package e2e
