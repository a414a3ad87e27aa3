package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	clusterpkg "github.com/kubedyn/kubedyn/internal/cluster"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/watch"
)

// Real-server tests of the watch package: the Watcher against concurrent
// writers, restarts from old resourceVersions, WatchList and its fallback,
// a dead connection under a quiet watch, and 410 Gone.

// quickBackoff keeps reconnects short in tests.
var quickBackoff = watch.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond}

// mirror applies a Watcher's events to a map, as an informer's store would,
// and checks on the way that no object goes back in time.
type mirror struct {
	mu       sync.Mutex
	objs     map[string]string // name -> resourceVersion
	synced   int
	restarts int
	events   int
	errs     []error
}

func newMirror() *mirror { return &mirror{objs: map[string]string{}} }

// run ranges over w's events until ctx ends.
func (m *mirror) run(ctx context.Context, w *watch.Watcher) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range w.Events(ctx) {
			m.mu.Lock()
			m.apply(ev, err)
			m.mu.Unlock()
		}
	}()
	return done
}

func (m *mirror) apply(ev watch.Event, err error) {
	if err != nil {
		m.errs = append(m.errs, err)
		return
	}
	m.events++
	name := ev.Object.Name()
	switch ev.Type {
	case watch.Added, watch.Modified:
		if old, ok := m.objs[name]; ok && rvNumber(ev.ResourceVersion()) <= rvNumber(old) {
			m.errs = append(m.errs, fmt.Errorf("%s %s at %s after %s: not newer", ev.Type, name, ev.ResourceVersion(), old))
		}
		m.objs[name] = ev.ResourceVersion()
	case watch.Deleted:
		if _, ok := m.objs[name]; !ok {
			m.errs = append(m.errs, fmt.Errorf("DELETED %s, which was not there", name))
		}
		delete(m.objs, name)
	case watch.Synced:
		m.synced++
	case watch.Restarted:
		m.restarts++
	}
}

func rvNumber(rv string) int64 { n, _ := strconv.ParseInt(rv, 10, 64); return n }

func (m *mirror) snapshot() (map[string]string, int, int, []error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := make(map[string]string, len(m.objs))
	for k, v := range m.objs {
		c[k] = v
	}
	return c, m.synced, m.restarts, append([]error(nil), m.errs...)
}

// listed returns name -> resourceVersion of a fresh list.
func listed(t *testing.T, ctx context.Context, h resource.Handle) map[string]string {
	t.Helper()
	items, _, err := h.ListAll(ctx, nil)
	require.NoError(t, err)
	out := map[string]string{}
	for _, o := range items {
		out[o.Name()] = o.ResourceVersion()
	}
	return out
}

// converges waits until the mirror holds exactly what a fresh list holds.
func converges(t *testing.T, ctx context.Context, m *mirror, h resource.Handle) {
	t.Helper()
	want := listed(t, ctx, h)
	var got map[string]string
	eventually(t, time.Minute, "the watcher's state to match a fresh list", func() bool {
		got, _, _, _ = m.snapshot()
		return assert.ObjectsAreEqual(want, got)
	})
	_, _, _, errs := m.snapshot()
	assert.Empty(t, errs)
}

