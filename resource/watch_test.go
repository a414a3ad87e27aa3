package resource_test

import (
	"context"
	"iter"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/watch"
)

// pullEvents starts a watch and returns its next function; the watch ends
// with the test.
func pullEvents(t *testing.T, seq iter.Seq2[watch.Event, error]) func() (watch.Event, error) {
	t.Helper()
	next, stop := iter.Pull2(seq)
	t.Cleanup(stop)
	return func() (watch.Event, error) {
		t.Helper()
		ev, err, ok := next()
		require.True(t, ok, "the watch ended")
		return ev, err
	}
}

func TestWatchChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	_, err := cms.Create(ctx, configMap(t, "before", nil), nil)
	require.NoError(t, err)
	_, rv, err := cms.ListAll(ctx, nil)
	require.NoError(t, err)

	next := pullEvents(t, cms.Watch(ctx, &resource.WatchOptions{ResourceVersion: rv, LabelSelector: "w=1",
		FieldSelector: "metadata.name=a", AllowWatchBookmarks: true, TimeoutSeconds: 60}))
	labelled, err := configMap(t, "a", nil).Set("metadata.labels.w", "1")
	require.NoError(t, err)
	_, err = cms.Create(ctx, labelled, nil)
	require.NoError(t, err)
	ev, err := next()
	require.NoError(t, err)
	assert.Equal(t, watch.Added, ev.Type)
	assert.Equal(t, "a", ev.Object.Name())

	_, err = cms.Patch(ctx, "a", resource.MergePatch, []byte(`{"data":{"k":"v"}}`), nil)
	require.NoError(t, err)
	ev, err = next()
	require.NoError(t, err)
	assert.Equal(t, watch.Modified, ev.Type)
	assert.Equal(t, "v", ev.Object.Get("data.k").String())

	srv.SendBookmarks()
	ev, err = next()
	require.NoError(t, err)
	assert.Equal(t, watch.Bookmark, ev.Type)
	assert.Equal(t, srv.ResourceVersion(), ev.ResourceVersion())

	_, err = cms.Delete(ctx, "a", nil)
	require.NoError(t, err)
	ev, err = next()
	require.NoError(t, err)
	assert.Equal(t, watch.Deleted, ev.Type)
	assert.Equal(t, "a", ev.Object.Name())

	reqs := resourceRequests(srv, "GET", "/configmaps")
	q := reqs[len(reqs)-1].Query
	assert.Equal(t, "true", q.Get("watch"))
	assert.Equal(t, rv, q.Get("resourceVersion"))
	assert.Equal(t, "w=1", q.Get("labelSelector"))
	assert.Equal(t, "metadata.name=a", q.Get("fieldSelector"))
	assert.Equal(t, "true", q.Get("allowWatchBookmarks"))
	assert.Equal(t, "60", q.Get("timeoutSeconds"))
	assert.False(t, q.Has("sendInitialEvents"))
}

func TestWatchList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	for _, n := range []string{"a", "b"} {
		_, err := cms.Create(ctx, configMap(t, n, nil), nil)
		require.NoError(t, err)
	}
	yes := true
	next := pullEvents(t, cms.Watch(ctx, &resource.WatchOptions{SendInitialEvents: &yes,
		ResourceVersionMatch: resource.ResourceVersionMatchNotOlderThan, AllowWatchBookmarks: true}))
	names := map[string]bool{}
	for {
		ev, err := next()
		require.NoError(t, err)
		if ev.Type == watch.Bookmark {
			require.True(t, ev.IsInitialEventsEnd())
			assert.NotEmpty(t, ev.ResourceVersion())
			break
		}
		require.Equal(t, watch.Added, ev.Type)
		names[ev.Object.Name()] = true
	}
	assert.True(t, names["a"] && names["b"], "%v", names)
}

func TestWatchErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	created, err := cms.Create(ctx, configMap(t, "a", nil), nil)
	require.NoError(t, err)
	_, err = cms.Patch(ctx, "a", resource.MergePatch, []byte(`{"data":{"k":"v"}}`), nil)
	require.NoError(t, err)
	srv.Compact()

	t.Run("410 after compaction", func(t *testing.T) {
		var last error
		for _, err := range cms.Watch(ctx, &resource.WatchOptions{ResourceVersion: created.ResourceVersion()}) {
			last = err
		}
		require.ErrorIs(t, last, transport.ErrGone)
		assert.ErrorContains(t, last, "watch v1 configmaps in namespace default: ")
	})
	t.Run("422 for a bad combination", func(t *testing.T) {
		yes := true
		var last error
		for _, err := range cms.Watch(ctx, &resource.WatchOptions{SendInitialEvents: &yes}) {
			last = err
		}
		assert.ErrorIs(t, last, transport.ErrInvalid)
	})
	t.Run("namespace required", func(t *testing.T) {
		var last error
		for _, err := range c.Resource("v1", "ConfigMap").Watch(ctx, nil) {
			last = err
		}
		assert.ErrorIs(t, last, resource.ErrNamespaceRequired)
	})
	t.Run("server ends the watch", func(t *testing.T) {
		next, stop := iter.Pull2(cms.Watch(ctx, &resource.WatchOptions{ResourceVersion: srv.ResourceVersion()}))
		defer stop()
		done := make(chan bool, 1)
		go func() { _, err, ok := next(); done <- ok || err != nil }()
		waitWatchers(t, srv)
		srv.EndWatches()
		assert.False(t, <-done, "the sequence yielded something instead of ending")
	})
}

// waitWatchers waits until the server serves a watch.
func waitWatchers(t *testing.T, srv *testserver.Server) {
	t.Helper()
	require.Eventually(t, func() bool { return srv.OpenWatches() > 0 }, 10*time.Second, time.Millisecond)
}

func TestWatchMetadata(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	_, err := cms.Create(ctx, configMap(t, "a", map[string]string{"big": "data"}), nil)
	require.NoError(t, err)
	for ev, err := range cms.WatchMetadata(ctx, &resource.WatchOptions{ResourceVersion: "0"}) {
		require.NoError(t, err)
		assert.Equal(t, "PartialObjectMetadata", ev.Object.Kind())
		assert.Equal(t, "a", ev.Object.Name())
		assert.False(t, ev.Object.Get("data").Exists())
		break
	}
	reqs := resourceRequests(srv, "GET", "/configmaps")
	assert.Contains(t, reqs[len(reqs)-1].Header.Get("Accept"), "as=PartialObjectMetadata")
}
