package manifest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/manifest"
	"github.com/kubedyn/kubedyn/unstructured"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"b.yaml":          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
		"a.yml":           "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a2}\n",
		"notes.txt":       "not a manifest",
		"sub/c.json":      `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`,
		"broken/x.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: [unclosed\n",
		"empty/readme.md": "nothing",
	})
	names := func(objs []unstructured.Decoded) []string {
		var out []string
		for _, d := range objs {
			out = append(out, d.Object.Name())
		}
		return out
	}
	t.Run("folder in lexical order, not recursive", func(t *testing.T) {
		objs, err := manifest.Load([]string{dir}, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"a", "a2", "b"}, names(objs))
		assert.Equal(t, filepath.Join(dir, "a.yml"), objs[1].Source.Name)
		assert.Equal(t, 2, objs[1].Source.Document)
		assert.Equal(t, 5, objs[1].Source.Line)
	})
	t.Run("recursive reads sub-folders and reports the broken file", func(t *testing.T) {
		_, err := manifest.Load([]string{dir}, &manifest.LoadOptions{Recursive: true})
		require.Error(t, err)
		var de *unstructured.DecodeError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, filepath.Join(dir, "broken", "x.yaml"), de.Source)
		assert.Equal(t, 2, de.Document)
		assert.Contains(t, err.Error(), "x.yaml")
	})
	t.Run("file and stdin", func(t *testing.T) {
		objs, err := manifest.Load([]string{filepath.Join(dir, "sub", "c.json"), "-"},
			&manifest.LoadOptions{Stdin: bytes.NewBufferString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: in}\n")})
		require.NoError(t, err)
		assert.Equal(t, []string{"c", "in"}, names(objs))
		assert.Equal(t, "<stdin>", objs[1].Source.Name)
	})
	t.Run("unreadable", func(t *testing.T) {
		_, err := manifest.Load([]string{filepath.Join(dir, "missing.yaml")}, nil)
		require.ErrorIs(t, err, os.ErrNotExist)
		assert.Contains(t, err.Error(), "missing.yaml")
		_, err = manifest.Load([]string{filepath.Join(dir, "empty")}, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no .yaml, .yml or .json files")
		if os.Getuid() != 0 {
			p := filepath.Join(dir, "b.yaml")
			require.NoError(t, os.Chmod(p, 0))
			t.Cleanup(func() { _ = os.Chmod(p, 0o644) })
			_, err = manifest.Load([]string{p}, nil)
			require.ErrorIs(t, err, os.ErrPermission)
		}
	})
}

func TestPlanOrder(t *testing.T) {
	t.Parallel()
	_, _, e := setup(t)
	objs := decode(t, "set.yaml", `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: x}]}}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: hook}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: shop}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: late
  namespace: shop
  annotations: {kubedyn.io/depends-on: "apps/namespaces/shop/Deployment/web"}
---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: shop}
---
`+widgetCRD+`---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: shop}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa, namespace: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
`)
	plan, err := e.Plan(t.Context(), objs, nil)
	require.NoError(t, err)
	var order []string
	for _, it := range plan.Items {
		order = append(order, it.Ref.String())
	}
	assert.Equal(t, []string{
		"Namespace shop",
		"CustomResourceDefinition.apiextensions.k8s.io widgets.example.com",
		"Role.rbac.authorization.k8s.io shop/r",
		"ServiceAccount shop/sa",
		"ConfigMap shop/settings",
		"Secret shop/s",
		"Deployment.apps shop/web",
		"ConfigMap shop/late", // after what it depends on, despite its rank
		"Widget.example.com shop/w1",
		"ValidatingWebhookConfiguration.admissionregistration.k8s.io hook",
	}, order)
	at := map[string]int{}
	for i, it := range plan.Items {
		at[it.Ref.String()] = i
	}
	w := plan.Items[at["Widget.example.com shop/w1"]]
	assert.ElementsMatch(t, []int{at["Namespace shop"], at["CustomResourceDefinition.apiextensions.k8s.io widgets.example.com"]}, w.DependsOn)
	assert.Equal(t, "set.yaml", w.Source.Name)
}

func TestPlanDefaultsNamespaceAndDropsItForClusterKinds(t *testing.T) {
	t.Parallel()
	_, _, e := setup(t)
	plan, err := e.Plan(t.Context(), decode(t, "x.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cr, namespace: ignored}
`), nil)
	require.NoError(t, err)
	assert.Equal(t, "default", plan.Items[1].Ref.Namespace)
	assert.Equal(t, "", plan.Items[0].Ref.Namespace)
}

func TestPlanRefusesBadSets(t *testing.T) {
	t.Parallel()
	_, _, e := setup(t)
	cases := []struct {
		name, text string
		want       []string
	}{
		{"duplicate, the default namespace made explicit", `apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: default}
`, []string{"set.yaml:2:5: ConfigMap default/a is already in the set at set.yaml:1:1"}},
		{"duplicate across versions", `apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: h, namespace: x}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: h, namespace: x}
`, []string{"is already in the set"}},
		{"cycle", `apiVersion: v1
kind: ConfigMap
metadata: {name: a, annotations: {kubedyn.io/depends-on: /namespaces/default/ConfigMap/b}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, annotations: {kubedyn.io/depends-on: "/namespaces/default/ConfigMap/c"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, annotations: {kubedyn.io/depends-on: "/namespaces/default/ConfigMap/a"}}
`, []string{"depends-on cycle: ConfigMap default/", "set.yaml:"}},
		{"dangling and malformed references", `apiVersion: v1
kind: ConfigMap
metadata: {name: a, annotations: {kubedyn.io/depends-on: "/namespaces/default/ConfigMap/nope, apps/Deployment"}}
`, []string{`depends on "/namespaces/default/ConfigMap/nope", which is not in the set`, `"apps/Deployment" is not`}},
		{"no name", `apiVersion: v1
kind: ConfigMap
metadata: {generateName: a-}
`, []string{"set.yaml:1:1: v1 ConfigMap has no metadata.name"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Plan(t.Context(), decode(t, "set.yaml", tc.text), nil)
			require.ErrorIs(t, err, manifest.ErrInvalidSet)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
