package testserver

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

func TestFaultStatus(t *testing.T) {
	t.Parallel()
	c := setup(t)
	c.srv.Inject(Fault{Method: "GET", PathPrefix: "/api/v1/namespaces/default/configmaps", Status: 429, RetryAfter: 1500 * time.Millisecond, Times: 2})
	for range 2 {
		r := c.do("GET", "/api/v1/namespaces/default/configmaps", "")
		assert.Equal(t, http.StatusTooManyRequests, r.code)
		assert.Equal(t, "2", r.header.Get("Retry-After"))
		assert.Equal(t, "TooManyRequests", r.str("reason"))
		assert.EqualValues(t, 2, r.get("details.retryAfterSeconds"))
	}
	assert.Equal(t, http.StatusOK, c.do("GET", "/api/v1/namespaces/default/configmaps", "").code, "Times bounds the fault")
	assert.Equal(t, http.StatusOK, c.do("GET", "/api/v1/namespaces", "").code)

	c.srv.Inject(Fault{Method: "POST", Status: 503})
	assert.Equal(t, http.StatusOK, c.do("GET", "/api/v1/namespaces", "").code, "method must match")
	for range 3 {
		r := c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"x"}}`)
		assert.Equal(t, http.StatusServiceUnavailable, r.code)
		assert.Equal(t, "ServiceUnavailable", r.str("reason"))
	}
	c.srv.ClearFaults()
	assert.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"x"}}`).code)
}

func TestFaultBody(t *testing.T) {
	t.Parallel()
	c := setup(t)
	c.srv.Inject(Fault{Status: 502, Body: "<html><body>Bad Gateway</body></html>", Times: 1})
	r := c.do("GET", "/api/v1/namespaces", "")
	assert.Equal(t, http.StatusBadGateway, r.code)
	assert.Equal(t, "text/html", r.header.Get("Content-Type"))
	assert.Equal(t, "<html><body>Bad Gateway</body></html>", string(r.raw))
}

func TestFaultRedirect(t *testing.T) {
	t.Parallel()
	c := setup(t)
	other := setup(t)
	c.srv.Inject(Fault{PathPrefix: "/api/v1/namespaces", Status: http.StatusTemporaryRedirect, Times: 1,
		Header: http.Header{"Location": {other.srv.URL() + "/api/v1/namespaces"}}})
	// The test client trusts only c's CA, so the redirect to another
	// server fails the TLS check: what matters is that it was followed.
	req, err := http.NewRequest("GET", c.srv.URL()+"/api/v1/namespaces", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.srv.Token())
	_, err = c.hc.Do(req)
	require.Error(t, err)
	assert.Contains(t, err.Error(), other.srv.URL())
}

func TestFaultQuery(t *testing.T) {
	t.Parallel()
	c := setup(t)
	c.srv.Inject(Fault{PathPrefix: "/api/v1/namespaces/default/configmaps", Query: "watch=true", Status: 500})
	assert.Equal(t, http.StatusOK, c.do("GET", "/api/v1/namespaces/default/configmaps", "").code, "lists pass")
	assert.Equal(t, http.StatusInternalServerError, c.do("GET", "/api/v1/namespaces/default/configmaps?watch=true", "").code, "watches fail")
}

func TestFaultDropAndTruncate(t *testing.T) {
	t.Parallel()
	c := setup(t)
	c.srv.Inject(Fault{PathPrefix: "/api/v1/namespaces", Drop: true, Times: 1})
	req, err := http.NewRequest("GET", c.srv.URL()+"/api/v1/namespaces", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.srv.Token())
	_, err = c.hc.Do(req)
	assert.Error(t, err, "a dropped connection gives no response")

	c.srv.Inject(Fault{PathPrefix: "/api/v1/namespaces", Truncate: true, Times: 1})
	req, err = http.NewRequest("GET", c.srv.URL()+"/api/v1/namespaces", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.srv.Token())
	res, err := c.hc.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	body, err := io.ReadAll(res.Body)
	assert.True(t, errors.Is(err, io.ErrUnexpectedEOF), "got %v", err)
	assert.Less(t, int64(len(body)), res.ContentLength)
	assert.True(t, strings.HasPrefix(string(body), `{"apiVersion":"v1"`))

	assert.Equal(t, http.StatusOK, c.do("GET", "/api/v1/namespaces", "").code, "faults with Times 1 apply once")
}

