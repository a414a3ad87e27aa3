package e2e_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

func TestServerSideApply(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	deploys := admin(t).Resource("apps/v1", "Deployment").Namespace(ns)
	cfg := deployment(t, "web")

	first, err := deploys.Apply(ctx, cfg, &resource.ApplyOptions{FieldManager: "team-a"})
	require.NoError(t, err)
	assert.Equal(t, int64(2), first.Get("spec.replicas").Int())

	t.Run("applying twice is idempotent", func(t *testing.T) {
		again, err := deploys.Apply(ctx, cfg, &resource.ApplyOptions{FieldManager: "team-a"})
		require.NoError(t, err)
		assert.Equal(t, first.ResourceVersion(), again.ResourceVersion())
		assert.Equal(t, first.Generation(), again.Generation())
	})

	t.Run("a fetched object applies back", func(t *testing.T) {
		got, err := deploys.Get(ctx, "web", nil)
		require.NoError(t, err)
		require.True(t, got.Get("metadata.managedFields").Exists())
		_, err = deploys.Apply(ctx, got, &resource.ApplyOptions{FieldManager: "team-a"})
		require.NoError(t, err, "managedFields, resourceVersion and status are stripped")
	})

	t.Run("a second manager conflicts and names the fields", func(t *testing.T) {
		other := set(t, cfg, "spec.replicas", 5)
		other = set(t, other, "spec.template.spec.containers.0.image", "nginx:1.28")
		_, err := deploys.Apply(ctx, other, &resource.ApplyOptions{FieldManager: "team-b"})
		require.Error(t, err)
		assert.ErrorIs(t, err, transport.ErrConflict)
		var conflict *resource.ApplyConflictError
		require.ErrorAs(t, err, &conflict)
		fields := map[string]string{}
		for _, c := range conflict.Conflicts {
			fields[c.Field] = c.Manager
		}
		assert.Equal(t, map[string]string{
			".spec.replicas": "team-a",
			`.spec.template.spec.containers[name="app"].image`: "team-a",
		}, fields)
		var ae *transport.APIError
		require.True(t, errors.As(err, &ae))
		assert.Equal(t, 409, ae.StatusCode)
		got, err := deploys.Get(ctx, "web", nil)
		require.NoError(t, err)
		assert.Equal(t, int64(2), got.Get("spec.replicas").Int(), "a conflicting apply changes nothing")
	})

	t.Run("force takes the fields over", func(t *testing.T) {
		forced, err := deploys.Apply(ctx, set(t, cfg, "spec.replicas", 5), &resource.ApplyOptions{FieldManager: "team-b", Force: true})
		require.NoError(t, err)
		assert.Equal(t, int64(5), forced.Get("spec.replicas").Int())
		var managers []string
		for _, m := range forced.Get("metadata.managedFields.#.manager").Array() {
			managers = append(managers, m.String())
		}
		assert.ElementsMatch(t, []string{"team-a", "team-b"}, managers)
		// team-a now conflicts on replicas.
		_, err = deploys.Apply(ctx, cfg, &resource.ApplyOptions{FieldManager: "team-a"})
		var conflict *resource.ApplyConflictError
		require.ErrorAs(t, err, &conflict)
		require.Len(t, conflict.Conflicts, 1)
		assert.Equal(t, "team-b", conflict.Conflicts[0].Manager)
	})

	t.Run("dry-run apply leaves nothing behind", func(t *testing.T) {
		dry, err := deploys.Apply(ctx, deployment(t, "dry"), &resource.ApplyOptions{FieldManager: "team-a", DryRun: true})
		require.NoError(t, err)
		assert.Equal(t, "dry", dry.Name())
		_, err = deploys.Get(ctx, "dry", nil)
		assert.ErrorIs(t, err, transport.ErrNotFound)
	})

	t.Run("apply without a field manager is refused client side", func(t *testing.T) {
		_, err := deploys.Apply(ctx, cfg, nil)
		assert.ErrorIs(t, err, resource.ErrFieldManagerRequired)
	})

	t.Run("apply to the status subresource", func(t *testing.T) {
		st := obj(t, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"status":{"observedGeneration":1,"replicas":1}}`)
		got, err := deploys.Subresource("status").Apply(ctx, st, &resource.ApplyOptions{FieldManager: "status-writer", Force: true})
		require.NoError(t, err)
		assert.Equal(t, int64(1), got.Get("status.replicas").Int())
		var sub []string
		for _, m := range got.Get("metadata.managedFields").Array() {
			if m.Get("manager").String() == "status-writer" {
				sub = append(sub, m.Get("subresource").String())
			}
		}
		assert.Equal(t, []string{"status"}, sub)
	})

	t.Run("client-wide field manager", func(t *testing.T) {
		c := newClient(t, "admin", resource.WithFieldManager("client-wide"))
		cm := obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fm"},"data":{"k":"v"}}`)
		got, err := c.Resource("v1", "ConfigMap").Namespace(ns).Apply(ctx, cm, nil)
		require.NoError(t, err)
		assert.Equal(t, "client-wide", got.Get("metadata.managedFields.0.manager").String())
	})
}
