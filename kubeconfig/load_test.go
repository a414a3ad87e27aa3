package kubeconfig

import (
	"encoding/base64"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// testEnv is an environment with the given variables, home folder and
// service-account folder; nothing comes from the real process.
func testEnv(vars map[string]string, home, saDir string) env {
	return env{
		getenv: func(k string) string { return vars[k] },
		homeDir: func() (string, error) {
			if home == "" {
				return "", errors.New("no home")
			}
			return home, nil
		},
		saDir: saDir,
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestLoadBytesMapsEveryField(t *testing.T) {
	t.Parallel()
	certPEM, keyPEM := selfSignedPEM(t)
	doc := `
apiVersion: v1
kind: Config
current-context: c
clusters:
- name: k
  cluster:
    server: https://k.example.com:6443/prefix
    certificate-authority-data: ` + b64(certPEM) + `
    tls-server-name: api.internal
    proxy-url: http://proxy.example.com:3128
    disable-compression: true
users:
- name: u
  user:
    client-certificate-data: ` + b64(certPEM) + `
    client-key-data: ` + b64(keyPEM) + `
    token: tok
    tokenFile: /var/tok
    as: bob
    as-uid: "1234"
    as-groups: [g1, g2]
    as-user-extra:
      scopes: [s1, s2]
contexts:
- name: c
  context:
    cluster: k
    user: u
    namespace: ns1
`
	cfg, err := LoadBytes([]byte(doc), nil)
	require.NoError(t, err)
	assert.Equal(t, "https://k.example.com:6443/prefix", cfg.Host)
	assert.Empty(t, cfg.TLS.CAFile)
	assert.Equal(t, []byte(certPEM), cfg.TLS.CAData)
	assert.False(t, cfg.TLS.Insecure)
	assert.Equal(t, "api.internal", cfg.TLS.ServerName)
	assert.True(t, cfg.DisableCompression)
	assert.Empty(t, cfg.TLS.CertFile)
	assert.Equal(t, []byte(certPEM), cfg.TLS.CertData)
	assert.Empty(t, cfg.TLS.KeyFile)
	assert.Equal(t, []byte(keyPEM), cfg.TLS.KeyData)
	assert.Equal(t, "tok", cfg.BearerToken)
	assert.Equal(t, "/var/tok", cfg.BearerTokenFile)
	assert.Equal(t, "bob", cfg.Impersonate.UserName)
	assert.Equal(t, "1234", cfg.Impersonate.UID)
	assert.Equal(t, []string{"g1", "g2"}, cfg.Impersonate.Groups)
	assert.Equal(t, map[string][]string{"scopes": {"s1", "s2"}}, cfg.Impersonate.Extra)
	assert.Equal(t, "ns1", cfg.Namespace)
	assert.Nil(t, cfg.Credentials)
	require.NotNil(t, cfg.Proxy)
	req, err := http.NewRequest(http.MethodGet, "https://k.example.com:6443/api", nil)
	require.NoError(t, err)
	pu, err := cfg.Proxy(req)
	require.NoError(t, err)
	assert.Equal(t, "http://proxy.example.com:3128", pu.String())
}

func TestLoadBytesInsecureAndBasicAuth(t *testing.T) {
	t.Parallel()
	doc := `
current-context: c
clusters: [{name: k, cluster: {server: "https://k", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {username: alice, password: secret}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
`
	cfg, err := LoadBytes([]byte(doc), nil)
	require.NoError(t, err)
	assert.True(t, cfg.TLS.Insecure)
	assert.Equal(t, "alice", cfg.Username)
	assert.Equal(t, "secret", cfg.Password)
	assert.Empty(t, cfg.BearerToken)
}

func TestLoadBytesJSONAndDefaults(t *testing.T) {
	t.Parallel()
	doc := `{"current-context":"c","clusters":[{"name":"k","cluster":{"server":"k.example.com:443"}}],
	"contexts":[{"name":"c","context":{"cluster":"k"}}]}`
	cfg, err := LoadBytes([]byte(doc), nil)
	require.NoError(t, err)
	assert.Equal(t, "https://k.example.com:443", cfg.Host, "a server without a scheme gets https")
	assert.Equal(t, "default", cfg.Namespace)
	assert.Nil(t, cfg.Proxy, "no proxy-url leaves the environment's proxy")
	assert.Empty(t, cfg.BearerToken)
}

const twoContexts = `
current-context: a
clusters:
- {name: ca, cluster: {server: "https://a.example.com"}}
- {name: cb, cluster: {server: "https://b.example.com"}}
users:
- {name: ua, user: {token: token-a}}
- {name: ub, user: {token: token-b}}
contexts:
- {name: a, context: {cluster: ca, user: ua, namespace: ns-a}}
- {name: b, context: {cluster: cb, user: ub}}
`

func TestOverrides(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                   string
		opts                   *Options
		host, token, namespace string
	}{
		{"current context", nil, "https://a.example.com", "token-a", "ns-a"},
		{"context override", &Options{Context: "b"}, "https://b.example.com", "token-b", "default"},
		{"namespace override", &Options{Namespace: "x"}, "https://a.example.com", "token-a", "x"},
		{"cluster override", &Options{Cluster: "cb"}, "https://b.example.com", "token-a", "ns-a"},
		{"user override", &Options{User: "ub"}, "https://a.example.com", "token-b", "ns-a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var before Options
			if tt.opts != nil {
				before = *tt.opts
			}
			cfg, err := LoadBytes([]byte(twoContexts), tt.opts)
			require.NoError(t, err)
			assert.Equal(t, tt.host, cfg.Host)
			assert.Equal(t, tt.token, cfg.BearerToken)
			assert.Equal(t, tt.namespace, cfg.Namespace)
			if tt.opts != nil {
				assert.Equal(t, before, *tt.opts, "options are not modified")
			}
		})
	}
}

func TestDuplicateNamesWithinAFileAreRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range []struct{ list, field, doc string }{
		{"clusters", "clusters[1]", `
clusters:
- {name: k, cluster: {server: "https://old"}}
- {name: k, cluster: {server: "https://new"}}`},
		{"users", "users[2]", `
users:
- {name: u, user: {token: a}}
- {name: v, user: {token: b}}
- {name: u, user: {token: c}}`},
		{"contexts", "contexts[1]", `
contexts:
- {name: c, context: {cluster: k}}
- {name: c, context: {cluster: other}}`},
	} {
		t.Run(tt.list, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, filepath.Join(dir, tt.list, "config"), tt.doc)
			_, err := ReadFile(path)
			var kerr *Error
			require.ErrorAs(t, err, &kerr)
			assert.Equal(t, path, kerr.Path)
			assert.Equal(t, tt.field, kerr.Field)
			assert.Contains(t, err.Error(), "duplicate name")
		})
	}
	// The same name in two files of KUBECONFIG is fine: the first wins
	// (TestMergeRules).
}

