package transport

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// CONTRACT: the transport helper owns this file and may extend it; the
// exported names below are relied on by kubeconfig, discovery and resource.

// Config says how to reach and authenticate to one API server. A Config is a
// plain value: New copies it, and later changes to it have no effect on a
// Client built from it. Like any struct, it must not be written while
// another goroutine reads it.
type Config struct {
	// Host is the server's base URL, such as https://10.0.0.1:6443, optionally
	// with a path prefix.
	Host string
	// TLS holds the server's CA and the client certificate.
	TLS TLSConfig
	// BearerToken is sent as "Authorization: Bearer <token>".
	BearerToken string
	// BearerTokenFile is re-read every DefaultTokenFileRefresh and after a
	// 401; its token wins over BearerToken. When a read fails or finds the
	// file empty, the last good token is kept, BearerToken serving as the
	// first one; with neither, the request fails.
	BearerTokenFile string
	// Username and Password enable basic auth.
	Username, Password string
	// Credentials, when set, supplies tokens or client certificates
	// (exec credential plugins); its token wins over static tokens.
	// kubeconfig sets it only for a user without a static credential, as
	// kubectl does.
	Credentials CredentialProvider
	// Impersonate adds the Impersonate-* headers.
	Impersonate Impersonation
	// UserAgent overrides the default "kubedyn/<version> (<os>/<arch>)".
	UserAgent string
	// Proxy chooses an HTTP proxy; nil means http.ProxyFromEnvironment.
	// An https:// proxy is verified against the system roots plus
	// ProxyCAFile and ProxyCAData, never against TLS's CA (that one is the
	// API server's), and is never shown the client certificate.
	Proxy func(*http.Request) (*url.URL, error)
	// ProxyCAFile is a PEM file of extra CAs trusted for an https:// proxy,
	// added to the system roots.
	ProxyCAFile string
	// ProxyCAData is ProxyCAFile's content inline; both may be given.
	ProxyCAData []byte
	// DisableCompression stops asking for gzip-compressed responses
	// (kubeconfig's disable-compression): no Accept-Encoding: gzip is sent.
	DisableCompression bool
	// AllowPlainHTTPCredentials lets New accept credentials (a bearer
	// token, token file, basic auth or a CredentialProvider) for an
	// http:// Host, where anyone on the path can read them. Without it New
	// refuses that combination; with it New logs a warning.
	AllowPlainHTTPCredentials bool
	// QPS is the client-side token bucket's refill rate in requests per
	// second; 0 disables rate limiting.
	QPS float64
	// Burst is the bucket's size, the requests sent at once before QPS
	// applies; values below 1 mean 1.
	Burst int
	// Timeout bounds each non-streaming request; 0 means none (the context
	// still applies).
	Timeout time.Duration
	// Namespace is the default namespace from the kubeconfig context or the
	// in-cluster service account; transport does not use it.
	Namespace string
	// WarningHandler receives each warning of the server's Warning headers,
	// from every response, errors included; it must be safe for concurrent
	// use. nil logs them at Warn level to Logger, or to slog.Default() when
	// Logger is nil too.
	WarningHandler func(Warning)
	// Logger receives debug logs of requests, credentials masked; nil
	// discards them.
	Logger *slog.Logger
	// WrapTransport, when set, wraps the round tripper chain (metrics, tests).
	// It sees every attempt, after credentials have been added.
	WrapTransport func(http.RoundTripper) http.RoundTripper

	// MaxResponseBytes caps the body Do reads; 0 means
	// DefaultMaxResponseBytes. A larger body fails with ErrResponseTooLarge.
	// Stream is not capped.
	MaxResponseBytes int64
	// MaxRetries is how many times a failed attempt is retried; 0 means
	// DefaultMaxRetries and a negative value disables retries.
	MaxRetries int
	// MaxRetryWait caps each wait between attempts; 0 means
	// DefaultMaxRetryWait.
	MaxRetryWait time.Duration
	// RetryBackoff is the first backoff step when the server gave no
	// Retry-After; 0 means DefaultRetryBackoff.
	RetryBackoff time.Duration
}

