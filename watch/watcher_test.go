package watch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/watch"
)

func TestWatcherListsThenWatches(t *testing.T) {
	t.Parallel()
	for _, disable := range []bool{false, true} {
		t.Run(fmt.Sprintf("DisableWatchList=%v", disable), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			srv, cms := setup(t)
			for i := range 5 {
				_, err := cms.Create(ctx, configMap(t, fmt.Sprintf("cm-%d", i), "0"), nil)
				require.NoError(t, err)
			}
			w := watch.NewWatcher(cms.ListWatcher(nil), &watch.Config{DisableWatchList: disable, PageSize: 2, Logger: quiet()})
			e := run(t, w)
			initial := e.until(watch.Synced)
			assert.ElementsMatch(t, []string{"ADDED cm-0", "ADDED cm-1", "ADDED cm-2", "ADDED cm-3", "ADDED cm-4", "SYNCED "}, summary(initial))
			for _, ev := range initial[:5] {
				assert.Equal(t, "ConfigMap", ev.Object.Kind(), "list items get their kind")
				assert.Equal(t, "v1", ev.Object.APIVersion())
			}
			assert.Equal(t, srv.ResourceVersion(), initial[5].ResourceVersion())

			_, err := cms.Create(ctx, configMap(t, "new", "1"), nil)
			require.NoError(t, err)
			_, err = cms.Patch(ctx, "cm-0", resource.MergePatch, []byte(`{"data":{"v":"2"}}`), nil)
			require.NoError(t, err)
			_, err = cms.Delete(ctx, "cm-1", nil)
			require.NoError(t, err)
			changes := []watch.Event{e.next(), e.next(), e.next()}
			// The changes came through the open watch, so it is there to
			// get the bookmark (SendBookmarks reaches open watches only: sent
			// before the watcher's watch request arrived, it was lost).
			srv.SendBookmarks()
			assert.Equal(t, []string{"ADDED new", "MODIFIED cm-0", "DELETED cm-1", "BOOKMARK "}, summary(append(changes, e.next())))
			assert.Equal(t, srv.ResourceVersion(), w.ResourceVersion())

			st := w.Stats()
			if disable {
				assert.Equal(t, 1, st.Lists)
				assert.Equal(t, 0, st.WatchLists)
				assert.Equal(t, 1, st.Watches)
			} else {
				assert.Equal(t, 0, st.Lists)
				assert.Equal(t, 1, st.WatchLists)
				assert.Equal(t, 0, st.Watches)
			}
			for _, r := range srv.Requests() {
				if r.Query.Get("watch") == "true" {
					assert.Equal(t, "true", r.Query.Get("allowWatchBookmarks"))
					sec, err := time.ParseDuration(r.Query.Get("timeoutSeconds") + "s")
					require.NoError(t, err)
					assert.True(t, sec >= 5*time.Minute && sec <= 10*time.Minute, "timeoutSeconds %v", sec)
				}
			}
		})
	}
}

// TestWatcherResumes breaks the watch in each way the network and the server
// can, changes objects while the watcher reconnects, and checks that every
// change arrives once, in order, without a relist.
func TestWatcherResumes(t *testing.T) {
	t.Parallel()
	faults := map[string]func(*testserver.Server){
		"dropped between events": (*testserver.Server).DropWatches,
		"ended by the server":    (*testserver.Server).EndWatches,
		"cut in the middle of an event": func(s *testserver.Server) {
			s.CutWatches()
			s.SendBookmarks() // an event to cut
		},
	}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			srv, cms := setup(t)
			_, err := cms.Create(ctx, configMap(t, "a", "0"), nil)
			require.NoError(t, err)
			w := watch.NewWatcher(cms.ListWatcher(nil), &watch.Config{Backoff: fastBackoff, Logger: quiet()})
			e := run(t, w)
			e.until(watch.Synced)
			// Hold reconnects off while objects change.
			srv.Inject(testserver.Fault{Query: "watch=true", Status: http.StatusServiceUnavailable})
			watchesBefore := srv.OpenWatches()
			require.Equal(t, 1, watchesBefore)
			fault(srv)
			require.Eventually(t, func() bool { return srv.OpenWatches() == 0 }, 10*time.Second, time.Millisecond)
			for i := range 3 {
				_, err := cms.Create(ctx, configMap(t, fmt.Sprintf("b-%d", i), "0"), nil)
				require.NoError(t, err)
			}
			_, err = cms.Patch(ctx, "a", resource.MergePatch, []byte(`{"data":{"v":"1"}}`), nil)
			require.NoError(t, err)
			srv.ClearFaults()
			got := []watch.Event{e.next(), e.next(), e.next(), e.next()}
			assert.Equal(t, []string{"ADDED b-0", "ADDED b-1", "ADDED b-2", "MODIFIED a"}, summary(got))
			assert.Equal(t, "1", got[3].Object.Get("data.v").String())
			// Nothing more: a bookmark comes next, not a repeated event.
			srv.SendBookmarks()
			assert.Equal(t, watch.Bookmark, e.next().Type)
			st := w.Stats()
			assert.Zero(t, st.Restarts)
			assert.Zero(t, st.Lists)
			assert.Equal(t, 1, st.WatchLists)
			assert.GreaterOrEqual(t, st.Watches, 1)
		})
	}
}

