package watch_test

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/watch"
)

// ours returns the stacks of goroutines running the Watcher's or the
// resource package's code.
func ours() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, frame := range []string{"watch.(*run)", "watch.(*Watcher)", "watch.(*deadline)", "watch.Decode", "kubedyn/kubedyn/resource."} {
			if strings.Contains(g, frame) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// TestWatcherLeavesNoGoroutines ends Watchers in each state they can be in
// — watching, waiting out a backoff, waiting for a WatchList's end — and
// checks that every goroutine they started ends with their context. It is
// not parallel, so that no other test's watchers run meanwhile.
func TestWatcherLeavesNoGoroutines(t *testing.T) {
	srv, cms := setup(t)
	_, err := cms.Create(t.Context(), configMap(t, "a", "0"), nil)
	require.NoError(t, err)
	require.Empty(t, ours())

	states := []struct {
		name  string
		setup func()
		// ready reports that the watcher is in the state to end it in.
		ready func(*watch.Watcher, []watch.Event) bool
	}{
		{"watching", func() {}, func(_ *watch.Watcher, evs []watch.Event) bool {
			return len(evs) > 0 && evs[len(evs)-1].Type == watch.Synced && srv.OpenWatches() == 1
		}},
		{"in backoff", func() { srv.Inject(testserver.Fault{Query: "watch=true", Status: http.StatusServiceUnavailable}) },
			func(w *watch.Watcher, _ []watch.Event) bool { return w.Stats().Failures > 0 }},
		{"waiting for the end of the initial events", func() { srv.HideInitialEventsEnd(true) },
			func(_ *watch.Watcher, evs []watch.Event) bool { return len(evs) == 1 }},
	}
	for _, st := range states {
		srv.ClearFaults()
		srv.HideInitialEventsEnd(false)
		st.setup()
		clock := newManualClock() // timers never fire: the watcher stays put
		w := watch.NewWatcher(cms.ListWatcher(nil), &watch.Config{Clock: clock, Logger: quiet(), DisableWatchList: false})
		ctx, cancel := context.WithCancel(t.Context())
		evs := make(chan watch.Event, 100)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ev, err := range w.Events(ctx) {
				if err == nil {
					evs <- ev
				}
			}
		}()
		var got []watch.Event
		require.Eventually(t, func() bool {
			for len(evs) > 0 {
				got = append(got, <-evs)
			}
			return st.ready(w, got)
		}, 10*time.Second, time.Millisecond, st.name)
		require.NotEmpty(t, ours(), "%s: the watcher's goroutine is running", st.name)
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the watcher did not stop with its context", st.name)
		}
		assert.Eventually(t, func() bool { return len(ours()) == 0 }, 10*time.Second, time.Millisecond,
			"%s: goroutines left: %v", st.name, ours())
		assert.Eventually(t, func() bool { return srv.OpenWatches() == 0 }, 10*time.Second, time.Millisecond,
			"%s: the watch connection was not closed", st.name)
	}
}

func TestBackoffSchedule(t *testing.T) {
	t.Parallel()
	b := watch.DefaultBackoff
	var mid []time.Duration
	for i := range 8 {
		mid = append(mid, b.Step(i, 0.5))
	}
	assert.Equal(t, []time.Duration{800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond,
		6400 * time.Millisecond, 12800 * time.Millisecond, 25600 * time.Millisecond, 30 * time.Second, 30 * time.Second}, mid)
	assert.Equal(t, 600*time.Millisecond, b.Step(0, 0), "jitter spreads a step by a quarter down")
	assert.InDelta(t, float64(time.Second), float64(b.Step(0, 0.999999)), float64(time.Millisecond), "and a quarter up")
	assert.Equal(t, 30*time.Second, b.Step(20, 0.99), "never above Max")
	assert.Equal(t, 800*time.Millisecond, watch.Backoff{}.Step(0, 0.5), "zero fields take the defaults")
}
