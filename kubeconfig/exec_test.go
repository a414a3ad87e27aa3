package kubeconfig

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/transport"
)

// pluginModeEnv makes the test binary act as an exec credential plugin
// instead of running tests (the os/exec helper-process pattern).
const pluginModeEnv = "KUBEDYN_TEST_PLUGIN"

func TestMain(m *testing.M) {
	if mode := os.Getenv(pluginModeEnv); mode != "" {
		os.Exit(fakePlugin(mode))
	}
	os.Exit(m.Run())
}

// pluginReport is what the "echo" plugin says it saw, sent back as its
// token (base64 JSON).
type pluginReport struct {
	Info     json.RawMessage `json:"info"`
	Args     []string        `json:"args"`
	Extra    string          `json:"extra"`
	StdinEOF bool            `json:"stdinEOF"`
}

// fakePlugin is the plugin's main.
func fakePlugin(mode string) int {
	var req struct {
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal([]byte(os.Getenv("KUBERNETES_EXEC_INFO")), &req); err != nil {
		fmt.Fprintln(os.Stderr, "bad KUBERNETES_EXEC_INFO:", err)
		return 2
	}
	status := map[string]any{}
	if exp := os.Getenv("TEST_EXPIRY"); exp != "" {
		status["expirationTimestamp"] = exp
	}
	apiVersion := req.APIVersion
	switch mode {
	case "echo":
		n, err := os.Stdin.Read(make([]byte, 1))
		rep := pluginReport{
			Info:     json.RawMessage(os.Getenv("KUBERNETES_EXEC_INFO")),
			Args:     os.Args[1:],
			Extra:    os.Getenv("TEST_EXTRA"),
			StdinEOF: n == 0 && errors.Is(err, io.EOF),
		}
		b, _ := json.Marshal(rep)
		status["token"] = base64.StdEncoding.EncodeToString(b)
	case "http":
		resp, err := http.Get(os.Getenv("TEST_URL"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		status["token"] = string(b)
	case "cert":
		status["clientCertificateData"] = os.Getenv("TEST_CERT")
		status["clientKeyData"] = os.Getenv("TEST_KEY")
	case "fail":
		fmt.Fprintln(os.Stderr, "boom: the identity provider said no")
		return 3
	case "noisy-fail":
		fmt.Fprint(os.Stderr, strings.Repeat("x", 10000))
		return 1
	case "hang":
		time.Sleep(time.Hour)
		return 0
	case "fork":
		// Start a child that would outlive the plugin, report its pid,
		// then hang.
		child := exec.Command(os.Args[0])
		child.Env = append(os.Environ(), pluginModeEnv+"=hang")
		if err := child.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		if err := os.WriteFile(os.Getenv("TEST_PIDFILE"), []byte(strconv.Itoa(child.Process.Pid)), 0o600); err != nil {
			return 2
		}
		time.Sleep(time.Hour)
		return 0
	case "escape-fail":
		fmt.Fprint(os.Stderr, "line one\n\x1b[31mred\x1b[0m\r\nline two\n")
		return 1
	case "badjson":
		fmt.Print(`{"apiVersion": "` + apiVersion + `", "kind": "ExecCredential", "status": {`)
		return 0
	case "wrongversion":
		apiVersion = "client.authentication.k8s.io/v1alpha1"
		status["token"] = "t"
	case "nostatus":
		fmt.Print(`{"apiVersion": "` + apiVersion + `", "kind": "ExecCredential"}`)
		return 0
	case "certnokey":
		status["clientCertificateData"] = "cert"
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", mode)
		return 2
	}
	out, _ := json.Marshal(map[string]any{"apiVersion": apiVersion, "kind": "ExecCredential", "status": status})
	fmt.Print(string(out))
	return 0
}

// raceNoExitSleep stops a race-enabled plugin from sleeping a second before
// it exits.
var raceNoExitSleep = ExecEnvVar{Name: "GORACE", Value: "atexit_sleep_ms=0"}

func selfExe(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	return exe
}

// pluginConfig is an exec section running the test binary in mode.
func pluginConfig(t *testing.T, apiVersion, mode string, env ...ExecEnvVar) ExecConfig {
	return ExecConfig{
		APIVersion:      apiVersion,
		Command:         selfExe(t),
		Env:             append([]ExecEnvVar{{Name: pluginModeEnv, Value: mode}, raceNoExitSleep}, env...),
		InteractiveMode: "Never",
	}
}

func decodeReport(t *testing.T, token string) pluginReport {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(token)
	require.NoError(t, err)
	var rep pluginReport
	require.NoError(t, json.Unmarshal(b, &rep))
	return rep
}

func TestExecPluginThroughLoad(t *testing.T) {
	t.Parallel()
	for _, apiVersion := range []string{execAPIv1, execAPIv1beta1} {
		t.Run(apiVersion, func(t *testing.T) {
			t.Parallel()
			caPEM, _ := selfSignedPEM(t)
			doc := `
current-context: c
clusters:
- name: k
  cluster:
    server: https://k.example.com:6443
    certificate-authority-data: ` + b64(caPEM) + `
    tls-server-name: api.internal
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: kubedyn-test}
users:
- name: u
  user:
    exec:
      apiVersion: ` + apiVersion + `
      command: ` + selfExe(t) + `
      args: [--flag, value]
      env:
      - {name: ` + pluginModeEnv + `, value: echo}
      - {name: TEST_EXTRA, value: extra-value}
      - {name: GORACE, value: atexit_sleep_ms=0}
      provideClusterInfo: true
      interactiveMode: IfAvailable
contexts:
- {name: c, context: {cluster: k, user: u}}
`
			cfg, err := LoadBytes([]byte(doc), nil)
			require.NoError(t, err)
			require.NotNil(t, cfg.Credentials)
			creds, err := cfg.Credentials.Credentials(context.Background(), false)
			require.NoError(t, err)
			assert.Nil(t, creds.ClientCertificate)
			assert.True(t, creds.Expiry.IsZero())
			rep := decodeReport(t, creds.Token)
			assert.Equal(t, []string{"--flag", "value"}, rep.Args)
			assert.Equal(t, "extra-value", rep.Extra)
			assert.True(t, rep.StdinEOF, "stdin is the null device, not a terminal")

			var info struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Spec       struct {
					Interactive bool `json:"interactive"`
					Cluster     struct {
						Server                   string          `json:"server"`
						TLSServerName            string          `json:"tls-server-name"`
						CertificateAuthorityData string          `json:"certificate-authority-data"`
						Config                   json.RawMessage `json:"config"`
					} `json:"cluster"`
				} `json:"spec"`
			}
			require.NoError(t, json.Unmarshal(rep.Info, &info))
			assert.Equal(t, apiVersion, info.APIVersion)
			assert.Equal(t, "ExecCredential", info.Kind)
			assert.False(t, info.Spec.Interactive)
			assert.Equal(t, "https://k.example.com:6443", info.Spec.Cluster.Server)
			assert.Equal(t, "api.internal", info.Spec.Cluster.TLSServerName)
			assert.Equal(t, b64(caPEM), info.Spec.Cluster.CertificateAuthorityData)
			assert.JSONEq(t, `{"audience":"kubedyn-test"}`, string(info.Spec.Cluster.Config))
		})
	}
}

func TestExecWithoutClusterInfo(t *testing.T) {
	t.Parallel()
	p, err := NewExecProvider(pluginConfig(t, execAPIv1, "echo"), 0)
	require.NoError(t, err)
	creds, err := p.Credentials(context.Background(), false)
	require.NoError(t, err)
	rep := decodeReport(t, creds.Token)
	assert.NotContains(t, string(rep.Info), "cluster")
	assert.Empty(t, rep.Args)
}

func selfSignedPEM(t *testing.T) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "plugin-user"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
}

func TestExecClientCertificate(t *testing.T) {
	t.Parallel()
	certPEM, keyPEM := selfSignedPEM(t)
	expiry := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	p, err := NewExecProvider(pluginConfig(t, execAPIv1beta1, "cert",
		ExecEnvVar{Name: "TEST_CERT", Value: certPEM},
		ExecEnvVar{Name: "TEST_KEY", Value: keyPEM},
		ExecEnvVar{Name: "TEST_EXPIRY", Value: expiry.Format(time.RFC3339)},
	), 0)
	require.NoError(t, err)
	creds, err := p.Credentials(context.Background(), false)
	require.NoError(t, err)
	assert.Empty(t, creds.Token)
	require.NotNil(t, creds.ClientCertificate)
	leaf, err := x509.ParseCertificate(creds.ClientCertificate.Certificate[0])
	require.NoError(t, err)
	assert.Equal(t, "plugin-user", leaf.Subject.CommonName)
	assert.True(t, expiry.Equal(creds.Expiry), "expiry %v, want %v", creds.Expiry, expiry)
}

// tokenServer hands out token-1, token-2, ... and counts the plugin's runs.
// When gated, each request waits until release is closed.
type tokenServer struct {
	*httptest.Server
	runs    atomic.Int32
	release chan struct{}
	// arrived receives a value as each request arrives (dropped when
	// nobody listens and the buffer is full).
	arrived chan struct{}
}

func newTokenServer(t *testing.T, gated bool) *tokenServer {
	ts := &tokenServer{arrived: make(chan struct{}, 16)}
	if gated {
		ts.release = make(chan struct{})
	}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ts.runs.Add(1)
		select {
		case ts.arrived <- struct{}{}:
		default:
		}
		if ts.release != nil {
			<-ts.release
		}
		fmt.Fprintf(w, "token-%d", n)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestExecCachesUntilShortlyBeforeExpiry(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, false)
	start := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	expiry := start.Add(10 * time.Minute)
	p, err := NewExecProvider(pluginConfig(t, execAPIv1, "http",
		ExecEnvVar{Name: "TEST_URL", Value: ts.URL},
		ExecEnvVar{Name: "TEST_EXPIRY", Value: expiry.Format(time.RFC3339)},
	), 0)
	require.NoError(t, err)
	now := start
	p.now = func() time.Time { return now }
	ctx := context.Background()

	get := func(force bool) string {
		t.Helper()
		c, err := p.Credentials(ctx, force)
		require.NoError(t, err)
		assert.True(t, expiry.Equal(c.Expiry))
		return c.Token
	}
	assert.Equal(t, "token-1", get(false))
	assert.Equal(t, "token-1", get(false), "cached while fresh")
	now = start.Add(8 * time.Minute)
	assert.Equal(t, "token-1", get(false), "still more than a minute left")
	assert.Equal(t, "token-2", get(true), "forceRefresh runs the plugin")
	now = start.Add(9*time.Minute + 30*time.Second)
	assert.Equal(t, "token-3", get(false), "refreshed a minute before expiry")
	assert.Equal(t, int32(3), ts.runs.Load())
}

func TestExecWithoutExpiryIsCachedUntilForced(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, false)
	p, err := NewExecProvider(pluginConfig(t, execAPIv1, "http", ExecEnvVar{Name: "TEST_URL", Value: ts.URL}), 0)
	require.NoError(t, err)
	ctx := context.Background()
	for range 3 {
		c, err := p.Credentials(ctx, false)
		require.NoError(t, err)
		assert.Equal(t, "token-1", c.Token)
	}
	c, err := p.Credentials(ctx, true)
	require.NoError(t, err)
	assert.Equal(t, "token-2", c.Token)
}

