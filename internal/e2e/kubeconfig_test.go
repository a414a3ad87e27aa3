package e2e_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	clusterpkg "github.com/kubedyn/kubedyn/internal/cluster"
	"github.com/kubedyn/kubedyn/kubeconfig"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

// writeFile writes content to name in dir and returns its path.
func writeFile(t testing.TB, dir, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, content, 0o600))
	return p
}

// multiContextKubeconfig writes a kubeconfig whose credentials come from
// files and from an exec plugin (this test binary), with CA and client
// certificate referenced by path relative to the kubeconfig's folder.
func multiContextKubeconfig(t testing.TB) string {
	t.Helper()
	c := cluster(t)
	dir := t.TempDir()
	writeFile(t, dir, "ca.crt", c.CAPEM)
	writeFile(t, dir, "admin.crt", c.ClientCertPEM)
	writeFile(t, dir, "admin.key", c.ClientKeyPEM)
	writeFile(t, dir, "token", []byte(c.NobodyToken+"\n"))
	return writeFile(t, dir, "config", fmt.Appendf(nil, `apiVersion: v1
kind: Config
current-context: token-file
clusters:
- name: e2e
  cluster:
    server: %[1]s
    certificate-authority: ca.crt
- name: wrong-ca
  cluster:
    server: %[1]s
    certificate-authority-data: %[2]s
users:
- name: exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: %[3]s
      args: ["-test.run=^$"]
      env:
      - name: %[4]s
        value: "1"
      - name: %[5]s
        value: %[6]s
      interactiveMode: Never
- name: cert
  user:
    client-certificate: admin.crt
    client-key: admin.key
- name: token-file
  user:
    tokenFile: token
contexts:
- name: exec
  context: {cluster: e2e, user: exec, namespace: kube-system}
- name: cert
  context: {cluster: e2e, user: cert}
- name: token-file
  context: {cluster: e2e, user: token-file}
- name: wrong-ca
  context: {cluster: wrong-ca, user: cert}
`, c.URL, otherCA(t), os.Args[0], execPluginEnv, execTokenEnv, c.AdminToken))
}

// otherCA returns the base64 of a PEM self-signed CA that did not sign the
// server's certificate.
func otherCA(t testing.TB) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "not-the-cluster-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestKubeconfigContextsAuthenticate(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	path := multiContextKubeconfig(t)

	tests := []struct {
		context, user, namespace string
	}{
		{"exec", clusterpkg.AdminUser, "kube-system"},
		{"cert", clusterpkg.AdminUser, "default"},
		{"token-file", clusterpkg.NobodyUser, "default"},
		{"", clusterpkg.NobodyUser, "default"}, // current-context
	}
	for _, tt := range tests {
		t.Run("context "+tt.context, func(t *testing.T) {
			t.Parallel()
			cfg, err := kubeconfig.Load(&kubeconfig.Options{Path: path, Context: tt.context})
			require.NoError(t, err)
			assert.Equal(t, tt.namespace, cfg.Namespace)
			assert.False(t, cfg.TLS.Insecure)
			c, err := resource.NewClient(cfg)
			require.NoError(t, err)
			user, groups, err := whoAmI(t, ctx, c)
			require.NoError(t, err)
			assert.Equal(t, tt.user, user)
			if tt.user == clusterpkg.AdminUser {
				assert.Contains(t, groups, "system:masters")
			}
		})
	}

	t.Run("the exec plugin's token lists pods", func(t *testing.T) {
		t.Parallel()
		cfg, err := kubeconfig.Load(&kubeconfig.Options{Path: path, Context: "exec"})
		require.NoError(t, err)
		c, err := resource.NewClient(cfg)
		require.NoError(t, err)
		_, _, err = c.Resource("v1", "Pod").Namespace(cfg.Namespace).ListAll(ctx, nil)
		assert.NoError(t, err)
	})

	t.Run("a CA that did not sign the server is refused", func(t *testing.T) {
		t.Parallel()
		cfg, err := kubeconfig.Load(&kubeconfig.Options{Path: path, Context: "wrong-ca"})
		require.NoError(t, err)
		c, err := resource.NewClient(cfg)
		require.NoError(t, err)
		_, _, err = whoAmI(t, ctx, c)
		require.Error(t, err)
		var unknown x509.UnknownAuthorityError
		assert.ErrorAs(t, err, &unknown)
	})
}

// TestKubeconfigFromEnvironment loads the cluster's own kubeconfig through
// $KUBECONFIG (it cannot run in parallel: it sets the environment).
func TestKubeconfigFromEnvironment(t *testing.T) {
	c := cluster(t)
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing")+string(os.PathListSeparator)+c.Kubeconfig)
	ctx := testContext(t)
	for ctxName, want := range map[string]string{
		"":             clusterpkg.AdminUser, // current-context: admin
		"nobody":       clusterpkg.NobodyUser,
		"impersonator": clusterpkg.ImpersonatorUser,
		"admin-cert":   clusterpkg.AdminUser,
	} {
		cfg, err := kubeconfig.Load(&kubeconfig.Options{Context: ctxName})
		require.NoError(t, err, ctxName)
		rc, err := resource.NewClient(cfg)
		require.NoError(t, err)
		user, _, err := whoAmI(t, ctx, rc)
		require.NoError(t, err, ctxName)
		assert.Equal(t, want, user, ctxName)
	}
	_, err := kubeconfig.Load(&kubeconfig.Options{Context: "no-such-context"})
	assert.Error(t, err)
	var ae *transport.APIError
	assert.NotErrorAs(t, err, &ae)
}
