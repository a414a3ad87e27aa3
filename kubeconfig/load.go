package kubeconfig

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kubedyn/kubedyn/transport"
)

// Options choose which kubeconfig and which context to load. The zero value
// (or a nil *Options) follows kubectl's rules. This package never modifies
// an Options, so one may be shared between goroutines.
type Options struct {
	// Path is an explicit kubeconfig file; it wins over $KUBECONFIG and
	// ~/.kube/config and must exist.
	Path string
	// Context overrides the file's current-context.
	Context string
	// Namespace overrides the context's namespace.
	Namespace string
	// Cluster overrides the cluster the context names.
	Cluster string
	// User overrides the user the context names.
	User string
	// ExecTimeout bounds one run of an exec credential plugin; 0 means one
	// minute.
	ExecTimeout time.Duration
	// ProxyCAFile is a PEM file of extra CAs (added to the system roots)
	// that verify an https:// proxy-url; kubeconfig has no field for it.
	ProxyCAFile string
	// AllowPlainHTTPCredentials lets a user's credentials go to an http://
	// server (transport.Config.AllowPlainHTTPCredentials); without it
	// transport.New refuses them.
	AllowPlainHTTPCredentials bool
	// Logger receives debug records about choices made while building the
	// configuration (a context without a user, an exec plugin skipped for
	// a static credential); nil means slog.Default().
	Logger *slog.Logger
}

// DefaultNamespace is the namespace used when neither the options nor the
// context name one.
const DefaultNamespace = "default"

// DefaultExecTimeout bounds an exec credential plugin's run when
// Options.ExecTimeout is zero.
const DefaultExecTimeout = time.Minute

// env abstracts the process environment so tests can run in parallel.
type env struct {
	getenv  func(string) string
	homeDir func() (string, error)
	saDir   string
}

func osEnv() env {
	return env{getenv: os.Getenv, homeDir: os.UserHomeDir, saDir: serviceAccountDir}
}

// Load returns the configuration for the chosen context, following
// kubectl's loading rules:
//
//   - opts.Path, when set, is the only file read, and it must exist;
//   - otherwise $KUBECONFIG, a list of files joined by os.PathListSeparator,
//     merged so that the first file to define a name wins (missing files
//     are skipped);
//   - otherwise ~/.kube/config;
//   - when no file is found, or the files found are empty, the in-cluster
//     service account (see InCluster), but never when opts.Path is set;
//   - otherwise an error matching ErrNoConfig.
//
// A nil opts means the zero Options. A broken file gives an *Error naming
// the file and the field. The returned Config's Namespace is opts.Namespace,
// else the context's namespace, else "default".
func Load(opts *Options) (*transport.Config, error) {
	return load(opts, osEnv())
}

func load(opts *Options, e env) (*transport.Config, error) {
	if opts == nil {
		opts = &Options{}
	}
	f, err := read(opts, e)
	if err != nil && !errors.Is(err, ErrNoConfig) {
		return nil, err
	}
	// An explicit file is used even when it is empty (its error says so);
	// files found by the search rules must configure something, else the
	// in-cluster configuration is tried.
	if f != nil && (opts.Path != "" || !f.IsEmpty()) {
		return f.Config(opts)
	}
	if opts.Context != "" {
		return nil, fmt.Errorf("kubeconfig: context %q requested: %w", opts.Context, ErrNoConfig)
	}
	cfg, err := inCluster(e)
	if errors.Is(err, ErrNotInCluster) {
		return nil, ErrNoConfig
	}
	if err != nil {
		return nil, err
	}
	if opts.Namespace != "" {
		cfg.Namespace = opts.Namespace
	}
	return cfg, nil
}

// Read reads the kubeconfig files the way Load does (opts.Path, else
// $KUBECONFIG, else ~/.kube/config) and returns them merged, without
// choosing a context, so that a program can list the contexts. When no
// file exists it returns an error matching ErrNoConfig; it never looks at
// the in-cluster configuration.
func Read(opts *Options) (*File, error) {
	if opts == nil {
		opts = &Options{}
	}
	return read(opts, osEnv())
}