func TestWatcherConvergesUnderConcurrentWriters(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	cms := admin(t).Resource("v1", "ConfigMap").Namespace(ns)
	w := watch.NewWatcher(cms.ListWatcher(nil), &watch.Config{Backoff: quickBackoff})
	m := newMirror()
	wctx, cancel := context.WithCancel(ctx)
	done := m.run(wctx, w)
	defer func() { cancel(); <-done }()
	eventually(t, 30*time.Second, "the first Synced", func() bool { _, s, _, _ := m.snapshot(); return s == 1 })

	// 8 writers, 250 operations each, on names of their own.
	const writers, ops = 8, 250
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for wi := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(wi), 1))
			exists := map[string]bool{}
			for i := range ops {
				name := fmt.Sprintf("w%d-%d", wi, rng.IntN(20))
				var err error
				switch {
				case !exists[name]:
					_, err = cms.Create(ctx, obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"`+name+`"},"data":{"i":"0"}}`), nil)
					exists[name] = true
				case rng.IntN(3) == 0:
					_, err = cms.Delete(ctx, name, nil)
					exists[name] = false
				default:
					_, err = cms.Patch(ctx, name, resource.MergePatch, []byte(`{"data":{"i":"`+strconv.Itoa(i)+`"}}`), nil)
				}
				if err != nil {
					errs <- fmt.Errorf("writer %d op %d on %s: %w", wi, i, name, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	converges(t, ctx, m, cms)
	_, _, restarts, _ := m.snapshot()
	assert.Zero(t, restarts)
	st := w.Stats()
	assert.Equal(t, 1, st.WatchLists, "the real server serves WatchList")
	assert.Zero(t, st.Lists)
	assert.Zero(t, st.WatchListFallbacks)
	t.Logf("%d writes by %d writers; %d events; watcher stats %+v", writers*ops, writers, m.events, st)
}

// TestWatchFromOldResourceVersion restarts a watch from a resourceVersion a
// few changes back: the server replays every change after it, in order.
func TestWatchFromOldResourceVersion(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	cms := admin(t).Resource("v1", "ConfigMap").Namespace(ns)
	created, err := cms.Create(ctx, obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}`), nil)
	require.NoError(t, err)
	var rvs []string
	for i := range 5 {
		o, err := cms.Patch(ctx, "a", resource.MergePatch, []byte(`{"data":{"i":"`+strconv.Itoa(i)+`"}}`), nil)
		require.NoError(t, err)
		rvs = append(rvs, o.ResourceVersion())
	}
	_, err = cms.Delete(ctx, "a", nil)
	require.NoError(t, err)

	var got []string
	for ev, err := range cms.Watch(ctx, &resource.WatchOptions{ResourceVersion: created.ResourceVersion(), TimeoutSeconds: 30}) {
		require.NoError(t, err)
		got = append(got, string(ev.Type)+" "+ev.ResourceVersion())
		if ev.Type == watch.Deleted {
			break
		}
	}
	want := make([]string, 0, 6)
	for _, rv := range rvs {
		want = append(want, "MODIFIED "+rv)
	}
	require.Len(t, got, 6)
	assert.Equal(t, want, got[:5])
	assert.Contains(t, got[5], "DELETED ")
}

// TestWatchListRealServer reads the initial state with a WatchList: Added
// events, then the annotated bookmark carrying the list's resourceVersion.
func TestWatchListRealServer(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	cms := admin(t).Resource("v1", "ConfigMap").Namespace(ns)
	for i := range 3 {
		_, err := cms.Create(ctx, obj(t, fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-%d"}}`, i)), nil)
		require.NoError(t, err)
	}
	// One watch request, as the Watcher sends it.
	yes := true
	var added []string
	var end watch.Event
	for ev, err := range cms.Watch(ctx, &resource.WatchOptions{SendInitialEvents: &yes, AllowWatchBookmarks: true,
		ResourceVersionMatch: resource.ResourceVersionMatchNotOlderThan, TimeoutSeconds: 30}) {
		require.NoError(t, err)
		if ev.Type == watch.Bookmark {
			end = ev
			break
		}
		assert.Equal(t, watch.Added, ev.Type)
		added = append(added, ev.Object.Name())
	}
	assert.True(t, end.IsInitialEventsEnd(), "%s", end.Object)
	assert.ElementsMatch(t, []string{"cm-0", "cm-1", "cm-2"}, withoutRootCA(added))
	assert.NotEmpty(t, end.ResourceVersion())

	// The Watcher does the same and reports Synced with that state.
	w := watch.NewWatcher(cms.ListWatcher(nil), nil)
	m := newMirror()
	wctx, cancel := context.WithCancel(ctx)
	done := m.run(wctx, w)
	eventually(t, 30*time.Second, "Synced", func() bool { _, s, _, _ := m.snapshot(); return s == 1 })
	cancel()
	<-done
	objs, _, _, errs := m.snapshot()
	assert.Empty(t, errs)
	assert.Len(t, objs, len(added))
	assert.Equal(t, watch.Stats{WatchLists: 1}, w.Stats())
}

// withoutRootCA leaves out the kube-root-ca.crt ConfigMap that a
// controller puts in every namespace when one runs.
func withoutRootCA(names []string) []string {
	return slices.DeleteFunc(names, func(n string) bool { return n == "kube-root-ca.crt" })
}

// tcpProxy forwards TCP connections to a target. Blackhole makes the open
// connections silent in both directions without closing them, as a dead
// network path does; Pause refuses new connections.
type tcpProxy struct {
	ln     net.Listener
	target string
	paused atomic.Bool

	mu    sync.Mutex
	conns []*proxiedConn
}

type proxiedConn struct {
	client, server net.Conn
	dead           atomic.Bool
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &tcpProxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.paused.Load() {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		pc := &proxiedConn{client: c, server: s}
		p.mu.Lock()
		p.conns = append(p.conns, pc)
		p.mu.Unlock()
		go pc.pipe(c, s)
		go pc.pipe(s, c)
	}
}

// pipe copies src to dst until either fails; once dead, it reads and drops.
func (pc *proxiedConn) pipe(src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !pc.dead.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				src.Close()
				return
			}
		}
		if err != nil {
			if !pc.dead.Load() {
				dst.Close()
			}
			return
		}
	}
}

