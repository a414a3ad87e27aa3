package kubeconfig

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/transport"
)

// TestStaticCredentialsBeatExec follows kubectl: a user with a static
// token, token file, basic auth or client certificate and an exec section
// authenticates with the static credential and the plugin never runs.
func TestStaticCredentialsBeatExec(t *testing.T) {
	t.Parallel()
	certPEM, keyPEM := selfSignedPEM(t)
	cases := []struct {
		name     string
		user     string // YAML fields of the user besides exec
		wantAuth string // Authorization on the wire; "" for none
		wantExec bool
	}{
		{"token", "token: static-token", "Bearer static-token", false},
		{"tokenFile", "tokenFile: TOKENFILE", "Bearer file-token", false},
		{"basic auth", "{username: alice, password: pw}", "Basic YWxpY2U6cHc=", false},
		{"client certificate", "{client-certificate-data: " + b64(certPEM) + ", client-key-data: " + b64(keyPEM) + "}", "", false},
		{"exec alone", "", "Bearer token-1", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newAPIServer(t)
			tokens := newTokenServer(t, false)
			tokenFile := writeFile(t, filepath.Join(t.TempDir(), "token"), "file-token\n")
			user := strings.ReplaceAll(tc.user, "TOKENFILE", tokenFile)
			if strings.HasPrefix(user, "{") {
				user = strings.Trim(user, "{}")
			}
			var fields []string
			for f := range strings.SplitSeq(user, ", ") {
				if f != "" {
					fields = append(fields, "    "+f)
				}
			}
			doc := `
current-context: c
clusters:
- name: k
  cluster:
    server: ` + srv.URL + `
    certificate-authority-data: ` + b64(srv.caPEM()) + `
users:
- name: u
  user:
` + strings.Join(fields, "\n") + `
    exec:
      apiVersion: client.authentication.k8s.io/v1
      interactiveMode: Never
      command: ` + selfExe(t) + `
      env:
      - {name: ` + pluginModeEnv + `, value: http}
      - {name: TEST_URL, value: "` + tokens.URL + `"}
      - {name: GORACE, value: atexit_sleep_ms=0}
contexts:
- {name: c, context: {cluster: k, user: u}}
`
			var logs syncBuffer
			cfg, err := LoadBytes([]byte(doc), &Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			require.NoError(t, err)
			assert.Equal(t, tc.wantExec, cfg.Credentials != nil)
			get(t, cfg)
			assert.Equal(t, tc.wantAuth, srv.last().Get("Authorization"))
			if tc.wantExec {
				assert.Equal(t, int32(1), tokens.runs.Load())
				return
			}
			assert.Zero(t, tokens.runs.Load(), "the exec plugin never runs")
			assert.Contains(t, logs.String(), "exec plugin not used")
		})
	}
}

// TestInlineAndFileTogetherRefused: kubectl refuses a CA, client
// certificate or key given both inline and as a file; so do we, naming the
// file and the field.
func TestInlineAndFileTogetherRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certPEM, keyPEM := selfSignedPEM(t)
	certFile := writeFile(t, filepath.Join(dir, "cert.pem"), certPEM)
	keyFile := writeFile(t, filepath.Join(dir, "key.pem"), keyPEM)
	cases := map[string]struct{ cluster, user, field string }{
		"certificate-authority": {
			cluster: "certificate-authority: " + certFile + ", certificate-authority-data: " + b64(certPEM),
			field:   `clusters["k"].certificate-authority-data`,
		},
		"client-certificate": {
			user:  "client-certificate: " + certFile + ", client-certificate-data: " + b64(certPEM) + ", client-key: " + keyFile,
			field: `users["u"].client-certificate-data`,
		},
		"client-key": {
			user:  "client-certificate: " + certFile + ", client-key: " + keyFile + ", client-key-data: " + b64(keyPEM),
			field: `users["u"].client-key-data`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, filepath.Join(t.TempDir(), "config"), "current-context: a\n"+
				"clusters: [{name: k, cluster: {server: https://x, "+tc.cluster+"}}]\n"+
				"users: [{name: u, user: {"+tc.user+"}}]\n"+
				"contexts: [{name: a, context: {cluster: k, user: u}}]\n")
			_, err := load(&Options{Path: path}, testEnv(nil, "", ""))
			var kerr *Error
			require.ErrorAs(t, err, &kerr)
			assert.Equal(t, path, kerr.Path)
			assert.Equal(t, tc.field, kerr.Field)
			assert.Contains(t, err.Error(), "both "+name+"-data and "+name)
		})
	}
}