func TestScalarsWithinAFile(t *testing.T) {
	t.Parallel()
	doc := `
current-context: c
clusters:
- {name: k, cluster: {server: "https://new"}}
users:
- {name: u, user: {token: 12345, as: bob, as-uid: 1000}}
contexts:
- {name: c, context: {cluster: k, user: u, namespace: 42}}
`
	cfg, err := LoadBytes([]byte(doc), nil)
	require.NoError(t, err)
	assert.Equal(t, "https://new", cfg.Host)
	assert.Equal(t, "12345", cfg.BearerToken, "an unquoted number is read as a string")
	assert.Equal(t, "1000", cfg.Impersonate.UID)
	assert.Equal(t, "42", cfg.Namespace)
}

func TestContextNames(t *testing.T) {
	t.Parallel()
	f, err := Parse([]byte(twoContexts))
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, f.ContextNames())
	assert.Equal(t, "a", f.CurrentContext)
}

func TestRelativePathsResolveAgainstTheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeFile(t, filepath.Join(dir, "sub", "config"), `
current-context: c
clusters:
- name: k
  cluster: {server: "https://k", certificate-authority: certs/ca.pem}
users:
- name: u
  user:
    client-certificate: cert.pem
    client-key: ../key.pem
    tokenFile: tok
contexts:
- {name: c, context: {cluster: k, user: u}}
`)
	sub := filepath.Join(dir, "sub")
	certPEM, keyPEM := selfSignedPEM(t)
	writeFile(t, filepath.Join(sub, "certs", "ca.pem"), certPEM)
	writeFile(t, filepath.Join(sub, "cert.pem"), certPEM)
	writeFile(t, filepath.Join(dir, "key.pem"), keyPEM)
	writeFile(t, filepath.Join(sub, "tok"), "x")
	cfg, err := load(&Options{Path: path}, testEnv(nil, "", ""))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(sub, "certs", "ca.pem"), cfg.TLS.CAFile)
	assert.Equal(t, filepath.Join(sub, "cert.pem"), cfg.TLS.CertFile)
	assert.Equal(t, filepath.Join(dir, "key.pem"), cfg.TLS.KeyFile)
	assert.Equal(t, filepath.Join(sub, "tok"), cfg.BearerTokenFile)

	// The same document as bytes keeps paths as written, relative to the
	// working directory, where they do not exist.
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	f, err := Parse(data)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("certs", "ca.pem"), f.Clusters["k"].CertificateAuthority)
	_, err = LoadBytes(data, nil)
	var kerr *Error
	require.ErrorAs(t, err, &kerr)
	assert.Equal(t, `clusters["k"].certificate-authority`, kerr.Field)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), filepath.Join("certs", "ca.pem"))
}

