package testserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type watchEvent struct {
	Type   string         `json:"type"`
	Object map[string]any `json:"object"`
}

// watcher is an open watch stream read frame by frame.
type watcher struct {
	t          *testing.T
	dec        *json.Decoder
	res        *http.Response
	lastObject map[string]any
}

func (c *tclient) watch(t *testing.T, p string) *watcher {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", c.srv.URL()+p, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.srv.Token())
	res, err := c.hc.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { res.Body.Close() })
	require.Equal(t, http.StatusOK, res.StatusCode)
	return &watcher{t: t, dec: json.NewDecoder(res.Body), res: res}
}

func (w *watcher) next() watchEvent {
	w.t.Helper()
	var ev watchEvent
	require.NoError(w.t, w.dec.Decode(&ev))
	w.lastObject = ev.Object
	return ev
}

func (w *watcher) expect(typ, name string) watchEvent {
	w.t.Helper()
	ev := w.next()
	assert.Equal(w.t, typ, ev.Type, "event %v", ev.Object)
	if name != "" {
		assert.Equal(w.t, name, path(ev.Object, "metadata.name"))
	}
	return ev
}

func TestWatch(t *testing.T) {
	t.Parallel()
	c := setup(t)
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"before"}}`).code)
	rv := c.srv.ResourceVersion()

	all := c.watch(t, "/api/v1/namespaces/default/configmaps?watch=true")
	all.expect("ADDED", "before") // no resourceVersion: the current state first
	from := c.watch(t, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion="+rv)
	sel := c.watch(t, "/api/v1/configmaps?watch=true&labelSelector=app%3Dweb&resourceVersion="+rv)

	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"a","labels":{"app":"web"}}}`).code)
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/kube-system/configmaps", `{"metadata":{"name":"other-ns","labels":{"app":"web"}}}`).code)
	require.Equal(t, http.StatusOK, c.do("PATCH", "/api/v1/namespaces/default/configmaps/a", `{"data":{"k":"v"}}`, "Content-Type", "application/merge-patch+json").code)
	require.Equal(t, http.StatusOK, c.do("PATCH", "/api/v1/namespaces/default/configmaps/a", `{"metadata":{"labels":{"app":"db"}}}`, "Content-Type", "application/merge-patch+json").code)
	require.Equal(t, http.StatusOK, c.do("DELETE", "/api/v1/namespaces/default/configmaps/a", "").code)

	for _, w := range []*watcher{all, from} {
		ev := w.expect("ADDED", "a")
		assert.Equal(t, "ConfigMap", ev.Object["kind"])
		assert.Equal(t, "v", path(w.expect("MODIFIED", "a").Object, "data.k"))
		w.expect("MODIFIED", "a")
		w.expect("DELETED", "a")
	}
	sel.expect("ADDED", "a")
	sel.expect("ADDED", "other-ns")
	sel.expect("MODIFIED", "a")
	sel.expect("DELETED", "a") // left the selector
}