// TestBadCertificatesNamedWithField: a CA that is not PEM, a client
// certificate or key that does not parse, and a key that belongs to
// another certificate are reported by kubeconfig with the file and field,
// not by a TLS failure later.
func TestBadCertificatesNamedWithField(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certPEM, keyPEM := selfSignedPEM(t)
	_, otherKey := selfSignedPEM(t)
	garbageFile := writeFile(t, filepath.Join(dir, "garbage.pem"), "not a certificate")
	certFile := writeFile(t, filepath.Join(dir, "cert.pem"), certPEM)
	otherKeyFile := writeFile(t, filepath.Join(dir, "other.key"), otherKey)
	brokenCert := "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
	cases := map[string]struct{ cluster, user, field, want string }{
		"CA data not PEM": {
			cluster: "certificate-authority-data: " + b64("not pem"),
			field:   `clusters["k"].certificate-authority-data`, want: "no PEM certificate",
		},
		"CA file not PEM": {
			cluster: "certificate-authority: " + garbageFile,
			field:   `clusters["k"].certificate-authority`, want: "no PEM certificate",
		},
		"client certificate not PEM": {
			user:  "client-certificate: " + garbageFile + ", client-key-data: " + b64(keyPEM),
			field: `users["u"].client-certificate`, want: "no PEM certificate",
		},
		"client certificate does not parse": {
			user:  "client-certificate-data: " + b64(brokenCert) + ", client-key-data: " + b64(keyPEM),
			field: `users["u"].client-certificate-data`, want: "not a valid certificate",
		},
		"client key not PEM": {
			user:  "client-certificate: " + certFile + ", client-key: " + garbageFile,
			field: `users["u"].client-key`, want: "not a valid private key",
		},
		"key of another certificate": {
			user:  "client-certificate: " + certFile + ", client-key: " + otherKeyFile,
			field: `users["u"].client-key`, want: "does not match the certificate of client-certificate",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, filepath.Join(t.TempDir(), "config"), "current-context: a\n"+
				"clusters: [{name: k, cluster: {server: https://x, "+tc.cluster+"}}]\n"+
				"users: [{name: u, user: {"+tc.user+"}}]\n"+
				"contexts: [{name: a, context: {cluster: k, user: u}}]\n")
			_, err := load(&Options{Path: path}, testEnv(nil, "", ""))
			var kerr *Error
			require.ErrorAs(t, err, &kerr)
			assert.Equal(t, path, kerr.Path)
			assert.Equal(t, tc.field, kerr.Field)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "PRIVATE KEY", "no key material in the error")
		})
	}
}

// TestURLErrorsHidePassword: neither a bad server nor a bad proxy-url
// with a password in its user info puts the password in the error.
func TestURLErrorsHidePassword(t *testing.T) {
	t.Parallel()
	const pw = "Pr0xyPW"
	for _, tc := range []struct{ cluster, field string }{
		{"server: 'https://admin:" + pw + "@host/%zz'", `clusters["k"].server`},
		{"server: 'https://admin:" + pw + "@host:xx'", `clusters["k"].server`},
		{"server: https://x, proxy-url: 'http://user:" + pw + "@proxy/%zz'", `clusters["k"].proxy-url`},
		{"server: https://x, proxy-url: 'http://user:" + pw + "@proxy:port'", `clusters["k"].proxy-url`},
		{"server: https://x, proxy-url: 'http://user:" + pw + "@pro xy'", `clusters["k"].proxy-url`},
	} {
		t.Run(tc.cluster, func(t *testing.T) {
			t.Parallel()
			_, err := LoadBytes([]byte("current-context: a\nclusters: [{name: k, cluster: {"+tc.cluster+"}}]\n"+
				"contexts: [{name: a, context: {cluster: k}}]\n"), nil)
			var kerr *Error
			require.ErrorAs(t, err, &kerr)
			assert.Equal(t, tc.field, kerr.Field)
			assert.NotContains(t, err.Error(), pw)
		})
	}
}

