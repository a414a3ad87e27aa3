package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// TestExplain explains a built-in field, recursively too, against the
// in-process test server, and refuses a path that does not exist.
func TestExplain(t *testing.T) {
	srv := testserver.New(t)
	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()}
	ctx := context.Background()

	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, cfg, []string{"apps/v1", "Deployment", "spec.template.spec.containers"}, false))
	for _, want := range []string{"KIND:       Deployment", "FIELD: containers <[]Container>", "  name\t<string> -required-"} {
		assert.Contains(t, out.String(), want)
	}

	out.Reset()
	require.NoError(t, run(ctx, &out, cfg, []string{"apps/v1", "Deployment", "spec"}, true))
	assert.Contains(t, out.String(), "      containers\t<[]Container> -required-\n        args\t<[]string>\n")

	err := run(ctx, &out, cfg, []string{"apps/v1", "Deployment", "spec.bogus"}, false)
	require.ErrorIs(t, err, unstructured.ErrNoField)
}