func TestExecConcurrentCallersShareOneRun(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, true)
	p, err := NewExecProvider(pluginConfig(t, execAPIv1, "http", ExecEnvVar{Name: "TEST_URL", Value: ts.URL}), 0)
	require.NoError(t, err)
	const callers = 8
	tokens := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			c, err := p.Credentials(context.Background(), i%2 == 0)
			tokens[i], errs[i] = c.Token, err
		})
	}
	// Release the plugin only once every caller waits on the same run. The
	// provider has no hook to signal that, so poll; the bound only matters
	// when the test fails, so it is generous for a loaded -race machine.
	require.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.waiters == callers
	}, 2*time.Minute, time.Millisecond)
	close(ts.release)
	wg.Wait()
	for i := range callers {
		require.NoError(t, errs[i])
		assert.Equal(t, "token-1", tokens[i])
	}
	assert.Equal(t, int32(1), ts.runs.Load())
}

func TestExecCallerCancelDoesNotAbortTheRun(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, true)
	p, err := NewExecProvider(pluginConfig(t, execAPIv1, "http", ExecEnvVar{Name: "TEST_URL", Value: ts.URL}), 0)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Credentials(ctx, false)
		done <- err
	}()
	<-ts.arrived // the plugin runs and waits for its token
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	// The run goes on; a later caller gets its result.
	close(ts.release)
	c, err := p.Credentials(context.Background(), false)
	require.NoError(t, err)
	assert.Equal(t, "token-1", c.Token)
	assert.Equal(t, int32(1), ts.runs.Load())
}

func TestExecFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     func(t *testing.T) ExecConfig
		timeout time.Duration
		is      error
		want    []string
	}{
		{
			name: "missing program with install hint",
			cfg: func(t *testing.T) ExecConfig {
				c := pluginConfig(t, execAPIv1, "echo")
				c.Command = "/nonexistent/kubedyn-auth-plugin"
				c.InstallHint = "install it with: brew install kubedyn-auth"
				return c
			},
			is:   fs.ErrNotExist,
			want: []string{"/nonexistent/kubedyn-auth-plugin", "brew install kubedyn-auth"},
		},
		{
			name: "program not in PATH",
			cfg: func(t *testing.T) ExecConfig {
				c := pluginConfig(t, execAPIv1, "echo")
				c.Command = "kubedyn-no-such-plugin-7f3a"
				c.InstallHint = "see the docs"
				return c
			},
			is:   exec.ErrNotFound,
			want: []string{"kubedyn-no-such-plugin-7f3a", "see the docs"},
		},
		{
			name: "non-zero exit quotes stderr",
			cfg:  func(t *testing.T) ExecConfig { return pluginConfig(t, execAPIv1, "fail") },
			want: []string{"exit status 3", "boom: the identity provider said no"},
		},
		{
			name: "stderr control characters are replaced",
			cfg:  func(t *testing.T) ExecConfig { return pluginConfig(t, execAPIv1, "escape-fail") },
			want: []string{"stderr: line one [31mred [0m line two"},
		},
		{
			name: "long stderr is cut",
			cfg:  func(t *testing.T) ExecConfig { return pluginConfig(t, execAPIv1, "noisy-fail") },
			want: []string{"exit status 1", "xxx ..."},
		},
		{
			name:    "timeout",
			cfg:     func(t *testing.T) ExecConfig { return pluginConfig(t, execAPIv1, "hang") },
			timeout: 300 * time.Millisecond,
			is:      context.DeadlineExceeded,
			want:    []string{"did not finish within 300ms"},
		},
		{
			name: "bad JSON",
			cfg:  func(t *testing.T) ExecConfig { return pluginConfig(t, execAPIv1beta1, "badjson") },
			want: []string{"decode ExecCredential"},
		},
		{
			name: "apiVersion mismatch",
			cfg:  func(t *testing.T) ExecConfig { return pluginConfig(t, execAPIv1, "wrongversion") },
			want: []string{`"client.authentication.k8s.io/v1alpha1"`, "want \"client.authentication.k8s.io/v1\""},
		},
		{
			name: "no status",
			cfg:  func(t *testing.T) ExecConfig { return pluginConfig(t, execAPIv1, "nostatus") },
			want: []string{"no status"},
		},
		{
			name: "certificate without key",
			cfg:  func(t *testing.T) ExecConfig { return pluginConfig(t, execAPIv1, "certnokey") },
			want: []string{"clientKeyData"},
		},
		{
			name: "bad expiry",
			cfg: func(t *testing.T) ExecConfig {
				c := pluginConfig(t, execAPIv1, "echo")
				c.Env = append(c.Env, ExecEnvVar{Name: "TEST_EXPIRY", Value: "tomorrow"})
				return c
			},
			want: []string{"expirationTimestamp"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := NewExecProvider(tt.cfg(t), tt.timeout)
			require.NoError(t, err)
			// The "hang" plugin sleeps an hour, so returning at all with
			// context.DeadlineExceeded shows the timeout ended it; no
			// wall-clock bound is needed.
			_, err = p.Credentials(context.Background(), false)
			require.Error(t, err)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			// A failure is not cached: the next call runs the plugin again
			// and fails the same way.
			_, err2 := p.Credentials(context.Background(), false)
			require.Error(t, err2)
		})
	}
}

func TestNewExecProviderValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  ExecConfig
		want string
	}{
		{"unknown apiVersion", ExecConfig{APIVersion: "client.authentication.k8s.io/v1alpha1", Command: "x", InteractiveMode: "Never"}, "not supported"},
		{"interactive always", ExecConfig{APIVersion: execAPIv1, Command: "x", InteractiveMode: "Always"}, "terminal"},
		{"bad interactive mode", ExecConfig{APIVersion: execAPIv1, Command: "x", InteractiveMode: "Sometimes"}, "Sometimes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewExecProvider(tt.cfg, 0)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	p, err := NewExecProvider(ExecConfig{APIVersion: execAPIv1beta1, Command: "x"}, 0)
	require.NoError(t, err, "v1beta1 defaults interactiveMode")
	assert.Equal(t, "IfAvailable", p.cfg.InteractiveMode)
	assert.Equal(t, DefaultExecTimeout, p.timeout)
	var _ transport.CredentialProvider = p
}

func TestExecCanceledContextStartsNoRun(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, false)
	p, err := NewExecProvider(pluginConfig(t, execAPIv1, "http", ExecEnvVar{Name: "TEST_URL", Value: ts.URL}), 0)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = p.Credentials(ctx, false)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, int32(0), ts.runs.Load())
}

