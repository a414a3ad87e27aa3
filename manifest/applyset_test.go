package manifest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/manifest"
	"github.com/kubedyn/kubedyn/resource"
)

// The ids kubectl's own tests expect (k8s.io/kubectl pkg/cmd/apply
// apply_test.go): the Secret parent "my-set" in namespace "test", and the
// cluster-scoped custom resource parent applysets.company.com "my-set".
func TestApplySetIDMatchesKubectl(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "applyset-0eFHV8ySqp7XoShsGvyWFQD3s96yqwHmzc4e0HR1dsY-v1", manifest.ApplySet{Name: "my-set", Namespace: "test"}.ID())
	assert.Equal(t, "applyset-rhp1a-HVAVT_dFgyEygyA1BEB82HPp2o10UiFTpqtAs-v1",
		manifest.ApplySet{Name: "my-set", APIVersion: "company.com/v1", Kind: "ApplySet"}.ID())
}

func createNamespace(t *testing.T, c *resource.Client, name string) {
	t.Helper()
	_, err := c.Resource("v1", "Namespace").Create(t.Context(), decode(t, "ns", "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+name+"}\n")[0].Object, nil)
	require.NoError(t, err)
}

func TestApplySetPrune(t *testing.T) {
	t.Parallel()
	_, c, e := setup(t)
	ctx := t.Context()
	createNamespace(t, c, "test")
	createNamespace(t, c, "other")
	set := &manifest.ApplySet{Name: "my-set", Namespace: "test"}
	full := `apiVersion: v1
kind: ConfigMap
metadata: {name: keep, namespace: test}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: drop, namespace: other}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: test}
spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: x}]}}}
`
	plan, err := e.Plan(ctx, decode(t, "full.yaml", full), nil)
	require.NoError(t, err)
	rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{ApplySet: set, Prune: true})
	require.NoError(t, err)
	require.True(t, rep.OK(), rep.Summary())

	secrets := c.Resource("v1", "Secret").Namespace("test")
	parent, err := secrets.Get(ctx, "my-set", nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"applyset.kubernetes.io/id": set.ID()}, parent.Labels())
	assert.Equal(t, map[string]string{
		"applyset.kubernetes.io/additional-namespaces": "other",
		"applyset.kubernetes.io/contains-group-kinds":  "ConfigMap,Deployment.apps",
		"applyset.kubernetes.io/tooling":               "kubedyn/v1",
	}, parent.Annotations())
	cm, err := c.Resource("v1", "ConfigMap").Namespace("other").Get(ctx, "drop", nil)
	require.NoError(t, err)
	assert.Equal(t, set.ID(), cm.Labels()["applyset.kubernetes.io/part-of"])

	smaller, err := e.Plan(ctx, decode(t, "small.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep, namespace: test}\n"), nil)
	require.NoError(t, err)

	t.Run("dry run deletes nothing", func(t *testing.T) {
		rep, err := e.Apply(ctx, smaller, &manifest.ApplyOptions{ApplySet: set, Prune: true, PruneDryRun: true})
		require.NoError(t, err)
		var pruned []string
		for _, r := range rep.Results {
			if r.Action == manifest.Pruned {
				assert.True(t, r.DryRun)
				pruned = append(pruned, r.Ref.String())
			}
		}
		assert.ElementsMatch(t, []string{"ConfigMap other/drop", "Deployment.apps test/web"}, pruned)
		_, err = c.Resource("v1", "ConfigMap").Namespace("other").Get(ctx, "drop", nil)
		require.NoError(t, err)
	})
	t.Run("prune removes what left the set", func(t *testing.T) {
		rep, err := e.Apply(ctx, smaller, &manifest.ApplyOptions{ApplySet: set, Prune: true})
		require.NoError(t, err)
		got := byName(rep.Results)
		assert.Equal(t, manifest.Unchanged, got["ConfigMap test/keep"].Action)
		assert.Equal(t, manifest.Pruned, got["ConfigMap other/drop"].Action)
		assert.Equal(t, manifest.Pruned, got["Deployment.apps test/web"].Action)
		_, err = c.Resource("v1", "ConfigMap").Namespace("other").Get(ctx, "drop", nil)
		require.Error(t, err)
		_, err = c.Resource("apps/v1", "Deployment").Namespace("test").Get(ctx, "web", nil)
		require.Error(t, err)
		parent, err := secrets.Get(ctx, "my-set", nil)
		require.NoError(t, err)
		assert.Equal(t, "ConfigMap", parent.Annotations()["applyset.kubernetes.io/contains-group-kinds"])
		assert.Equal(t, "", parent.Annotations()["applyset.kubernetes.io/additional-namespaces"])
	})
}

// A set kubectl wrote: the parent Secret as kubectl's tests expect it after
// `kubectl apply --server-side --applyset=my-set --prune -n test`, and
// members carrying its part-of label.
func TestApplySetWrittenByKubectl(t *testing.T) {
	t.Parallel()
	_, c, e := setup(t)
	ctx := t.Context()
	createNamespace(t, c, "test")
	_, err := c.Resource("v1", "Secret").Namespace("test").Create(ctx, decode(t, "parent", `apiVersion: v1
kind: Secret
metadata:
  annotations:
    applyset.kubernetes.io/additional-namespaces: ""
    applyset.kubernetes.io/contains-group-resources: configmaps
    applyset.kubernetes.io/tooling: kubectl/v1.37.2
  labels:
    applyset.kubernetes.io/id: applyset-0eFHV8ySqp7XoShsGvyWFQD3s96yqwHmzc4e0HR1dsY-v1
  name: my-set
  namespace: test
`)[0].Object, nil)
	require.NoError(t, err)
	for _, n := range []string{"a", "b"} {
		_, err := c.Resource("v1", "ConfigMap").Namespace("test").Create(ctx, decode(t, "m", `apiVersion: v1
kind: ConfigMap
metadata:
  name: `+n+`
  labels: {applyset.kubernetes.io/part-of: applyset-0eFHV8ySqp7XoShsGvyWFQD3s96yqwHmzc4e0HR1dsY-v1}
`)[0].Object, nil)
		require.NoError(t, err)
	}
	plan, err := e.Plan(ctx, decode(t, "a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: test}\n"), nil)
	require.NoError(t, err)

	t.Run("another tool's set is refused", func(t *testing.T) {
		_, err := e.Apply(ctx, plan, &manifest.ApplyOptions{ApplySet: &manifest.ApplySet{Name: "my-set", Namespace: "test"}, Prune: true})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `managed by tooling "kubectl", not "kubedyn"`)
	})
	t.Run("with kubectl's tooling the set is shared", func(t *testing.T) {
		rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{ApplySet: &manifest.ApplySet{Name: "my-set", Namespace: "test", Tooling: "kubectl/v1.37.2"}, Prune: true})
		require.NoError(t, err)
		got := byName(rep.Results)
		assert.Equal(t, manifest.Configured, got["ConfigMap test/a"].Action, "adds our field manager")
		assert.Equal(t, manifest.Pruned, got["ConfigMap test/b"].Action)
		parent, err := c.Resource("v1", "Secret").Namespace("test").Get(ctx, "my-set", nil)
		require.NoError(t, err)
		assert.Equal(t, "ConfigMap", parent.Annotations()["applyset.kubernetes.io/contains-group-kinds"])
		assert.Equal(t, "kubectl/v1.37.2", parent.Annotations()["applyset.kubernetes.io/tooling"])
	})
}