func TestWatchBookmarksAndInitialEvents(t *testing.T) {
	t.Parallel()
	c := setup(t)
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"one"}}`).code)
	w := c.watch(t, "/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=&allowWatchBookmarks=true")
	w.expect("ADDED", "one")
	bm := w.expect("BOOKMARK", "")
	assert.Equal(t, map[string]any{"k8s.io/initial-events-end": "true"}, path(bm.Object, "metadata.annotations"))
	assert.Equal(t, c.srv.ResourceVersion(), path(bm.Object, "metadata.resourceVersion"))

	c.srv.SendBookmarks()
	bm2 := w.expect("BOOKMARK", "")
	assert.Equal(t, "ConfigMap", bm2.Object["kind"])
	assert.NotEmpty(t, path(bm2.Object, "metadata.resourceVersion"))

	for _, q := range []struct{ query, message string }{
		{"watch=true&sendInitialEvents=true", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"},
		{"watch=true&resourceVersionMatch=NotOlderThan&resourceVersion=1", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"},
		{"sendInitialEvents=true", "sendInitialEvents is forbidden for list"},
		{"resourceVersion=0&resourceVersionMatch=Exact", `resourceVersionMatch "exact" is forbidden for resourceVersion "0"`},
	} {
		bad := c.do("GET", "/api/v1/namespaces/default/configmaps?"+q.query, "")
		assert.Equal(t, http.StatusUnprocessableEntity, bad.code, q.query)
		assert.Contains(t, bad.str("message"), q.message)
	}
}

func TestWatchExpired(t *testing.T) {
	t.Parallel()
	c := setup(t)
	old := c.srv.ResourceVersion()
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"x"}}`).code)
	c.srv.Compact()
	w := c.watch(t, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion="+old)
	ev := w.expect("ERROR", "")
	assert.Equal(t, "Status", ev.Object["kind"])
	assert.EqualValues(t, 410, ev.Object["code"])
	assert.Equal(t, "Expired", ev.Object["reason"])
	assert.Contains(t, ev.Object["message"], "too old resource version: "+old+" (")

	// A watch from a resourceVersion after the compaction works.
	w2 := c.watch(t, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion="+c.srv.ResourceVersion())
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"y"}}`).code)
	w2.expect("ADDED", "y")
}

// timeoutSeconds and Close both end a watch cleanly: the chunked stream
// is complete (io.EOF, not io.ErrUnexpectedEOF or a reset), with no
// event, and the timeout comes no earlier than asked.
func TestWatchTimeoutAndClose(t *testing.T) {
	t.Parallel()
	c := setup(t)
	start := time.Now()
	w := c.watch(t, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion="+c.srv.ResourceVersion()+"&timeoutSeconds=1")
	var ev watchEvent
	assert.ErrorIs(t, w.dec.Decode(&ev), io.EOF, "the stream ends cleanly after timeoutSeconds")
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "not before timeoutSeconds")
	assert.Empty(t, ev.Type, "no event before the end")

	w2 := c.watch(t, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion="+c.srv.ResourceVersion())
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"before-close"}}`).code)
	w2.expect("ADDED", "before-close")
	c.srv.Close()
	assert.ErrorIs(t, w2.dec.Decode(&ev), io.EOF, "Close ends open watches cleanly")
	c.srv.Close() // a second Close does nothing
}

func TestEndAndDropWatches(t *testing.T) {
	t.Parallel()
	c := setup(t)
	rv := c.srv.ResourceVersion()
	ended := c.watch(t, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion="+rv)
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"a"}}`).code)
	ended.expect("ADDED", "a")
	c.srv.EndWatches()
	var ev watchEvent
	assert.ErrorIs(t, ended.dec.Decode(&ev), io.EOF, "an ended watch closes cleanly")

	dropped := c.watch(t, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion="+rv)
	dropped.expect("ADDED", "a")
	c.srv.DropWatches()
	err := dropped.dec.Decode(&ev)
	require.Error(t, err)
	assert.NotErrorIs(t, err, io.EOF, "a dropped watch breaks mid-stream: %v", err)

	// A watch resumed from the last event sees what happened meanwhile.
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"b"}}`).code)
	resumed := c.watch(t, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion="+path(dropped.lastObject, "metadata.resourceVersion").(string))
	resumed.expect("ADDED", "b")
}

// A watch is established before its response header is sent: a change made
// as soon as the client has the header reaches it, and so does EndWatches.
func TestWatchEstablishedBeforeHeader(t *testing.T) {
	t.Parallel()
	c := setup(t)
	w := c.watch(t, "/api/v1/namespaces/default/configmaps?watch=true") // from the current state, which is empty
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"right-after"}}`).code)
	w.expect("ADDED", "right-after")

	ended := c.watch(t, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion="+c.srv.ResourceVersion())
	c.srv.EndWatches()
	var ev watchEvent
	assert.ErrorIs(t, ended.dec.Decode(&ev), io.EOF, "EndWatches reaches a watch whose client has only the header")
}

// An object that leaves a watch's selector is a DELETED event carrying the
// object as it was, at the change's resourceVersion, as the real server's
// watch cache sends it.
func TestWatchLeavingSelectorSendsPreviousObject(t *testing.T) {
	t.Parallel()
	c := setup(t)
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"a","labels":{"app":"web"}}}`).code)
	w := c.watch(t, "/api/v1/namespaces/default/configmaps?watch=true&labelSelector=app%3Dweb&resourceVersion="+c.srv.ResourceVersion())
	p := c.do("PATCH", "/api/v1/namespaces/default/configmaps/a", `{"metadata":{"labels":{"app":"db"}}}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusOK, p.code)
	ev := w.expect("DELETED", "a")
	assert.Equal(t, "web", path(ev.Object, "metadata.labels.app"), "the object as it matched")
	assert.Equal(t, p.str("metadata.resourceVersion"), path(ev.Object, "metadata.resourceVersion"), "at the change's resourceVersion")
}