// TestWatcherRelistsAfterGone makes the watcher's resourceVersion expire
// while it is disconnected: it must say Restarted and deliver the
// difference, deletions included.
func TestWatcherRelistsAfterGone(t *testing.T) {
	t.Parallel()
	for _, disable := range []bool{false, true} {
		t.Run(fmt.Sprintf("DisableWatchList=%v", disable), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			srv, cms := setup(t)
			for _, n := range []string{"keep", "change", "remove"} {
				_, err := cms.Create(ctx, configMap(t, n, "0"), nil)
				require.NoError(t, err)
			}
			reported := make(chan error, 1000)
			w := watch.NewWatcher(cms.ListWatcher(nil), &watch.Config{Backoff: fastBackoff, DisableWatchList: disable,
				OnError: func(err error) { reported <- err }})
			e := run(t, w)
			e.until(watch.Synced)

			srv.Inject(testserver.Fault{Query: "watch=true", Status: http.StatusServiceUnavailable})
			srv.DropWatches()
			require.Eventually(t, func() bool { return srv.OpenWatches() == 0 }, 10*time.Second, time.Millisecond)
			_, err := cms.Patch(ctx, "change", resource.MergePatch, []byte(`{"data":{"v":"1"}}`), nil)
			require.NoError(t, err)
			_, err = cms.Delete(ctx, "remove", nil)
			require.NoError(t, err)
			_, err = cms.Create(ctx, configMap(t, "added", "0"), nil)
			require.NoError(t, err)
			srv.Compact()
			srv.ClearFaults()

			got := e.until(watch.Synced)
			assert.Equal(t, "RESTARTED ", summary(got)[0])
			assert.ElementsMatch(t, []string{"RESTARTED ", "MODIFIED change", "ADDED added", "DELETED remove", "SYNCED "}, summary(got))
			assert.Equal(t, "DELETED remove", summary(got)[len(got)-2], "deletions come after the listed objects")
			assert.Equal(t, "default", got[len(got)-2].Object.Namespace())
			assert.Equal(t, srv.ResourceVersion(), got[len(got)-1].ResourceVersion())
			assert.Equal(t, 1, w.Stats().Restarts)
			gone := 0
			for len(reported) > 0 {
				if errors.Is(<-reported, transport.ErrGone) {
					gone++
				}
			}
			assert.Equal(t, 1, gone, "the 410 is reported to OnError")

			// Live again.
			_, err = cms.Create(ctx, configMap(t, "after", "0"), nil)
			require.NoError(t, err)
			assert.Equal(t, []string{"ADDED after"}, summary([]watch.Event{e.next()}))
		})
	}
}

// TestWatcherIdleDeadline takes a silent connection for dead after
// IdleTimeout and reconnects; time spent by the consumer does not count.
func TestWatcherIdleDeadline(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv, cms := setup(t)
	clock := newManualClock()
	w := watch.NewWatcher(cms.ListWatcher(nil), &watch.Config{Clock: clock, IdleTimeout: time.Minute, Backoff: fastBackoff, Logger: quiet()})
	e := run(t, w)
	e.until(watch.Synced)
	require.Equal(t, 1, srv.OpenWatches())

	clock.Step(59 * time.Second)
	_, err := cms.Create(ctx, configMap(t, "a", "0"), nil)
	require.NoError(t, err)
	assert.Equal(t, "ADDED a", summary([]watch.Event{e.next()})[0])
	clock.Step(59 * time.Second) // an event came 59 s ago: still alive
	assert.Zero(t, w.Stats().IdleTimeouts)
	assert.Equal(t, 1, srv.OpenWatches())

	clock.Step(2 * time.Second) // 61 s of silence
	require.Eventually(t, func() bool { return w.Stats().IdleTimeouts == 1 }, 10*time.Second, time.Millisecond)
	// The backoff wait runs on the manual clock too.
	require.Eventually(t, func() bool { clock.Step(time.Second); return w.Stats().Watches == 1 }, 10*time.Second, time.Millisecond)
	_, err = cms.Create(ctx, configMap(t, "b", "0"), nil)
	require.NoError(t, err)
	assert.Equal(t, "ADDED b", summary([]watch.Event{e.next()})[0])
	assert.Zero(t, w.Stats().Restarts)
}

