package kubeconfig

import (
	"context"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/transport"
)

// apiServer is a TLS server that records the headers of each request.
type apiServer struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
}

func newAPIServer(t *testing.T) *apiServer {
	s := &apiServer{}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.headers = append(s.headers, r.Header.Clone())
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"kind":"APIVersions","versions":["v1"]}`))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *apiServer) caPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}))
}

func (s *apiServer) last() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.headers[len(s.headers)-1]
}

// get builds a transport client from cfg and does one GET /api.
func get(t *testing.T, cfg *transport.Config) {
	t.Helper()
	c, err := transport.New(cfg)
	require.NoError(t, err)
	resp, err := c.Do(context.Background(), &transport.Request{Method: http.MethodGet, Path: "/api"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestLoadedConfigReachesAServer(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t)
	doc := `
current-context: c
clusters:
- name: k
  cluster:
    server: ` + srv.URL + `
    certificate-authority-data: ` + b64(srv.caPEM()) + `
users:
- name: u
  user:
    token: static-token
    as: jane
    as-groups: [devs]
contexts:
- {name: c, context: {cluster: k, user: u}}
`
	cfg, err := LoadBytes([]byte(doc), nil)
	require.NoError(t, err)
	get(t, cfg)
	h := srv.last()
	assert.Equal(t, "Bearer static-token", h.Get("Authorization"))
	assert.Equal(t, "jane", h.Get("Impersonate-User"))
	assert.Equal(t, []string{"devs"}, h.Values("Impersonate-Group"))
}

func TestExecTokenReachesAServer(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t)
	tokens := newTokenServer(t, false)
	doc := `
current-context: c
clusters:
- name: k
  cluster:
    server: ` + srv.URL + `
    certificate-authority-data: ` + b64(srv.caPEM()) + `
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      interactiveMode: Never
      command: ` + selfExe(t) + `
      env:
      - {name: ` + pluginModeEnv + `, value: http}
      - {name: TEST_URL, value: "` + tokens.URL + `"}
      - {name: GORACE, value: atexit_sleep_ms=0}
contexts:
- {name: c, context: {cluster: k, user: u}}
`
	cfg, err := LoadBytes([]byte(doc), nil)
	require.NoError(t, err)
	get(t, cfg)
	assert.Equal(t, "Bearer token-1", srv.last().Get("Authorization"))
	get(t, cfg)
	assert.Equal(t, "Bearer token-1", srv.last().Get("Authorization"), "the token is cached")
	assert.Equal(t, int32(1), tokens.runs.Load())
}

// connectProxy is an HTTP proxy that tunnels every CONNECT to target,
// whatever host was asked for, and records the hosts asked for.
func connectProxy(t *testing.T, target string) (*httptest.Server, func() []string) {
	t.Helper()
	var (
		mu    sync.Mutex
		hosts []string
	)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		mu.Lock()
		hosts = append(hosts, r.Host)
		mu.Unlock()
		up, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() {
			_, _ = io.Copy(up, buf)
			_ = up.(*net.TCPConn).CloseWrite()
		}()
		_, _ = io.Copy(conn, up)
		conn.Close()
		up.Close()
	}))
	t.Cleanup(proxy.Close)
	return proxy, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), hosts...)
	}
}

func TestProxyURLCarriesTheRequests(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t)
	proxy, hosts := connectProxy(t, srv.Listener.Addr().String())
	// example.com is in the test certificate and unreachable from here: the
	// request can only arrive through the proxy's tunnel.
	doc := `
current-context: c
clusters:
- name: k
  cluster:
    server: https://example.com:443
    certificate-authority-data: ` + b64(srv.caPEM()) + `
    proxy-url: ` + proxy.URL + `
users:
- {name: u, user: {token: via-proxy}}
contexts:
- {name: c, context: {cluster: k, user: u}}
`
	cfg, err := LoadBytes([]byte(doc), nil)
	require.NoError(t, err)
	c, err := transport.New(cfg)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	resp, err := c.Do(context.Background(), &transport.Request{Path: "/api"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []string{"example.com:443"}, hosts())
	assert.Equal(t, "Bearer via-proxy", srv.last().Get("Authorization"), "credentials travel inside the tunnel")
}