// blackhole silences every open connection.
func (p *tcpProxy) blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.dead.Store(true)
	}
}

// closeConns closes every open connection.
func (p *tcpProxy) closeConns() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.client.Close()
		c.server.Close()
	}
	p.conns = nil
}

func (p *tcpProxy) close() {
	p.ln.Close()
	p.closeConns()
}

// proxiedClient is an admin client whose connections go through p.
func proxiedClient(t *testing.T, c *clusterpkg.Cluster, p *tcpProxy) *resource.Client {
	t.Helper()
	rc, err := resource.NewClient(&transport.Config{Host: "https://" + p.addr(),
		TLS: transport.TLSConfig{CAData: c.CAPEM, ServerName: "127.0.0.1"}, BearerToken: c.AdminToken})
	require.NoError(t, err)
	return rc
}

// TestWatcherNoticesDeadConnection silences the network under a quiet
// watch: the Watcher notices (HTTP/2 pings, else its idle deadline),
// reconnects and goes on. The time to notice is logged.
func TestWatcherNoticesDeadConnection(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	c := cluster(t)
	ns := newNamespace(t)
	p := newTCPProxy(t, c.URL[len("https://"):])
	cms := proxiedClient(t, c, p).Resource("v1", "ConfigMap").Namespace(ns)
	noticed := make(chan time.Time, 10)
	w := watch.NewWatcher(cms.ListWatcher(nil), &watch.Config{Backoff: quickBackoff,
		OnError: func(err error) { t.Logf("recovered: %v", err); noticed <- time.Now() }})
	m := newMirror()
	wctx, wcancel := context.WithCancel(ctx)
	done := m.run(wctx, w)
	defer func() { wcancel(); <-done }()
	eventually(t, 30*time.Second, "Synced", func() bool { _, s, _, _ := m.snapshot(); return s == 1 })

	killed := time.Now()
	p.blackhole()
	var at time.Time
	select {
	case at = <-noticed:
	case <-time.After(watch.DefaultIdleTimeout + 30*time.Second):
		t.Fatal("the dead connection was not noticed within the idle timeout")
	}
	took := at.Sub(killed)
	t.Logf("dead connection noticed after %v (HTTP/2 ping: 30s idle + 15s timeout; idle deadline %v)", took.Round(100*time.Millisecond), watch.DefaultIdleTimeout)
	assert.Less(t, took, watch.DefaultIdleTimeout+10*time.Second)

	// The watcher is back: a change made now arrives.
	_, err := admin(t).Resource("v1", "ConfigMap").Namespace(ns).Create(ctx, obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"after"}}`), nil)
	require.NoError(t, err)
	converges(t, ctx, m, admin(t).Resource("v1", "ConfigMap").Namespace(ns))
	assert.Zero(t, w.Stats().Restarts)
}

// TestWatchGoneWithoutWatchCache runs a control plane of its own without
// the watch cache and with etcd compacting every second, so a watch from an
// old resourceVersion reaches etcd and gets 410. The Watcher, held off
// while its place expires, relists, says Restarted and converges.
func TestWatchGoneWithoutWatchCache(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	c, err := clusterpkg.Start(ctx, &clusterpkg.Options{ExtraAPIServerArgs: []string{"--watch-cache=false", "--etcd-compaction-interval=1s"}})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Stop()) })
	rc, err := resource.NewClient(&transport.Config{Host: c.URL, TLS: transport.TLSConfig{CAData: c.CAPEM}, BearerToken: c.AdminToken})
	require.NoError(t, err)
	cms := rc.Resource("v1", "ConfigMap").Namespace("default")
	for _, n := range []string{"keep", "change", "remove"} {
		_, err := cms.Create(ctx, obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"`+n+`"}}`), nil)
		require.NoError(t, err)
	}
	_, oldRV, err := cms.ListAll(ctx, nil)
	require.NoError(t, err)

	p := newTCPProxy(t, c.URL[len("https://"):])
	pcms := proxiedClient(t, c, p).Resource("v1", "ConfigMap").Namespace("default")
	reported := make(chan error, 1000)
	w := watch.NewWatcher(pcms.ListWatcher(nil), &watch.Config{Backoff: quickBackoff, OnError: func(err error) { reported <- err }})
	m := newMirror()
	wctx, wcancel := context.WithCancel(ctx)
	done := m.run(wctx, w)
	defer func() { wcancel(); <-done }()
	eventually(t, 30*time.Second, "Synced", func() bool { _, s, _, _ := m.snapshot(); return s == 1 })
	st := w.Stats()
	t.Logf("without the watch cache, the initial state came by: %+v", st)

	// Cut the watcher off, change things, and wait until etcd has
	// compacted the watcher's place away: a plain watch from there is 410.
	p.paused.Store(true)
	p.closeConns()
	_, err = cms.Patch(ctx, "change", resource.MergePatch, []byte(`{"data":{"k":"v"}}`), nil)
	require.NoError(t, err)
	_, err = cms.Delete(ctx, "remove", nil)
	require.NoError(t, err)
	_, err = cms.Create(ctx, obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"added"}}`), nil)
	require.NoError(t, err)
	eventually(t, time.Minute, "a watch from the old resourceVersion to get 410", func() bool {
		_, err := cms.Patch(ctx, "keep", resource.MergePatch, []byte(`{"data":{"t":"`+time.Now().Format(time.RFC3339Nano)+`"}}`), nil)
		require.NoError(t, err)
		for _, err := range cms.Watch(ctx, &resource.WatchOptions{ResourceVersion: oldRV, TimeoutSeconds: 1}) {
			if err != nil {
				if errors.Is(err, transport.ErrGone) {
					var ae *transport.APIError
					require.ErrorAs(t, err, &ae)
					t.Logf("410 from the real server: %v", err)
					return true
				}
				require.NoError(t, err)
			}
		}
		return false
	})
	p.paused.Store(false)

	eventually(t, time.Minute, "the Restarted relist", func() bool { _, _, r, _ := m.snapshot(); return r == 1 })
	converges(t, ctx, m, cms)
	objs, synced, _, _ := m.snapshot()
	assert.Equal(t, 2, synced)
	assert.Contains(t, objs, "added")
	assert.NotContains(t, objs, "remove")
	gone := false
	for len(reported) > 0 {
		if errors.Is(<-reported, transport.ErrGone) {
			gone = true
		}
	}
	assert.True(t, gone, "the 410 was reported")
}

// TestWatchListFallbackRealServer runs a control plane of its own with the
// WatchList feature off, which refuses sendInitialEvents: the Watcher falls
// back to list + watch, converges, and a second watcher of the same
// resource lists straight away.
func TestWatchListFallbackRealServer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	c, err := clusterpkg.Start(ctx, &clusterpkg.Options{ExtraAPIServerArgs: []string{"--feature-gates=WatchList=false"}})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Stop()) })
	rc, err := resource.NewClient(&transport.Config{Host: c.URL, TLS: transport.TLSConfig{CAData: c.CAPEM}, BearerToken: c.AdminToken})
	require.NoError(t, err)
	cms := rc.Resource("v1", "ConfigMap").Namespace("default")
	for i := range 3 {
		_, err := cms.Create(ctx, obj(t, fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-%d"}}`, i)), nil)
		require.NoError(t, err)
	}

	// What the server answers to a WatchList request.
	yes := true
	for _, err := range cms.Watch(ctx, &resource.WatchOptions{SendInitialEvents: &yes, AllowWatchBookmarks: true,
		ResourceVersionMatch: resource.ResourceVersionMatchNotOlderThan, TimeoutSeconds: 5}) {
		t.Logf("WatchList with the feature off: %v", err)
		require.ErrorIs(t, err, transport.ErrInvalid)
		break
	}

	reported := make(chan error, 100)
	w := watch.NewWatcher(cms.ListWatcher(nil), &watch.Config{Backoff: quickBackoff, OnError: func(err error) { reported <- err }})
	m := newMirror()
	wctx, wcancel := context.WithCancel(ctx)
	done := m.run(wctx, w)
	defer func() { wcancel(); <-done }()
	eventually(t, 30*time.Second, "Synced", func() bool { _, s, _, _ := m.snapshot(); return s == 1 })
	_, err = cms.Create(ctx, obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"live"}}`), nil)
	require.NoError(t, err)
	converges(t, ctx, m, cms)
	st := w.Stats()
	t.Logf("watcher stats: %+v; first error: %v", st, <-reported)
	assert.Equal(t, 1, st.WatchListFallbacks)
	assert.Equal(t, 1, st.Lists)

	w2 := watch.NewWatcher(cms.ListWatcher(nil), nil)
	m2 := newMirror()
	done2 := m2.run(wctx, w2)
	eventually(t, 30*time.Second, "the second watcher's Synced", func() bool { _, s, _, _ := m2.snapshot(); return s == 1 })
	wcancel()
	<-done2
	st2 := w2.Stats()
	assert.Equal(t, 1, st2.Lists)
	assert.Zero(t, st2.WatchLists, "the refusal is remembered for the server and resource")
	assert.Zero(t, st2.Failures)
}

// TestWatchMetadataRealServer watches PartialObjectMetadata: names and
// labels without the data.
func TestWatchMetadataRealServer(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	cms := admin(t).Resource("v1", "ConfigMap").Namespace(ns)
	_, err := cms.Create(ctx, obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":{"l":"x"}},"data":{"big":"data"}}`), nil)
	require.NoError(t, err)
	for ev, err := range cms.WatchMetadata(ctx, &resource.WatchOptions{LabelSelector: "l=x", TimeoutSeconds: 30}) {
		require.NoError(t, err)
		assert.Equal(t, watch.Added, ev.Type)
		assert.Equal(t, "PartialObjectMetadata", ev.Object.Kind())
		assert.Equal(t, "meta.k8s.io/v1", ev.Object.APIVersion())
		assert.Equal(t, "a", ev.Object.Name())
		assert.False(t, ev.Object.Get("data").Exists())
		break
	}
	// And through a Watcher, with the WatchList's initial events.
	w := watch.NewWatcher(cms.MetadataOnly().ListWatcher(&resource.ListWatcherOptions{LabelSelector: "l=x"}), nil)
	for ev, err := range w.Events(ctx) {
		require.NoError(t, err)
		if ev.Type == watch.Synced {
			break
		}
		assert.Equal(t, "PartialObjectMetadata", ev.Object.Kind())
		assert.False(t, ev.Object.Get("data").Exists())
	}
	assert.Equal(t, 1, w.Stats().WatchLists)
}

