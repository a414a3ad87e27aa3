package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newRecorded(t *testing.T, fn func(w http.ResponseWriter, r *http.Request, n int)) (*recorder, *httptest.Server) {
	t.Helper()
	rec := &recorder{fn: fn}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return rec, srv
}

func TestDoDefaultHeadersAndURL(t *testing.T) {
	t.Parallel()
	rec, srv := newRecorded(t, nil)
	c, err := New(&Config{Host: srv.URL + "/prefix/", AllowPlainHTTPCredentials: true, BearerToken: "tok"})
	require.NoError(t, err)
	resp, err := c.Do(context.Background(), &Request{
		Method: http.MethodPost,
		Path:   JoinPath("api", "v1", "namespaces", "a b", "pods") + "?dryRun=All",
		Query:  url.Values{"fieldManager": {"me"}},
		Body:   []byte(`{"kind":"Pod"}`),
	})
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, `{"kind":"Ok"}`, string(resp.Body))
	reqs := rec.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, "/prefix/api/v1/namespaces/a%20b/pods", r.URL.EscapedPath())
	assert.Equal(t, "All", r.URL.Query().Get("dryRun"))
	assert.Equal(t, "me", r.URL.Query().Get("fieldManager"))
	assert.Equal(t, "kubedyn/"+Version+" ("+runtime.GOOS+"/"+runtime.GOARCH+")", r.Header.Get("User-Agent"))
	assert.Equal(t, "application/json", r.Header.Get("Accept"))
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
	assert.Equal(t, srv.URL+"/prefix", c.Host())
}

func TestDoHeaderOverrides(t *testing.T) {
	t.Parallel()
	rec, srv := newRecorded(t, nil)
	c, err := New(&Config{Host: srv.URL, AllowPlainHTTPCredentials: true, UserAgent: "mine/1", Username: "u", Password: "p"})
	require.NoError(t, err)
	_, err = c.Do(context.Background(), &Request{
		Method: http.MethodPatch,
		Path:   "/apis/apps/v1/namespaces/d/deployments/x",
		Header: http.Header{"Content-Type": {"application/merge-patch+json"}, "accept": {"application/json;as=Table;v=v1;g=meta.k8s.io"}},
		Body:   []byte(`{}`),
	})
	require.NoError(t, err)
	r := rec.requests()[0]
	assert.Equal(t, "application/merge-patch+json", r.Header.Get("Content-Type"))
	assert.Equal(t, "application/json;as=Table;v=v1;g=meta.k8s.io", r.Header.Get("Accept"))
	assert.Equal(t, "mine/1", r.Header.Get("User-Agent"))
	u, p, ok := r.BasicAuth()
	assert.True(t, ok)
	assert.Equal(t, "u", u)
	assert.Equal(t, "p", p)
}

func TestDoNoBodyNoContentType(t *testing.T) {
	t.Parallel()
	rec, srv := newRecorded(t, nil)
	c, err := New(&Config{Host: srv.URL})
	require.NoError(t, err)
	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	require.NoError(t, err)
	r := rec.requests()[0]
	assert.Equal(t, http.MethodGet, r.Method)
	assert.Empty(t, r.Header.Get("Content-Type"))
	assert.Empty(t, r.Header.Get("Authorization"))
}

func TestDoNotModified(t *testing.T) {
	t.Parallel()
	_, srv := newRecorded(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Header.Get("If-None-Match") == `"e1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"e1"`)
		_, _ = w.Write([]byte(`{}`))
	})
	c, err := New(&Config{Host: srv.URL})
	require.NoError(t, err)
	resp, err := c.Do(context.Background(), &Request{Path: "/api", Header: http.Header{"If-None-Match": {`"e1"`}}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotModified, resp.StatusCode)
	assert.Empty(t, resp.Body)

	// Stream treats 304 as an error: it only returns bodies.
	_, err = c.Stream(context.Background(), &Request{Path: "/api", Header: http.Header{"If-None-Match": {`"e1"`}}})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotModified, apiErr.StatusCode)
}

func TestHostileNamesRefusedBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", ".", "..", "a/b", "../secrets", "a%2Fb", "%"} {
		err := ValidatePathSegment("name", name)
		assert.ErrorIs(t, err, ErrInvalidName, "%q", name)
	}
	for _, name := range []string{"a", "a.b", "a-b", "...", "a..b", "x y"} {
		assert.NoError(t, ValidatePathSegment("name", name), "%q", name)
	}
	assert.Contains(t, ValidatePathSegment("namespace", "..").Error(), "namespace")

	rec, srv := newRecorded(t, nil)
	c, err := New(&Config{Host: srv.URL})
	require.NoError(t, err)
	for _, p := range []string{
		"/api/v1/namespaces/../secrets",
		"/api/v1/namespaces/%2e%2e/secrets",
		"/api/v1/namespaces/./pods",
		"/api/v1/namespaces//pods",
		JoinPath("api", "v1", "namespaces", "..", "pods"),
		JoinPath("api", "v1", "namespaces", "", "pods"),
		JoinPath("api", "v1", "namespaces", "kube-system/secrets", "x"),
		"/api/v1/namespaces/a%2fb/pods",
	} {
		_, err := c.Do(context.Background(), &Request{Method: http.MethodDelete, Path: p})
		assert.ErrorIs(t, err, ErrInvalidName, p)
		_, err = c.Stream(context.Background(), &Request{Path: p})
		assert.ErrorIs(t, err, ErrInvalidName, p)
	}
	for _, p := range []string{"api", "//evil.example/x", "http://evil.example/x", "/api#frag"} {
		_, err := c.Do(context.Background(), &Request{Path: p})
		assert.Error(t, err, p)
	}
	assert.Zero(t, rec.count(), "the server must not see any request")
}

func TestJoinPath(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "/", JoinPath())
	assert.Equal(t, "/api/v1", JoinPath("api", "v1"))
	assert.Equal(t, "/api/v1/namespaces/a%2Fb", JoinPath("api", "v1", "namespaces", "a/b"))
	assert.Equal(t, "/a%25b/c%3Fd", JoinPath("a%b", "c?d"))
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	cases := map[string]*Config{
		"nil":                 nil,
		"empty host":          {},
		"bad scheme":          {Host: "ftp://x"},
		"query in host":       {Host: "https://x/?a=b"},
		"userinfo":            {Host: "https://u:p@x"},
		"basic and token":     {Host: "https://x", Username: "u", BearerToken: "t"},
		"impersonate no user": {Host: "https://x", Impersonate: Impersonation{Groups: []string{"g"}}},
		"insecure with CA":    {Host: "https://x", TLS: TLSConfig{Insecure: true, CAData: []byte("x")}},
		"missing CA file":     {Host: "https://x", TLS: TLSConfig{CAFile: "/nonexistent/ca.crt"}},
		"CA not PEM":          {Host: "https://x", TLS: TLSConfig{CAData: []byte("not pem")}},
		"cert without key":    {Host: "https://x", TLS: TLSConfig{CertData: []byte("x")}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := New(cfg)
			assert.Error(t, err)
			assert.Nil(t, c)
		})
	}
	c, err := New(&Config{Host: "10.0.0.1:6443"})
	require.NoError(t, err)
	assert.Equal(t, "https://10.0.0.1:6443", c.Host())
}

func TestResponseTooLarge(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("a", 100)
	_, srv := newRecorded(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/chunked" {
			w.(http.Flusher).Flush() // no Content-Length
		}
		_, _ = io.WriteString(w, big)
	})
	c, err := New(&Config{Host: srv.URL, MaxResponseBytes: 99})
	require.NoError(t, err)
	for _, p := range []string{"/length", "/chunked"} {
		_, err = c.Do(context.Background(), &Request{Path: p})
		assert.ErrorIs(t, err, ErrResponseTooLarge, p)
	}
	c, err = New(&Config{Host: srv.URL, MaxResponseBytes: 100})
	require.NoError(t, err)
	resp, err := c.Do(context.Background(), &Request{Path: "/chunked"})
	require.NoError(t, err)
	assert.Equal(t, big, string(resp.Body))
}

