package discovery

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/kubedyn/kubedyn/unstructured"
)

var appsV1 = unstructured.GroupVersion{Group: "apps", Version: "v1"}

func TestOpenAPIV3(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	c := f.client(nil)
	clock := f.clock
	ctx := context.Background()
	const doc = "/openapi/v3/apis/apps/v1"

	keys, err := c.OpenAPIV3Paths(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{".well-known/openid-configuration", "api/v1", "apis/apps/v1", "version"}, keys)

	b, err := c.OpenAPIV3(ctx, appsV1)
	require.NoError(t, err)
	assert.Equal(t, "3.0.0", gjson.GetBytes(b, "openapi").String())
	assert.Equal(t, 1, f.hitsFor(openAPIRoot))
	assert.Equal(t, 1, f.hitsFor(doc))

	name, schema, err := c.OpenAPIV3Schema(ctx, appsV1.WithKind("Deployment"))
	require.NoError(t, err)
	assert.Equal(t, "io.k8s.api.apps.v1.Deployment", name)
	assert.Equal(t, "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec", gjson.GetBytes(schema, "properties.spec.allOf.0.$ref").String())
	assert.Equal(t, 1, f.hitsFor(doc), "a hash URL is fetched once")
	assert.Equal(t, 1, f.hitsFor(openAPIRoot), "the index is trusted within the TTL")
	assert.Equal(t, Stats{Requests: 2, Parses: 2}, c.Stats(), "the index and the document")

	// The caller owns what it gets.
	b[0] = 'X'
	again, err := c.OpenAPIV3(ctx, appsV1)
	require.NoError(t, err)
	assert.Equal(t, byte('{'), again[0])

	// Past the TTL the index is revalidated (304); the document with the
	// same hash is not asked for again.
	clock.Advance(DefaultTTL + time.Second)
	_, err = c.OpenAPIV3(ctx, appsV1)
	require.NoError(t, err)
	assert.Equal(t, 2, f.hitsFor(openAPIRoot))
	assert.Equal(t, []string{f.etag(openAPIRoot)}, f.ifNoneMatch(openAPIRoot))
	assert.Equal(t, 1, f.hitsFor(doc))
	assert.Equal(t, Stats{Requests: 3, NotModified: 1, Parses: 2}, c.Stats())

	// A new hash means a new document.
	f.set(openAPIRoot, []byte(`{"paths":{"apis/apps/v1":{"serverRelativeURL":"/openapi/v3/apis/apps/v1?hash=NEW"}}}`))
	c.Invalidate()
	_, err = c.OpenAPIV3(ctx, appsV1)
	require.NoError(t, err)
	assert.Equal(t, 2, f.hitsFor(doc))
	assert.Equal(t, Stats{Requests: 5, NotModified: 1, Parses: 4}, c.Stats(), "the new index and the new document")

	d, err := c.OpenAPIV3Document(ctx, appsV1)
	require.NoError(t, err)
	assert.Equal(t, "3.0.0", d.GetOpenapi())
	var names []string
	for _, p := range d.GetComponents().GetSchemas().GetAdditionalProperties() {
		names = append(names, p.GetName())
	}
	assert.Contains(t, names, "io.k8s.api.apps.v1.DeploymentSpec")
}

func TestOpenAPIV3Missing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	c := f.client(nil)
	ctx := context.Background()

	_, err := c.OpenAPIV3(ctx, unstructured.GroupVersion{Group: "batch", Version: "v1"})
	assert.ErrorIs(t, err, ErrNoSchema)
	_, _, err = c.OpenAPIV3Schema(ctx, appsV1.WithKind("StatefulSet"))
	assert.ErrorIs(t, err, ErrNoSchema)
	_, _, err = c.OpenAPIV3Schema(ctx, unstructured.GroupVersionKind{Version: "v1", Kind: "Pod"})
	assert.Error(t, err, "api/v1 is listed but the fixture does not serve it")
	assert.NotErrorIs(t, err, ErrNoSchema)

	f.set("/openapi/v3/apis/apps/v1", []byte(`{"openapi":`))
	fresh := f.client(nil)
	_, err = fresh.OpenAPIV3(ctx, appsV1)
	assert.ErrorIs(t, err, unstructured.ErrMalformed)

	// gjson (OpenAPIV3Schema) would read the first of two equal keys,
	// another reader the last: such a document is refused.
	f.set("/openapi/v3/apis/apps/v1", []byte(`{"openapi":"3.0.0","components":{"schemas":{"a":{},"a":{}}}}`))
	_, err = f.client(nil).OpenAPIV3(ctx, appsV1)
	assert.ErrorIs(t, err, unstructured.ErrDuplicateKey)
	f.set(openAPIRoot, []byte(`{"paths":{"apis/apps/v1":{"serverRelativeURL":"/a"},"apis/apps/v1":{"serverRelativeURL":"/b"}}}`))
	_, err = f.client(nil).OpenAPIV3Paths(ctx)
	assert.ErrorIs(t, err, unstructured.ErrDuplicateKey)

	f.set(openAPIRoot, []byte(`{"paths":{"apis/apps/v1":{"serverRelativeURL":"https://elsewhere.example/x?hash=1"}}}`))
	_, err = f.client(nil).OpenAPIV3(ctx, appsV1)
	assert.ErrorContains(t, err, "bad serverRelativeURL")
}

// TestSchemaFromFixture compiles a served document once per hash URL, and
// a second process with the same cache directory reads the hash-pinned
// document from disk instead of the server.
func TestSchemaFromFixture(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	dir := t.TempDir()
	c := f.client(&Options{CacheDir: dir})
	ctx := context.Background()
	const doc = "/openapi/v3/apis/apps/v1"

	s, err := c.Schema(ctx, appsV1.WithKind("Deployment"))
	require.NoError(t, err)
	assert.Equal(t, "io.k8s.api.apps.v1.Deployment", s.Name)
	again, err := c.Schema(ctx, appsV1.WithKind("Deployment"))
	require.NoError(t, err)
	assert.Same(t, s, again, "compiled once")
	assert.Equal(t, 1, f.hitsFor(doc))

	_, err = c.Schema(ctx, appsV1.WithKind("Nothing"))
	require.ErrorIs(t, err, ErrNoSchema)
	_, err = c.Schema(ctx, unstructured.GroupVersion{Group: "none.example.com", Version: "v1"}.WithKind("X"))
	require.ErrorIs(t, err, ErrNoSchema)

	second := f.client(&Options{CacheDir: dir})
	_, err = second.Schema(ctx, appsV1.WithKind("Deployment"))
	require.NoError(t, err)
	assert.Equal(t, 1, f.hitsFor(doc), "the second client read the document from disk")
}
