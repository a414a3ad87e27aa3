package testserver

import (
	"bufio"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCutWatches checks that a cut watch sends part of an event and then
// breaks: the client reads a line without its end, then an error.
func TestCutWatches(t *testing.T) {
	t.Parallel()
	c := setup(t)
	w := c.watch(t, "/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion="+c.srv.ResourceVersion())
	require.Equal(t, 1, c.srv.OpenWatches())
	c.srv.CutWatches()
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"a"}}`).code)
	line, err := bufio.NewReader(w.res.Body).ReadString('\n')
	require.Error(t, err, "the stream breaks")
	assert.NotEmpty(t, line, "part of the event came")
	assert.Contains(t, `{"type":"ADDED","object":{`, line[:min(len(line), 20)])
	assert.Eventually(t, func() bool { return c.srv.OpenWatches() == 0 }, 10*time.Second, time.Millisecond)
}

// TestHideInitialEventsEnd leaves out the bookmark that ends a WatchList's
// initial events, and only that one.
func TestHideInitialEventsEnd(t *testing.T) {
	t.Parallel()
	c := setup(t)
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"a"}}`).code)
	c.srv.HideInitialEventsEnd(true)
	w := c.watch(t, "/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan")
	w.expect("ADDED", "a")
	c.srv.SendBookmarks()
	ev := w.expect("BOOKMARK", "")
	assert.Nil(t, path(ev.Object, "metadata.annotations"), "a plain bookmark, not the end of the initial events")

	c.srv.HideInitialEventsEnd(false)
	w = c.watch(t, "/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan")
	w.expect("ADDED", "a")
	ev = w.expect("BOOKMARK", "")
	annotations, _ := path(ev.Object, "metadata.annotations").(map[string]any)
	assert.Equal(t, "true", annotations["k8s.io/initial-events-end"])
}
