package kubeconfig

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/kubedyn/kubedyn/transport"
)

const (
	execAPIv1      = "client.authentication.k8s.io/v1"
	execAPIv1beta1 = "client.authentication.k8s.io/v1beta1"
	// refreshBefore is how long before expiry cached credentials are
	// renewed.
	refreshBefore = time.Minute
	// maxExecOutput caps what is read from a plugin's stdout.
	maxExecOutput = 1 << 20
	// stderrSnippet is how much of a failing plugin's stderr an error quotes
	// (stderr may hold secrets; the rest is never read into memory).
	stderrSnippet = 1024
	// minExecInterval is how long credentials that arrive already expired
	// or about to expire (the plugin's clock behind ours, or a very short
	// lifetime) are used before the plugin runs again.
	minExecInterval = 10 * time.Second
)

// ExecProvider runs a kubeconfig exec credential plugin and caches what it
// returns until a minute before the credentials expire. It implements
// transport.CredentialProvider; Config sets one as
// transport.Config.Credentials for a user with an exec section.
//
// An ExecProvider is safe for concurrent use: concurrent callers share one
// run of the plugin.
type ExecProvider struct {
	cfg     ExecConfig
	timeout time.Duration
	// request is the ExecCredential sent in KUBERNETES_EXEC_INFO.
	request []byte
	now     func() time.Time

	mu       sync.Mutex
	cached   *transport.Credentials
	until    time.Time // when cached must be renewed; zero means never
	inflight *execRun
	// waiters counts callers waiting for inflight (tests use it).
	waiters int
}

// execRun is one run of the plugin that several callers may wait for.
type execRun struct {
	done  chan struct{}
	creds transport.Credentials
	err   error
}

// NewExecProvider returns a provider for cfg with no cluster information and
// the given timeout per run (0 means DefaultExecTimeout). Relative commands
// are looked up as written (ReadFile has already resolved those containing
// a path separator).
func NewExecProvider(cfg ExecConfig, timeout time.Duration) (*ExecProvider, error) {
	return newExecProvider(cfg, nil, timeout)
}

// newExecProvider is NewExecProvider with the cluster information that
// provideClusterInfo passes to the plugin (none when cl is nil).
func newExecProvider(c ExecConfig, cl *Cluster, timeout time.Duration) (*ExecProvider, error) {
	c.Args = append([]string(nil), c.Args...)
	c.Env = append([]ExecEnvVar(nil), c.Env...)
	switch c.APIVersion {
	case execAPIv1:
		if c.InteractiveMode == "" {
			return nil, errors.New("interactiveMode must be set for " + execAPIv1)
		}
	case execAPIv1beta1:
		if c.InteractiveMode == "" {
			c.InteractiveMode = "IfAvailable"
		}
	case "":
		return nil, errors.New("apiVersion is not set")
	default:
		return nil, fmt.Errorf("apiVersion %q is not supported (want %s or %s)", c.APIVersion, execAPIv1, execAPIv1beta1)
	}
	switch c.InteractiveMode {
	case "Never", "IfAvailable":
	case "Always":
		return nil, errors.New("interactiveMode Always needs a terminal, which kubedyn never gives a plugin")
	default:
		return nil, fmt.Errorf("interactiveMode %q is not one of Never, IfAvailable, Always", c.InteractiveMode)
	}
	if timeout <= 0 {
		timeout = DefaultExecTimeout
	}
	req, err := execRequest(c, cl)
	if err != nil {
		return nil, err
	}
	return &ExecProvider{cfg: c, timeout: timeout, request: req, now: time.Now}, nil
}

type execCluster struct {
	Server                   string          `json:"server"`
	TLSServerName            string          `json:"tls-server-name,omitempty"`
	InsecureSkipTLSVerify    bool            `json:"insecure-skip-tls-verify,omitempty"`
	CertificateAuthorityData string          `json:"certificate-authority-data,omitempty"`
	ProxyURL                 string          `json:"proxy-url,omitempty"`
	DisableCompression       bool            `json:"disable-compression,omitempty"`
	Config                   json.RawMessage `json:"config,omitempty"`
}