func TestExecCommandResolution(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeFile(t, filepath.Join(dir, "config"), `
users:
- name: rel
  user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ./bin/plugin}}
- name: bare
  user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: plugin}}
- name: abs
  user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: /usr/bin/plugin}}
`)
	f, err := ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "bin", "plugin"), f.Users["rel"].Exec.Command)
	assert.Equal(t, "plugin", f.Users["bare"].Exec.Command, "a bare name is looked up in PATH")
	assert.Equal(t, "/usr/bin/plugin", f.Users["abs"].Exec.Command)
}

func TestMergeRules(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := writeFile(t, filepath.Join(dir, "one", "config"), `
clusters:
- {name: shared, cluster: {server: "https://first", certificate-authority: ca.pem}}
users:
- {name: u, user: {token: first-token}}
contexts:
- {name: ctx, context: {cluster: shared, user: u, namespace: first-ns}}
`)
	second := writeFile(t, filepath.Join(dir, "two", "config"), `
current-context: ctx
clusters:
- {name: shared, cluster: {server: "https://second"}}
- {name: only-second, cluster: {server: "https://only-second", certificate-authority: ca.pem}}
users:
- {name: u, user: {token: second-token}}
contexts:
- {name: ctx, context: {cluster: only-second, user: u}}
- {name: other, context: {cluster: only-second, user: u}}
`)
	third := writeFile(t, filepath.Join(dir, "three", "config"), `
current-context: other
contexts:
- {name: third, context: {cluster: shared}}
`)
	caPEM, _ := selfSignedPEM(t)
	writeFile(t, filepath.Join(dir, "one", "ca.pem"), caPEM)
	writeFile(t, filepath.Join(dir, "two", "ca.pem"), caPEM)
	missing := filepath.Join(dir, "missing", "config")
	list := strings.Join([]string{missing, first, second, third}, string(os.PathListSeparator))
	e := testEnv(map[string]string{"KUBECONFIG": list}, "", "")

	f, err := read(&Options{}, e)
	require.NoError(t, err)
	assert.Equal(t, []string{first, second, third}, f.Sources, "missing files are skipped")
	assert.Equal(t, "ctx", f.CurrentContext, "the first current-context set wins")
	assert.Equal(t, []string{"ctx", "other", "third"}, f.ContextNames())
	assert.Equal(t, "https://first", f.Clusters["shared"].Server, "the first file to define a name wins")
	assert.Equal(t, first, f.Clusters["shared"].Source)

	cfg, err := load(nil, e)
	require.NoError(t, err)
	assert.Equal(t, "https://first", cfg.Host)
	assert.Equal(t, "first-token", cfg.BearerToken)
	assert.Equal(t, "first-ns", cfg.Namespace)
	assert.Equal(t, filepath.Join(dir, "one", "ca.pem"), cfg.TLS.CAFile)

	// Entries keep the folder of the file that defined them.
	cfg, err = load(&Options{Context: "other"}, e)
	require.NoError(t, err)
	assert.Equal(t, "https://only-second", cfg.Host)
	assert.Equal(t, filepath.Join(dir, "two", "ca.pem"), cfg.TLS.CAFile)

	cfg, err = load(&Options{Context: "third"}, e)
	require.NoError(t, err)
	assert.Equal(t, "https://first", cfg.Host)
	assert.Empty(t, cfg.BearerToken, "a context without a user has no credentials")
}

func TestLoadOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	doc := func(server string) string {
		return `
current-context: c
clusters: [{name: k, cluster: {server: "` + server + `"}}]
contexts: [{name: c, context: {cluster: k}}]
`
	}
	explicit := writeFile(t, filepath.Join(dir, "explicit"), doc("https://explicit"))
	fromEnv := writeFile(t, filepath.Join(dir, "env"), doc("https://env"))
	home := filepath.Join(dir, "home")
	writeFile(t, filepath.Join(home, ".kube", "config"), doc("https://home"))
	emptyHome := filepath.Join(dir, "empty-home")
	require.NoError(t, os.MkdirAll(emptyHome, 0o755))
	sa := serviceAccount(t, "sa-token", "sa-ns")
	inPod := map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
	with := func(m map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for kk, vv := range m {
			out[kk] = vv
		}
		return out
	}
	emptyFile := writeFile(t, filepath.Join(dir, "empty"), "")

	tests := []struct {
		name string
		opts *Options
		env  env
		host string
	}{
		{"explicit path wins", &Options{Path: explicit}, testEnv(map[string]string{"KUBECONFIG": fromEnv}, home, sa), "https://explicit"},
		{"KUBECONFIG before home", nil, testEnv(map[string]string{"KUBECONFIG": fromEnv}, home, sa), "https://env"},
		{"home", nil, testEnv(inPod, home, sa), "https://home"},
		{"in-cluster without files", nil, testEnv(inPod, emptyHome, sa), "https://10.0.0.1:443"},
		{"in-cluster when KUBECONFIG files are missing", nil, testEnv(with(inPod, "KUBECONFIG", filepath.Join(dir, "nope")), home, sa), "https://10.0.0.1:443"},
		{"in-cluster when the file is empty", nil, testEnv(with(inPod, "KUBECONFIG", emptyFile), home, sa), "https://10.0.0.1:443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := load(tt.opts, tt.env)
			require.NoError(t, err)
			assert.Equal(t, tt.host, cfg.Host)
		})
	}

	t.Run("in-cluster namespace override", func(t *testing.T) {
		t.Parallel()
		cfg, err := load(&Options{Namespace: "x"}, testEnv(inPod, emptyHome, sa))
		require.NoError(t, err)
		assert.Equal(t, "x", cfg.Namespace)
	})
	t.Run("explicit path must exist", func(t *testing.T) {
		t.Parallel()
		_, err := load(&Options{Path: filepath.Join(dir, "nope")}, testEnv(inPod, home, sa))
		require.Error(t, err)
		assert.ErrorIs(t, err, fs.ErrNotExist)
		assert.NotErrorIs(t, err, ErrNoConfig)
	})
	t.Run("an empty explicit file is not skipped", func(t *testing.T) {
		t.Parallel()
		_, err := load(&Options{Path: emptyFile}, testEnv(inPod, home, sa))
		var kerr *Error
		require.ErrorAs(t, err, &kerr)
		assert.Equal(t, "current-context", kerr.Field)
		assert.Equal(t, emptyFile, kerr.Path)
	})
	t.Run("nothing configured", func(t *testing.T) {
		t.Parallel()
		for _, e := range []env{
			testEnv(nil, emptyHome, sa),
			testEnv(nil, "", sa),
			testEnv(map[string]string{"KUBECONFIG": filepath.Join(dir, "nope")}, home, sa),
		} {
			_, err := load(nil, e)
			assert.ErrorIs(t, err, ErrNoConfig)
		}
	})
	t.Run("context requested but nothing configured", func(t *testing.T) {
		t.Parallel()
		_, err := load(&Options{Context: "c"}, testEnv(inPod, emptyHome, sa))
		assert.ErrorIs(t, err, ErrNoConfig)
	})
}

func TestBrokenKubeconfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		doc   string
		opts  *Options
		field string
		want  []string
		// hide must not appear in the message (secrets).
		hide []string
	}{
		{
			name:  "unknown cluster",
			doc:   "current-context: a\ncontexts: [{name: a, context: {cluster: b}}]\n",
			field: `contexts["a"]`,
			want:  []string{`context "a" refers to unknown cluster "b"`},
		},
		{
			name: "unknown user",
			doc: "current-context: a\nclusters: [{name: b, cluster: {server: https://x}}]\n" +
				"contexts: [{name: a, context: {cluster: b, user: nobody}}]\n",
			field: `contexts["a"]`,
			want:  []string{`unknown user "nobody"`},
		},
		{
			name:  "bad client certificate base64",
			doc:   "users: [{name: u, user: {client-certificate-data: '!!notbase64'}}]\n",
			field: `users["u"].client-certificate-data`,
			want:  []string{"invalid base64"},
		},
		{
			name:  "bad client key base64",
			doc:   "users: [{name: u, user: {client-key-data: 'a$b'}}]\n",
			field: `users["u"].client-key-data`,
			want:  []string{"invalid base64"},
		},
		{
			name:  "bad CA base64",
			doc:   "clusters: [{name: k, cluster: {server: https://x, certificate-authority-data: 'zz$'}}]\n",
			field: `clusters["k"].certificate-authority-data`,
			want:  []string{"invalid base64"},
		},
		{
			name: "yaml syntax error",
			doc:  "current-context: a\nclusters:\n- name: k\n  cluster: {server: [\n",
			want: []string{"line"},
		},
		{
			name:  "missing server",
			doc:   "current-context: a\nclusters: [{name: k, cluster: {}}]\ncontexts: [{name: a, context: {cluster: k}}]\n",
			field: `clusters["k"].server`,
			want:  []string{"not set"},
		},
		{
			name:  "no current context",
			doc:   "clusters: [{name: k, cluster: {server: https://x}}]\ncontexts: [{name: a, context: {cluster: k}}]\n",
			field: "current-context",
			want:  []string{"not set"},
		},
		{
			name:  "current context missing",
			doc:   "current-context: gone\nclusters: [{name: k, cluster: {server: https://x}}]\n",
			field: "current-context",
			want:  []string{`context "gone" not found`},
		},
		{
			name:  "requested context missing",
			doc:   twoContexts,
			opts:  &Options{Context: "zzz"},
			field: "context",
			want:  []string{`context "zzz" not found`},
		},
		{
			name:  "missing name",
			doc:   "clusters: [{cluster: {server: https://x}}]\n",
			field: "clusters[0]",
			want:  []string{"missing name"},
		},
		{
			name: "bad proxy url",
			doc: "current-context: a\nclusters: [{name: k, cluster: {server: https://x, proxy-url: 'ftp://p:1'}}]\n" +
				"contexts: [{name: a, context: {cluster: k}}]\n",
			field: `clusters["k"].proxy-url`,
			want:  []string{"ftp"},
		},
		{
			name: "certificate without key",
			doc: "current-context: a\nclusters: [{name: k, cluster: {server: https://x}}]\n" +
				"users: [{name: u, user: {client-certificate: c.pem}}]\ncontexts: [{name: a, context: {cluster: k, user: u}}]\n",
			field: `users["u"].client-key`,
		},
		{
			name: "insecure with a CA",
			doc: "current-context: a\nclusters: [{name: k, cluster: {server: https://x, insecure-skip-tls-verify: true, certificate-authority: ca.pem}}]\n" +
				"contexts: [{name: a, context: {cluster: k}}]\n",
			field: `clusters["k"].insecure-skip-tls-verify`,
			want:  []string{"certificate-authority"},
		},
		{
			name: "token and basic auth",
			doc: "current-context: a\nclusters: [{name: k, cluster: {server: https://x}}]\n" +
				"users: [{name: u, user: {token: t, username: a, password: p}}]\ncontexts: [{name: a, context: {cluster: k, user: u}}]\n",
			field: `users["u"]`,
			want:  []string{"more than one authentication method"},
		},
		{
			name: "password without username",
			doc: "current-context: a\nclusters: [{name: k, cluster: {server: https://x}}]\n" +
				"users: [{name: u, user: {password: p}}]\ncontexts: [{name: a, context: {cluster: k, user: u}}]\n",
			field: `users["u"].username`,
		},
		{
			name: "impersonation extras without a user",
			doc: "current-context: a\nclusters: [{name: k, cluster: {server: https://x}}]\n" +
				"users: [{name: u, user: {as-groups: [g]}}]\ncontexts: [{name: a, context: {cluster: k, user: u}}]\n",
			field: `users["u"].as`,
		},
		{
			name: "server with bad scheme",
			doc: "current-context: a\nclusters: [{name: k, cluster: {server: 'ftp://x'}}]\n" +
				"contexts: [{name: a, context: {cluster: k}}]\n",
			field: `clusters["k"].server`,
			want:  []string{"ftp"},
		},
		{
			name: "server with user info",
			doc: "current-context: a\nclusters: [{name: k, cluster: {server: 'https://me:s3cret-pw@x'}}]\n" +
				"contexts: [{name: a, context: {cluster: k}}]\n",
			field: `clusters["k"].server`,
			want:  []string{"scheme://host[:port][/prefix]", "user info"},
			hide:  []string{"s3cret-pw"},
		},
		{
			name: "server with a query",
			doc: "current-context: a\nclusters: [{name: k, cluster: {server: 'https://x/?a=b'}}]\n" +
				"contexts: [{name: a, context: {cluster: k}}]\n",
			field: `clusters["k"].server`,
			want:  []string{"scheme://host[:port][/prefix]"},
		},
		{
			name:  "unknown cluster override",
			doc:   twoContexts,
			opts:  &Options{Cluster: "nope"},
			field: "cluster",
			want:  []string{`cluster "nope" not found`},
		},
		{
			name:  "unknown user override",
			doc:   twoContexts,
			opts:  &Options{User: "nope"},
			field: "user",
			want:  []string{`user "nope" not found`},
		},
		{
			name:  "exec without command",
			doc:   "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1}}}]\n",
			field: `users["u"].exec.command`,
		},
		{
			name: "auth provider",
			doc: "current-context: a\nclusters: [{name: k, cluster: {server: https://x}}]\n" +
				"users: [{name: u, user: {auth-provider: {name: gcp}}}]\ncontexts: [{name: a, context: {cluster: k, user: u}}]\n",
			field: `users["u"].auth-provider`,
			want:  []string{"gcp", "exec"},
		},
		{
			name: "missing certificate-authority file",
			doc: "current-context: a\nclusters: [{name: k, cluster: {server: https://x, certificate-authority: no-ca.pem}}]\n" +
				"contexts: [{name: a, context: {cluster: k}}]\n",
			field: `clusters["k"].certificate-authority`,
			want:  []string{"no-ca.pem", "no such file"},
		},
		{
			name: "missing client-certificate file",
			doc: "current-context: a\nclusters: [{name: k, cluster: {server: https://x}}]\n" +
				"users: [{name: u, user: {client-certificate: no-cert.pem, client-key-data: " + b64("KEY") + "}}]\n" +
				"contexts: [{name: a, context: {cluster: k, user: u}}]\n",
			field: `users["u"].client-certificate`,
			want:  []string{"no-cert.pem"},
		},
		{
			name: "missing client-key file",
			doc: "current-context: a\nclusters: [{name: k, cluster: {server: https://x}}]\n" +
				"users: [{name: u, user: {client-certificate-data: " + b64("CERT") + ", client-key: no-key.pem}}]\n" +
				"contexts: [{name: a, context: {cluster: k, user: u}}]\n",
			field: `users["u"].client-key`,
			want:  []string{"no-key.pem"},
		},
		{
			name: "missing tokenFile without a static token",
			doc: "current-context: a\nclusters: [{name: k, cluster: {server: https://x}}]\n" +
				"users: [{name: u, user: {tokenFile: no-token}}]\ncontexts: [{name: a, context: {cluster: k, user: u}}]\n",
			field: `users["u"].tokenFile`,
			want:  []string{"no-token"},
		},
		{
			name: "exec without apiVersion",
			doc: "current-context: a\nclusters: [{name: k, cluster: {server: https://x}}]\n" +
				"users: [{name: u, user: {exec: {command: foo}}}]\ncontexts: [{name: a, context: {cluster: k, user: u}}]\n",
			field: `users["u"].exec`,
			want:  []string{"apiVersion"},
		},
		{
			name: "exec v1 without interactiveMode",
			doc: "current-context: a\nclusters: [{name: k, cluster: {server: https://x}}]\n" +
				"users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: foo}}}]\n" +
				"contexts: [{name: a, context: {cluster: k, user: u}}]\n",
			field: `users["u"].exec`,
			want:  []string{"interactiveMode"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, filepath.Join(t.TempDir(), "config"), tt.doc)
			opts := &Options{Path: path}
			if tt.opts != nil {
				o := *tt.opts
				o.Path = path
				opts = &o
			}
			_, err := load(opts, testEnv(nil, "", ""))
			require.Error(t, err)
			var kerr *Error
			require.ErrorAs(t, err, &kerr)
			assert.Equal(t, path, kerr.Path)
			assert.Equal(t, tt.field, kerr.Field)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, "kubeconfig "+path+": "), msg)
			for _, w := range tt.want {
				assert.Contains(t, msg, w)
			}
			for _, h := range tt.hide {
				assert.NotContains(t, msg, h)
			}
		})
	}
}

