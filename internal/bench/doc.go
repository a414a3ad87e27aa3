// Command bench runs the same work through kubedyn and through client-go
// v0.37.2 (its dynamic client, its discovery cache), interleaved, against
// the embedded test server (internal/testserver) and a real kube-apiserver
// v1.37.2 started by internal/cluster, and prints one table: each figure
// for both clients, their ratio and, where there is one, the floor (the
// least any client could do: a raw GET read with io.ReadAll, a copy of the
// bytes).
//
//	go run . [-server both|test|real] [-n 10000] [-rounds 3] [-duration 3s] [-raw out.txt] [-only text] [-page-sizes 1000,2000]
//	go run . -chart out.txt > ../../docs/performance.svg
//
// `make bench` runs it. The work, for each server:
//
//   - decode: the bytes of a 10,000-ConfigMap list, decoded and name,
//     resourceVersion and one data key read from every item: kubedyn's
//     ParseListNoCopy; client-go's UnstructuredList.UnmarshalJSON and its
//     dynamic client's whole response path (over an in-memory round
//     tripper serving the same bytes); encoding/json into maps; floors
//     bytes.Clone and io.ReadAll.
//   - list: those 10,000 listed end to end, in one request and paged
//     (both clients' defaults: kubedyn's List, client-go's pager), the raw
//     GET as the floor.
//   - get/update: 16 goroutines for -duration, each on its own ConfigMap,
//     with the clients' rate limits off and with their defaults.
//   - discovery with 200 CRDs: cold (empty cache directory), warm from the
//     disk cache of an earlier client, and after invalidation; the
//     requests sent are counted by a round tripper wrapped around each.
//   - heap: the Go heap held by the 10,000 listed objects.
//   - informer: an informer of those 10,000 (kubedyn's watch.Informer,
//     client-go's dynamic informer) started, synced and stopped: the heap
//     its cache holds after sync, with and without managedFields (dropped
//     through each one's transform hook), and the time to synced.
//   - watch decode: 2,000 ADDED events (the list's items) through kubedyn's
//     watch.Decode and client-go's dynamic Watch (in-memory round tripper).
//
// A second table shows the steps taken towards the floor, before and after
// in the same run: the body read (io.ReadAll against the transport's sized
// buffer), the default List and ListAll (500 a page one after the other, as
// they were, against their paging now). In -raw output its sides are named
// before and after, so the chart leaves them out.
//
// Every figure is the median of -rounds runs; the clients alternate within
// each round, so load on the machine falls on both. Times include a
// client's allocations and the garbage collection they cause. With -raw
// every run is also written in Go's benchmark format, for benchstat and
// for -chart, which draws docs/performance.svg from it.
//
// Allocation figures against the test server include the server's own
// allocations (it runs in this process); the real server runs in its own.
//
// It is a module of its own, so that k8s.io modules stay out of the main
// go.mod.
package main
