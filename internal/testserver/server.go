package testserver

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is an in-process Kubernetes API server speaking HTTPS on
// 127.0.0.1. Its methods are safe for concurrent use by multiple goroutines.
type Server struct {
	hs     *httptest.Server
	caPEM  []byte
	token  string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	serial int64 // last certificate serial handed out; guarded by mu

	mu          sync.Mutex
	reg         registry
	store       map[string]map[string]map[string]any // storage key -> namespace/name -> object
	rv          int64                                // last resourceVersion handed out
	compacted   int64                                // continue tokens and watches older than this are gone
	events      []event                              // change log for watches
	notify      chan struct{}                        // closed and replaced on every change
	ipCounter   int
	crdDelay    time.Duration   // see Options.CRDEstablishDelay
	tokens      map[string]bool // accepted bearer tokens
	bookmarkGen int
	done        chan struct{}
	logs        map[string]string       // namespace/pod/container -> log text
	stampedLogs map[string]*stampedLog  // logs with timestamps (podlogtimes.go)
	watchers    map[chan bool]chan bool // open watches: true drops, false ends
	execHandler ExecHandler
	pfHandler   PortForwardHandler
	proxy       ProxyHandler // proxy.go
	faults      []*faultState
	requests    []RecordedRequest
	closeOnce   sync.Once
}

// RecordedRequest is one request the server received, recorded before
// authentication and fault injection. Requests returns copies, which the
// caller owns.
type RecordedRequest struct {
	Proto  string // HTTP/1.1 or HTTP/2.0
	Method string
	Path   string
	Query  url.Values
	Header http.Header
}

// New starts a server for a test and closes it when the test ends. It fails
// the test if the server cannot start.
func New(t testing.TB) *Server { t.Helper(); return NewWithOptions(t, nil) }

// Options change how a server starts; nil means the defaults. The struct
// is read, never modified.
type Options struct {
	// HTTP2 offers HTTP/2 as well as HTTP/1.1, as the real server does.
	// Over HTTP/2 a dropped connection (Fault.Drop) resets the stream, and
	// exec, attach and portforward (WebSocket) need an HTTP/1.1 client.
	HTTP2 bool
	// CRDEstablishDelay is how long a new CustomResourceDefinition takes to
	// become Established. Until then its create answer and stored status
	// have no conditions and no accepted names, and its resources are not
	// served (not in discovery, 404 on their paths), as on the real
	// server, which takes 0.2-0.4 s (RealCRDEstablishDelay). Zero, the
	// default, establishes a CRD within its create, which keeps tests
	// fast; programs and examples that must cope with the real delay set
	// it (or call SetCRDEstablishDelay).
	CRDEstablishDelay time.Duration
}

// NewWithOptions is New with options.
func NewWithOptions(t testing.TB, opts *Options) *Server {
	t.Helper()
	s, err := StartWithOptions(opts)
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a server for a program; the caller must Close it.
func Start() (*Server, error) { return StartWithOptions(nil) }

// StartWithOptions is Start with options.
func StartWithOptions(opts *Options) (*Server, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	ca, caKey, caPEM, cert, err := newCertificates()
	if err != nil {
		return nil, fmt.Errorf("testserver: create certificates: %w", err)
	}
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return nil, fmt.Errorf("testserver: create token: %w", err)
	}
	s := &Server{
		ca:       ca,
		caKey:    caKey,
		serial:   2,
		tokens:   map[string]bool{},
		caPEM:    caPEM,
		token:    hex.EncodeToString(tok),
		store:    map[string]map[string]map[string]any{},
		notify:   make(chan struct{}),
		done:     make(chan struct{}),
		crdDelay: o.CRDEstablishDelay,
	}
	for _, d := range builtins() {
		s.reg.add(d)
	}
	for _, ns := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		s.seedNamespace(ns)
	}
	s.hs = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	// Handshake errors of clients that hang up are expected in tests.
	s.hs.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.tokens[s.token] = true
	// Like the real server, ask for a client certificate during the
	// handshake and judge it per request: a bad one gets 401, not a TLS
	// failure.
	s.hs.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
		ClientAuth: tls.RequestClientCert}
	s.hs.EnableHTTP2 = o.HTTP2
	s.hs.StartTLS()
	return s, nil
}

// URL returns the server's base URL, https://127.0.0.1:<port>.
func (s *Server) URL() string { return s.hs.URL }

// CAPEM returns the PEM certificate of the CA that signed the server's
// certificate.
func (s *Server) CAPEM() []byte { return bytes.Clone(s.caPEM) }

// Token returns the bearer token the server accepts; any other credential
// gets 401.
func (s *Server) Token() string { return s.token }

// closeGrace bounds how long Close waits for requests in flight to finish
// before it closes their connections.
const closeGrace = 2 * time.Second

// Close shuts the server down. Open watches end cleanly, as a server-side
// timeout ends them (the stream is complete, the client reads io.EOF), and
// so do delayed faults and followed logs; requests still running after
// closeGrace, and WebSocket streams, have their connections closed. It may
// be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
		defer cancel()
		// Shutdown waits until every handler has returned and its
		// response is complete.
		_ = s.hs.Config.Shutdown(ctx)
		s.hs.CloseClientConnections()
		s.hs.Close()
	})
}

