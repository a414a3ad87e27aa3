package e2e_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	clusterpkg "github.com/kubedyn/kubedyn/internal/cluster"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

// TestExpiredAfterCompaction runs a control plane of its own that compacts
// etcd every second, so that old resourceVersions expire: a continue token
// from before the compaction gets 410 Expired. (A watch from that revision
// still succeeds: the watch cache keeps recent events after etcd compacts.)
func TestExpiredAfterCompaction(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	c, err := clusterpkg.Start(ctx, &clusterpkg.Options{ExtraAPIServerArgs: []string{"--etcd-compaction-interval=1s"}})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Stop()) })

	rc, err := resource.NewClient(&transport.Config{Host: c.URL, TLS: transport.TLSConfig{CAData: c.CAPEM}, BearerToken: c.AdminToken})
	require.NoError(t, err)
	cms := rc.Resource("v1", "ConfigMap").Namespace("default")
	for i := range 3 {
		_, err := cms.Create(ctx, obj(t, fmt.Sprintf(`{"metadata":{"name":"cm-%d"}}`, i)), nil)
		require.NoError(t, err)
	}
	page, err := cms.ListPage(ctx, &resource.ListOptions{Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, page.Continue())

	// Writes move the revision on; the compactor then drops the old ones.
	eventually(t, time.Minute, "the continue token to expire", func() bool {
		_, err := cms.Patch(ctx, "cm-0", resource.MergePatch, []byte(`{"data":{"t":"`+time.Now().Format(time.RFC3339Nano)+`"}}`), nil)
		require.NoError(t, err)
		_, err = cms.ListPage(ctx, &resource.ListOptions{Limit: 1, Continue: page.Continue()})
		if err == nil {
			return false
		}
		require.ErrorIs(t, err, transport.ErrGone)
		var ae *transport.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "Expired", ae.Reason)
		return true
	})

	// The resource iterator surfaces the expiry as ErrGone too.
	var sawErr error
	for _, err := range cms.List(ctx, &resource.ListOptions{Limit: 1, Continue: page.Continue()}) {
		sawErr = err
	}
	assert.ErrorIs(t, sawErr, transport.ErrGone)
}
