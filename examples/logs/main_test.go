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

// TestLogsExample runs the example against the in-process test server.
func TestLogsExample(t *testing.T) {
	srv := testserver.New(t)
	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, cfg, srv), out.String())
	for i := 1; i <= 5; i++ {
		assert.Regexp(t, `followed "step `+string(rune('0'+i))+`" \(written at \d\d:\d\d:\d\d\)\n`, out.String())
	}
	assert.Contains(t, out.String(), `the last two lines: ["step 4" "step 5"]`)
	assert.NotContains(t, out.String(), "cleanup:")
}
