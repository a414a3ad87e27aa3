package e2e_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

func TestNamespaceVerbs(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := admin(t)
	nss := c.Resource("v1", "Namespace")
	name := uniqueName("e2e-ns")

	created, err := nss.Create(ctx, obj(t, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"`+name+`","labels":{"e2e":"ns"}}}`), nil)
	require.NoError(t, err)
	assert.Equal(t, "Active", created.Get("status.phase").String())
	assert.Empty(t, created.Namespace())

	got, err := c.ResourceFor("ns").Get(ctx, name, nil)
	require.NoError(t, err)
	assert.Equal(t, created.UID(), got.UID())

	upd, err := nss.Update(ctx, set(t, got, "metadata.labels.updated", "yes"), nil)
	require.NoError(t, err)
	assert.Equal(t, "yes", upd.Labels()["updated"])

	patched, err := nss.Patch(ctx, name, resource.StrategicMergePatch, []byte(`{"metadata":{"annotations":{"a":"b"}}}`), nil)
	require.NoError(t, err)
	assert.Equal(t, "b", patched.Annotations()["a"])

	var found bool
	for o, err := range nss.List(ctx, &resource.ListOptions{LabelSelector: "e2e=ns,updated=yes"}) {
		require.NoError(t, err)
		found = found || o.Name() == name
	}
	assert.True(t, found)

	applied, err := nss.Apply(ctx, obj(t, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"`+name+`","labels":{"applied":"yes"}}}`),
		&resource.ApplyOptions{FieldManager: "e2e"})
	require.NoError(t, err)
	assert.Equal(t, "yes", applied.Labels()["applied"])
	assert.Equal(t, "yes", applied.Labels()["updated"], "apply leaves fields of other managers alone")

	// The status subresource takes what the main resource ignores.
	cond := map[string]any{"type": "e2e.example.com/Checked", "status": "True", "reason": "E2E", "message": "set by the test"}
	withStatus, err := nss.UpdateStatus(ctx, set(t, applied, "status.conditions", []any{cond}), nil)
	require.NoError(t, err)
	assert.Equal(t, "E2E", withStatus.Get("status.conditions.0.reason").String())
	ignored, err := nss.Update(ctx, set(t, withStatus, "status.conditions.0.reason", "Ignored"), nil)
	require.NoError(t, err)
	assert.Equal(t, "E2E", ignored.Get("status.conditions.0.reason").String(), "the main resource ignores status")

	_, err = nss.Namespace("default").Get(ctx, name, nil)
	assert.ErrorIs(t, err, resource.ErrClusterScoped)

	_, err = nss.Delete(ctx, name, nil)
	require.NoError(t, err)
	// No namespace controller runs: the namespace stays, Terminating.
	gone, err := nss.Get(ctx, name, nil)
	require.NoError(t, err)
	assert.Equal(t, "Terminating", gone.Get("status.phase").String())
	_, deleting := gone.DeletionTimestamp()
	assert.True(t, deleting)

	_, err = c.Resource("v1", "ConfigMap").Namespace(name).Create(ctx,
		obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"late"}}`), nil)
	assert.ErrorIs(t, err, transport.ErrForbidden, "a terminating namespace refuses new objects")
}

func TestClusterRoleVerbs(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := admin(t)
	roles := c.Resource("rbac.authorization.k8s.io/v1", "ClusterRole")
	name := uniqueName("e2e-role")
	role := obj(t, `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: `+name+`
  labels:
    e2e: clusterrole
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get"]
`)
	created, err := roles.Create(ctx, role, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = roles.Delete(t.Context(), name, nil) })

	got, err := c.ResourceFor("clusterroles").Get(ctx, name, nil)
	require.NoError(t, err)
	assert.Equal(t, created.UID(), got.UID())

	upd, err := roles.Update(ctx, set(t, got, "rules.0.verbs", []string{"get", "list"}), nil)
	require.NoError(t, err)
	assert.Equal(t, `["get","list"]`, upd.Get("rules.0.verbs").Raw)

	patched, err := roles.Patch(ctx, name, resource.JSONPatch, []byte(`[{"op":"add","path":"/rules/0/verbs/-","value":"watch"}]`), nil)
	require.NoError(t, err)
	assert.Equal(t, `["get","list","watch"]`, patched.Get("rules.0.verbs").Raw)

	applied, err := roles.Apply(ctx, set(t, role, "rules.0.resources", []string{"configmaps", "secrets"}), &resource.ApplyOptions{FieldManager: "e2e", Force: true})
	require.NoError(t, err)
	assert.Equal(t, `["configmaps","secrets"]`, applied.Get("rules.0.resources").Raw)

	items, _, err := roles.ListAll(ctx, &resource.ListOptions{LabelSelector: "e2e=clusterrole"})
	require.NoError(t, err)
	var names []string
	for _, o := range items {
		names = append(names, o.Name())
	}
	assert.Contains(t, names, name)

	_, err = roles.Delete(ctx, name, nil)
	require.NoError(t, err)
	_, err = roles.Get(ctx, name, nil)
	assert.ErrorIs(t, err, transport.ErrNotFound)

	// delete collection, selected by a label no other test uses
	for _, n := range []string{name + "-a", name + "-b"} {
		_, err := roles.Create(ctx, obj(t, `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"`+n+`","labels":{"e2e-set":"`+name+`"}}}`), nil)
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = roles.Delete(t.Context(), n, nil) })
	}
	sel := &resource.ListOptions{LabelSelector: "e2e-set=" + name}
	items, _, err = roles.ListAll(ctx, sel)
	require.NoError(t, err)
	require.Len(t, items, 2)
	require.NoError(t, roles.DeleteCollection(ctx, nil, sel))
	items, _, err = roles.ListAll(ctx, sel)
	require.NoError(t, err)
	assert.Empty(t, items)
}