type execCredential struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Cluster     *execCluster `json:"cluster,omitempty"`
		Interactive bool         `json:"interactive"`
	} `json:"spec"`
	Status *struct {
		Token                 string `json:"token"`
		ClientCertificateData string `json:"clientCertificateData"`
		ClientKeyData         string `json:"clientKeyData"`
		ExpirationTimestamp   string `json:"expirationTimestamp"`
	} `json:"status,omitempty"`
}

func execRequest(c ExecConfig, cl *Cluster) ([]byte, error) {
	var req execCredential
	req.APIVersion = c.APIVersion
	req.Kind = "ExecCredential"
	if c.ProvideClusterInfo && cl != nil {
		ca := cl.CertificateAuthorityData
		if len(ca) == 0 && cl.CertificateAuthority != "" {
			data, err := os.ReadFile(cl.CertificateAuthority)
			if err != nil {
				return nil, fmt.Errorf("read certificate-authority for provideClusterInfo: %w", err)
			}
			ca = data
		}
		ec := &execCluster{
			Server:                cl.Server,
			TLSServerName:         cl.TLSServerName,
			InsecureSkipTLSVerify: cl.InsecureSkipTLSVerify,
			ProxyURL:              cl.ProxyURL,
			DisableCompression:    cl.DisableCompression,
			Config:                cl.ExecExtension,
		}
		if len(ca) > 0 {
			ec.CertificateAuthorityData = base64.StdEncoding.EncodeToString(ca)
		}
		req.Spec.Cluster = ec
	}
	return json.Marshal(req)
}

// Credentials returns the cached credentials while they are valid for more
// than a minute, else runs the plugin. forceRefresh runs it even when the
// cache is fresh (after the server answered 401). Concurrent callers share
// one run; ctx only bounds how long this caller waits, while the run itself
// is bounded by the provider's timeout.
func (p *ExecProvider) Credentials(ctx context.Context, forceRefresh bool) (transport.Credentials, error) {
	if err := ctx.Err(); err != nil {
		return transport.Credentials{}, fmt.Errorf("exec plugin %q: %w", p.cfg.Command, err)
	}
	p.mu.Lock()
	if !forceRefresh && p.cached != nil && (p.until.IsZero() || p.now().Before(p.until)) {
		c := *p.cached
		p.mu.Unlock()
		return c, nil
	}
	run := p.inflight
	if run == nil {
		run = &execRun{done: make(chan struct{})}
		p.inflight = run
		go p.run(context.WithoutCancel(ctx), run)
	}
	p.waiters++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.waiters--
		p.mu.Unlock()
	}()
	select {
	case <-run.done:
		return run.creds, run.err
	case <-ctx.Done():
		return transport.Credentials{}, fmt.Errorf("exec plugin %q: %w", p.cfg.Command, ctx.Err())
	}
}

