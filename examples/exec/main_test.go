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

// TestExecExample runs the example against the in-process test server.
func TestExecExample(t *testing.T) {
	srv := testserver.New(t)
	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, cfg, false), out.String())
	assert.Regexp(t, `echo said: hello from exec-demo-[0-9a-f]{6}\n`, out.String())
	assert.Contains(t, out.String(), "cat returned 2 lines: \"first line\\nsecond line\\n\"\n")
	assert.Contains(t, out.String(), "sh exited with code 3\n")
	assert.NotContains(t, out.String(), "cleanup:")
}
