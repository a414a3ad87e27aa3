package e2e_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/unstructured"
)

// TestJSONPitfallsRoundTrip sends the real server the keys and numbers that
// trip gjson/sjson users (design.md) and checks each comes back exactly:
// an annotation key with dots and a slash, an all-digit data key, and an
// int64 above 2^53 that float64 would round.
func TestJSONPitfallsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	c := admin(t)

	cm := unstructured.New("v1", "ConfigMap")
	b := cm.Builder()
	b.Set("metadata.name", "pitfalls")
	b.Set(unstructured.Path("metadata", "annotations", "kubernetes.io/change-cause"), "by kubedyn")
	b.Set(unstructured.Path("data", "8080"), "port")
	b.Set(unstructured.Path("data", "app.config.yaml"), "special")
	cm, err := b.Object()
	require.NoError(t, err)
	cms := c.Resource("v1", "ConfigMap").Namespace(ns)
	_, err = cms.Create(ctx, cm, nil)
	require.NoError(t, err)
	got, err := cms.Get(ctx, "pitfalls", nil)
	require.NoError(t, err)
	assert.Equal(t, "by kubedyn", got.Get(unstructured.Path("metadata", "annotations", "kubernetes.io/change-cause")).String())
	assert.Equal(t, "by kubedyn", got.Annotations()["kubernetes.io/change-cause"])
	assert.True(t, got.Get("data").IsObject(), "an all-digit key stays an object key, not an array index")
	assert.Equal(t, "port", got.Get(unstructured.Path("data", "8080")).String())
	assert.Equal(t, "special", got.Get(unstructured.Path("data", "app.config.yaml")).String())

	const big = "9007199254740993" // 2^53+1: float64 makes it ...992
	pod := obj(t, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"big"},"spec":{"terminationGracePeriodSeconds":`+big+`,"containers":[{"name":"c","image":"busybox"}]}}`)
	pods := c.Resource("v1", "Pod").Namespace(ns)
	_, err = pods.Create(ctx, pod, nil)
	require.NoError(t, err)
	gotPod, err := pods.Get(ctx, "big", nil)
	require.NoError(t, err)
	assert.Equal(t, big, gotPod.Get("spec.terminationGracePeriodSeconds").Raw)
	assert.Equal(t, int64(9007199254740993), gotPod.Get("spec.terminationGracePeriodSeconds").Int())

	// The same number written through Set survives an Update.
	upd, err := gotPod.Set("metadata.labels.n", "1")
	require.NoError(t, err)
	out, err := pods.Update(ctx, upd, nil)
	require.NoError(t, err)
	assert.Equal(t, big, out.Get("spec.terminationGracePeriodSeconds").Raw)
}