// Kubeconfig returns a kubeconfig document (YAML) whose current context
// "testserver" points at the server with its CA and token, namespace
// "default". A second context, "testserver-cert", authenticates with a
// client certificate (ClientCertificate for user "admin") instead.
func (s *Server) Kubeconfig() []byte {
	var b strings.Builder
	ca := encodeBase64(s.caPEM)
	fmt.Fprintf(&b, `apiVersion: v1
kind: Config
clusters:
- name: testserver
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: testserver
  user:
    token: %s
`, s.hs.URL, ca, s.token)
	if certPEM, keyPEM, err := s.ClientCertificate("admin"); err == nil {
		fmt.Fprintf(&b, `- name: testserver-cert
  user:
    client-certificate-data: %s
    client-key-data: %s
`, encodeBase64(certPEM), encodeBase64(keyPEM))
	}
	b.WriteString(`contexts:
- name: testserver
  context:
    cluster: testserver
    user: testserver
    namespace: default
- name: testserver-cert
  context:
    cluster: testserver
    user: testserver-cert
    namespace: default
current-context: testserver
`)
	return []byte(b.String())
}

// Requests returns a copy of every request received since the start or the
// last ResetRequests, oldest first.
func (s *Server) Requests() []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RecordedRequest, len(s.requests))
	for i, r := range s.requests {
		out[i] = RecordedRequest{Proto: r.Proto, Method: r.Method, Path: r.Path, Query: cloneValues(r.Query), Header: r.Header.Clone()}
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, RecordedRequest{Proto: r.Proto, Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()})
	s.mu.Unlock()

	if f := s.matchFault(r); f != nil {
		if f.apply(w, r, s.route, s.done) {
			return
		}
	}
	s.route(w, r)
}

// acceptable reports whether the Accept header admits JSON, the only
// representation the server writes (the real one also offers YAML and
// protobuf).
func acceptable(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return true
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", "application/json":
			return true
		}
	}
	return false
}

// public paths answer without credentials, as the real server's
// system:public-info-viewer role allows.
func isPublic(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/livez", "/version":
		return true
	}
	return false
}

// authenticated accepts a valid bearer token or a client certificate the
// server's CA signed (the TLS handshake has verified it).
func (s *Server) authenticated(r *http.Request) bool {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		pool := x509.NewCertPool()
		pool.AddCert(s.ca)
		inter := x509.NewCertPool()
		for _, c := range r.TLS.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := r.TLS.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		if err == nil {
			return true
		}
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[tok]
}

// AddToken makes the server accept another bearer token, as a rotated
// token file or an exec credential plugin would present.
func (s *Server) AddToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = true
}

// RevokeToken makes the server refuse a token with 401 from now on (the
// one Token returns included).
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
}

// ClientCertificate issues a client certificate for user (organization
// system:masters) signed by the server's CA, valid for a day; the server
// accepts it instead of a token. It returns the certificate and its key,
// PEM-encoded.
func (s *Server) ClientCertificate(user string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	s.serial++
	serial := s.serial
	s.mu.Unlock()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: user, Organization: []string{"system:masters"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.ca, &key.PublicKey, s.caKey)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache, private")
	if !isPublic(r.URL.Path) && !s.authenticated(r) {
		writeStatus(w, newStatus(http.StatusUnauthorized, "Unauthorized", "Unauthorized", nil))
		return
	}
	p := r.URL.Path
	switch {
	case p == "/healthz" || p == "/readyz" || p == "/livez":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write([]byte("ok"))
	case p == "/version":
		writeJSON(w, http.StatusOK, versionInfo)
	case p == "/openapi/v3" || strings.HasPrefix(p, "/openapi/v3/"):
		s.serveOpenAPI(w, r)
	case p == "/api" || p == "/apis" || p == "/api/" || p == "/apis/":
		s.serveDiscoveryRoot(w, r)
	case strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/apis/"):
		s.serveAPI(w, r)
	default:
		writeStatus(w, errNoResource())
	}
}

var versionInfo = map[string]string{
	"major": "1", "minor": "37", "emulationMajor": "1", "emulationMinor": "37",
	"minCompatibilityMajor": "1", "minCompatibilityMinor": "36",
	"gitVersion": "v1.37.2-kubedyn-testserver", "gitCommit": "0000000000000000000000000000000000000000",
	"gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.26",
	"compiler": "gc", "platform": "linux/amd64",
}

// newCertificates makes a self-signed CA and a server certificate for
// 127.0.0.1, ::1 and localhost signed by it.
func newCertificates() (*x509.Certificate, *ecdsa.PrivateKey, []byte, tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, tls.Certificate{}, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kubedyn-testserver-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, tls.Certificate{}, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, nil, tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost", "kubernetes", "kubernetes.default.svc"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, tls.Certificate{}, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return caCert, caKey, caPEM, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
