package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/transport"
)

// TestPortForwardExample runs the example against the in-process test
// server, which answers the forwarded port as a web server.
func TestPortForwardExample(t *testing.T) {
	srv := testserver.New(t)
	srv.SetPortForwardHandler(FakeWebServer)
	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, cfg, false), out.String())
	assert.Contains(t, out.String(), "through the local listener: 200 OK, server nginx, 27 bytes\n")
	assert.Contains(t, out.String(), "through a dialled connection: HTTP/1.1 200 OK\n")
	assert.NotContains(t, out.String(), "cleanup:")
}
