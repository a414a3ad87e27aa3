package e2e_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/resource"
)

// TestExtractRoundTrip shows the server-side apply pitfall on the real server
// and its remedy: applying an object read back makes the manager own the
// server's defaults; applying what Extract returns changes nothing (the
// resourceVersion stays), and a changed extract applies only the change.
func TestExtractRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	c := admin(t)
	deploys := c.Resource("apps/v1", "Deployment").Namespace(ns)
	manifest := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"NAME","labels":{"app":"web"},"finalizers":["e2e.example.com/keep"]},
"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
 "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[
  {"name":"web","image":"nginx:1.27","ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":8443,"protocol":"TCP","name":"tls"}],
   "env":[{"name":"A","value":"1"}],"args":["-x"]},
  {"name":"side","image":"busybox:1.36"}],
  "tolerations":[{"key":"k","operator":"Exists","effect":"NoSchedule"}]}}}}`
	mine := &resource.ApplyOptions{FieldManager: "e2e-extract"}
	release := func(name string) {
		t.Cleanup(func() {
			_, _ = deploys.Patch(ctx, name, resource.MergePatch, []byte(`{"metadata":{"finalizers":null}}`), nil)
		})
	}

	t.Run("extract and re-apply is a no-op", func(t *testing.T) {
		applied, err := deploys.Apply(ctx, obj(t, replaceName(manifest, "web")), mine)
		require.NoError(t, err)
		release("web")
		read, err := deploys.Get(ctx, "web", nil)
		require.NoError(t, err)
		assert.Equal(t, "IfNotPresent", read.Get("spec.template.spec.containers.0.imagePullPolicy").String(), "the server filled in defaults")

		extracted, err := resource.Extract(read, "e2e-extract", nil)
		require.NoError(t, err)
		assert.False(t, extracted.Get("spec.template.spec.containers.0.imagePullPolicy").Exists(), "defaults are not the manager's")
		assert.False(t, extracted.Get("spec.strategy").Exists())
		assert.False(t, extracted.Get("status").Exists())
		assert.Equal(t, int64(8443), extracted.Get("spec.template.spec.containers.0.ports.1.containerPort").Int())
		assert.Equal(t, "e2e.example.com/keep", extracted.Get("metadata.finalizers.0").String())

		again, err := deploys.Apply(ctx, extracted, mine)
		require.NoError(t, err)
		assert.Equal(t, applied.ResourceVersion(), again.ResourceVersion(), "re-applying the extract changes nothing")
		assert.Equal(t, read.Get("metadata.managedFields").Raw, again.Get("metadata.managedFields").Raw)

		// A changed extract applies just the change.
		scaled, err := extracted.Set("spec.replicas", 4)
		require.NoError(t, err)
		after, err := deploys.Apply(ctx, scaled, mine)
		require.NoError(t, err)
		assert.Equal(t, int64(4), after.Get("spec.replicas").Int())
		assert.NotEqual(t, applied.ResourceVersion(), after.ResourceVersion())
	})

	t.Run("applying the object read back takes the defaults", func(t *testing.T) {
		_, err := deploys.Apply(ctx, obj(t, replaceName(manifest, "greedy")), mine)
		require.NoError(t, err)
		release("greedy")
		read, err := deploys.Get(ctx, "greedy", nil)
		require.NoError(t, err)
		before, err := resource.Extract(read, "e2e-extract", nil)
		require.NoError(t, err)
		assert.False(t, before.Get("spec.revisionHistoryLimit").Exists())

		_, err = deploys.Apply(ctx, read, mine)
		require.NoError(t, err)
		read, err = deploys.Get(ctx, "greedy", nil)
		require.NoError(t, err)
		after, err := resource.Extract(read, "e2e-extract", nil)
		require.NoError(t, err)
		assert.True(t, after.Get("spec.revisionHistoryLimit").Exists(), "the manager now owns a server default")
		assert.True(t, after.Get("spec.template.spec.containers.0.imagePullPolicy").Exists())
	})

	t.Run("no entry for a manager that never applied", func(t *testing.T) {
		read, err := deploys.Get(ctx, "web", nil)
		require.NoError(t, err)
		_, err = resource.Extract(read, "somebody-else", nil)
		assert.ErrorIs(t, err, resource.ErrNoManagedFields)
	})
}

// replaceName puts name where the manifest says NAME.
func replaceName(manifest, name string) string {
	return strings.Replace(manifest, `"name":"NAME"`, `"name":"`+name+`"`, 1)
}
