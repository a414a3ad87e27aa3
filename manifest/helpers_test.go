package manifest_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/manifest"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// setup starts a test server whose CRDs take as long as the real server's
// to be established, and returns a client and an engine.
func setup(t *testing.T) (*testserver.Server, *resource.Client, *manifest.Engine) {
	t.Helper()
	srv := testserver.NewWithOptions(t, &testserver.Options{CRDEstablishDelay: testserver.RealCRDEstablishDelay})
	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()}
	c, err := resource.NewClient(cfg)
	require.NoError(t, err)
	return srv, c, manifest.New(c)
}

// decode decodes a manifest named name.
func decode(t *testing.T, name, text string) []unstructured.Decoded {
	t.Helper()
	objs, err := unstructured.DecodeManifest([]byte(text), &unstructured.DecodeOptions{Source: name})
	require.NoError(t, err)
	return objs
}

// writeFiles writes files (name -> content) under a new folder.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	return dir
}

// byName indexes results by Ref.String().
func byName(results []manifest.Result) map[string]manifest.Result {
	m := map[string]manifest.Result{}
	for _, r := range results {
		m[r.Ref.String()] = r
	}
	return m
}

const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	return ctx, cancel
}
