package e2e_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

// TestMethodAndMediaTypeErrors checks the two error sentinels the resource
// handles never provoke on their own: 405 for a verb the path does not
// serve, and 415 for a strategic merge patch sent to a custom resource (the
// handle refuses that before sending; the raw transport shows why).
func TestMethodAndMediaTypeErrors(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	c := admin(t)
	tc := c.Transport()

	_, err := tc.Do(ctx, &transport.Request{
		Method: http.MethodPost,
		Path:   transport.JoinPath("api", "v1", "namespaces", ns, "configmaps", "named"),
		Body:   []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"named"}}`),
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, transport.ErrMethodNotSupported)
	var apiErr *transport.APIError
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, http.StatusMethodNotAllowed, apiErr.StatusCode)

	group := installCRD(t, c)
	widgets := c.Resource(group+"/v1", "Widget").Namespace(ns)
	_, err = widgets.Create(ctx, obj(t, `{"apiVersion":"`+group+`/v1","kind":"Widget","metadata":{"name":"w"}}`), nil)
	require.NoError(t, err)

	_, err = widgets.Patch(ctx, "w", resource.StrategicMergePatch, []byte(`{"metadata":{"labels":{"a":"b"}}}`), nil)
	require.ErrorIs(t, err, resource.ErrPatchTypeUnsupported, "the handle refuses before sending")

	hdr := http.Header{}
	hdr.Set("Content-Type", string(resource.StrategicMergePatch))
	_, err = tc.Do(ctx, &transport.Request{
		Method: http.MethodPatch,
		Path:   transport.JoinPath("apis", group, "v1", "namespaces", ns, "widgets", "w"),
		Header: hdr,
		Body:   []byte(`{"metadata":{"labels":{"a":"b"}}}`),
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, transport.ErrUnsupportedMediaType)
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, http.StatusUnsupportedMediaType, apiErr.StatusCode)
}
