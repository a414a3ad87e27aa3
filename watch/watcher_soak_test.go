package watch_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/watch"
)

// TestWatcherConvergesUnderFaults writes while injecting every watch fault
// the test server has, at random, and checks that the watcher's view ends
// equal to the server's: nothing lost, nothing out of order, no delete of
// something never added.
func TestWatcherConvergesUnderFaults(t *testing.T) {
	t.Parallel()
	for _, disable := range []bool{false, true} {
		t.Run(fmt.Sprintf("DisableWatchList=%v", disable), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			srv, cms := setup(t)
			// One page per list: the test server's continued pages show the
			// current state, not the first page's snapshot as the real server
			// does (its doc.go says so), which would replay events already seen.
			w := watch.NewWatcher(cms.ListWatcher(nil), &watch.Config{Backoff: fastBackoff, DisableWatchList: disable, PageSize: 1000, Logger: quiet()})

			var mu sync.Mutex
			view := map[string]string{}
			var problems []string
			synced := make(chan struct{}, 100)
			wctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for ev, err := range w.Events(wctx) {
					if err != nil {
						return
					}
					mu.Lock()
					name := ev.Object.Name()
					switch ev.Type {
					case watch.Added, watch.Modified:
						if old, ok := view[name]; ok && atoi(ev.ResourceVersion()) <= atoi(old) {
							problems = append(problems, fmt.Sprintf("%s %s %s after %s", ev.Type, name, ev.ResourceVersion(), old))
						}
						view[name] = ev.ResourceVersion()
					case watch.Deleted:
						if _, ok := view[name]; !ok {
							problems = append(problems, "DELETED "+name+" unknown")
						}
						delete(view, name)
					case watch.Synced:
						synced <- struct{}{}
					}
					mu.Unlock()
				}
			}()
			defer func() { cancel(); <-done }()
			<-synced
			_, err := cms.Create(ctx, configMap(t, "churn", "0"), nil)
			require.NoError(t, err)

			rng := rand.New(rand.NewPCG(1, uint64(len(t.Name()))))
			faults := []func(){
				srv.DropWatches,
				srv.EndWatches,
				func() { srv.CutWatches(); srv.SendBookmarks() },
				srv.Compact,
				srv.SendBookmarks,
				func() { srv.Inject(testserver.Fault{Query: "watch=true", Delay: 5 * time.Millisecond, Times: 1}) },
				func() {
					srv.Inject(testserver.Fault{Query: "watch=true", Status: http.StatusServiceUnavailable, Times: 2})
				},
				func() { srv.Inject(testserver.Fault{Query: "watch=true", Drop: true, Times: 1}) },
				func() {
					// Expire the watcher's place while it is away: 410, relist.
					srv.Inject(testserver.Fault{Query: "watch=true", Status: http.StatusServiceUnavailable, Times: 3})
					srv.DropWatches()
					require.Eventually(t, func() bool { return srv.OpenWatches() == 0 }, 10*time.Second, time.Millisecond)
					_, err := cms.Patch(ctx, "churn", resource.MergePatch, []byte(`{"data":{"t":"`+time.Now().String()+`"}}`), nil)
					require.NoError(t, err)
					srv.Compact()
				},
			}
			exists := map[string]bool{}
			injected := 0
			for i := range 300 {
				name := "cm-" + strconv.Itoa(rng.IntN(30))
				switch {
				case !exists[name]:
					_, err = cms.Create(ctx, configMap(t, name, "0"), nil)
					exists[name] = true
				case rng.IntN(3) == 0:
					_, err = cms.Delete(ctx, name, nil)
					exists[name] = false
				default:
					_, err = cms.Patch(ctx, name, resource.MergePatch, []byte(`{"data":{"v":"`+strconv.Itoa(i)+`"}}`), nil)
				}
				require.NoError(t, err)
				if rng.IntN(8) == 0 {
					// Strike an open watch, not one still reconnecting.
					require.Eventually(t, func() bool { return srv.OpenWatches() == 1 }, 10*time.Second, time.Millisecond)
					faults[rng.IntN(len(faults))]()
					injected++
				}
			}
			srv.ClearFaults()
			items, _, err := cms.ListAll(ctx, nil)
			require.NoError(t, err)
			want := map[string]string{}
			for _, o := range items {
				want[o.Name()] = o.ResourceVersion()
			}
			require.Eventually(t, func() bool {
				mu.Lock()
				defer mu.Unlock()
				return assert.ObjectsAreEqual(want, view)
			}, 20*time.Second, time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			assert.Empty(t, problems)
			t.Logf("%d faults injected; stats: %+v", injected, w.Stats())
		})
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
