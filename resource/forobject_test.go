package resource_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

// TestForObject checks the handle for an object takes its scope from the
// object and discovery: the object's namespace, the kubeconfig's default
// namespace when it has none, no namespace for a cluster-scoped kind.
func TestForObject(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token(),
		Namespace: "kube-public", WarningHandler: func(transport.Warning) {}}
	c, err := resource.NewClient(cfg, resource.WithFieldManager("t"))
	require.NoError(t, err)
	ctx := context.Background()

	tests := []struct {
		name     string
		manifest string
		wantPath string
		wantNS   string
	}{
		{"namespaced with a namespace", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"kube-system"}}`,
			"/api/v1/namespaces/kube-system/configmaps", "kube-system"},
		{"namespaced without one takes the kubeconfig's", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}`,
			"/api/v1/namespaces/kube-public/configmaps", "kube-public"},
		{"cluster-scoped", `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"c"}}`,
			"/apis/rbac.authorization.k8s.io/v1/clusterroles", ""},
		{"cluster-scoped with a namespace", `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"d","namespace":"helm"}}`,
			"/apis/rbac.authorization.k8s.io/v1/clusterroles", ""},
		{"custom resource definition", `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"e.example.com"}}`,
			"/apis/apiextensions.k8s.io/v1/customresourcedefinitions", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := obj(t, tt.manifest)
			h := c.ForObject(o)
			srv.ResetRequests()
			if strings.Contains(tt.name, "definition") {
				_, err := h.Get(ctx, o.Name(), nil)
				require.ErrorIs(t, err, transport.ErrNotFound)
				assert.Contains(t, err.Error(), "get apiextensions.k8s.io/v1 CustomResourceDefinition e.example.com: ")
				return
			}
			created, err := h.Create(ctx, o, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.wantNS, created.Namespace())
			assert.Len(t, exactRequests(srv.Requests(), http.MethodPost, tt.wantPath), 1)
			applied, err := h.Apply(ctx, o, nil)
			require.NoError(t, err)
			assert.Equal(t, created.UID(), applied.UID())
			got, err := h.Get(ctx, o.Name(), nil)
			require.NoError(t, err)
			assert.Equal(t, created.UID(), got.UID())
			_, err = h.Delete(ctx, o.Name(), nil)
			require.NoError(t, err)
		})
	}

	t.Run("errors name the object", func(t *testing.T) {
		cases := []struct {
			manifest, prefix string
			is               error
		}{
			{`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"}}`,
				"get apps/v1 Deployment default/web: ", transport.ErrNotFound},
			{`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"r","namespace":"helm"}}`,
				"get rbac.authorization.k8s.io/v1 ClusterRole r: ", transport.ErrNotFound},
			{`{"apiVersion":"example.com/v1","kind":"Gizmo","metadata":{"name":"g","namespace":"default"}}`,
				"get example.com/v1 Gizmo default/g: ", discovery.ErrUnknownResource},
		}
		for _, tc := range cases {
			o := obj(t, tc.manifest)
			_, err := c.ForObject(o).Get(ctx, o.Name(), nil)
			require.ErrorIs(t, err, tc.is)
			assert.True(t, strings.HasPrefix(err.Error(), tc.prefix), "%q does not start with %q", err.Error(), tc.prefix)
		}
	})

	t.Run("an object without a kind", func(t *testing.T) {
		_, err := c.ForObject(obj(t, `{"apiVersion":"v1","metadata":{"name":"x"}}`)).Get(ctx, "x", nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "the object needs an apiVersion and a kind")
	})

	t.Run("Namespace replaces the chosen scope", func(t *testing.T) {
		o := obj(t, `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"r"}}`)
		_, err := c.ForObject(o).Namespace("default").Get(ctx, "r", nil)
		require.ErrorIs(t, err, resource.ErrClusterScoped)
		cm := obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"m","namespace":"kube-system"}}`)
		_, err = c.ForObject(cm).Namespace("default").Create(ctx, cm, nil)
		require.ErrorIs(t, err, resource.ErrNamespaceMismatch)
	})
}
