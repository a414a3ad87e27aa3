package discovery_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/unstructured"
)

func TestCompileCRDSchema(t *testing.T) {
	t.Parallel()
	crdJSON, err := os.ReadFile("testdata/openapi/widgets-crd.json")
	require.NoError(t, err)
	crd := unstructured.MustParse(string(crdJSON))
	s, err := discovery.CompileCRDSchema(crd, "v1")
	require.NoError(t, err)
	assert.True(t, s.Custom)
	assert.Equal(t, []unstructured.GroupVersionKind{{Group: "schema.kubedyn.test", Version: "v1", Kind: "Widget"}}, s.GroupVersionKinds)
	for _, f := range []string{"apiVersion", "kind", "metadata", "spec"} {
		assert.NotNil(t, s.Property(f), f)
	}

	fields := func(obj string) []string {
		res, err := unstructured.Validate(unstructured.MustParse(obj), s, nil)
		require.NoError(t, err)
		var out []string
		for _, e := range res.Errors {
			out = append(out, e.Field)
		}
		return out
	}
	t.Run("valid", func(t *testing.T) {
		assert.Empty(t, fields(`{"apiVersion":"schema.kubedyn.test/v1","kind":"Widget","metadata":{"name":"w","labels":{"a":"b"}},"spec":{"size":5,"mode":"Steady","ports":[{"name":"http","number":80}]}}`))
	})
	t.Run("wrong type and unknown field", func(t *testing.T) {
		assert.ElementsMatch(t, []string{"spec.size", "spec.colour"},
			fields(`{"apiVersion":"schema.kubedyn.test/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":"big","colour":"red","mode":"Steady","ports":[{"name":"http","number":80}]}}`))
	})
	t.Run("unknown and mistyped metadata fields", func(t *testing.T) {
		assert.ElementsMatch(t, []string{"metadata.bogus", "metadata.labels.a"},
			fields(`{"apiVersion":"schema.kubedyn.test/v1","kind":"Widget","metadata":{"name":"w","bogus":1,"labels":{"a":1}},"spec":{"size":5,"mode":"Steady","ports":[{"name":"http","number":80}]}}`))
	})
	t.Run("kind must be a string", func(t *testing.T) {
		assert.Equal(t, []string{"kind"}, fields(`{"apiVersion":"schema.kubedyn.test/v1","kind":5,"metadata":{"name":"w"},"spec":{"size":5,"mode":"Steady","ports":[{"name":"http","number":80}]}}`))
	})

	bad := []struct {
		name, crd, version string
	}{
		{"not a CRD", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}`, "v1"},
		{"no such version", string(crdJSON), "v9"},
		{"no schema", `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"as.x.io"},"spec":{"group":"x.io","names":{"kind":"A"},"versions":[{"name":"v1","served":true}]}}`, "v1"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := discovery.CompileCRDSchema(unstructured.MustParse(tc.crd), tc.version)
			require.Error(t, err)
			if tc.name == "not a CRD" {
				assert.ErrorIs(t, err, discovery.ErrBadSchema)
			} else {
				assert.ErrorIs(t, err, discovery.ErrNoSchema)
			}
		})
	}
}