func TestFaultDelayAndWarning(t *testing.T) {
	t.Parallel()
	c := setup(t)
	// A first request leaves a connection open, so the held one below needs
	// no handshake within its deadline.
	require.Equal(t, http.StatusOK, c.do("GET", "/version", "").code)
	c.srv.Inject(Fault{PathPrefix: "/version", Delay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", c.srv.URL()+"/version", nil)
	require.NoError(t, err)
	_, err = c.hc.Do(req)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the delay holds the request")
	// The fault applies to every request until cleared, so whether the held
	// request reached the server before its deadline (on a loaded machine it
	// may not) does not decide what the next request meets.
	c.srv.ClearFaults()

	c.srv.Inject(Fault{PathPrefix: "/version", Delay: 10 * time.Millisecond, Warning: "careful", Times: 1})
	start := time.Now()
	r := c.do("GET", "/version", "")
	assert.GreaterOrEqual(t, time.Since(start), 10*time.Millisecond)
	assert.Equal(t, http.StatusOK, r.code, "delay and warning let the request through")
	assert.Equal(t, `299 - "careful"`, r.header.Get("Warning"))
	assert.Equal(t, "1", r.str("major"))
}

func TestRequestsRecorded(t *testing.T) {
	t.Parallel()
	c := setup(t)
	c.do("GET", "/api/v1/namespaces?limit=1", "", "X-Test", "yes")
	c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"a"}}`)
	reqs := c.srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "GET", reqs[0].Method)
	assert.Equal(t, "/api/v1/namespaces", reqs[0].Path)
	assert.Equal(t, "1", reqs[0].Query.Get("limit"))
	assert.Equal(t, "yes", reqs[0].Header.Get("X-Test"))
	assert.Equal(t, "POST", reqs[1].Method)
	reqs[0].Header.Set("X-Test", "changed")
	assert.Equal(t, "yes", c.srv.Requests()[0].Header.Get("X-Test"), "Requests returns copies")
	c.srv.ResetRequests()
	assert.Empty(t, c.srv.Requests())
}

func TestKubeconfigAndVersion(t *testing.T) {
	t.Parallel()
	c := setup(t)
	var kc map[string]any
	require.NoError(t, yaml.Unmarshal(c.srv.Kubeconfig(), &kc))
	assert.Equal(t, "testserver", kc["current-context"])
	assert.Equal(t, c.srv.URL(), path(kc, "clusters.0.cluster.server"))
	assert.Equal(t, c.srv.Token(), path(kc, "users.0.user.token"))
	assert.Equal(t, encodeBase64(c.srv.CAPEM()), path(kc, "clusters.0.cluster.certificate-authority-data"))
	assert.Equal(t, "default", path(kc, "contexts.0.context.namespace"))
	assert.Equal(t, "testserver-cert", path(kc, "contexts.1.name"))
	certData, err := base64.StdEncoding.DecodeString(path(kc, "users.1.user.client-certificate-data").(string))
	require.NoError(t, err)
	keyData, err := base64.StdEncoding.DecodeString(path(kc, "users.1.user.client-key-data").(string))
	require.NoError(t, err)
	_, err = tls.X509KeyPair(certData, keyData)
	assert.NoError(t, err, "the certificate context carries a usable key pair")

	v := c.do("GET", "/version", "", "Authorization", "")
	require.Equal(t, http.StatusOK, v.code)
	assert.Equal(t, "37", v.str("minor"))
	for _, p := range []string{"/readyz", "/livez"} {
		assert.Equal(t, http.StatusOK, c.do("GET", p, "", "Authorization", "").code)
	}
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/nothing", "").code)
	assert.True(t, strings.HasPrefix(c.srv.URL(), "https://127.0.0.1:"))
}
