package kubeconfig

import (
	"context"
	"encoding/pem"
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
