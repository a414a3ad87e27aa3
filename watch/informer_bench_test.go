package watch

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// configMapJSON renders a ConfigMap as the real server stores it (uid,
// timestamps, managedFields, a few data keys), about 1,330 bytes like the
// ConfigMaps of the measurement.
func configMapJSON(i int) string {
	return fmt.Sprintf(`{"metadata":{"name":"cm-%05d","namespace":"bench","uid":"6f1c3e2a-%04x-4b7d-9c1e-%012x","resourceVersion":"%d","creationTimestamp":"2026-12-04T20:00:00Z","labels":{"app":"bench","tier":"backend","index":"%d"},"annotations":{"example.com/owner":"team-a","example.com/revision":"%d"},"managedFields":[{"manager":"kubectl-create","operation":"Update","apiVersion":"v1","time":"2026-12-04T20:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:data":{".":{},"f:config.yaml":{},"f:feature-flags":{},"f:log-level":{}},"f:metadata":{"f:annotations":{".":{},"f:example.com/owner":{},"f:example.com/revision":{}},"f:labels":{".":{},"f:app":{},"f:index":{},"f:tier":{}}}}}]},"data":{"config.yaml":"server:\n  port: 8080\n  host: 0.0.0.0\n  timeouts:\n    read: 30s\n    write: 30s\n    idle: 120s\nstorage:\n  driver: postgres\n  pool: 20\n  dsn: postgres://bench@db-%05d.bench.svc:5432/app\n","feature-flags":"alpha=false,beta=true,gamma=false,delta=true,epsilon=false,zeta=true","log-level":"info","instance":"%05d","padding":"%s"}}`,
		i, i&0xffff, i, 1000+i, i, i, i, i, strings.Repeat("x", 300))
}

// pageLW is a ListWatcher over a fixed set of objects, served in pages of
// fresh memory (as a server's responses are), whose watches stay quiet
// until their context ends. With watchList it also serves WatchList.
type pageLW struct {
	objs      []string
	pageSize  int
	watchList bool
}

// Key is unique per pageLW: a Watcher remembers a WatchList refusal per
// key for the life of the process.
func (lw *pageLW) Key() string { return fmt.Sprintf("pageLW %p", lw) }

func (lw *pageLW) List(_ context.Context, req *ListRequest) (unstructured.List, error) {
	start := 0
	if req != nil && req.Continue != "" {
		fmt.Sscan(req.Continue, &start)
	}
	end := min(start+lw.pageSize, len(lw.objs))
	cont := ""
	if end < len(lw.objs) {
		cont = fmt.Sprint(end)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"%d","continue":%q},"items":[`, 1000+len(lw.objs), cont)
	for i, o := range lw.objs[start:end] {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(o)
	}
	b.WriteString("]}")
	return unstructured.ParseList([]byte(b.String()))
}

func (lw *pageLW) Watch(ctx context.Context, req *WatchRequest) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if req != nil && req.SendInitialEvents != nil && *req.SendInitialEvents {
			if !lw.watchList {
				yield(Event{}, &transport.APIError{StatusCode: 422, Reason: "Invalid", Message: "sendInitialEvents is not supported"})
				return
			}
			for _, o := range lw.objs {
				if !yield(Event{Type: Added, Object: unstructured.MustParse(strings.Clone(o))}, nil) {
					return
				}
			}
			end := unstructured.MustParse(fmt.Sprintf(`{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"%d","annotations":{"k8s.io/initial-events-end":"true"}}}`, 1000+len(lw.objs)))
			if !yield(Event{Type: Bookmark, Object: end}, nil) {
				return
			}
		}
		<-ctx.Done()
	}
}

// heapAfterSync runs an informer over lw until it syncs and returns the
// heap it holds (HeapAlloc growth after GC) and the JSON bytes it stores.
func heapAfterSync(tb testing.TB, lw ListWatcher, opts *InformerOptions, handlers int) (heap, jsonBytes uint64, took time.Duration) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	inf := NewInformer(lw, opts)
	// Handlers held back until the informer has synced: their queues take
	// the whole initial state first.
	var regs []*Registration
	release := make(chan struct{})
	for range handlers {
		regs = append(regs, inf.AddHandler(Handler{OnAdd: func(unstructured.Object, bool) { <-release }}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = inf.Run(ctx); close(done) }()
	require.NoError(tb, inf.WaitForSync(tb.Context()))
	took = time.Since(start)
	close(release)
	for _, reg := range regs {
		require.NoError(tb, reg.WaitForSync(tb.Context()))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	for _, o := range inf.Store().List() {
		jsonBytes += uint64(len(o.String()))
	}
	heap = after.HeapAlloc - before.HeapAlloc
	runtime.KeepAlive(inf)
	cancel()
	<-done
	return heap, jsonBytes, took
}

func benchObjects(n int) []string {
	objs := make([]string, n)
	for i := range objs {
		objs[i] = configMapJSON(i)
	}
	return objs
}

// BenchmarkInformerHeap reports the heap an informer holds after syncing
// 10,000 ConfigMaps, per object and as a multiple of the JSON it stores.
func BenchmarkInformerHeap(b *testing.B) {
	objs := benchObjects(10000)
	for _, tc := range []struct {
		name string
		lw   *pageLW
		opts *InformerOptions
	}{
		{"list", &pageLW{objs: objs, pageSize: 500}, nil},
		{"list/dropManagedFields", &pageLW{objs: objs, pageSize: 500}, &InformerOptions{Transform: DropManagedFields}},
		{"watchList", &pageLW{objs: objs, pageSize: 500, watchList: true}, nil},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var heap, js uint64
			var took time.Duration
			for b.Loop() {
				heap, js, took = heapAfterSync(b, tc.lw, tc.opts, 0)
			}
			b.ReportMetric(float64(heap)/float64(js), "heap/json")
			b.ReportMetric(float64(heap)/float64(len(objs)), "heapB/obj")
			b.ReportMetric(float64(js)/float64(len(objs)), "jsonB/obj")
			b.ReportMetric(float64(took.Milliseconds()), "sync-ms")
		})
	}
}

// TestInformerHeapWithinBudget holds the target: after syncing
// 10,000 ConfigMaps the informer's heap is at most 1.15x the JSON it
// stores, whether it listed, WatchListed or dropped managedFields on the
// way. Not parallel: it reads heap statistics.
func TestInformerHeapWithinBudget(t *testing.T) {
	objs := benchObjects(10000)
	for _, tc := range []struct {
		name   string
		lw     *pageLW
		opts   *InformerOptions
		budget float64
	}{
		{"list", &pageLW{objs: objs, pageSize: 500}, nil, 1.15},
		{"watchList", &pageLW{objs: objs, pageSize: 500, watchList: true}, nil, 1.15},
		{"dropManagedFields", &pageLW{objs: objs, pageSize: 500}, &InformerOptions{Transform: DropManagedFields}, 1.15},
		{"three handlers", &pageLW{objs: objs, pageSize: 500}, nil, 1.15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			handlers := 0
			if tc.name == "three handlers" {
				handlers = 3 // each queue held all 10,000 notifications during the sync
			}
			heap, js, _ := heapAfterSync(t, tc.lw, tc.opts, handlers)
			ratio := float64(heap) / float64(js)
			t.Logf("%s: heap %d B for %d B of JSON (%.3fx, %d B/object)", tc.name, heap, js, ratio, heap/uint64(len(objs)))
			require.LessOrEqual(t, ratio, tc.budget)
		})
	}
}
