package watch

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
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

// serverConfigMapJSON renders the ConfigMap internal/bench creates (labels,
// a last-applied annotation, four data keys) as kube-apiserver returns it:
// with a uid, resourceVersion, creationTimestamp and the managedFields of
// its create. About 1.2 KB, 780 B without managedFields.
func serverConfigMapJSON(i int) string {
	r := rand.New(rand.NewPCG(uint64(i), 42))
	uid := fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, 0x8000|r.Uint32()&0x3fff, r.Uint64()&0xffffffffffff)
	ts := fmt.Sprintf("2026-12-04T20:%02d:%02dZ", (i/60)%60, i%60)
	return fmt.Sprintf(`{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cfg-%05d","namespace":"bench","uid":%q,"resourceVersion":"%d","creationTimestamp":%q,`+
		`"labels":{"app.kubernetes.io/name":"svc-%d","app.kubernetes.io/part-of":"shop","release":"r%d","tier":"backend"},`+
		`"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"v1\",\"data\":{\"app.properties\":\"...\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg-%05d\",\"namespace\":\"bench\"}}\n","owner":"platform@example.com"},`+
		`"managedFields":[{"manager":"kubedyn","operation":"Update","apiVersion":"v1","time":%q,"fieldsType":"FieldsV1","fieldsV1":{"f:data":{".":{},"f:app.properties":{},"f:feature.flags":{},"f:log.level":{},"f:timeout":{}},"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{},"f:owner":{}},"f:labels":{".":{},"f:app.kubernetes.io/name":{},"f:app.kubernetes.io/part-of":{},"f:release":{},"f:tier":{}}}}}]},`+
		`"data":{"app.properties":"server.port=%d\nserver.threads=%d\ncache.size=%d\ndb.url=jdbc:postgresql://db-%d.bench.svc:5432/app\n","feature.flags":"checkout-v2,search-v3,recs-%d","log.level":"%s","timeout":"%ds"}}`,
		i, uid, 4000+3*i, ts, i%113, i%5, i, ts,
		8000+i%1000, 8+i%56, 1024*(1+i%16), i%9, i%7, []string{"info", "debug", "warn"}[i%3], 5+i%55)
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
	// Twice: a compressed store's pooled flate writer (1.6 MB) goes
	// only at the second.
	runtime.GC()
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

func serverObjects(n int) []string {
	objs := make([]string, n)
	for i := range objs {
		objs[i] = serverConfigMapJSON(i)
	}
	return objs
}

// filledStore returns a store (compressed or not) holding n server-shaped
// ConfigMaps without managedFields, and their keys.
func filledStore(tb testing.TB, compress bool, n int) (*Store, []Key) {
	s := newStore()
	if compress {
		s = newCompressedStore()
	}
	keys := make([]Key, n)
	for i, raw := range serverObjects(n) {
		obj, err := DropManagedFields(unstructured.MustParse(raw))
		require.NoError(tb, err)
		s.put(obj.Clone())
		keys[i] = ObjectKey(obj)
	}
	return s, keys
}

// BenchmarkStoreGet reads objects by key from a store of 10,000
// ConfigMaps, compressed or not: a compressed store decompresses each.
func BenchmarkStoreGet(b *testing.B) {
	for _, compress := range []bool{false, true} {
		b.Run(fmt.Sprintf("compress=%v", compress), func(b *testing.B) {
			s, keys := filledStore(b, compress, 10000)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, ok := s.Get(keys[i%len(keys)]); !ok {
					b.Fatal("missing")
				}
				i++
			}
		})
	}
}

// BenchmarkStoreResourceVersionOf is what a relist asks of the store for
// every listed object. A compressed store keeps each resourceVersion
// beside its blob (a few bytes an object); "decompressed" is what reading
// it out of the object would cost instead.
func BenchmarkStoreResourceVersionOf(b *testing.B) {
	for _, tc := range []struct {
		name     string
		compress bool
		rv       func(s *Store, k Key) (string, bool)
	}{
		{"plain", false, (*Store).ResourceVersionOf},
		{"compressed", true, (*Store).ResourceVersionOf},
		{"compressed/decompressed", true, func(s *Store, k Key) (string, bool) {
			o, ok := s.Get(k)
			return o.ResourceVersion(), ok
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, keys := filledStore(b, tc.compress, 10000)
			i := 0
			for b.Loop() {
				if _, ok := tc.rv(s, keys[i%len(keys)]); !ok {
					b.Fatal("missing")
				}
				i++
			}
		})
	}
}

// BenchmarkInformerHeap reports the heap an informer holds after syncing
// 10,000 ConfigMaps, per object and as a multiple of the JSON it stores.
func BenchmarkInformerHeap(b *testing.B) {
	objs := benchObjects(10000)
	server := serverObjects(10000)
	for _, tc := range []struct {
		name string
		lw   *pageLW
		opts *InformerOptions
	}{
		{"list", &pageLW{objs: objs, pageSize: 500}, nil},
		{"list/dropManagedFields", &pageLW{objs: objs, pageSize: 500}, &InformerOptions{Transform: DropManagedFields}},
		{"watchList", &pageLW{objs: objs, pageSize: 500, watchList: true}, nil},
		{"server/dropManagedFields", &pageLW{objs: server, pageSize: 500}, &InformerOptions{Transform: DropManagedFields}},
		{"server/dropManagedFields/compress", &pageLW{objs: server, pageSize: 500}, &InformerOptions{Transform: DropManagedFields, Compress: true}},
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
// way; a compressed store holds much less than its JSON. Not parallel: it reads heap statistics.
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
		// Compressed, the store holds a quarter of the JSON (0.25x
		// measured on these ConfigMaps).
		{"compressed", &pageLW{objs: serverObjects(len(objs)), pageSize: 500}, &InformerOptions{Transform: DropManagedFields, Compress: true}, 0.35},
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
