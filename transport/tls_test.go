package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func cnHandler(w http.ResponseWriter, r *http.Request) {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		_, _ = io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
		return
	}
	_, _ = io.WriteString(w, "anonymous")
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

func TestTLSServerVerification(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "ca")
	other := newTestCA(t, "other")
	srv := tlsServer(t, ca, nil, http.HandlerFunc(cnHandler))
	dir := t.TempDir()
	caFile := writeFile(t, dir, "ca.crt", ca.pem)
	otherFile := writeFile(t, dir, "other.crt", other.pem)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)

	cases := []struct {
		name string
		host string
		tls  TLSConfig
		ok   bool
	}{
		{"CA data", srv.URL, TLSConfig{CAData: ca.pem}, true},
		{"CA file", srv.URL, TLSConfig{CAFile: caFile}, true},
		{"data wins over file", srv.URL, TLSConfig{CAData: ca.pem, CAFile: otherFile}, true},
		{"data wins over file (wrong data)", srv.URL, TLSConfig{CAData: other.pem, CAFile: caFile}, false},
		{"wrong CA", srv.URL, TLSConfig{CAData: other.pem}, false},
		{"system roots", srv.URL, TLSConfig{}, false},
		{"insecure", srv.URL, TLSConfig{Insecure: true}, true},
		{"server name in SAN", "https://localhost:" + port, TLSConfig{CAData: ca.pem, ServerName: "kube.example"}, true},
		{"host not in SAN", "https://localhost:" + port, TLSConfig{CAData: ca.pem}, false},
		{"wrong server name", srv.URL, TLSConfig{CAData: ca.pem, ServerName: "evil.example"}, false},
	}
	// Load the system roots now: the first verification against them parses
	// every system certificate, which under -race on a loaded machine can
	// outlast the 10s TLS handshake timeout and fail "system roots" with a
	// timeout instead of a verification error.
	_, err = x509.SystemCertPool()
	require.NoError(t, err)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(&Config{Host: tc.host, TLS: tc.tls, MaxRetries: -1})
			require.NoError(t, err)
			resp, err := c.Do(context.Background(), &Request{Path: "/"})
			if !tc.ok {
				require.Error(t, err)
				var certErr *tls.CertificateVerificationError
				assert.ErrorAs(t, err, &certErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "anonymous", string(resp.Body))
		})
	}
}

func TestTLSClientCertificate(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "ca")
	clientCA := newTestCA(t, "client-ca")
	srv := tlsServer(t, ca, clientCA, http.HandlerFunc(cnHandler))
	certPEM, keyPEM := clientCA.issue(t, "alice", true, nil, nil)
	dir := t.TempDir()
	certFile := writeFile(t, dir, "client.crt", certPEM)
	keyFile := writeFile(t, dir, "client.key", keyPEM)
	strangerCA := newTestCA(t, "stranger")
	sCert, sKey := strangerCA.issue(t, "mallory", true, nil, nil)

	cases := []struct {
		name string
		tls  TLSConfig
		want string // empty: handshake fails
	}{
		{"data", TLSConfig{CAData: ca.pem, CertData: certPEM, KeyData: keyPEM}, "alice"},
		{"files", TLSConfig{CAData: ca.pem, CertFile: certFile, KeyFile: keyFile}, "alice"},
		{"mixed", TLSConfig{CAData: ca.pem, CertData: certPEM, KeyFile: keyFile}, "alice"},
		{"none", TLSConfig{CAData: ca.pem}, ""},
		{"untrusted", TLSConfig{CAData: ca.pem, CertData: sCert, KeyData: sKey}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(&Config{Host: srv.URL, TLS: tc.tls, MaxRetries: -1})
			require.NoError(t, err)
			resp, err := c.Do(context.Background(), &Request{Path: "/"})
			if tc.want == "" {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(resp.Body))
		})
	}

	_, err := New(&Config{Host: srv.URL, TLS: TLSConfig{CertData: certPEM, KeyData: sKey}})
	assert.Error(t, err, "mismatched key")
}

// certProvider hands out client certificates; a forced refresh moves to
// the next one.
type certProvider struct {
	mu     sync.Mutex
	certs  []*tls.Certificate
	i      int
	forced int
	calls  int
}

func (p *certProvider) Credentials(ctx context.Context, force bool) (Credentials, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if force {
		p.forced++
		if p.i < len(p.certs)-1 {
			p.i++
		}
	}
	return Credentials{ClientCertificate: p.certs[p.i]}, nil
}

func TestTLSClientCertificateFromProvider(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "ca")
	clientCA := newTestCA(t, "client-ca")
	srv := tlsServer(t, ca, clientCA, http.HandlerFunc(cnHandler))
	pair := func(cn string) *tls.Certificate {
		c, k := clientCA.issue(t, cn, true, nil, nil)
		cert, err := tls.X509KeyPair(c, k)
		require.NoError(t, err)
		return &cert
	}
	p := &certProvider{certs: []*tls.Certificate{pair("first"), pair("second")}}
	c, err := New(&Config{Host: srv.URL, TLS: TLSConfig{CAData: ca.pem}, Credentials: p})
	require.NoError(t, err)
	resp, err := c.Do(context.Background(), &Request{Path: "/"})
	require.NoError(t, err)
	assert.Equal(t, "first", string(resp.Body))

	// Rotation: after a forced refresh and closing idle connections, the
	// next handshake presents the new certificate.
	_, err = p.Credentials(context.Background(), true)
	require.NoError(t, err)
	c.CloseIdleConnections()
	resp, err = c.Do(context.Background(), &Request{Path: "/"})
	require.NoError(t, err)
	assert.Equal(t, "second", string(resp.Body))
}

func TestTLSConfigAccessor(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "ca")
	c, err := New(&Config{Host: "https://x", TLS: TLSConfig{CAData: ca.pem, ServerName: "kube.example"}})
	require.NoError(t, err)
	tc := c.TLSConfig()
	require.NotNil(t, tc)
	assert.Equal(t, "kube.example", tc.ServerName)
	assert.False(t, tc.InsecureSkipVerify)
	assert.GreaterOrEqual(t, tc.MinVersion, uint16(tls.VersionTLS12))
	tc.ServerName = "changed"
	assert.Equal(t, "kube.example", c.TLSConfig().ServerName, "TLSConfig returns a copy")
}

func TestClientCertificateRefreshAfter401(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "ca")
	clientCA := newTestCA(t, "client-ca")
	srv := tlsServer(t, ca, clientCA, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS.PeerCertificates[0].Subject.CommonName == "expired" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, statusBody(401, "Unauthorized", "Unauthorized"))
			return
		}
		cnHandler(w, r)
	}))
	pair := func(cn string) *tls.Certificate {
		c, k := clientCA.issue(t, cn, true, nil, nil)
		cert, err := tls.X509KeyPair(c, k)
		require.NoError(t, err)
		return &cert
	}
	p := &certProvider{certs: []*tls.Certificate{pair("expired"), pair("fresh")}}
	c, err := New(&Config{Host: srv.URL, TLS: TLSConfig{CAData: ca.pem}, Credentials: p})
	require.NoError(t, err)
	resp, err := c.Do(context.Background(), &Request{Path: "/"})
	require.NoError(t, err)
	assert.Equal(t, "fresh", string(resp.Body))
	assert.Equal(t, 1, p.forced)
}
