package kubeconfig_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/kubeconfig"
	"github.com/kubedyn/kubedyn/transport"
)

// TestTestServerKubeconfig loads the kubeconfig the test server writes,
// from bytes and from a file, and talks to the server with the result.
func TestTestServerKubeconfig(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	path := filepath.Join(t.TempDir(), "config")
	require.NoError(t, os.WriteFile(path, srv.Kubeconfig(), 0o600))

	fromBytes, err := kubeconfig.LoadBytes(srv.Kubeconfig(), nil)
	require.NoError(t, err)
	fromFile, err := kubeconfig.Load(&kubeconfig.Options{Path: path, Namespace: "kube-system"})
	require.NoError(t, err)
	assert.Equal(t, "default", fromBytes.Namespace)
	assert.Equal(t, "kube-system", fromFile.Namespace)

	for _, cfg := range []*transport.Config{fromBytes, fromFile} {
		assert.Equal(t, srv.URL(), cfg.Host)
		assert.Equal(t, srv.Token(), cfg.BearerToken)
		c, err := transport.New(cfg)
		require.NoError(t, err)
		resp, err := c.Do(context.Background(), &transport.Request{Method: http.MethodGet, Path: "/api/v1/namespaces/default"})
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, string(resp.Body), `"name":"default"`)
	}
}
