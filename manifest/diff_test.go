package manifest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/manifest"
)

func TestDiff(t *testing.T) {
	t.Parallel()
	_, c, e := setup(t)
	ctx := t.Context()
	first, err := e.Plan(ctx, decode(t, "v1.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: "1", b: "2"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: hunter2, user: admin}
`), nil)
	require.NoError(t, err)
	rep, err := e.Apply(ctx, first, nil)
	require.NoError(t, err)
	require.True(t, rep.OK(), rep.Summary())

	second, err := e.Plan(ctx, decode(t, "v2.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: settings, labels: {tier: web}}
data: {a: "1", b: "3"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: correct-horse, user: admin}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: new}
data: {x: "y"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unchanged-not-applied}
`), nil)
	require.NoError(t, err)
	diffs := e.Diff(ctx, second, nil)
	require.Len(t, diffs, 4)
	d := map[string]manifest.ObjectDiff{}
	for _, x := range diffs {
		require.NoError(t, x.Err, x.Ref.String())
		d[x.Ref.Name] = x
	}
	assert.True(t, d["settings"].Exists)
	assert.Equal(t, []manifest.Change{
		{Path: "data.b", Old: `"2"`, New: `"3"`},
		{Path: "metadata.labels", New: `{"tier":"web"}`},
	}, d["settings"].Changes)

	sec := d["creds"].Changes
	require.Len(t, sec, 1, "only the changed key")
	assert.Equal(t, manifest.Change{Path: "data.password", Old: `"*** (before)"`, New: `"*** (after)"`}, sec[0])
	for _, ch := range sec {
		assert.NotContains(t, ch.Old+ch.New, "aHVudGVy", "no secret value leaks")
	}

	assert.False(t, d["new"].Exists)
	assert.Contains(t, d["new"].Changes, manifest.Change{Path: "data", New: `{"x":"y"}`})

	// Nothing was written.
	cm, err := c.Resource("v1", "ConfigMap").Namespace("default").Get(ctx, "settings", nil)
	require.NoError(t, err)
	assert.Equal(t, "2", cm.Get("data.b").String())
	_, err = c.Resource("v1", "ConfigMap").Namespace("default").Get(ctx, "new", nil)
	require.Error(t, err)
}
