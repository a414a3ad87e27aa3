package watch_test

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
)

// pagedLW serves n ConfigMaps in pages of size and a watch that stays
// quiet; it logs each page it serves into the shared log.
type pagedLW struct {
	n, size int
	mu      *sync.Mutex
	log     *[]string
}

func (lw pagedLW) List(_ context.Context, req *watch.ListRequest) (unstructured.List, error) {
	start := 0
	if req.Continue != "" {
		start, _ = strconv.Atoi(req.Continue)
	}
	end := min(start+lw.size, lw.n)
	items := ""
	for i := start; i < end; i++ {
		if items != "" {
			items += ","
		}
		items += fmt.Sprintf(`{"metadata":{"name":"cm-%03d","namespace":"ns","resourceVersion":"1"}}`, i)
	}
	cont := ""
	if end < lw.n {
		cont = strconv.Itoa(end)
	}
	lw.mu.Lock()
	*lw.log = append(*lw.log, "page "+strconv.Itoa(start))
	lw.mu.Unlock()
	return unstructured.ParseListString(`{"apiVersion":"v1","kind":"ConfigMapList","metadata":{"resourceVersion":"1","continue":"` + cont + `"},"items":[` + items + `]}`)
}

func (lw pagedLW) Watch(ctx context.Context, _ *watch.WatchRequest) iter.Seq2[watch.Event, error] {
	return func(func(watch.Event, error) bool) { <-ctx.Done() }
}

func (pagedLW) Key() string { return "" }

// TestWatcherListsPageByPage checks that a list is delivered as it is read:
// a page's objects reach the consumer before the next page is requested, so
// no list is ever held whole.
func TestWatcherListsPageByPage(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var log []string
	lw := pagedLW{n: 7, size: 3, mu: &mu, log: &log}
	w := watch.NewWatcher(lw, &watch.Config{DisableWatchList: true, PageSize: 3, Logger: quiet()})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for ev, err := range w.Events(ctx) {
		require.NoError(t, err)
		mu.Lock()
		log = append(log, string(ev.Type)+" "+ev.Object.Name())
		mu.Unlock()
		if ev.Type == watch.Synced {
			break
		}
	}
	assert.Equal(t, []string{
		"page 0", "ADDED cm-000", "ADDED cm-001", "ADDED cm-002",
		"page 3", "ADDED cm-003", "ADDED cm-004", "ADDED cm-005",
		"page 6", "ADDED cm-006", "SYNCED ",
	}, log)
}
