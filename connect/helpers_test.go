package connect_test

import (
	"context"
	"fmt"
	"io"
	"iter"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/connect"
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

// relay is a TCP relay in front of a server whose connections can be cut
// abruptly, as a network drop would: no protocol-level end is sent.
type relay struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func newRelay(t *testing.T, target string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &relay{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); r.cut() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, in, out)
			r.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return r
}

func (r *relay) cut() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}

// relayed returns a connect client for srv whose connections go through a
// relay.
func relayed(t *testing.T, srv *testserver.Server) (*connect.Client, *relay) {
	t.Helper()
	u, err := url.Parse(srv.URL())
	require.NoError(t, err)
	r := newRelay(t, u.Host)
	tc, err := transport.New(&transport.Config{Host: "https://" + r.ln.Addr().String(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()})
	require.NoError(t, err)
	t.Cleanup(tc.CloseIdleConnections)
	return connect.New(tc, nil), r
}
