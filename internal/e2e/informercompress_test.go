package e2e_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
)

// compressCM is a ConfigMap shaped like internal/bench's: labels, a
// last-applied annotation and a few data keys.
func compressCM(t *testing.T, i int) unstructured.Object {
	t.Helper()
	return obj(t, fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg-%03d",`+
		`"labels":{"app.kubernetes.io/name":"svc-%d","app.kubernetes.io/part-of":"shop","tier":"t%d"},`+
		`"annotations":{"owner":"platform@example.com"}},`+
		`"data":{"app.properties":"server.port=%d\nserver.threads=%d\ndb.url=jdbc:postgresql://db-%d.svc:5432/app\n","log.level":"info","timeout":"%ds"}}`,
		i, i%13, i%3, 8000+i, 8+i%56, i%9, 5+i%55))
}

// eventLog records an informer's handler calls by object name.
type eventLog struct {
	mu      sync.Mutex
	adds    map[string]string   // name -> resourceVersion
	updates map[string][]string // name -> "old->new" resourceVersions
	deletes map[string]unstructured.Object
	marker  chan struct{} // closed when the object named "marker" is added
}

func (l *eventLog) handler() watch.Handler {
	l.adds, l.updates, l.deletes = map[string]string{}, map[string][]string{}, map[string]unstructured.Object{}
	l.marker = make(chan struct{})
	return watch.Handler{
		OnAdd: func(o unstructured.Object, _ bool) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.adds[o.Name()] = o.ResourceVersion()
			if o.Name() == "marker" {
				close(l.marker)
			}
		},
		OnUpdate: func(old, o unstructured.Object) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.updates[o.Name()] = append(l.updates[o.Name()], old.ResourceVersion()+"->"+o.ResourceVersion())
		},
		OnDelete: func(o unstructured.Object) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.deletes[o.Name()] = o
		},
	}
}