func read(opts *Options, e env) (*File, error) {
	if opts.Path != "" {
		return ReadFile(opts.Path)
	}
	if list := e.getenv("KUBECONFIG"); list != "" {
		f, err := readFiles(filepath.SplitList(list))
		if err != nil {
			return nil, err
		}
		if len(f.Sources) == 0 {
			return nil, fmt.Errorf("kubeconfig: no file of KUBECONFIG=%q exists: %w", list, ErrNoConfig)
		}
		return f, nil
	}
	home, err := e.homeDir()
	if err != nil || home == "" {
		return nil, ErrNoConfig
	}
	f, err := readFiles([]string{filepath.Join(home, ".kube", "config")})
	if err != nil {
		return nil, err
	}
	if len(f.Sources) == 0 {
		return nil, ErrNoConfig
	}
	return f, nil
}

// LoadBytes is Load for one kubeconfig document held in memory. Relative
// paths in it are relative to the working directory; opts.Path is ignored.
func LoadBytes(data []byte, opts *Options) (*transport.Config, error) {
	f, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return f.Config(opts)
}

// Config builds the transport configuration of one context: opts.Context,
// else the current-context. A nil opts means the zero Options. Errors are
// *Error values naming the file and the field at fault, a referenced
// certificate, key or token file that cannot be opened included (a file
// whose content is also given inline is not needed).
func (f *File) Config(opts *Options) (*transport.Config, error) {
	if opts == nil {
		opts = &Options{}
	}
	where := strings.Join(f.Sources, string(os.PathListSeparator))
	name := opts.Context
	if name == "" {
		name = f.CurrentContext
	}
	if name == "" {
		return nil, &Error{Path: where, Field: "current-context", Err: errors.New("not set and no context was chosen")}
	}
	x, ok := f.Contexts[name]
	if !ok {
		field := "current-context"
		if opts.Context != "" {
			field = "context"
		}
		return nil, &Error{Path: where, Field: field, Err: fmt.Errorf("context %q not found", name)}
	}
	ctxField := fmt.Sprintf("contexts[%q]", name)

	clusterName := x.Cluster
	if opts.Cluster != "" {
		clusterName = opts.Cluster
	}
	if clusterName == "" {
		return nil, &Error{Path: x.Source, Field: ctxField + ".cluster", Err: errors.New("not set")}
	}
	cl, ok := f.Clusters[clusterName]
	if !ok {
		if opts.Cluster != "" {
			return nil, &Error{Path: where, Field: "cluster", Err: fmt.Errorf("cluster %q not found", clusterName)}
		}
		return nil, &Error{Path: x.Source, Field: ctxField, Err: fmt.Errorf("context %q refers to unknown cluster %q", name, clusterName)}
	}
	userName := x.User
	if opts.User != "" {
		userName = opts.User
	}
	var u *User
	if userName != "" {
		if u, ok = f.Users[userName]; !ok {
			if opts.User != "" {
				return nil, &Error{Path: where, Field: "user", Err: fmt.Errorf("user %q not found", userName)}
			}
			return nil, &Error{Path: x.Source, Field: ctxField, Err: fmt.Errorf("context %q refers to unknown user %q", name, userName)}
		}
	}

	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if u == nil {
		logger.Debug("kubeconfig: the context names no user; requests carry no credentials",
			"context", name, "file", x.Source)
	}
	cfg := &transport.Config{
		Namespace:                 DefaultNamespace,
		ProxyCAFile:               opts.ProxyCAFile,
		AllowPlainHTTPCredentials: opts.AllowPlainHTTPCredentials,
	}
	if x.Namespace != "" {
		cfg.Namespace = x.Namespace
	}
	if opts.Namespace != "" {
		cfg.Namespace = opts.Namespace
	}
	if err := applyCluster(cfg, cl); err != nil {
		return nil, err
	}
	if u != nil {
		if err := applyUser(cfg, u, cl, opts, logger); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

func applyCluster(cfg *transport.Config, cl *Cluster) error {
	field := fmt.Sprintf("clusters[%q]", cl.Name)
	fail := func(sub string, err error) error { return &Error{Path: cl.Source, Field: field + sub, Err: err} }
	host, err := normalizeServer(cl.Server)
	if err != nil {
		return fail(".server", err)
	}
	cfg.Host = host
	cfg.TLS.CAFile = cl.CertificateAuthority
	cfg.TLS.CAData = cl.CertificateAuthorityData
	cfg.TLS.ServerName = cl.TLSServerName
	cfg.TLS.Insecure = cl.InsecureSkipTLSVerify
	cfg.DisableCompression = cl.DisableCompression
	if cl.InsecureSkipTLSVerify && (cl.CertificateAuthority != "" || len(cl.CertificateAuthorityData) > 0) {
		return fail(".insecure-skip-tls-verify", errors.New("set together with a certificate-authority; use one or the other"))
	}
	if cl.CertificateAuthority != "" && len(cl.CertificateAuthorityData) > 0 {
		return fail(".certificate-authority-data", bothForms("certificate-authority"))
	}
	// Files are read now, as kubectl does, so that a missing file or one
	// that holds no certificate is reported with the kubeconfig and the
	// field rather than by the first request.
	ca, caField, err := dataOrFile(cl.CertificateAuthorityData, cl.CertificateAuthority, ".certificate-authority")
	if err != nil {
		return fail(caField, err)
	}
	if ca != nil && !x509.NewCertPool().AppendCertsFromPEM(ca) {
		return fail(caField, errors.New("holds no PEM certificate"))
	}
	if cl.ProxyURL != "" {
		u, err := url.Parse(cl.ProxyURL)
		if err != nil {
			return fail(".proxy-url", urlError(cl.ProxyURL, err))
		}
		switch u.Scheme {
		case "http", "https", "socks5":
		default:
			return fail(".proxy-url", fmt.Errorf("unsupported scheme %q (want http, https or socks5)", u.Scheme))
		}
		if u.Host == "" {
			return fail(".proxy-url", errors.New("missing host"))
		}
		cfg.Proxy = http.ProxyURL(u)
	}
	return nil
}

// bothForms is the error for a setting given both inline and as a file:
// kubectl refuses the ambiguity, and so do we.
func bothForms(name string) error {
	return fmt.Errorf("both %s-data and %s are set; give one of them", name, name)
}

// dataOrFile returns inline data, else the content of the file at path
// (nil when neither is set), and the field that supplied it: field+"-data"
// or field.
func dataOrFile(data []byte, path, field string) ([]byte, string, error) {
	if len(data) > 0 {
		return data, field + "-data", nil
	}
	if path == "" {
		return nil, field, nil
	}
	b, err := readCappedFile(path)
	return b, field, err
}

// readCappedFile reads a referenced certificate or key file of at most
// MaxFileSize bytes.
func readCappedFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, MaxFileSize)
	}
	return b, nil
}

