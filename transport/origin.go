package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
)

// originRoundTripper sends requests for the configured origin through same
// and every other request through other, a transport without the client
// certificate: a redirect to another origin never sees it.
type originRoundTripper struct {
	base        *url.URL
	same, other http.RoundTripper
}

func (rt *originRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if sameOrigin(req.URL, rt.base) {
		return rt.same.RoundTrip(req)
	}
	return rt.other.RoundTrip(req)
}

// withoutClientCert returns a copy of conf that presents no client
// certificate and checks each host's own name (ServerName is the
// configured server's).
func withoutClientCert(conf *tls.Config) *tls.Config {
	c := conf.Clone()
	c.Certificates = nil
	c.GetClientCertificate = nil
	c.ServerName = ""
	return c
}

// buildProxyTLS returns the TLS configuration for https:// proxies: the
// system roots plus the given PEM CAs.
func buildProxyTLS(file string, data []byte) (*tls.Config, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("transport: ProxyCAFile: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("transport: ProxyCAFile %s holds no PEM certificate", file)
		}
	}
	if len(data) > 0 && !pool.AppendCertsFromPEM(data) {
		return nil, errors.New("transport: ProxyCAData holds no PEM certificate")
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}, nil
}

// proxyDialer speaks TLS to https:// proxies itself. Go's transport would
// use the API server's TLS configuration for the proxy (its CA, and the
// client certificate); instead the proxy URL handed to Go is rewritten to
// http:// with an explicit port, and DialContext wraps connections to that
// address in TLS checked against the proxy's own trust.
type proxyDialer struct {
	proxy  func(*http.Request) (*url.URL, error)
	tls    *tls.Config
	dialer *net.Dialer

	mu    sync.Mutex
	https map[string]string // proxy host:port -> its host name
}

func (p *proxyDialer) proxyFunc(req *http.Request) (*url.URL, error) {
	u, err := p.proxy(req)
	if err != nil || u == nil || u.Scheme != "https" {
		return u, err
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	p.mu.Lock()
	if p.https == nil {
		p.https = map[string]string{}
	}
	p.https[addr] = u.Hostname()
	p.mu.Unlock()
	plain := *u
	plain.Scheme = "http"
	plain.Host = addr
	return &plain, nil
}

func (p *proxyDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	p.mu.Lock()
	name, isProxy := p.https[addr]
	p.mu.Unlock()
	conn, err := p.dialer.DialContext(ctx, network, addr)
	if err != nil || !isProxy {
		return conn, err
	}
	conf := p.tls.Clone()
	conf.ServerName = name
	tc := tls.Client(conn, conf)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("TLS handshake with https proxy %s: %w", addr, err)
	}
	return tc, nil
}