// TestInformerCompressedRealServer runs an informer with a compressed
// store (managedFields dropped, a label index) beside a plain one on the
// same namespace of the real kube-apiserver: after the initial sync and
// after updates, deletes and creates, the compressed store holds exactly
// the server's objects (the same JSON as the plain store), its index
// answers like the plain one, and its handlers get the same events, with
// old and last states read back out of the compressed store.
func TestInformerCompressedRealServer(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	cms := admin(t).Resource("v1", "ConfigMap").Namespace(ns)
	const n = 60 // well past the 4 KiB of objects the dictionary is made of
	for i := range n {
		_, err := cms.Create(ctx, compressCM(t, i), nil)
		require.NoError(t, err)
	}

	opts := func(compress bool) *watch.InformerOptions {
		return &watch.InformerOptions{
			Transform: watch.DropManagedFields,
			Indexers:  map[string]watch.IndexFunc{"tier": watch.LabelIndex("tier")},
			Compress:  compress,
		}
	}
	var packedLog, plainLog eventLog
	packed := runInformer(t, cms.ListWatcher(nil), opts(true))
	packed.inf.AddHandler(packedLog.handler())
	plain := runInformer(t, cms.ListWatcher(nil), opts(false))
	plain.inf.AddHandler(plainLog.handler())
	require.NoError(t, packed.inf.WaitForSync(ctx))
	require.NoError(t, plain.inf.WaitForSync(ctx))

	// bare is o without managedFields, kind and apiVersion (which the
	// server's list items leave out and watch events carry).
	bare := func(o unstructured.Object) string {
		t.Helper()
		o, err := o.Builder().Delete("metadata.managedFields").Delete("kind").Delete("apiVersion").Object()
		require.NoError(t, err)
		return o.String()
	}
	// matches checks the compressed store against the server and the plain
	// store: the same objects, byte for byte, by every read.
	matches := func(when string) {
		t.Helper()
		want := map[string]string{}
		for o, err := range cms.List(ctx, nil) {
			require.NoError(t, err)
			want[o.Name()] = bare(o)
		}
		got := map[string]string{}
		for _, o := range packed.inf.Store().List() {
			got[o.Name()] = bare(o)
		}
		assert.Equal(t, want, got, "%s: the compressed store holds the server's objects", when)
		for _, k := range plain.inf.Store().Keys() {
			p, _ := plain.inf.Store().Get(k)
			c, ok := packed.inf.Store().Get(k)
			require.True(t, ok, "%s: %s", when, k)
			assert.Equal(t, p.String(), c.String(), "%s: %s", when, k)
			rv, ok := packed.inf.Store().ResourceVersionOf(k)
			assert.True(t, ok)
			assert.Equal(t, p.ResourceVersion(), rv)
		}
		assert.Equal(t, plain.inf.Store().Keys(), packed.inf.Store().Keys())
		for _, tier := range []string{"t0", "t1", "t2"} {
			pk, err := plain.inf.Store().KeysByIndex("tier", tier)
			require.NoError(t, err)
			ck, err := packed.inf.Store().KeysByIndex("tier", tier)
			require.NoError(t, err)
			assert.Equal(t, pk, ck, "%s: index tier=%s", when, tier)
			objs, err := packed.inf.Store().ByIndex("tier", tier)
			require.NoError(t, err)
			for _, o := range objs {
				assert.Equal(t, tier, o.Labels()["tier"])
				assert.Equal(t, want[o.Name()], bare(o))
			}
		}
	}
	matches("after the initial sync")

	// Updates (one moves an object to another index value), deletes and
	// creates; a marker written last tells when both informers saw them.
	before := map[string]string{}
	for i := range 10 {
		o, ok := packed.inf.Store().Get(watch.Key{Namespace: ns, Name: fmt.Sprintf("cfg-%03d", i)})
		require.True(t, ok)
		before[o.Name()] = o.ResourceVersion()
		_, err := cms.Patch(ctx, o.Name(), resource.MergePatch, fmt.Appendf(nil, `{"metadata":{"labels":{"tier":"t%d"}},"data":{"log.level":"debug-%d"}}`, (i+1)%3, i), nil)
		require.NoError(t, err)
	}
	for i := 10; i < 15; i++ {
		_, err := cms.Delete(ctx, fmt.Sprintf("cfg-%03d", i), nil)
		require.NoError(t, err)
	}
	for i := n; i < n+5; i++ {
		_, err := cms.Create(ctx, compressCM(t, i), nil)
		require.NoError(t, err)
	}
	_, err := cms.Create(ctx, obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"marker"}}`), nil)
	require.NoError(t, err)
	for _, w := range []*storeWatcher{packed, plain} {
		w.until(t, time.Minute, "the marker", func(s *watch.Store) bool {
			_, ok := s.Get(watch.Key{Namespace: ns, Name: "marker"})
			return ok
		})
	}
	matches("after updates, deletes and creates")

	// The handlers saw the same changes; old states came out of the
	// compressed store.
	for _, l := range []*eventLog{&packedLog, &plainLog} {
		select {
		case <-l.marker:
		case <-ctx.Done():
			t.Fatal("a handler never saw the marker")
		}
	}
	packedLog.mu.Lock()
	plainLog.mu.Lock()
	defer packedLog.mu.Unlock()
	defer plainLog.mu.Unlock()
	assert.Equal(t, plainLog.adds, packedLog.adds)
	assert.Equal(t, plainLog.updates, packedLog.updates)
	for name, rv := range before {
		require.Len(t, packedLog.updates[name], 1, name)
		assert.Equal(t, rv, packedLog.updates[name][0][:len(rv)], "%s: the old state is the one stored", name)
	}
	require.Len(t, packedLog.deletes, 5)
	for name, o := range packedLog.deletes {
		assert.Equal(t, plainLog.deletes[name].String(), o.String(), name)
	}
}