// TestWatchListFallback covers both ways a WatchList fails: the server
// refuses it, or it never sends the initial-events-end bookmark. The
// watcher falls back to list + watch and a later watcher of the same
// resource skips WatchList.
func TestWatchListFallback(t *testing.T) {
	t.Parallel()
	tests := map[string]func(*testserver.Server){
		"refused with 400": func(s *testserver.Server) {
			s.Inject(testserver.Fault{Query: "sendInitialEvents=true", Status: http.StatusBadRequest})
		},
		"refused with 422": func(s *testserver.Server) {
			s.Inject(testserver.Fault{Query: "sendInitialEvents=true", Status: http.StatusUnprocessableEntity})
		},
		"no end bookmark": func(s *testserver.Server) { s.HideInitialEventsEnd(true) },
	}
	for name, fault := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			srv, cms := setup(t)
			for _, n := range []string{"a", "b"} {
				_, err := cms.Create(ctx, configMap(t, n, "0"), nil)
				require.NoError(t, err)
			}
			fault(srv)
			clock := newManualClock()
			w := watch.NewWatcher(cms.ListWatcher(nil), &watch.Config{Clock: clock, WatchListTimeout: 10 * time.Second, Backoff: fastBackoff, Logger: quiet()})
			e := run(t, w)
			if name == "no end bookmark" {
				// The initial events come, then silence.
				assert.ElementsMatch(t, []string{"ADDED a", "ADDED b"}, summary([]watch.Event{e.next(), e.next()}))
				clock.Step(9 * time.Second)
				assert.Zero(t, w.Stats().WatchListFallbacks)
				clock.Step(2 * time.Second)
				// The list finds the same objects: only Synced follows.
				assert.Equal(t, []string{"SYNCED "}, summary(e.until(watch.Synced)))
			} else {
				assert.ElementsMatch(t, []string{"ADDED a", "ADDED b", "SYNCED "}, summary(e.until(watch.Synced)))
			}
			st := w.Stats()
			assert.Equal(t, 1, st.WatchListFallbacks)
			assert.Equal(t, 1, st.Lists)
			_, err := cms.Create(ctx, configMap(t, "c", "0"), nil)
			require.NoError(t, err)
			assert.Equal(t, "ADDED c", summary([]watch.Event{e.next()})[0])

			// A second watcher of the same resource lists straight away.
			w2 := watch.NewWatcher(cms.ListWatcher(nil), &watch.Config{Backoff: fastBackoff, Logger: quiet()})
			e2 := run(t, w2)
			assert.Len(t, e2.until(watch.Synced), 4)
			assert.Zero(t, w2.Stats().WatchLists)
			assert.Equal(t, 1, w2.Stats().Lists)
		})
	}
}

// TestWatcherKnown uses a caller's KeyStore instead of the watcher's own
// record when it relists.
func TestWatcherKnown(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv, cms := setup(t)
	_, err := cms.Create(ctx, configMap(t, "a", "0"), nil)
	require.NoError(t, err)
	held := keyStore{{Namespace: "default", Name: "ghost"}: "1", {Namespace: "default", Name: "a"}: "x"}
	w := watch.NewWatcher(cms.ListWatcher(nil), &watch.Config{Known: held, Logger: quiet()})
	e := run(t, w)
	got := summary(e.until(watch.Synced))
	assert.Equal(t, []string{"MODIFIED a", "DELETED ghost", "SYNCED "}, got)
	_ = srv
}

type keyStore map[watch.Key]string