// streamProxy is an HTTPS reverse proxy (HTTP/1.1 towards the client, so
// no HTTP/2 pings) in front of the real server that passes responses line
// by line. It can freeze the streams open now (they stay open and silent,
// as behind a dead network path) and leave out initial-events-end
// bookmarks (as a server that ignores sendInitialEvents).
type streamProxy struct {
	srv      *httptest.Server
	upstream *http.Client
	target   string
	frozen   atomic.Int64 // streams that started before this generation are silent
	gen      atomic.Int64
	stripEnd atomic.Bool
}

func newStreamProxy(t *testing.T, c *clusterpkg.Cluster) *streamProxy {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(c.CAPEM))
	p := &streamProxy{target: c.URL, upstream: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}}
	p.srv = httptest.NewTLSServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

// freeze silences every stream open now.
func (p *streamProxy) freeze() { p.frozen.Store(p.gen.Add(1)) }

func (p *streamProxy) serve(w http.ResponseWriter, r *http.Request) {
	gen := p.gen.Load()
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	// The proxy works on lines of the event stream, so it asks for the
	// stream uncompressed: the real server gzips a WatchList when the client
	// accepts it, and a gzipped stream has no lines (the proxy held back the
	// tail of every flush until a compressed '\n' byte came by, and the
	// initial-events-end bookmark it was to strip got through whenever one
	// did).
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := p.upstream.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		if k != "Content-Length" {
			w.Header()[k] = vs
		}
	}
	w.WriteHeader(resp.StatusCode)
	fl, _ := w.(http.Flusher)
	br := bufio.NewReader(resp.Body)
	for {
		line, err := br.ReadBytes('\n')
		if p.frozen.Load() > gen {
			<-r.Context().Done() // open and silent until the client gives up
			return
		}
		if len(line) > 0 && !(p.stripEnd.Load() && bytes.Contains(line, []byte("k8s.io/initial-events-end"))) {
			if _, werr := w.Write(line); werr != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
		}
		if err != nil {
			return
		}
	}
}