func TestStream(t *testing.T) {
	t.Parallel()
	_, srv := newRecorded(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/missing" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, statusBody(404, "NotFound", `pods "x" not found`))
			return
		}
		_, _ = io.WriteString(w, `{"type":"ADDED"}`+"\n")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, `{"type":"DELETED"}`+"\n")
	})
	// Config.Timeout applies to Do only: a 1ns timeout does not stop Stream.
	c, err := New(&Config{Host: srv.URL, Timeout: 1})
	require.NoError(t, err)
	resp, err := c.Stream(context.Background(), &Request{Path: "/api/v1/pods", Query: url.Values{"watch": {"1"}}})
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "{\"type\":\"ADDED\"}\n{\"type\":\"DELETED\"}\n", string(body))

	_, err = c.Stream(context.Background(), &Request{Path: "/missing"})
	assert.ErrorIs(t, err, ErrNotFound)
	assert.EqualError(t, err, `pods "x" not found (404 NotFound)`)

	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestContextCancel(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	_, srv := newRecorded(t, func(w http.ResponseWriter, r *http.Request, n int) {
		close(arrived)
		<-r.Context().Done()
	})
	c, err := New(&Config{Host: srv.URL})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	_, err = c.Do(ctx, &Request{Path: "/api"})
	assert.ErrorIs(t, err, context.Canceled)

	// An already cancelled context sends nothing.
	rec, srv2 := newRecorded(t, nil)
	c2, err := New(&Config{Host: srv2.URL})
	require.NoError(t, err)
	_, err = c2.Do(ctx, &Request{Path: "/api"})
	assert.True(t, errors.Is(err, context.Canceled))
	assert.Zero(t, rec.count())
}

// TestParseHostNeverQuotesPassword: whatever is wrong with a server URL that
// holds a password, neither New's nor ParseHost's error quotes it.
func TestParseHostNeverQuotesPassword(t *testing.T) {
	t.Parallel()
	const pw = "S3cr3tPW"
	for _, host := range []string{
		"https://admin:" + pw + "@host/%zz",
		"https://admin:" + pw + "@host:xx",
		"https://admin:" + pw + "@ho st",
		"https://admin:" + pw + "@[::1",
		"https://admin:" + pw + "@host",
		"ftp://admin:" + pw + "@host",
		"admin:" + pw + "@host:6443",
		"https://host/?token=" + pw,
		"https://host/#" + pw,
	} {
		t.Run(host, func(t *testing.T) {
			t.Parallel()
			_, err := ParseHost(host)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), pw)
			_, err = New(&Config{Host: host})
			require.Error(t, err)
			assert.NotContains(t, err.Error(), pw)
		})
	}
	_, err := ParseHost("https://host:xx")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `invalid port ":xx"`, "without user info the parser's reason is kept")
}

// TestRequestMaxResponseBytes: a request's own cap, below the Client's,
// refuses a larger body with ErrResponseTooLarge whether it announces its
// length or arrives chunked.
func TestRequestMaxResponseBytes(t *testing.T) {
	t.Parallel()
	_, srv := newRecorded(t, func(w http.ResponseWriter, r *http.Request, n int) {
		chunk := strings.Repeat("a", 1000)
		if r.URL.Path == "/length" {
			w.Header().Set("Content-Length", "100000")
		}
		for range 100 {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	c, err := New(&Config{Host: srv.URL})
	require.NoError(t, err)
	for _, p := range []string{"/length", "/chunked"} {
		_, err = c.Do(context.Background(), &Request{Path: p, MaxResponseBytes: 5000})
		require.ErrorIs(t, err, ErrResponseTooLarge, p)
		assert.Contains(t, err.Error(), "5000 bytes", p)
		resp, err := c.Do(context.Background(), &Request{Path: p, MaxResponseBytes: 100000})
		require.NoError(t, err, p)
		assert.Len(t, resp.Body, 100000, p)
	}
	// A request's cap cannot raise the Client's.
	small, err := New(&Config{Host: srv.URL, MaxResponseBytes: 1000})
	require.NoError(t, err)
	_, err = small.Do(context.Background(), &Request{Path: "/chunked", MaxResponseBytes: 1 << 30})
	assert.ErrorIs(t, err, ErrResponseTooLarge)
}
