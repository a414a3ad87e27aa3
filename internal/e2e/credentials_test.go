package e2e_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	clusterpkg "github.com/kubedyn/kubedyn/internal/cluster"
	"github.com/kubedyn/kubedyn/kubeconfig"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

// TestKubeconfigStaticCredentialsBeatExecOnTheWire: as with kubectl, a user
// with a static credential and an exec section is the static credential's
// identity on the real server; the plugin never runs (one that cannot run
// at all does no harm). An exec section alone is the plugin's identity.
func TestKubeconfigStaticCredentialsBeatExecOnTheWire(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := cluster(t)
	dir := t.TempDir()
	tokenFile := writeFile(t, dir, "token", []byte(c.NobodyToken+"\n"))
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	adminExec := fmt.Sprintf(`    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: %s
      args: ["-test.run=^$"]
      env:
      - {name: %s, value: "1"}
      - {name: %s, value: %s}
      interactiveMode: Never
`, os.Args[0], execPluginEnv, execTokenEnv, c.AdminToken)
	missingExec := `    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: /nonexistent/kubedyn-e2e-plugin
      interactiveMode: Never
`
	cases := []struct {
		name, user, want string
	}{
		{"token beats exec", "    token: " + c.NobodyToken + "\n" + adminExec, clusterpkg.NobodyUser},
		{"tokenFile beats exec", "    tokenFile: " + tokenFile + "\n" + adminExec, clusterpkg.NobodyUser},
		{"client certificate beats exec", "    client-certificate-data: " + b64(c.ClientCertPEM) +
			"\n    client-key-data: " + b64(c.ClientKeyPEM) + "\n" + missingExec, clusterpkg.AdminUser},
		{"exec alone", adminExec, clusterpkg.AdminUser},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: c
clusters:
- name: e2e
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: u
  user:
%s
contexts:
- {name: c, context: {cluster: e2e, user: u}}
`, c.URL, b64(c.CAPEM), tc.user)
			cfg, err := kubeconfig.Load(&kubeconfig.Options{Path: writeFile(t, t.TempDir(), "config", []byte(doc))})
			require.NoError(t, err)
			rc, err := resource.NewClient(cfg)
			require.NoError(t, err)
			user, _, err := whoAmI(t, ctx, rc)
			require.NoError(t, err)
			assert.Equal(t, tc.want, user)
		})
	}
}

// TestKubeconfigDisableCompressionOnTheWire: the real server gzips a large
// response when asked; a cluster with disable-compression: true is sent
// the body as is.
func TestKubeconfigDisableCompressionOnTheWire(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := cluster(t)
	ns := newNamespace(t)
	big := strings.Repeat("kubedyn compresses well ", 20000) // ~470 KB, above the server's 128 KiB threshold
	_, err := admin(t).Resource("v1", "ConfigMap").Namespace(ns).Create(ctx,
		obj(t, `{"metadata":{"name":"big"},"data":{"k":"`+big+`"}}`), nil)
	require.NoError(t, err)

	for _, disable := range []bool{false, true} {
		t.Run(fmt.Sprintf("disable-compression %v", disable), func(t *testing.T) {
			t.Parallel()
			doc := fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: c
clusters:
- name: e2e
  cluster:
    server: %s
    certificate-authority-data: %s
    disable-compression: %v
users:
- {name: u, user: {token: %s}}
contexts:
- {name: c, context: {cluster: e2e, user: u}}
`, c.URL, base64.StdEncoding.EncodeToString(c.CAPEM), disable, c.AdminToken)
			cfg, err := kubeconfig.Load(&kubeconfig.Options{Path: writeFile(t, t.TempDir(), "config", []byte(doc))})
			require.NoError(t, err)
			assert.Equal(t, disable, cfg.DisableCompression)
			var mu sync.Mutex
			var gzipped []bool
			cfg.WrapTransport = func(next http.RoundTripper) http.RoundTripper {
				return roundTripFunc(func(req *http.Request) (*http.Response, error) {
					resp, err := next.RoundTrip(req)
					if err == nil {
						mu.Lock()
						gzipped = append(gzipped, resp.Uncompressed || resp.Header.Get("Content-Encoding") == "gzip")
						mu.Unlock()
					}
					return resp, err
				})
			}
			tc, err := transport.New(cfg)
			require.NoError(t, err)
			resp, err := tc.Do(ctx, &transport.Request{Path: transport.JoinPath("api", "v1", "namespaces", ns, "configmaps", "big")})
			require.NoError(t, err)
			assert.Contains(t, string(resp.Body), big)
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, []bool{!disable}, gzipped, "the server compressed the body only when asked")
		})
	}
}

// TestAPIErrorFromTheRealServer: an error from the real server keeps its
// raw Status body. (The server quotes names it echoes with Go's %q, so its
// own messages carry no raw control characters; the unit tests cover a
// hostile one.)
func TestAPIErrorFromTheRealServer(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	tc, err := transport.New(config(t, "admin"))
	require.NoError(t, err)
	_, err = tc.Do(ctx, &transport.Request{Path: transport.JoinPath("api", "v1", "namespaces", "default", "configmaps", "no\nsuch\x1b[2J")})
	var apiErr *transport.APIError
	require.True(t, errors.As(err, &apiErr), "%v", err)
	assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	assert.Contains(t, string(apiErr.Body), `"kind":"Status"`)
	assert.Contains(t, string(apiErr.Body), `"reason":"NotFound"`)
	assert.Equal(t, `configmaps "no\nsuch\x1b[2J" not found`, apiErr.Message)
	assert.Equal(t, `configmaps "no\nsuch\x1b[2J" not found (404 NotFound)`, err.Error())
}

// TestExecCredentialExpiredByOurClock: a plugin whose clock runs an hour
// behind ours reports an expirationTimestamp already past. The server
// accepts the token (its expiry is the client's business), and twenty
// requests run the plugin once, not twenty times.
func TestExecCredentialExpiredByOurClock(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := cluster(t)
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	doc := fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: c
clusters:
- {name: e2e, cluster: {server: %s, certificate-authority-data: %s}}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: %s
      args: ["-test.run=^$"]
      env:
      - {name: %s, value: "1"}
      - {name: %s, value: %s}
      - {name: %s, value: %s}
      - {name: %s, value: %s}
      interactiveMode: Never
contexts:
- {name: c, context: {cluster: e2e, user: u}}
`, c.URL, base64.StdEncoding.EncodeToString(c.CAPEM), os.Args[0], execPluginEnv, execTokenEnv, c.AdminToken,
		execExpiryEnv, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), execRunsEnv, runs)
	cfg, err := kubeconfig.Load(&kubeconfig.Options{Path: writeFile(t, dir, "config", []byte(doc))})
	require.NoError(t, err)
	tc, err := transport.New(cfg)
	require.NoError(t, err)
	for range 20 {
		_, err := tc.Do(ctx, &transport.Request{Path: "/api/v1/namespaces/default"})
		require.NoError(t, err)
	}
	b, err := os.ReadFile(runs)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(b), "run\n"))
}
