package resource_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/unstructured"
)

// TestMetadataOnly checks a MetadataOnly handle's reads ask for
// PartialObjectMetadata and get metadata alone, while writes are unchanged.
func TestMetadataOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	for _, name := range []string{"m1", "m2", "m3"} {
		cm, err := configMap(t, name, map[string]string{"big": "value"}).Set("metadata.labels.app", "meta")
		require.NoError(t, err)
		_, err = cms.Create(ctx, cm, nil)
		require.NoError(t, err)
	}
	meta := cms.MetadataOnly()
	assert.Contains(t, meta.String(), "metadata-only")
	srv.ResetRequests()

	got, err := meta.Get(ctx, "m1", nil)
	require.NoError(t, err)
	assertPartial(t, got, "m1")
	gets := exactRequests(srv.Requests(), http.MethodGet, "/api/v1/namespaces/default/configmaps/m1")
	require.Len(t, gets, 1)
	assert.Equal(t, resource.AcceptPartialObjectMetadata, gets[0].Header.Get("Accept"))

	srv.ResetRequests()
	var names []string
	for o, err := range meta.List(ctx, &resource.ListOptions{LabelSelector: "app=meta", Limit: 2}) {
		require.NoError(t, err)
		assertPartial(t, o, o.Name())
		names = append(names, o.Name())
	}
	assert.Equal(t, []string{"m1", "m2", "m3"}, names)
	pages := exactRequests(srv.Requests(), http.MethodGet, "/api/v1/namespaces/default/configmaps")
	require.Len(t, pages, 2)
	for _, p := range pages {
		assert.Equal(t, resource.AcceptPartialObjectMetadataList, p.Header.Get("Accept"))
	}

	page, err := meta.ListPage(ctx, &resource.ListOptions{LabelSelector: "app=meta"})
	require.NoError(t, err)
	assert.Equal(t, "PartialObjectMetadataList", page.Kind())
	items, rv, err := meta.ListAll(ctx, &resource.ListOptions{LabelSelector: "app=meta"})
	require.NoError(t, err)
	assert.Len(t, items, 3)
	assert.NotEmpty(t, rv)

	// Writes on the handle answer whole objects.
	upd, err := meta.Patch(ctx, "m1", resource.MergePatch, []byte(`{"data":{"more":"x"}}`), nil)
	require.NoError(t, err)
	assert.Equal(t, "ConfigMap", upd.Kind())
	assert.Equal(t, "value", upd.Get("data.big").String())

	// The plain handle is untouched.
	full, err := cms.Get(ctx, "m1", nil)
	require.NoError(t, err)
	assert.Equal(t, "ConfigMap", full.Kind())
}

// assertPartial checks o is the PartialObjectMetadata of a ConfigMap
// created by TestMetadataOnly.
func assertPartial(t *testing.T, o unstructured.Object, name string) {
	t.Helper()
	assert.Equal(t, "PartialObjectMetadata", o.Kind())
	assert.Equal(t, "meta.k8s.io/v1", o.APIVersion())
	assert.Equal(t, name, o.Name())
	assert.Equal(t, "meta", o.Labels()["app"])
	assert.NotEmpty(t, o.UID())
	assert.False(t, o.Get("data").Exists(), "no data in metadata")
}

// TestTableIncludeObject checks rows carry the partial metadata by default
// and the whole object or nothing when asked.
func TestTableIncludeObject(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	_, err := cms.Create(ctx, configMap(t, "tbl", map[string]string{"k": "v"}), nil)
	require.NoError(t, err)
	tests := []struct {
		name      string
		include   resource.IncludeObjectPolicy
		wantQuery string
		wantKind  string
	}{
		{"default", "", "", "PartialObjectMetadata"},
		{"metadata", resource.IncludeMetadata, "Metadata", "PartialObjectMetadata"},
		{"object", resource.IncludeObject, "Object", "ConfigMap"},
		{"none", resource.IncludeNone, "None", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetRequests()
			tbl, err := cms.Table(ctx, &resource.TableOptions{IncludeObject: tt.include})
			require.NoError(t, err)
			rows := tbl.Get("rows").Array()
			require.NotEmpty(t, rows)
			assert.Equal(t, tt.wantKind, rows[0].Get("object.kind").String())
			if tt.include == resource.IncludeObject {
				assert.Equal(t, "v", rows[0].Get("object.data.k").String())
			}
			reqs := exactRequests(srv.Requests(), http.MethodGet, "/api/v1/namespaces/default/configmaps")
			require.Len(t, reqs, 1)
			assert.Equal(t, tt.wantQuery, reqs[0].Query.Get("includeObject"))
		})
	}
	_, err = cms.Table(ctx, &resource.TableOptions{IncludeObject: "Everything"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "IncludeObject")
}
