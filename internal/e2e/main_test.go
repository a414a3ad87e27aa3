package e2e_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	clusterpkg "github.com/kubedyn/kubedyn/internal/cluster"
)

func TestMain(m *testing.M) {
	if execPluginMain() {
		return
	}
	os.Exit(clusterpkg.Main(m))
}

// raw is an HTTP client for the shared cluster that verifies the server
// against the cluster's CA and sends a bearer token.
type raw struct {
	t     testing.TB
	c     *clusterpkg.Cluster
	http  *http.Client
	token string
}

func newRaw(t testing.TB, token string) *raw {
	t.Helper()
	c := clusterpkg.ForTest(t)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(c.CAPEM))
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return &raw{t: t, c: c, http: &http.Client{Transport: tr}, token: token}
}

// do sends a request and returns the response with its body read.
func (r *raw) do(method, path string, header http.Header, body string) (*http.Response, []byte) {
	r.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, r.c.URL+path, rd)
	require.NoError(r.t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := r.http.Do(req)
	require.NoError(r.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(r.t, err)
	return resp, b
}

// cluster returns the shared control plane or fails t.
func cluster(t testing.TB) *clusterpkg.Cluster { return clusterpkg.ForTest(t) }

// uniqueName returns prefix plus a random suffix, a valid DNS-1123 label.
func uniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}
