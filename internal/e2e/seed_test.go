package e2e_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

const podManifest = `
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports:
    - containerPort: 80
`

// TestSeedPodLifecycle is the seed scenario: a Pod from a YAML manifest is
// created, read, listed, patched and deleted.
func TestSeedPodLifecycle(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	pods := admin(t).Resource("v1", "Pod").Namespace(ns)

	created, err := pods.Create(ctx, obj(t, podManifest), nil)
	require.NoError(t, err)
	assert.Equal(t, "web", created.Name())
	assert.Equal(t, ns, created.Namespace())
	assert.NotEmpty(t, created.UID())
	assert.NotEmpty(t, created.ResourceVersion())
	assert.Equal(t, "Pending", created.Get("status.phase").String(), "no kubelet runs, the pod stays pending")

	got, err := pods.Get(ctx, "web", nil)
	require.NoError(t, err)
	assert.Equal(t, created.UID(), got.UID())
	assert.Equal(t, "nginx:1.27", got.Get("spec.containers.0.image").String())

	var names []string
	for o, err := range pods.List(ctx, nil) {
		require.NoError(t, err)
		names = append(names, o.Name())
	}
	assert.Equal(t, []string{"web"}, names)

	patched, err := pods.Patch(ctx, "web", resource.MergePatch, []byte(`{"metadata":{"labels":{"tier":"frontend"}}}`), nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"app": "web", "tier": "frontend"}, patched.Labels())
	assert.NotEqual(t, got.ResourceVersion(), patched.ResourceVersion())

	zero := int64(0)
	_, err = pods.Delete(ctx, "web", &resource.DeleteOptions{GracePeriodSeconds: &zero})
	require.NoError(t, err)
	_, err = pods.Get(ctx, "web", nil)
	assert.ErrorIs(t, err, transport.ErrNotFound)
	_, err = pods.Delete(ctx, "web", nil)
	assert.ErrorIs(t, err, transport.ErrNotFound)
}
