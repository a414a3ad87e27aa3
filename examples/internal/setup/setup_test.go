package setup

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
)

// TestConnect checks both ways an example finds its server: the test
// server when nothing is configured, and the cluster KUBECONFIG names.
func TestConnect(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	t.Setenv("HOME", t.TempDir())

	t.Run("nothing configured: the test server", func(t *testing.T) {
		t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing"))
		var out bytes.Buffer
		env, err := Connect(&out, &Options{QuietOnCluster: true})
		require.NoError(t, err)
		defer env.Close()
		require.NotNil(t, env.Server)
		assert.Equal(t, "No cluster is configured: using kubedyn's in-process test server at "+env.Server.URL()+"\n", out.String())
		c, err := resource.NewClient(env.Config)
		require.NoError(t, err)
		_, err = c.Resource("v1", "Namespace").Get(t.Context(), "default", nil)
		assert.NoError(t, err, "the config reaches the test server")
	})

	srv := testserver.New(t)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kc, srv.Kubeconfig(), 0o600))
	for _, tc := range []struct {
		name string
		opts *Options
		want string
	}{
		{"configured cluster", nil, "Using the configured cluster at " + srv.URL() + "\n"},
		{"configured cluster, quiet", &Options{QuietOnCluster: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", kc)
			var out bytes.Buffer
			env, err := Connect(&out, tc.opts)
			require.NoError(t, err)
			defer env.Close()
			assert.Nil(t, env.Server)
			assert.Equal(t, srv.URL(), env.Config.Host)
			assert.Equal(t, tc.want, out.String())
		})
	}

	t.Run("broken kubeconfig is an error", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "kubeconfig")
		require.NoError(t, os.WriteFile(bad, []byte("{not yaml: ["), 0o600))
		t.Setenv("KUBECONFIG", bad)
		var out bytes.Buffer
		_, err := Connect(&out, nil)
		require.Error(t, err)
		assert.Empty(t, out.String())
	})
}

// TestHelpers checks Namespace's default and RandomSuffix's shape.
func TestHelpers(t *testing.T) {
	t.Parallel()
	assert.Regexp(t, `^[0-9a-f]{6}$`, RandomSuffix())
	assert.Equal(t, "default", Namespace(ServerConfig(testserver.New(t))))
}
