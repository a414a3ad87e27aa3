package transport

import (
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPlainHTTPCredentialsRefused: credentials for an http:// server are
// refused unless AllowPlainHTTPCredentials is set, which logs a warning.
func TestPlainHTTPCredentialsRefused(t *testing.T) {
	t.Parallel()
	const secret = "do-not-send-me"
	creds := map[string]func(*Config){
		"token":      func(c *Config) { c.BearerToken = secret },
		"token file": func(c *Config) { c.BearerTokenFile = "/nonexistent/token" },
		"basic auth": func(c *Config) { c.Username, c.Password = "u", secret },
		"provider":   func(c *Config) { c.Credentials = &tokenProvider{tokens: []string{secret}} },
	}
	for name, set := range creds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec, srv := newRecorded(t, nil)
			cfg := &Config{Host: srv.URL}
			set(cfg)
			_, err := New(cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "AllowPlainHTTPCredentials")
			assert.NotContains(t, err.Error(), secret)

			var buf syncBuffer
			cfg.AllowPlainHTTPCredentials = true
			cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
			_, err = New(cfg)
			require.NoError(t, err)
			assert.Contains(t, buf.String(), "level=WARN")
			assert.Contains(t, buf.String(), "plain HTTP")
			assert.NotContains(t, buf.String(), secret)
			assert.Zero(t, rec.count())

			// https is fine, and so is http without credentials.
			cfg = &Config{Host: "https://example.invalid"}
			set(cfg)
			_, err = New(cfg)
			assert.NoError(t, err)
		})
	}
	_, err := New(&Config{Host: "http://example.invalid"})
	assert.NoError(t, err)
}

// TestClientCertificateNotPresentedCrossOrigin: the API server (which
// requires a client certificate) redirects to another origin that asks for
// one; the redirected request presents none, whether the certificate is
// static or comes from a CredentialProvider.
func TestClientCertificateNotPresentedCrossOrigin(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "ca")
	clientCA := newTestCA(t, "client-ca")
	certPEM, keyPEM := clientCA.issue(t, "me", true, nil, nil)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)

	var mu sync.Mutex
	var otherPeers []int
	other := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		otherPeers = append(otherPeers, len(r.TLS.PeerCertificates))
		mu.Unlock()
		_, _ = io.WriteString(w, "other")
	}))
	otherCert, otherKey := ca.issue(t, "other", false, nil, []net.IP{net.ParseIP("127.0.0.1")})
	oc, err := tls.X509KeyPair(otherCert, otherKey)
	require.NoError(t, err)
	other.TLS = &tls.Config{Certificates: []tls.Certificate{oc}, ClientAuth: tls.RequestClientCert}
	other.StartTLS()
	t.Cleanup(other.Close)

	api := tlsServer(t, ca, clientCA, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/elsewhere", http.StatusTemporaryRedirect)
	}))
	for name, cfg := range map[string]*Config{
		"static":   {Host: api.URL, TLS: TLSConfig{CAData: ca.pem, CertData: certPEM, KeyData: keyPEM}},
		"provider": {Host: api.URL, TLS: TLSConfig{CAData: ca.pem}, Credentials: &certProvider{certs: []*tls.Certificate{&cert}}},
	} {
		c, err := New(cfg)
		require.NoError(t, err, name)
		resp, err := c.Do(context.Background(), &Request{Path: "/api"})
		require.NoError(t, err, name)
		assert.Equal(t, "other", string(resp.Body), name)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []int{0, 0}, otherPeers, "no client certificate crossed the redirect")
}

// TestRedirectOriginComparesScheme: an origin is scheme, host and port. A
// target with the same host and port but another scheme is another origin:
// checkRedirect strips credentials for it and the auth round tripper adds
// none. This fails if the comparison stops looking at the scheme.
func TestRedirectOriginComparesScheme(t *testing.T) {
	t.Parallel()
	mustURL := func(s string) *url.URL {
		u, err := url.Parse(s)
		require.NoError(t, err)
		return u
	}
	cases := []struct {
		a, b string
		same bool
	}{
		{"https://h:6443/x", "https://h:6443/y", true},
		{"https://H:6443", "https://h:6443", true},
		{"https://h", "https://h:443", true},
		{"http://h", "http://h:80", true},
		{"https://h:6443", "http://h:6443", false},
		{"https://h:80", "http://h:80", false},
		{"https://h:443", "http://h:443", false},
		{"https://h:6443", "https://h:6444", false},
		{"https://h:6443", "https://g:6443", false},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.same, sameOrigin(mustURL(tc.a), mustURL(tc.b)), "%s vs %s", tc.a, tc.b)
	}

	via := &http.Request{URL: mustURL("https://127.0.0.1:6443/api")}
	next := &http.Request{URL: mustURL("http://127.0.0.1:6443/api"), Header: http.Header{
		"Authorization":    {"Bearer secret"},
		"Impersonate-User": {"root"},
		"Accept":           {"application/json"},
	}}
	require.NoError(t, checkRedirect(next, []*http.Request{via}))
	assert.Empty(t, next.Header.Get("Authorization"))
	assert.Empty(t, next.Header.Get("Impersonate-User"))
	assert.Equal(t, "application/json", next.Header.Get("Accept"))

	var got []http.Header
	rt := &authRoundTripper{
		next: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			got = append(got, r.Header)
			return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
		}),
		auth: newAuthenticator(&Config{BearerToken: "secret"}, mustURL("https://127.0.0.1:6443")),
	}
	for _, u := range []string{"https://127.0.0.1:6443/a", "http://127.0.0.1:6443/a"} {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		require.NoError(t, err)
		_, err = rt.RoundTrip(req)
		require.NoError(t, err)
	}
	require.Len(t, got, 2)
	assert.Equal(t, "Bearer secret", got[0].Get("Authorization"))
	assert.Empty(t, got[1].Get("Authorization"), "same host and port over http is another origin")
}

