package e2e_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// TestDeleteAnswers checks what Delete returns against the real server: a
// Status for an object gone at once, the object itself when the delete is
// pending (foreground propagation adds a finalizer nobody removes here).
func TestDeleteAnswers(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	c := admin(t)
	cms := c.Resource("v1", "ConfigMap").Namespace(ns)
	_, err := cms.Create(ctx, obj(t, `{"metadata":{"name":"gone"}}`), nil)
	require.NoError(t, err)
	got, err := cms.Delete(ctx, "gone", nil)
	require.NoError(t, err)
	assert.Equal(t, "Status", got.Kind())
	assert.Equal(t, "Success", got.Get("status").String())
	assert.Equal(t, "gone", got.Get("details.name").String())

	deploys := c.Resource("apps/v1", "Deployment").Namespace(ns)
	created, err := deploys.Create(ctx, deployment(t, "fg"), nil)
	require.NoError(t, err)
	got, err = deploys.Delete(ctx, "fg", &resource.DeleteOptions{PropagationPolicy: resource.PropagationForeground})
	require.NoError(t, err)
	assert.Equal(t, "Deployment", got.Kind())
	assert.Equal(t, created.UID(), got.UID())
	_, deleting := got.DeletionTimestamp()
	assert.True(t, deleting, "a foreground delete answers the object marked for deletion")
	assert.Contains(t, got.Finalizers(), "foregroundDeletion")
	_, err = deploys.Patch(ctx, "fg", resource.MergePatch, []byte(`{"metadata":{"finalizers":null}}`), nil)
	require.NoError(t, err)
}

// TestClusterScopedObjectWithNamespace checks that a ClusterRole carrying
// metadata.namespace (as Helm charts produce) is created and applied on the
// real server, the namespace dropped and the drop reported.
func TestClusterScopedObjectWithNamespace(t *testing.T) {
	t.Parallel()
	c := admin(t)
	roles := c.Resource("rbac.authorization.k8s.io/v1", "ClusterRole")
	name := uniqueName("e2e-helm")
	t.Cleanup(func() { _, _ = roles.Delete(context.Background(), name, nil) })
	var got []transport.Warning
	ctx := resource.WithWarningHandler(testContext(t), func(w transport.Warning) { got = append(got, w) })
	manifest := obj(t, `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"`+name+`","namespace":"from-helm"},"rules":[]}`)

	created, err := roles.Create(ctx, manifest, nil)
	require.NoError(t, err)
	assert.Empty(t, created.Namespace())
	applied, err := roles.Apply(ctx, manifest, &resource.ApplyOptions{FieldManager: "e2e", Force: true})
	require.NoError(t, err)
	assert.Empty(t, applied.Namespace())
	require.Len(t, got, 2, "one warning per write")
	for _, w := range got {
		assert.Equal(t, resource.WarningAgent, w.Agent)
		assert.Contains(t, w.Text, `metadata.namespace "from-helm" dropped`)
	}
}

