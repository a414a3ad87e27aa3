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

// TestQuickstart runs the whole tour against the in-process test server and
// checks that each step reported what it did.
func TestQuickstart(t *testing.T) {
	// CRDs are established after the real server's delay: the tour must
	// wait for Established, as on a cluster.
	srv := testserver.NewWithOptions(t, &testserver.Options{CRDEstablishDelay: testserver.RealCRDEstablishDelay})
	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, cfg), out.String())
	for _, want := range []string{
		"created pod default/quickstart-",
		"read pod quickstart-",
		"image nginx:1.27",
		"found ours 1 time(s)",
		"tier:web",
		"deleted pod quickstart-",
		"created CRD widgets.",
		"spec.size 3",
		"deleted widget first",
		"deleted CRD widgets.",
	} {
		assert.Contains(t, out.String(), want)
	}
	assert.NotContains(t, out.String(), "cleanup:", "every step succeeded, so the deferred cleanups found nothing left to delete")
}