// urlError describes url.Parse's error for raw without quoting raw: user
// info in a proxy URL may hold a password.
func urlError(raw string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && !strings.Contains(raw, "@") && !strings.Contains(ue.Err.Error(), raw) {
		return fmt.Errorf("not a valid URL: %w", ue.Err)
	}
	return errors.New("not a valid URL (not quoted here: it may hold a password)")
}

// normalizeServer checks the server URL with transport.ParseHost, so that
// what transport.New would refuse is reported here with the file and the
// field; one without a scheme gets https://.
func normalizeServer(s string) (string, error) {
	if s == "" {
		return "", errors.New("not set")
	}
	if _, err := transport.ParseHost(s); err != nil {
		return "", err
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	return s, nil
}

func applyUser(cfg *transport.Config, u *User, cl *Cluster, opts *Options, logger *slog.Logger) error {
	field := fmt.Sprintf("users[%q]", u.Name)
	fail := func(sub string, err error) error { return &Error{Path: u.Source, Field: field + sub, Err: err} }
	if u.AuthProvider != "" {
		return fail(".auth-provider", fmt.Errorf("auth-provider %q is not supported; use an exec credential plugin", u.AuthProvider))
	}
	cfg.TLS.CertFile = u.ClientCertificate
	cfg.TLS.CertData = u.ClientCertificateData
	cfg.TLS.KeyFile = u.ClientKey
	cfg.TLS.KeyData = u.ClientKeyData
	if u.ClientCertificate != "" && len(u.ClientCertificateData) > 0 {
		return fail(".client-certificate-data", bothForms("client-certificate"))
	}
	if u.ClientKey != "" && len(u.ClientKeyData) > 0 {
		return fail(".client-key-data", bothForms("client-key"))
	}
	hasCert := u.ClientCertificate != "" || len(u.ClientCertificateData) > 0
	hasKey := u.ClientKey != "" || len(u.ClientKeyData) > 0
	if hasCert != hasKey {
		if hasCert {
			return fail(".client-key", errors.New("client certificate set without a client key"))
		}
		return fail(".client-certificate", errors.New("client key set without a client certificate"))
	}
	if hasCert {
		if err := checkKeyPair(u, fail); err != nil {
			return err
		}
	}
	// A static token serves until the token file can be read.
	if u.Token == "" {
		if err := checkReadable(u.TokenFile); err != nil {
			return fail(".tokenFile", err)
		}
	}
	cfg.BearerToken = u.Token
	cfg.BearerTokenFile = u.TokenFile
	cfg.Username = u.Username
	cfg.Password = u.Password
	if u.Password != "" && u.Username == "" {
		return fail(".username", errors.New("password set without a username"))
	}
	if u.Username != "" && (u.Token != "" || u.TokenFile != "") {
		return fail("", errors.New("more than one authentication method: a token and a username/password"))
	}
	cfg.Impersonate = transport.Impersonation{
		UserName: u.Impersonate,
		UID:      u.ImpersonateUID,
		Groups:   append([]string(nil), u.ImpersonateGroups...),
		Extra:    cloneExtra(u.ImpersonateUserExtra),
	}
	if (len(u.ImpersonateGroups) > 0 || len(u.ImpersonateUserExtra) > 0 || u.ImpersonateUID != "") && u.Impersonate == "" {
		return fail(".as", errors.New("as-groups, as-uid or as-user-extra set without as (the user to impersonate)"))
	}
	if u.Exec != nil {
		p, err := newExecProvider(*u.Exec, cl, opts.ExecTimeout)
		if err != nil {
			return fail(".exec", err)
		}
		// kubectl's precedence: a static token (or token file), basic auth
		// or a client certificate wins, and the plugin never runs.
		if static := staticCredential(u); static != "" {
			logger.Debug("kubeconfig: exec plugin not used: the user has a static credential, which wins as in kubectl",
				"user", u.Name, "file", u.Source, "credential", static)
		} else {
			cfg.Credentials = p
		}
	}
	return nil
}

// staticCredential names the static credential u carries, if any.
func staticCredential(u *User) string {
	switch {
	case u.Token != "":
		return "token"
	case u.TokenFile != "":
		return "tokenFile"
	case u.Username != "" || u.Password != "":
		return "username/password"
	case u.ClientCertificate != "" || len(u.ClientCertificateData) > 0:
		return "client-certificate"
	}
	return ""
}

// checkKeyPair reads u's client certificate and key and checks that each
// parses and that they belong together, naming the field at fault.
func checkKeyPair(u *User, fail func(string, error) error) error {
	certPEM, certField, err := dataOrFile(u.ClientCertificateData, u.ClientCertificate, ".client-certificate")
	if err != nil {
		return fail(certField, err)
	}
	keyPEM, keyField, err := dataOrFile(u.ClientKeyData, u.ClientKey, ".client-key")
	if err != nil {
		return fail(keyField, err)
	}
	var certs int
	for rest := certPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fail(certField, fmt.Errorf("not a valid certificate: %w", err))
		}
		certs++
	}
	if certs == 0 {
		return fail(certField, errors.New("holds no PEM certificate"))
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		if strings.Contains(err.Error(), "does not match") {
			certName := strings.TrimPrefix(certField, ".")
			return fail(keyField, fmt.Errorf("the private key does not match the certificate of %s", certName))
		}
		return fail(keyField, fmt.Errorf("not a valid private key: %w", err))
	}
	return nil
}

// checkReadable reports why the file at path cannot be opened for reading;
// an empty path is fine (nothing is referenced).
func checkReadable(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}

func cloneExtra(m map[string][]string) map[string][]string {
	if m == nil {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = append([]string(nil), v...)
	}
	return out
}