// connectProxy is an https:// proxy with its own CA that tunnels CONNECT
// requests and records the client certificates shown to it.
type connectProxy struct {
	srv     *httptest.Server
	ca      *testCA
	mu      sync.Mutex
	tunnels []string
	peers   []int
}

func newConnectProxy(t *testing.T) *connectProxy {
	t.Helper()
	p := &connectProxy{ca: newTestCA(t, "proxy-ca")}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.tunnels = append(p.tunnels, r.Method+" "+r.Host)
		p.peers = append(p.peers, len(r.TLS.PeerCertificates))
		p.mu.Unlock()
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer up.Close()
		w.WriteHeader(http.StatusOK)
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		go func() { _, _ = io.Copy(up, brw) }()
		_, _ = io.Copy(conn, up)
	}))
	certPEM, keyPEM := p.ca.issue(t, "proxy", false, []string{"proxy.example"}, []net.IP{net.ParseIP("127.0.0.1")})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	p.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert}
	p.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted case fails its handshake
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)
	return p
}

// TestHTTPSProxyWithOwnCA: an https:// proxy is verified against the
// system roots plus ProxyCAData/ProxyCAFile, not against the API server's
// CA, and never sees the client certificate.
func TestHTTPSProxyWithOwnCA(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "api-ca")
	api := tlsServer(t, ca, ca, http.HandlerFunc(cnHandler))
	px := newConnectProxy(t)
	proxyURL, err := url.Parse(px.srv.URL)
	require.NoError(t, err)
	certPEM, keyPEM := ca.issue(t, "me", true, nil, nil)
	base := Config{Host: api.URL, TLS: TLSConfig{CAData: ca.pem, CertData: certPEM, KeyData: keyPEM}, Proxy: http.ProxyURL(proxyURL)}

	t.Run("without the proxy's CA the proxy is not trusted", func(t *testing.T) {
		t.Parallel()
		cfg := base
		c, err := New(&cfg)
		require.NoError(t, err)
		_, err = c.Do(context.Background(), &Request{Path: "/api"})
		require.Error(t, err)
		var unknown x509.UnknownAuthorityError
		assert.ErrorAs(t, err, &unknown)
		assert.Contains(t, err.Error(), "https proxy")
	})
	for name, set := range map[string]func(*Config){
		"ProxyCAData": func(c *Config) { c.ProxyCAData = px.ca.pem },
		"ProxyCAFile": func(c *Config) { c.ProxyCAFile = writeFile(t, t.TempDir(), "proxy-ca.crt", px.ca.pem) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := base
			set(&cfg)
			c, err := New(&cfg)
			require.NoError(t, err)
			resp, err := c.Do(context.Background(), &Request{Path: "/api"})
			require.NoError(t, err)
			assert.Equal(t, "me", string(resp.Body), "the API server got the client certificate")
		})
	}
	t.Run("a bad ProxyCAData is refused", func(t *testing.T) {
		t.Parallel()
		cfg := base
		cfg.ProxyCAData = []byte("not pem")
		_, err := New(&cfg)
		assert.ErrorContains(t, err, "ProxyCAData")
	})
	t.Cleanup(func() {
		px.mu.Lock()
		defer px.mu.Unlock()
		assert.Contains(t, px.tunnels, "CONNECT "+strings.TrimPrefix(api.URL, "https://"))
		for _, n := range px.peers {
			assert.Zero(t, n, "the proxy saw a client certificate")
		}
	})
}

// TestDisableCompression: by default gzip is asked for (and decoded); with
// DisableCompression no Accept-Encoding is sent and the body arrives as is.
func TestDisableCompression(t *testing.T) {
	t.Parallel()
	rec, srv := newRecorded(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			_, _ = io.WriteString(zw, "zipped")
			_ = zw.Close()
			return
		}
		_, _ = io.WriteString(w, "plain")
	})
	for disable, want := range map[bool]string{false: "zipped", true: "plain"} {
		c, err := New(&Config{Host: srv.URL, DisableCompression: disable})
		require.NoError(t, err)
		resp, err := c.Do(context.Background(), &Request{Path: "/api"})
		require.NoError(t, err)
		assert.Equal(t, want, string(resp.Body))
	}
	reqs := rec.requests()
	require.Len(t, reqs, 2)
	enc := map[string]bool{reqs[0].Header.Get("Accept-Encoding"): true, reqs[1].Header.Get("Accept-Encoding"): true}
	assert.Equal(t, map[string]bool{"gzip": true, "": true}, enc)
}

// TestSchemeMismatchSaysPlainHTTP: a server address without a scheme is
// taken as https://; when the server speaks plain HTTP the error says so
// and how to ask for plain HTTP.
func TestSchemeMismatchSaysPlainHTTP(t *testing.T) {
	t.Parallel()
	_, srv := newRecorded(t, nil)
	c, err := New(&Config{Host: strings.TrimPrefix(srv.URL, "http://"), MaxRetries: -1})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(c.Host(), "https://"))
	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	require.ErrorIs(t, err, http.ErrSchemeMismatch)
	assert.Contains(t, err.Error(), "speaks plain HTTP")
	assert.Contains(t, err.Error(), "write http://")
}
