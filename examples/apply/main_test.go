package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/transport"
)

// TestApplyExample applies the example's folder to the test server, with
// CRDs established after the real server's delay: the Widgets go in the same
// run as their CRD, everything is created and ready.
func TestApplyExample(t *testing.T) {
	t.Parallel()
	srv := testserver.NewWithOptions(t, &testserver.Options{CRDEstablishDelay: testserver.RealCRDEstablishDelay})
	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()}
	var out bytes.Buffer
	ok, err := run(t.Context(), &out, cfg, []string{"manifests"})
	require.NoError(t, err)
	assert.True(t, ok, out.String())
	text := out.String()
	for _, line := range []string{
		"Namespace widgets                        created",
		"CustomResourceDefinition.apiextensions.k8s.io widgets.demo.kubedyn.dev created",
		"Widget.demo.kubedyn.dev widgets/small    created",
		"Widget.demo.kubedyn.dev widgets/large    created",
		"ConfigMap widgets/widget-settings        created",
		"Widget.demo.kubedyn.dev widgets/large    Current: no status after 2s; taken as ready",
		"CustomResourceDefinition.apiextensions.k8s.io widgets.demo.kubedyn.dev Current: Established",
		"5 created",
	} {
		assert.Contains(t, text, line)
	}

	t.Run("again: unchanged", func(t *testing.T) {
		var out bytes.Buffer
		ok, err := run(t.Context(), &out, cfg, []string{"manifests"})
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Contains(t, out.String(), "5 unchanged")
	})
}