// TLSConfig holds TLS settings. File and Data forms may both be set; Data
// wins. Files are read once, by New. Insecure together with a CA is refused.
// It is a plain value with no internal synchronisation.
type TLSConfig struct {
	// CAFile is a PEM file of the CAs that verify the server; empty (with
	// no CAData) means the system roots.
	CAFile string
	// CAData is CAFile's content inline; it wins over CAFile.
	CAData []byte
	// CertFile is the PEM client certificate presented to the server.
	CertFile string
	// CertData is CertFile's content inline; it wins over CertFile.
	CertData []byte
	// KeyFile is the PEM private key of the client certificate.
	KeyFile string
	// KeyData is KeyFile's content inline; it wins over KeyFile.
	KeyData []byte
	// ServerName is the name checked against the server's certificate
	// (and sent as SNI) instead of the host in Config.Host.
	ServerName string
	// Insecure skips server certificate verification. Only when asked.
	Insecure bool
}

// Impersonation holds the identity to act as, sent as Impersonate-User,
// Impersonate-Uid, Impersonate-Group and Impersonate-Extra-<key> headers.
// UID, Groups and Extra require UserName. It is a plain value with no
// internal synchronisation.
type Impersonation struct {
	// UserName is sent as Impersonate-User; empty means no impersonation.
	UserName string
	// UID is sent as Impersonate-Uid.
	UID string
	// Groups are sent as one Impersonate-Group header each.
	Groups []string
	// Extra is sent as Impersonate-Extra-<key> headers, the key
	// percent-encoded as HTTP header names require.
	Extra map[string][]string
}

// Credentials are what a CredentialProvider hands out. A token, when set,
// wins over Config.BearerToken and BearerTokenFile; a client certificate,
// when set, is presented on new TLS connections. It is a plain value.
type Credentials struct {
	// Token is a bearer token; empty means none.
	Token string
	// ClientCertificate is presented on new TLS connections; nil means
	// none (the static one of TLSConfig, if any, is used).
	ClientCertificate *tls.Certificate
	// Expiry is when the credentials stop working; zero means unknown.
	Expiry time.Time
}

// CredentialProvider supplies credentials, such as an exec plugin's.
// Credentials is called for every request and every TLS handshake, so
// implementations cache and refresh on their own (for example a minute
// before Expiry); after a 401 the Client calls it once with forceRefresh
// and retries the request. Implementations must be safe for concurrent use.
type CredentialProvider interface {
	// Credentials returns current credentials; forceRefresh asks for new
	// ones (after a 401).
	Credentials(ctx context.Context, forceRefresh bool) (Credentials, error)
}

// Warning is one warning from the server's Warning header, such as
// `299 - "v1 ComponentStatus is deprecated"`: Code 299, Agent "-", and the
// unquoted Text. It is a plain value.
type Warning struct {
	// Code is the warn-code, 299 for Kubernetes warnings.
	Code int
	// Agent is the warn-agent, "-" when the server gives none.
	Agent string
	// Text is the warning message, unquoted.
	Text string
}

// Defaults applied by New when the matching Config field is zero.
const (
	// DefaultMaxResponseBytes caps a body read by Do.
	DefaultMaxResponseBytes = 256 << 20
	// DefaultMaxRetries is how many times a request is retried.
	DefaultMaxRetries = 3
	// DefaultMaxRetryWait caps one wait between attempts, whatever the
	// server's Retry-After says.
	DefaultMaxRetryWait = 30 * time.Second
	// DefaultRetryBackoff is the first backoff step when the server gave no
	// Retry-After; later steps double, each jittered.
	DefaultRetryBackoff = 250 * time.Millisecond
	// DefaultTokenFileRefresh is how often BearerTokenFile is re-read.
	DefaultTokenFileRefresh = time.Minute
)
