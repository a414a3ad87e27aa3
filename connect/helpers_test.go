package connect_test

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/connect"
	"github.com/kubedyn/kubedyn/internal/testrelay"
	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/transport"
)

// setup starts a test server and returns it with a connect client and the
// transport beneath it.
func setup(t *testing.T) (*testserver.Server, *connect.Client, *transport.Client) {
	t.Helper()
	srv := testserver.New(t)
	tc, err := transport.New(&transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()})
	require.NoError(t, err)
	t.Cleanup(tc.CloseIdleConnections)
	return srv, connect.New(tc, nil), tc
}

// createPod creates a pod in default with the given containers.
func createPod(t *testing.T, tc *transport.Client, name string, containers ...string) {
	t.Helper()
	if len(containers) == 0 {
		containers = []string{"main"}
	}
	cs := ""
	for i, c := range containers {
		if i > 0 {
			cs += ","
		}
		cs += fmt.Sprintf(`{"name":%q,"image":"busybox:1.36"}`, c)
	}
	body := fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":%q},"spec":{"containers":[%s]}}`, name, cs)
	_, err := tc.Do(ctx(t), &transport.Request{Method: "POST", Path: "/api/v1/namespaces/default/pods", Body: []byte(body)})
	require.NoError(t, err)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// iterPull is iter.Pull2 for a log line sequence, with the values named.
func iterPull(seq func(func(connect.LogLine, error) bool)) (func() (connect.LogLine, error, bool), func()) {
	return iter.Pull2(seq)
}

// relayed returns a connect client for srv whose connections go through a
// relay.
func relayed(t *testing.T, srv *testserver.Server) (*connect.Client, *testrelay.Relay) {
	t.Helper()
	u, err := url.Parse(srv.URL())
	require.NoError(t, err)
	r := testrelay.New(t, u.Host)
	tc, err := transport.New(&transport.Config{Host: "https://" + r.Addr(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()})
	require.NoError(t, err)
	t.Cleanup(tc.CloseIdleConnections)
	return connect.New(tc, nil), r
}