// TestContextWithoutUserLogsAtDebug: no user means no credentials, said
// at debug level.
func TestContextWithoutUserLogsAtDebug(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg, err := LoadBytes([]byte("current-context: a\nclusters: [{name: k, cluster: {server: https://x}}]\n"+
		"contexts: [{name: a, context: {cluster: k}}]\n"), &Options{Logger: logger})
	require.NoError(t, err)
	assert.Empty(t, cfg.BearerToken)
	assert.Nil(t, cfg.Credentials)
	assert.Contains(t, logs.String(), "level=DEBUG")
	assert.Contains(t, logs.String(), "names no user")
	assert.Contains(t, logs.String(), "context=a")

	var logs2 syncBuffer
	_, err = LoadBytes([]byte("current-context: a\nclusters: [{name: k, cluster: {server: https://x}}]\n"+
		"users: [{name: u, user: {token: t}}]\ncontexts: [{name: a, context: {cluster: k, user: u}}]\n"),
		&Options{Logger: slog.New(slog.NewTextHandler(&logs2, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	assert.NotContains(t, logs2.String(), "names no user")
}

// TestSchemelessServerAgainstPlainHTTP: a server without a scheme is taken
// as https (kubectl 1.32 would use http); against a plain HTTP endpoint the
// error says so and how to ask for plain HTTP.
func TestSchemelessServerAgainstPlainHTTP(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	cfg, err := LoadBytes([]byte("current-context: a\nclusters: [{name: k, cluster: {server: "+strings.TrimPrefix(srv.URL, "http://")+"}}]\n"+
		"contexts: [{name: a, context: {cluster: k}}]\n"), nil)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(cfg.Host, "https://"))
	cfg.MaxRetries = -1
	c, err := transport.New(cfg)
	require.NoError(t, err)
	_, err = c.Do(context.Background(), &transport.Request{Path: "/api"})
	require.ErrorIs(t, err, http.ErrSchemeMismatch)
	assert.Contains(t, err.Error(), "speaks plain HTTP")
	assert.Contains(t, err.Error(), "write http://")
}

// TestOptionsReachTransport: the options with no kubeconfig field travel
// to transport.Config, and a plain-http server with a token is refused by
// transport.New unless AllowPlainHTTPCredentials is set.
func TestOptionsReachTransport(t *testing.T) {
	t.Parallel()
	doc := []byte("current-context: a\nclusters: [{name: k, cluster: {server: http://127.0.0.1:1}}]\n" +
		"users: [{name: u, user: {token: t}}]\ncontexts: [{name: a, context: {cluster: k, user: u}}]\n")
	cfg, err := LoadBytes(doc, &Options{ProxyCAFile: "/etc/proxy-ca.pem"})
	require.NoError(t, err)
	assert.Equal(t, "/etc/proxy-ca.pem", cfg.ProxyCAFile)
	cfg.ProxyCAFile = ""
	_, err = transport.New(cfg)
	assert.ErrorContains(t, err, "AllowPlainHTTPCredentials")
	cfg, err = LoadBytes(doc, &Options{AllowPlainHTTPCredentials: true})
	require.NoError(t, err)
	cfg.Logger = slog.New(slog.DiscardHandler)
	_, err = transport.New(cfg)
	assert.NoError(t, err)
}

// syncBuffer is a bytes.Buffer safe for concurrent writes (log output).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