func TestExecRelativeCommandRunsFromTheKubeconfigFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	require.NoError(t, os.Symlink(selfExe(t), filepath.Join(dir, "bin", "plugin")))
	path := writeFile(t, filepath.Join(dir, "config"), `
current-context: c
clusters: [{name: k, cluster: {server: "https://k"}}]
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      interactiveMode: Never
      command: ./bin/plugin
      env:
      - {name: `+pluginModeEnv+`, value: echo}
      - {name: GORACE, value: atexit_sleep_ms=0}
contexts: [{name: c, context: {cluster: k, user: u}}]
`)
	cfg, err := load(&Options{Path: path}, testEnv(nil, "", ""))
	require.NoError(t, err)
	creds, err := cfg.Credentials.Credentials(context.Background(), false)
	require.NoError(t, err)
	assert.True(t, decodeReport(t, creds.Token).StdinEOF)
}

// TestExecExpiredOnArrivalIsNotRerunPerRequest: a plugin whose clock runs
// behind ours hands out an expirationTimestamp already past (or within the
// minute) by our clock. Its credentials are used for minExecInterval before
// the plugin runs again, instead of running it for every request; a forced
// refresh (after a 401) still runs it at once.
func TestExecExpiredOnArrivalIsNotRerunPerRequest(t *testing.T) {
	t.Parallel()
	for name, skew := range map[string]time.Duration{"already expired": -time.Hour, "expires within the minute": 30 * time.Second} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ts := newTokenServer(t, false)
			start := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
			p, err := NewExecProvider(pluginConfig(t, execAPIv1, "http",
				ExecEnvVar{Name: "TEST_URL", Value: ts.URL},
				ExecEnvVar{Name: "TEST_EXPIRY", Value: start.Add(skew).Format(time.RFC3339)},
			), 0)
			require.NoError(t, err)
			now := start
			p.now = func() time.Time { return now }
			get := func(force bool) string {
				t.Helper()
				c, err := p.Credentials(context.Background(), force)
				require.NoError(t, err)
				return c.Token
			}
			for range 5 {
				assert.Equal(t, "token-1", get(false))
			}
			now = start.Add(minExecInterval - time.Second)
			assert.Equal(t, "token-1", get(false))
			assert.Equal(t, int32(1), ts.runs.Load(), "one run for all the requests within minExecInterval")
			now = start.Add(minExecInterval)
			assert.Equal(t, "token-2", get(false), "renewed after minExecInterval")
			assert.Equal(t, "token-3", get(true), "a forced refresh runs at once")
		})
	}
}
