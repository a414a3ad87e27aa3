package e2e_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	clusterpkg "github.com/kubedyn/kubedyn/internal/cluster"
	"github.com/kubedyn/kubedyn/kubeconfig"
	"github.com/kubedyn/kubedyn/resource"
)

// proxyCert returns a CA's PEM and a serving certificate for 127.0.0.1
// signed by it.
func proxyCert(t testing.TB) (caPEM []byte, cert tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "e2e-proxy-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "e2e-proxy"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestKubeconfigHTTPSProxyWithOwnCA reaches the real server through an
// https:// proxy-url whose certificate comes from its own CA: trusted
// through Options.ProxyCAFile (plus the system roots), not through the
// cluster's CA, and never shown the client certificate.
func TestKubeconfigHTTPSProxyWithOwnCA(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := cluster(t)
	caPEM, cert := proxyCert(t)
	var mu sync.Mutex
	var tunnels []string
	var peerCerts int
	px := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tunnels = append(tunnels, r.Method+" "+r.Host)
		peerCerts += len(r.TLS.PeerCertificates)
		mu.Unlock()
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
	px.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert}
	px.Config.ErrorLog = log.New(io.Discard, "", 0)
	px.StartTLS()
	t.Cleanup(px.Close)

	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	dir := t.TempDir()
	path := writeFile(t, dir, "config", fmt.Appendf(nil, `apiVersion: v1
kind: Config
current-context: c
clusters:
- {name: e2e, cluster: {server: %s, certificate-authority-data: %s, proxy-url: %s}}
users:
- {name: u, user: {client-certificate-data: %s, client-key-data: %s}}
contexts:
- {name: c, context: {cluster: e2e, user: u}}
`, c.URL, b64(c.CAPEM), px.URL, b64(c.ClientCertPEM), b64(c.ClientKeyPEM)))
	proxyCA := writeFile(t, dir, "proxy-ca.crt", caPEM)

	cfg, err := kubeconfig.Load(&kubeconfig.Options{Path: path})
	require.NoError(t, err)
	rc, err := resource.NewClient(cfg)
	require.NoError(t, err)
	_, _, err = whoAmI(t, ctx, rc)
	require.Error(t, err, "without its CA the proxy is not trusted")
	var unknown x509.UnknownAuthorityError
	assert.ErrorAs(t, err, &unknown)

	cfg, err = kubeconfig.Load(&kubeconfig.Options{Path: path, ProxyCAFile: proxyCA})
	require.NoError(t, err)
	rc, err = resource.NewClient(cfg)
	require.NoError(t, err)
	user, _, err := whoAmI(t, ctx, rc)
	require.NoError(t, err)
	assert.Equal(t, clusterpkg.AdminUser, user, "the client certificate reached the API server through the tunnel")
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, tunnels, "CONNECT "+c.URL[len("https://"):])
	assert.Zero(t, peerCerts, "the proxy never saw the client certificate")
}
