package transport_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/transport"
)

func setup(t *testing.T, mutate func(*transport.Config)) (*testserver.Server, *transport.Client) {
	t.Helper()
	srv := testserver.New(t)
	cfg := &transport.Config{
		Host:         srv.URL(),
		TLS:          transport.TLSConfig{CAData: srv.CAPEM()},
		BearerToken:  srv.Token(),
		RetryBackoff: time.Millisecond,
		MaxRetryWait: 10 * time.Millisecond,
	}
	if mutate != nil {
		mutate(cfg)
	}
	c, err := transport.New(cfg)
	require.NoError(t, err)
	return srv, c
}

func count(srv *testserver.Server, method, path string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func TestAgainstTestServer(t *testing.T) {
	t.Parallel()
	cmPath := transport.JoinPath("api", "v1", "namespaces", "default", "configmaps")

	t.Run("create, get, conflict, not found", func(t *testing.T) {
		t.Parallel()
		_, c := setup(t, nil)
		ctx := context.Background()
		body := []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm1"},"data":{"k":"v"}}`)
		resp, err := c.Do(ctx, &transport.Request{Method: http.MethodPost, Path: cmPath, Body: body})
		require.NoError(t, err)
		assert.Equal(t, http.StatusCreated, resp.StatusCode)

		_, err = c.Do(ctx, &transport.Request{Method: http.MethodPost, Path: cmPath, Body: body})
		assert.ErrorIs(t, err, transport.ErrAlreadyExists)
		assert.NotErrorIs(t, err, transport.ErrConflict, "reason AlreadyExists wins over code 409")

		_, err = c.Do(ctx, &transport.Request{Path: cmPath + "/missing"})
		var apiErr *transport.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.ErrorIs(t, err, transport.ErrNotFound)
		assert.Equal(t, "NotFound", apiErr.Reason)
	})

	t.Run("wrong token", func(t *testing.T) {
		t.Parallel()
		_, c := setup(t, func(cfg *transport.Config) { cfg.BearerToken = "wrong" })
		_, err := c.Do(context.Background(), &transport.Request{Path: cmPath})
		assert.ErrorIs(t, err, transport.ErrUnauthorized)
	})

	t.Run("wrong CA", func(t *testing.T) {
		t.Parallel()
		other := testserver.New(t)
		_, c := setup(t, func(cfg *transport.Config) { cfg.TLS.CAData = other.CAPEM(); cfg.MaxRetries = -1 })
		_, err := c.Do(context.Background(), &transport.Request{Path: cmPath})
		assert.ErrorContains(t, err, "certificate")
	})

	t.Run("503 then success", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t, nil)
		srv.Inject(testserver.Fault{Method: http.MethodGet, PathPrefix: cmPath, Status: http.StatusServiceUnavailable, Times: 2})
		_, err := c.Do(context.Background(), &transport.Request{Path: cmPath})
		require.NoError(t, err)
		assert.Equal(t, 3, count(srv, http.MethodGet, cmPath))
	})

	t.Run("429 with Retry-After on a write", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t, nil)
		srv.Inject(testserver.Fault{Method: http.MethodPost, PathPrefix: cmPath, Status: http.StatusTooManyRequests, RetryAfter: time.Second, Times: 1})
		_, err := c.Do(context.Background(), &transport.Request{Method: http.MethodPost, Path: cmPath,
			Body: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ra"}}`)})
		require.NoError(t, err)
		assert.Equal(t, 2, count(srv, http.MethodPost, cmPath))
	})

	t.Run("dropped connection on GET", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t, nil)
		srv.Inject(testserver.Fault{Method: http.MethodGet, PathPrefix: cmPath, Drop: true, Times: 1})
		_, err := c.Do(context.Background(), &transport.Request{Path: cmPath})
		require.NoError(t, err)
		assert.Equal(t, 2, count(srv, http.MethodGet, cmPath), "the dropped GET was sent again")
	})

	t.Run("dropped connection on POST is not retried", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t, nil)
		srv.Inject(testserver.Fault{Method: http.MethodPost, PathPrefix: cmPath, Drop: true, Times: 1})
		_, err := c.Do(context.Background(), &transport.Request{Method: http.MethodPost, Path: cmPath,
			Body: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dropped"}}`)})
		require.Error(t, err)
		var apiErr *transport.APIError
		assert.False(t, errors.As(err, &apiErr))
		assert.Equal(t, 1, count(srv, http.MethodPost, cmPath), "the dropped POST was not sent again")
	})

	t.Run("truncated body on GET", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t, nil)
		srv.Inject(testserver.Fault{Method: http.MethodGet, PathPrefix: cmPath, Truncate: true, Times: 1})
		resp, err := c.Do(context.Background(), &transport.Request{Path: cmPath})
		require.NoError(t, err)
		assert.True(t, strings.HasSuffix(strings.TrimSpace(string(resp.Body)), "}"))
		assert.True(t, json.Valid(resp.Body), "the retried body is whole")
		assert.Equal(t, 2, count(srv, http.MethodGet, cmPath), "the truncated GET was sent again")
	})

	t.Run("warnings", func(t *testing.T) {
		t.Parallel()
		var mu sync.Mutex
		var got []transport.Warning
		srv, c := setup(t, func(cfg *transport.Config) {
			cfg.WarningHandler = func(w transport.Warning) { mu.Lock(); got = append(got, w); mu.Unlock() }
		})
		srv.Inject(testserver.Fault{PathPrefix: cmPath, Warning: "v1 ConfigMap is fine, actually", Times: 1})
		_, err := c.Do(context.Background(), &transport.Request{Path: cmPath})
		require.NoError(t, err)
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, []transport.Warning{{Code: 299, Agent: "-", Text: "v1 ConfigMap is fine, actually"}}, got)
	})

	t.Run("hostile names never reach the server", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t, nil)
		srv.ResetRequests()
		for _, name := range []string{"..", ".", "a/b", "%2e"} {
			err := transport.ValidatePathSegment("name", name)
			require.ErrorIs(t, err, transport.ErrInvalidName)
		}
		_, err := c.Do(context.Background(), &transport.Request{Method: http.MethodDelete,
			Path: transport.JoinPath("api", "v1", "namespaces", "default", "configmaps", "..")})
		assert.ErrorIs(t, err, transport.ErrInvalidName)
		assert.Empty(t, srv.Requests())
	})
}

// ExampleClient_Do runs against the in-process test server.
func ExampleClient_Do() {
	srv, err := testserver.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, err := transport.New(&transport.Config{
		Host:        srv.URL(),
		TLS:         transport.TLSConfig{CAData: srv.CAPEM()},
		BearerToken: srv.Token(),
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	path := transport.JoinPath("api", "v1", "namespaces", "default", "configmaps")
	resp, err := c.Do(ctx, &transport.Request{
		Method: http.MethodPost,
		Path:   path,
		Body:   []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"greeting"},"data":{"hello":"world"}}`),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode)

	_, err = c.Do(ctx, &transport.Request{Path: transport.JoinPath("api", "v1", "namespaces", "default", "configmaps", "nope")})
	fmt.Println(errors.Is(err, transport.ErrNotFound), err)
	// Output:
	// 201
	// true configmaps "nope" not found (404 NotFound)
}
