package connect_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/connect"
	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/transport"
)

// The handshakes go through the transport: these tests check the parts of
// it that matter on the way, against the test server.

func TestHandshakeOverAnHTTP2Server(t *testing.T) {
	t.Parallel()
	// An API server that offers HTTP/2: the upgrade must still go out on
	// an HTTP/1.1 connection.
	srv := testserver.NewWithOptions(t, &testserver.Options{HTTP2: true})
	tc, err := transport.New(&transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()})
	require.NoError(t, err)
	createPod(t, tc, "web")
	c := connect.New(tc, nil)
	var out bytes.Buffer
	require.NoError(t, c.Exec(ctx(t), "default", "web", []string{"echo", "over h1"}, &connect.ExecOptions{Stdout: &out}))
	assert.Equal(t, "over h1\n", out.String())
	pf, err := c.PortForward(ctx(t), "default", "web", nil)
	require.NoError(t, err)
	defer pf.Close()
	conn, err := pf.Dial(ctx(t), 80)
	require.NoError(t, err)
	_, err = io.WriteString(conn, "x")
	require.NoError(t, err)
	_, err = io.ReadFull(conn, make([]byte, 1))
	require.NoError(t, err)
}

func TestHandshakeCarriesImpersonationAndUserAgent(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	tc, err := transport.New(&transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token(),
		UserAgent: "connect-test/1", Impersonate: transport.Impersonation{UserName: "jane", Groups: []string{"devs"}}})
	require.NoError(t, err)
	createPod(t, tc, "web")
	srv.ResetRequests()
	require.NoError(t, connect.New(tc, nil).Exec(ctx(t), "default", "web", []string{"true"}, nil))
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "connect-test/1", reqs[0].Header.Get("User-Agent"))
	assert.Equal(t, "jane", reqs[0].Header.Get("Impersonate-User"))
	assert.Equal(t, "devs", reqs[0].Header.Get("Impersonate-Group"))
}

func TestHandshakeThroughAnHTTPProxy(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	var mu sync.Mutex
	var tunnels []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		mu.Lock()
		tunnels = append(tunnels, r.Host)
		mu.Unlock()
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
		down, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		go func() { _, _ = io.Copy(up, down); up.Close() }()
		_, _ = io.Copy(down, up)
		down.Close()
	}))
	t.Cleanup(proxy.Close)
	pu, err := url.Parse(proxy.URL)
	require.NoError(t, err)
	tc, err := transport.New(&transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token(),
		Proxy: http.ProxyURL(pu)})
	require.NoError(t, err)
	createPod(t, tc, "web")
	var out bytes.Buffer
	require.NoError(t, connect.New(tc, nil).Exec(ctx(t), "default", "web", []string{"echo", "proxied"}, &connect.ExecOptions{Stdout: &out}))
	assert.Equal(t, "proxied\n", out.String())
	su, _ := url.Parse(srv.URL())
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, tunnels, su.Host, "the WebSocket went through the proxy")
}

func TestHandshakeRedirectToAnotherOriginLosesCredentials(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = r.Header.Clone()
		mu.Unlock()
		http.Error(w, "no", http.StatusBadRequest)
	}))
	t.Cleanup(other.Close)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusFound)
	}))
	t.Cleanup(api.Close)
	tc, err := transport.New(&transport.Config{Host: api.URL, BearerToken: "secret", AllowPlainHTTPCredentials: true,
		Impersonate: transport.Impersonation{UserName: "jane"}})
	require.NoError(t, err)
	err = connect.New(tc, nil).Exec(ctx(t), "default", "web", []string{"true"}, nil)
	require.ErrorIs(t, err, transport.ErrBadRequest)
	mu.Lock()
	defer mu.Unlock()
	require.NotNil(t, seen, "the redirect was followed")
	assert.Empty(t, seen.Get("Authorization"))
	assert.Empty(t, seen.Get("Impersonate-User"))
}