// client is an admin client whose requests go through p.
func (p *streamProxy) client(t *testing.T, c *clusterpkg.Cluster) *resource.Client {
	t.Helper()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw})
	rc, err := resource.NewClient(&transport.Config{Host: p.srv.URL, TLS: transport.TLSConfig{CAData: ca}, BearerToken: c.AdminToken})
	require.NoError(t, err)
	return rc
}

// TestWatcherIdleDeadlineRealServer freezes the real server's stream behind
// an HTTP/1.1 proxy, where no HTTP/2 ping can notice: the idle deadline
// does, and the watcher goes on.
func TestWatcherIdleDeadlineRealServer(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := cluster(t)
	ns := newNamespace(t)
	p := newStreamProxy(t, c)
	cms := p.client(t, c).Resource("v1", "ConfigMap").Namespace(ns)
	noticed := make(chan error, 10)
	const idle = 15 * time.Second
	w := watch.NewWatcher(cms.ListWatcher(nil), &watch.Config{Backoff: quickBackoff, IdleTimeout: idle, OnError: func(err error) { noticed <- err }})
	m := newMirror()
	wctx, wcancel := context.WithCancel(ctx)
	done := m.run(wctx, w)
	defer func() { wcancel(); <-done }()
	eventually(t, 30*time.Second, "Synced", func() bool { _, s, _, _ := m.snapshot(); return s == 1 })

	// What the watcher recovered from while it synced (on a control plane
	// that started a moment ago the WatchList's end bookmark can miss its
	// bound, and the watcher falls back to a list) is not what this test
	// measures.
	for drained := false; !drained; {
		select {
		case err := <-noticed:
			t.Logf("before the freeze: %v", err)
		default:
			drained = true
		}
	}
	frozen := time.Now()
	p.freeze()
	select {
	case err := <-noticed:
		took := time.Since(frozen)
		t.Logf("frozen HTTP/1.1 stream noticed after %v: %v", took.Round(100*time.Millisecond), err)
		assert.ErrorContains(t, err, "idle timeout")
		assert.Less(t, took, idle+5*time.Second)
	case <-time.After(idle + 30*time.Second):
		t.Fatal("the frozen stream was not noticed")
	}
	assert.Equal(t, 1, w.Stats().IdleTimeouts)
	_, err := admin(t).Resource("v1", "ConfigMap").Namespace(ns).Create(ctx, obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"after"}}`), nil)
	require.NoError(t, err)
	converges(t, ctx, m, admin(t).Resource("v1", "ConfigMap").Namespace(ns))
}

// TestWatchListNoEndBookmarkRealServer hides the initial-events-end
// bookmark of the real server's WatchList: the watcher falls back to list +
// watch within its bound instead of waiting for the watch to time out.
func TestWatchListNoEndBookmarkRealServer(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := cluster(t)
	ns := newNamespace(t)
	admins := admin(t).Resource("v1", "ConfigMap").Namespace(ns)
	for i := range 3 {
		_, err := admins.Create(ctx, obj(t, fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-%d"}}`, i)), nil)
		require.NoError(t, err)
	}
	p := newStreamProxy(t, c)
	p.stripEnd.Store(true)
	cms := p.client(t, c).Resource("v1", "ConfigMap").Namespace(ns)
	w := watch.NewWatcher(cms.ListWatcher(nil), &watch.Config{Backoff: quickBackoff, WatchListTimeout: 2 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	m := newMirror()
	wctx, wcancel := context.WithCancel(ctx)
	done := m.run(wctx, w)
	defer func() { wcancel(); <-done }()
	start := time.Now()
	eventually(t, 30*time.Second, "Synced", func() bool { _, s, _, _ := m.snapshot(); return s == 1 })
	t.Logf("synced by fallback after %v", time.Since(start).Round(100*time.Millisecond))
	st := w.Stats()
	assert.Equal(t, 1, st.WatchListFallbacks)
	assert.Equal(t, 1, st.Lists)
	_, err := admins.Create(ctx, obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"live"}}`), nil)
	require.NoError(t, err)
	converges(t, ctx, m, admins)
}
