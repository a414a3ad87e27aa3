package e2e_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// deployment returns a Deployment manifest named name with two replicas.
func deployment(t testing.TB, name string) unstructured.Object {
	t.Helper()
	return obj(t, `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: `+name+`
  labels:
    app: `+name+`
spec:
  replicas: 2
  selector:
    matchLabels:
      app: `+name+`
  template:
    metadata:
      labels:
        app: `+name+`
    spec:
      containers:
      - name: app
        image: nginx:1.27
        env:
        - name: A
          value: "1"
`)
}

func TestDeploymentEveryVerb(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	c := admin(t)
	deploys := c.Resource("apps/v1", "Deployment").Namespace(ns)

	created, err := deploys.Create(ctx, deployment(t, "web"), nil)
	require.NoError(t, err)
	assert.Equal(t, int64(1), created.Generation())
	_, err = deploys.Create(ctx, deployment(t, "api"), nil)
	require.NoError(t, err)

	// get, by kind and by kubectl-style names
	for _, h := range []resource.Handle{deploys, c.ResourceFor("deploy").Namespace(ns), c.ResourceFor("deployments.apps").Namespace(ns)} {
		got, err := h.Get(ctx, "web", nil)
		require.NoError(t, err, h.String())
		assert.Equal(t, created.UID(), got.UID())
	}

	// update
	upd := set(t, created, "spec.template.spec.containers.0.image", "nginx:1.28")
	updated, err := deploys.Update(ctx, upd, nil)
	require.NoError(t, err)
	assert.Equal(t, "nginx:1.28", updated.Get("spec.template.spec.containers.0.image").String())
	assert.Equal(t, int64(2), updated.Generation())

	// status: the main resource ignores status, the subresource takes it
	st := set(t, updated, "status", map[string]any{"observedGeneration": 2, "replicas": 2, "updatedReplicas": 1})
	ignored, err := deploys.Update(ctx, st, nil)
	require.NoError(t, err)
	assert.False(t, ignored.Get("status.replicas").Exists(), "status on the main resource is ignored")
	st, err = st.Set("metadata.resourceVersion", ignored.ResourceVersion())
	require.NoError(t, err)
	withStatus, err := deploys.UpdateStatus(ctx, st, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(2), withStatus.Get("status.replicas").Int())
	assert.Equal(t, int64(1), withStatus.Get("status.updatedReplicas").Int())
	gotStatus, err := deploys.Subresource("status").Get(ctx, "web", nil)
	require.NoError(t, err)
	assert.Equal(t, int64(2), gotStatus.Get("status.observedGeneration").Int())

	// scale
	scale, err := deploys.Subresource("scale").Get(ctx, "web", nil)
	require.NoError(t, err)
	assert.Equal(t, "autoscaling/v1", scale.APIVersion())
	assert.Equal(t, "Scale", scale.Kind())
	assert.Equal(t, int64(2), scale.Get("spec.replicas").Int())
	assert.Equal(t, "app=web", scale.Get("status.selector").String())
	scale = set(t, scale, "spec.replicas", 5)
	_, err = deploys.Subresource("scale").Update(ctx, scale, nil)
	require.NoError(t, err)
	_, err = deploys.Subresource("scale").Patch(ctx, "web", resource.MergePatch, []byte(`{"spec":{"replicas":7}}`), nil)
	require.NoError(t, err)
	got, err := deploys.Get(ctx, "web", nil)
	require.NoError(t, err)
	assert.Equal(t, int64(7), got.Get("spec.replicas").Int())

	// list
	var names []string
	for o, err := range deploys.List(ctx, nil) {
		require.NoError(t, err)
		names = append(names, o.Name())
	}
	assert.ElementsMatch(t, []string{"web", "api"}, names)

	// delete and delete collection
	_, err = deploys.Delete(ctx, "api", &resource.DeleteOptions{PropagationPolicy: resource.PropagationBackground})
	require.NoError(t, err)
	_, err = deploys.Get(ctx, "api", nil)
	assert.ErrorIs(t, err, transport.ErrNotFound)
	require.NoError(t, deploys.DeleteCollection(ctx, nil, nil))
	items, _, err := deploys.ListAll(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, items)
}

