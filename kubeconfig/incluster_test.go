package kubeconfig

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serviceAccount writes a service-account folder; an empty namespace
// leaves the namespace file out.
func serviceAccount(t *testing.T, token, namespace string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "token"), token+"\n")
	writeFile(t, filepath.Join(dir, "ca.crt"), "CA PEM")
	if namespace != "" {
		writeFile(t, filepath.Join(dir, "namespace"), namespace)
	}
	return dir
}

func TestInCluster(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, host, port, namespace string
		wantHost, wantNS            string
	}{
		{"ipv4", "10.96.0.1", "443", "kube-system", "https://10.96.0.1:443", "kube-system"},
		{"ipv6 is bracketed", "fd00::1", "6443", "apps", "https://[fd00::1]:6443", "apps"},
		{"no namespace file", "kubernetes.default.svc", "443", "", "https://kubernetes.default.svc:443", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sa := serviceAccount(t, "sa-token", tt.namespace)
			e := testEnv(map[string]string{"KUBERNETES_SERVICE_HOST": tt.host, "KUBERNETES_SERVICE_PORT": tt.port}, "", sa)
			cfg, err := inCluster(e)
			require.NoError(t, err)
			assert.Equal(t, tt.wantHost, cfg.Host)
			assert.Equal(t, tt.wantNS, cfg.Namespace)
			assert.Equal(t, "sa-token", cfg.BearerToken, "the trailing newline is trimmed")
			assert.Equal(t, filepath.Join(sa, "token"), cfg.BearerTokenFile, "the file is kept for rotation")
			assert.Equal(t, filepath.Join(sa, "ca.crt"), cfg.TLS.CAFile)
			assert.False(t, cfg.TLS.Insecure)
		})
	}
}

func TestInClusterFailures(t *testing.T) {
	t.Parallel()
	pod := map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
	t.Run("not in a pod", func(t *testing.T) {
		t.Parallel()
		sa := serviceAccount(t, "tok", "")
		for _, vars := range []map[string]string{nil, {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT": "443"}} {
			_, err := inCluster(testEnv(vars, "", sa))
			assert.ErrorIs(t, err, ErrNotInCluster)
		}
	})
	t.Run("no token", func(t *testing.T) {
		t.Parallel()
		sa := serviceAccount(t, "tok", "")
		require.NoError(t, os.Remove(filepath.Join(sa, "token")))
		_, err := inCluster(testEnv(pod, "", sa))
		require.Error(t, err)
		assert.ErrorIs(t, err, os.ErrNotExist)
		assert.NotErrorIs(t, err, ErrNotInCluster)
		assert.Contains(t, err.Error(), "token")
		// Load reports it rather than pretending nothing is configured.
		_, err = load(nil, testEnv(pod, "", sa))
		assert.ErrorIs(t, err, os.ErrNotExist)
		assert.NotErrorIs(t, err, ErrNoConfig)
	})
	t.Run("no CA", func(t *testing.T) {
		t.Parallel()
		sa := serviceAccount(t, "tok", "")
		require.NoError(t, os.Remove(filepath.Join(sa, "ca.crt")))
		_, err := inCluster(testEnv(pod, "", sa))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "CA")
	})
}