// renewAt returns when credentials obtained now must be renewed: a minute
// before they expire, but not sooner than minExecInterval from now, so that
// an expirationTimestamp already past by our clock (clock skew) does not
// make every request run the plugin; zero when they do not expire.
func (p *ExecProvider) renewAt(c transport.Credentials) time.Time {
	if c.Expiry.IsZero() {
		return time.Time{}
	}
	now := p.now()
	return later(c.Expiry.Add(-refreshBefore), now.Add(minExecInterval))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (p *ExecProvider) run(ctx context.Context, run *execRun) {
	creds, err := p.exec(ctx)
	p.mu.Lock()
	if err == nil {
		p.cached = &creds
		p.until = p.renewAt(creds)
	}
	p.inflight = nil
	p.mu.Unlock()
	run.creds, run.err = creds, err
	close(run.done)
}

// limitedBuffer keeps the first max bytes written and drops the rest.
type limitedBuffer struct {
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room < len(p) {
		b.truncated = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (p *ExecProvider) exec(ctx context.Context) (transport.Credentials, error) {
	name := p.cfg.Command
	fail := func(format string, args ...any) (transport.Credentials, error) {
		return transport.Credentials{}, fmt.Errorf("exec plugin %q: "+format, append([]any{name}, args...)...)
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, p.cfg.Args...)
	if cmd.Err != nil {
		return p.notFound(cmd.Err)
	}
	cmd.Env = os.Environ()
	for _, e := range p.cfg.Env {
		cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
	}
	cmd.Env = append(cmd.Env, "KUBERNETES_EXEC_INFO="+string(p.request))
	cmd.Stdin = nil // reads from the null device: never a terminal
	stdout := &limitedBuffer{max: maxExecOutput}
	stderr := &limitedBuffer{max: stderrSnippet}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// The timeout kills the plugin's whole process group, children
	// included; stop waiting for the output pipes shortly after, even when
	// something still holds them open.
	ownProcessGroup(cmd)
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fail("did not finish within %v: %w", p.timeout, context.DeadlineExceeded)
	}
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			msg := printable(stderr.buf.String())
			if stderr.truncated {
				msg += " ..."
			}
			if msg == "" {
				return fail("%w", err)
			}
			return fail("%w; stderr: %s", err, msg)
		}
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return p.notFound(err)
		}
		return fail("%w", err)
	}
	if stdout.truncated {
		return fail("output is larger than %d bytes", maxExecOutput)
	}
	return p.decode(stdout.buf.Bytes())
}

// printable trims s and replaces each run of control characters (newlines,
// terminal escapes) with one space, so a plugin's stderr reads as one line.
func printable(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

func (p *ExecProvider) notFound(err error) (transport.Credentials, error) {
	if p.cfg.InstallHint != "" {
		return transport.Credentials{}, fmt.Errorf("exec plugin %q: %w\n%s", p.cfg.Command, err, p.cfg.InstallHint)
	}
	return transport.Credentials{}, fmt.Errorf("exec plugin %q: %w", p.cfg.Command, err)
}

func (p *ExecProvider) decode(out []byte) (transport.Credentials, error) {
	fail := func(format string, args ...any) (transport.Credentials, error) {
		return transport.Credentials{}, fmt.Errorf("exec plugin %q: "+format, append([]any{p.cfg.Command}, args...)...)
	}
	var resp execCredential
	dec := json.NewDecoder(bytes.NewReader(out))
	if err := dec.Decode(&resp); err != nil {
		return fail("decode ExecCredential from stdout: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail("decode ExecCredential from stdout: trailing data after the JSON object")
	}
	if resp.Kind != "ExecCredential" {
		return fail("output kind is %q, want ExecCredential", resp.Kind)
	}
	if resp.APIVersion != p.cfg.APIVersion {
		return fail("output apiVersion is %q, want %q as configured", resp.APIVersion, p.cfg.APIVersion)
	}
	st := resp.Status
	if st == nil {
		return fail("output has no status")
	}
	var creds transport.Credentials
	if st.ExpirationTimestamp != "" {
		t, err := time.Parse(time.RFC3339, st.ExpirationTimestamp)
		if err != nil {
			return fail("status.expirationTimestamp: %w", err)
		}
		creds.Expiry = t
	}
	if (st.ClientCertificateData == "") != (st.ClientKeyData == "") {
		return fail("status must set both clientCertificateData and clientKeyData, or neither")
	}
	if st.Token == "" && st.ClientCertificateData == "" {
		return fail("status has neither a token nor a client certificate")
	}
	creds.Token = st.Token
	if st.ClientCertificateData != "" {
		cert, err := tls.X509KeyPair([]byte(st.ClientCertificateData), []byte(st.ClientKeyData))
		if err != nil {
			return fail("status client certificate: %w", err)
		}
		creds.ClientCertificate = &cert
	}
	return creds, nil
}