func TestDeploymentPatchTypes(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	deploys := admin(t).Resource("apps/v1", "Deployment").Namespace(ns)
	_, err := deploys.Create(ctx, deployment(t, "web"), nil)
	require.NoError(t, err)

	t.Run("merge patch replaces lists", func(t *testing.T) {
		p, err := deploys.Patch(ctx, "web", resource.MergePatch,
			[]byte(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.28"}]}}}}`), nil)
		require.NoError(t, err)
		assert.Equal(t, "nginx:1.28", p.Get("spec.template.spec.containers.0.image").String())
		assert.False(t, p.Get("spec.template.spec.containers.0.env").Exists(), "merge patch replaced the container list")
	})
	t.Run("strategic merge patch merges lists by key", func(t *testing.T) {
		p, err := deploys.Patch(ctx, "web", resource.StrategicMergePatch,
			[]byte(`{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}}}`), nil)
		require.NoError(t, err)
		containers := p.Get("spec.template.spec.containers.#.name").Array()
		require.Len(t, containers, 2)
		assert.ElementsMatch(t, []string{"app", "sidecar"}, []string{containers[0].String(), containers[1].String()})
	})
	t.Run("json patch", func(t *testing.T) {
		p, err := deploys.Patch(ctx, "web", resource.JSONPatch,
			[]byte(`[{"op":"test","path":"/spec/replicas","value":2},{"op":"replace","path":"/spec/replicas","value":3},{"op":"add","path":"/metadata/annotations","value":{"x/y":"z"}}]`), nil)
		require.NoError(t, err)
		assert.Equal(t, int64(3), p.Get("spec.replicas").Int())
		assert.Equal(t, map[string]string{"x/y": "z"}, p.Annotations())
	})
	t.Run("json patch test failure is an error", func(t *testing.T) {
		_, err := deploys.Patch(ctx, "web", resource.JSONPatch,
			[]byte(`[{"op":"test","path":"/spec/replicas","value":99},{"op":"replace","path":"/spec/replicas","value":1}]`), nil)
		require.Error(t, err)
		var ae *transport.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, 422, ae.StatusCode)
		assert.ErrorIs(t, err, transport.ErrInvalid)
		// kube-apiserver v1.37 says only "the server rejected our request due
		// to an error in our request" here, with no details.
		assert.Equal(t, "Invalid", ae.Reason)
		got, err := deploys.Get(ctx, "web", nil)
		require.NoError(t, err)
		assert.Equal(t, int64(3), got.Get("spec.replicas").Int(), "a failed test leaves the object alone")
	})
	t.Run("a patch of a missing object is NotFound", func(t *testing.T) {
		_, err := deploys.Patch(ctx, "missing", resource.MergePatch, []byte(`{}`), nil)
		assert.ErrorIs(t, err, transport.ErrNotFound)
	})
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	deploys := admin(t).Resource("apps/v1", "Deployment").Namespace(ns)
	created, err := deploys.Create(ctx, deployment(t, "web"), nil)
	require.NoError(t, err)

	t.Run("stale resourceVersion conflicts", func(t *testing.T) {
		_, err := deploys.Patch(ctx, "web", resource.MergePatch, []byte(`{"metadata":{"labels":{"bump":"1"}}}`), nil)
		require.NoError(t, err)
		_, err = deploys.Update(ctx, set(t, created, "spec.replicas", 4), nil)
		assert.ErrorIs(t, err, transport.ErrConflict)
		var ae *transport.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, 409, ae.StatusCode)
		assert.Contains(t, ae.Message, "the object has been modified")
	})
	t.Run("create of an existing name", func(t *testing.T) {
		_, err := deploys.Create(ctx, deployment(t, "web"), nil)
		assert.ErrorIs(t, err, transport.ErrAlreadyExists)
		var ae *transport.APIError
		require.ErrorAs(t, err, &ae)
		require.NotNil(t, ae.Details)
		assert.Equal(t, "web", ae.Details.Name)
		assert.Equal(t, "deployments", ae.Details.Kind)
	})
	t.Run("dryRun leaves nothing behind", func(t *testing.T) {
		dry, err := deploys.Create(ctx, deployment(t, "dry"), &resource.CreateOptions{DryRun: true})
		require.NoError(t, err)
		assert.Equal(t, "dry", dry.Name())
		assert.NotEmpty(t, dry.UID(), "the server fills in what it would store")
		_, err = deploys.Get(ctx, "dry", nil)
		assert.ErrorIs(t, err, transport.ErrNotFound)

		_, err = deploys.Patch(ctx, "web", resource.MergePatch, []byte(`{"spec":{"replicas":9}}`), &resource.PatchOptions{DryRun: true})
		require.NoError(t, err)
		_, err = deploys.Delete(ctx, "web", &resource.DeleteOptions{DryRun: true})
		require.NoError(t, err)
		got, err := deploys.Get(ctx, "web", nil)
		require.NoError(t, err)
		assert.NotEqual(t, int64(9), got.Get("spec.replicas").Int())
	})
	t.Run("strict field validation names the unknown field", func(t *testing.T) {
		bad := set(t, deployment(t, "strict"), "spec.replicaz", 3)
		_, err := deploys.Create(ctx, bad, &resource.CreateOptions{FieldValidation: resource.FieldValidationStrict})
		require.Error(t, err)
		assert.ErrorIs(t, err, transport.ErrBadRequest)
		assert.Contains(t, err.Error(), `unknown field "spec.replicaz"`)
		_, err = deploys.Get(ctx, "strict", nil)
		assert.ErrorIs(t, err, transport.ErrNotFound)
	})
	t.Run("invalid objects carry field causes", func(t *testing.T) {
		bad := set(t, deployment(t, "invalid"), "spec.replicas", -1)
		bad = set(t, bad, "spec.selector.matchLabels.app", "other")
		_, err := deploys.Create(ctx, bad, nil)
		require.Error(t, err)
		assert.ErrorIs(t, err, transport.ErrInvalid)
		var ae *transport.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, 422, ae.StatusCode)
		fields := map[string]string{}
		for _, c := range ae.Causes() {
			fields[c.Field] = c.Type
		}
		assert.Equal(t, "FieldValueInvalid", fields["spec.replicas"], "causes: %+v", ae.Causes())
		assert.Contains(t, fields, "spec.template.metadata.labels")
	})
	t.Run("a name that could change the URL is refused before sending", func(t *testing.T) {
		_, err := deploys.Get(ctx, "../secrets", nil)
		assert.ErrorIs(t, err, transport.ErrInvalidName)
		var ae *transport.APIError
		assert.False(t, errors.As(err, &ae))
	})
	t.Run("a namespaced resource needs a namespace", func(t *testing.T) {
		_, err := admin(t).Resource("apps/v1", "Deployment").Get(ctx, "web", nil)
		assert.ErrorIs(t, err, resource.ErrNamespaceRequired)
	})
}
