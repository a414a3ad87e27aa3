// Package e2e holds kubedyn's end-to-end tests: they run against a real
// kube-apiserver v1.37.2 and etcd that internal/cluster builds from Go
// modules and starts once per test binary.
//
// # Running
//
//	go test -race -count=1 -timeout 20m ./internal/e2e/
//
// The first run on a machine builds the binaries (minutes); later runs reuse
// them from the user cache directory. `go run ./internal/cluster/cmd/ensure`
// builds them ahead of time.
//
// # Isolation
//
// All tests share one control plane; each test works in its own namespace
// (or on cluster-scoped objects with unique names) and may run in parallel.
//
// # Limits
//
// No kubelet, scheduler or controller manager runs: pods are stored but never
// start (exec, attach, logs and port-forward are tested against
// internal/testserver), deleted namespaces stay Terminating, and owner
// references are not garbage-collected.
package e2e