// TestForObjectManifest applies a small manifest through ForObject handles
// on the real server: a namespaced object without a namespace lands in the
// kubeconfig's default namespace, a cluster-scoped one in none, and errors
// name the object.
func TestForObjectManifest(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	cfg := config(t, "admin")
	cfg.Namespace = ns
	c := newClientFromConfig(t, cfg, resource.WithFieldManager("e2e"))
	ctx := testContext(t)
	role := uniqueName("e2e-forobject")
	t.Cleanup(func() {
		_, _ = c.Resource("rbac.authorization.k8s.io/v1", "ClusterRole").Delete(context.Background(), role, nil)
	})
	objs, err := unstructured.Decode([]byte(`
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {color: blue}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ` + ns + `}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: busybox:1.36}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ` + role + `, namespace: ` + ns + `}
rules: []
`))
	require.NoError(t, err)
	want := []string{ns, ns, ""}
	for i, o := range objs {
		got, err := c.ForObject(o).Apply(ctx, o, nil)
		require.NoError(t, err, o.Kind())
		assert.Equal(t, want[i], got.Namespace(), o.Kind())
		read, err := c.ForObject(o).Get(ctx, o.Name(), nil)
		require.NoError(t, err)
		assert.Equal(t, got.UID(), read.UID())
	}

	missing := obj(t, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"nope"}}`)
	_, err = c.ForObject(missing).Get(ctx, "nope", nil)
	require.ErrorIs(t, err, transport.ErrNotFound)
	assert.Contains(t, err.Error(), "get apps/v1 Deployment "+ns+"/nope: ")
}

// TestMetadataOnlyReads checks metadata-only Get, List and ListAll against the
// real server, and Table rows with and without the whole object.
func TestMetadataOnlyReads(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	c := admin(t)
	deploys := c.Resource("apps/v1", "Deployment").Namespace(ns)
	for _, name := range []string{"a", "b", "c"} {
		_, err := deploys.Create(ctx, set(t, deployment(t, name), "metadata.labels.tier", "meta"), nil)
		require.NoError(t, err)
	}
	meta := deploys.MetadataOnly()

	got, err := meta.Get(ctx, "a", nil)
	require.NoError(t, err)
	assert.Equal(t, "PartialObjectMetadata", got.Kind())
	assert.Equal(t, "meta.k8s.io/v1", got.APIVersion())
	assert.Equal(t, "meta", got.Labels()["tier"])
	assert.False(t, got.Get("spec").Exists())

	var names []string
	for o, err := range meta.List(ctx, &resource.ListOptions{LabelSelector: "tier=meta", Limit: 2}) {
		require.NoError(t, err)
		assert.False(t, o.Get("spec").Exists(), o.Name())
		assert.Equal(t, "meta", o.Labels()["tier"])
		names = append(names, o.Name())
	}
	assert.Equal(t, []string{"a", "b", "c"}, names)
	page, err := meta.ListPage(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "PartialObjectMetadataList", page.Kind())
	full, err := deploys.ListPage(ctx, nil)
	require.NoError(t, err)
	var metaBytes, fullBytes int
	for _, it := range page.Items() {
		metaBytes += len(it.String())
	}
	for _, it := range full.Items() {
		fullBytes += len(it.String())
	}
	assert.Less(t, metaBytes, fullBytes)
	t.Logf("3 Deployments: %d bytes of items in full, %d as metadata", fullBytes, metaBytes)
	items, rv, err := meta.ListAll(ctx, nil)
	require.NoError(t, err)
	assert.Len(t, items, 3)
	assert.NotEmpty(t, rv)

	for include, want := range map[resource.IncludeObjectPolicy]string{
		"": "PartialObjectMetadata", resource.IncludeObject: "Deployment", resource.IncludeNone: "",
	} {
		tbl, err := deploys.Table(ctx, &resource.TableOptions{IncludeObject: include})
		require.NoError(t, err)
		rows := tbl.Get("rows").Array()
		require.Len(t, rows, 3)
		assert.Equal(t, want, rows[0].Get("object.kind").String(), "includeObject=%q", include)
		assert.Equal(t, include == resource.IncludeObject, rows[0].Get("object.spec").Exists())
	}
}

// TestSubresourceRuleAgainstRealDiscovery checks the subresource rule with
// the verbs the real server's discovery lists: what a subresource serves
// goes through, the rest is refused before its request (the server would
// answer 405, or the parent's collection would be listed).
func TestSubresourceRuleAgainstRealDiscovery(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	c := admin(t)
	deploys := c.Resource("apps/v1", "Deployment").Namespace(ns)
	_, err := deploys.Create(ctx, deployment(t, "web"), nil)
	require.NoError(t, err)

	scale, err := deploys.Subresource("scale").Get(ctx, "web", nil)
	require.NoError(t, err)
	assert.Equal(t, "Scale", scale.Kind())
	_, err = deploys.Subresource("status").Patch(ctx, "web", resource.MergePatch, []byte(`{"status":{"observedGeneration":1}}`), nil)
	require.NoError(t, err)

	refused := map[string]func() error{
		"delete status": func() error { _, err := deploys.Subresource("status").Delete(ctx, "web", nil); return err },
		"list scale":    func() error { _, err := deploys.Subresource("scale").ListPage(ctx, nil); return err },
		"table status":  func() error { _, err := deploys.Subresource("status").Table(ctx, nil); return err },
		"get eviction": func() error {
			_, err := c.Resource("v1", "Pod").Namespace(ns).Subresource("eviction").Get(ctx, "p", nil)
			return err
		},
		"create scale":   func() error { _, err := deploys.Subresource("scale").Create(ctx, scale, nil); return err },
		"collection del": func() error { return deploys.Subresource("status").DeleteCollection(ctx, nil, nil) },
	}
	for what, call := range refused {
		assert.ErrorIs(t, call(), resource.ErrSubresourceNotAllowed, what)
	}
	_, err = deploys.Get(ctx, "web", nil)
	require.NoError(t, err, "nothing was deleted")
}

// TestUnknownKindWordedOnce checks a resolve failure on the real server names
// the handle once.
func TestUnknownKindWordedOnce(t *testing.T) {
	t.Parallel()
	_, err := admin(t).Resource("example.com/v1", "Gizmo").Namespace("default").Get(testContext(t), "g", nil)
	require.ErrorIs(t, err, discovery.ErrUnknownResource)
	assert.NotContains(t, err.Error(), "resolve")
	assert.Equal(t, 1, strings.Count(err.Error(), "example.com/v1 Gizmo "), err.Error())
}