func (k keyStore) ResourceVersionOf(key watch.Key) (string, bool) { rv, ok := k[key]; return rv, ok }
func (k keyStore) Keys() []watch.Key {
	var out []watch.Key
	for key := range k {
		out = append(out, key)
	}
	slices.SortFunc(out, func(a, b watch.Key) int { return compare(a.String(), b.String()) })
	return out
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestWatcherFinal ends the events with an error that Final declares final.
func TestWatcherFinal(t *testing.T) {
	t.Parallel()
	srv, cms := setup(t)
	srv.Inject(testserver.Fault{Query: "sendInitialEvents", Status: http.StatusForbidden})
	srv.Inject(testserver.Fault{PathPrefix: "/api/v1/namespaces/default/configmaps", Status: http.StatusForbidden})
	w := watch.NewWatcher(cms.ListWatcher(nil), &watch.Config{Backoff: fastBackoff, Logger: quiet(),
		Final: func(err error) bool { return true }})
	var last error
	n := 0
	for _, err := range w.Events(context.Background()) {
		n++
		last = err
	}
	assert.Equal(t, 1, n)
	assert.Error(t, last)
}

// TestWatcherRelistsAfterGoneStatus gets 410 as the HTTP status of the
// watch request instead of an ERROR event.
func TestWatcherRelistsAfterGoneStatus(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv, cms := setup(t)
	_, err := cms.Create(ctx, configMap(t, "a", "0"), nil)
	require.NoError(t, err)
	w := watch.NewWatcher(cms.ListWatcher(nil), &watch.Config{Backoff: fastBackoff, Logger: quiet()})
	e := run(t, w)
	e.until(watch.Synced)
	srv.Inject(testserver.Fault{Query: "watch=true", Status: http.StatusGone, Times: 1})
	srv.DropWatches()
	assert.Equal(t, []string{"RESTARTED ", "SYNCED "}, summary(e.until(watch.Synced)), "nothing changed, so nothing is repeated")
	_, err = cms.Create(ctx, configMap(t, "b", "0"), nil)
	require.NoError(t, err)
	assert.Equal(t, "ADDED b", summary([]watch.Event{e.next()})[0])
}

// TestWatcherMetadataOnly watches PartialObjectMetadata through a
// MetadataOnly handle, by WatchList and by list.
func TestWatcherMetadataOnly(t *testing.T) {
	t.Parallel()
	for _, disable := range []bool{false, true} {
		t.Run(fmt.Sprintf("DisableWatchList=%v", disable), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			_, cms := setup(t)
			_, err := cms.Create(ctx, configMap(t, "a", "big"), nil)
			require.NoError(t, err)
			w := watch.NewWatcher(cms.MetadataOnly().ListWatcher(nil), &watch.Config{DisableWatchList: disable, Logger: quiet()})
			e := run(t, w)
			evs := e.until(watch.Synced)
			require.Len(t, evs, 2)
			assert.Equal(t, "PartialObjectMetadata", evs[0].Object.Kind())
			assert.Equal(t, "meta.k8s.io/v1", evs[0].Object.APIVersion())
			assert.False(t, evs[0].Object.Get("data").Exists())
			_, err = cms.Create(ctx, configMap(t, "b", "big"), nil)
			require.NoError(t, err)
			ev := e.next()
			assert.Equal(t, "PartialObjectMetadata", ev.Object.Kind())
			assert.False(t, ev.Object.Get("data").Exists())
		})
	}
}

// TestWatcherSlowConsumerIsNotIdle holds an event in the consumer for
// longer than the idle timeout: the connection is not taken for dead.
func TestWatcherSlowConsumerIsNotIdle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv, cms := setup(t)
	clock := newManualClock()
	w := watch.NewWatcher(cms.ListWatcher(nil), &watch.Config{Clock: clock, IdleTimeout: time.Minute, Logger: quiet()})
	holding, release, after := make(chan struct{}), make(chan struct{}), make(chan struct{})
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.Events(wctx) {
			switch ev.Object.Name() {
			case "slow":
				close(holding)
				<-release
			case "after":
				close(after)
			}
		}
	}()
	defer func() { cancel(); <-done }()
	require.Eventually(t, func() bool { return srv.OpenWatches() == 1 }, 10*time.Second, time.Millisecond)
	_, err := cms.Create(ctx, configMap(t, "slow", "0"), nil)
	require.NoError(t, err)
	<-holding
	clock.Step(5 * time.Minute) // the consumer is busy all this time
	close(release)
	_, err = cms.Create(ctx, configMap(t, "after", "0"), nil)
	require.NoError(t, err)
	select {
	case <-after:
	case <-time.After(10 * time.Second):
		t.Fatal("the event after the slow one did not come: the connection was dropped while the consumer was busy")
	}
	st := w.Stats()
	assert.Zero(t, st.IdleTimeouts)
	assert.Zero(t, st.Watches, "the WatchList's connection is still the one in use")
	// Silence, though, is noticed.
	require.Eventually(t, func() bool { clock.Step(time.Second); return w.Stats().IdleTimeouts == 1 }, 10*time.Second, time.Millisecond)
}
