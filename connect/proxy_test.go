package connect_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/connect"
	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/transport"
)

func TestProxy(t *testing.T) {
	t.Parallel()
	srv, c, tc := setup(t)
	createPod(t, tc, "web")
	_, err := tc.Do(ctx(t), &transport.Request{Method: "POST", Path: "/api/v1/namespaces/default/services",
		Body: []byte(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"front"},"spec":{"ports":[{"port":80}]}}`)})
	require.NoError(t, err)
	srv.SetProxyHandler(func(target testserver.ProxyRequest, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Target", fmt.Sprintf("%s/%s/%s port=%s scheme=%s", target.Resource, target.Namespace, target.Name, target.Port, target.Scheme))
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s?%s ua=%s body=%s", r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("User-Agent"), body)
	})
	get := func(t *testing.T, target connect.ProxyTarget, method, url, body string) (*http.Response, string) {
		t.Helper()
		hc, err := c.ProxyClient(target)
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(ctx(t), method, url, strings.NewReader(body))
		require.NoError(t, err)
		resp, err := hc.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}
	t.Run("pod with a port", func(t *testing.T) {
		resp, body := get(t, connect.ProxyTarget{Kind: connect.ProxyPod, Namespace: "default", Name: "web", Port: "8080"}, "GET", "http://ignored/healthz?x=1", "")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "pods/default/web port=8080 scheme=", resp.Header.Get("X-Target"))
		assert.Equal(t, "GET /healthz?x=1 ua="+transport.DefaultUserAgent+" body=", body)
	})
	t.Run("service over https with a body", func(t *testing.T) {
		resp, body := get(t, connect.ProxyTarget{Kind: connect.ProxyService, Namespace: "default", Name: "front", Port: "web", Scheme: "https"}, "POST", "/submit", "payload")
		assert.Equal(t, "services/default/front port=web scheme=https", resp.Header.Get("X-Target"))
		assert.Contains(t, body, "POST /submit? ")
		assert.Contains(t, body, "body=payload")
	})
	t.Run("the target's 404 is a response", func(t *testing.T) {
		resp, _ := get(t, connect.ProxyTarget{Kind: connect.ProxyPod, Namespace: "default", Name: "web"}, "GET", "/missing", "")
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
	t.Run("a missing service has no endpoints", func(t *testing.T) {
		resp, body := get(t, connect.ProxyTarget{Kind: connect.ProxyService, Namespace: "default", Name: "nope"}, "GET", "/", "")
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.Contains(t, body, `no endpoints available for service \"nope\"`)
	})
	t.Run("a missing node", func(t *testing.T) {
		resp, body := get(t, connect.ProxyTarget{Kind: connect.ProxyNode, Name: "node-1", Port: "10250"}, "GET", "/metrics", "")
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
		assert.Contains(t, body, `nodes \"node-1\" not found`)
	})
	t.Run("bad targets", func(t *testing.T) {
		for _, target := range []connect.ProxyTarget{
			{Kind: "deployments", Namespace: "default", Name: "x"},
			{Kind: connect.ProxyPod, Name: "x"},
			{Kind: connect.ProxyPod, Namespace: "default", Name: "a:b"},
			{Kind: connect.ProxyPod, Namespace: "default", Name: "x", Port: "80/x"},
			{Kind: connect.ProxyNode, Namespace: "default", Name: "x"},
			{Kind: connect.ProxyPod, Namespace: "default", Name: "x", Scheme: "ftp"},
		} {
			_, err := c.ProxyTransport(target)
			assert.Error(t, err, "%+v", target)
		}
	})
}