func TestYAMLErrorNamesLine(t *testing.T) {
	t.Parallel()
	_, err := Parse([]byte("current-context: a\nclusters:\n  - name: k\n   bad: indentation\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "yaml: line 3")
	assert.Contains(t, err.Error(), "kubeconfig (data)")
}

func TestFileSizeCap(t *testing.T) {
	t.Parallel()
	big := make([]byte, MaxFileSize+1)
	for i := range big {
		big[i] = ' '
	}
	path := filepath.Join(t.TempDir(), "config")
	require.NoError(t, os.WriteFile(path, big, 0o600))
	_, err := ReadFile(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "larger than")
	assert.Contains(t, err.Error(), path)
	_, err = Parse(big)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "larger than")
}

func TestMergeDoesNotModifyInputs(t *testing.T) {
	t.Parallel()
	a, err := Parse([]byte("current-context: a\nclusters: [{name: k, cluster: {server: https://a}}]\n"))
	require.NoError(t, err)
	b, err := Parse([]byte("current-context: b\nclusters: [{name: k, cluster: {server: https://b}}, {name: j, cluster: {server: https://j}}]\n"))
	require.NoError(t, err)
	m := Merge(a, nil, b)
	assert.Equal(t, "a", m.CurrentContext)
	assert.Equal(t, "https://a", m.Clusters["k"].Server)
	assert.Equal(t, "https://j", m.Clusters["j"].Server)
	assert.Len(t, a.Clusters, 1)
	assert.Equal(t, "https://b", b.Clusters["k"].Server)
}
