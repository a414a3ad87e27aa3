package resource_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// TestCreateWithGenerateNameIsNotReplayed: a 504 with Retry-After may come
// after the server created the object, so a create whose name the server
// generates is sent once (a second POST would make a second object), while
// a create with a fixed name is retried (a duplicate would fail with
// AlreadyExists) and a 429 is retried for both.
func TestCreateWithGenerateNameIsNotReplayed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	generated := func(t *testing.T) unstructured.Object {
		o, err := unstructured.New("v1", "ConfigMap").Set("metadata.generateName", "gen-")
		require.NoError(t, err)
		return o
	}
	cases := []struct {
		name      string
		obj       func(t *testing.T) unstructured.Object
		status    int
		wantPosts int
	}{
		{"generateName, 504", generated, http.StatusGatewayTimeout, 1},
		{"generateName, 503", generated, http.StatusServiceUnavailable, 1},
		{"generateName, 429", generated, http.StatusTooManyRequests, 2},
		{"fixed name, 504", func(t *testing.T) unstructured.Object { return configMap(t, "fixed", nil) }, http.StatusGatewayTimeout, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t)
			cms := c.Resource("v1", "ConfigMap").Namespace("default")
			_, err := cms.Get(ctx, "warm-up-discovery", nil)
			require.ErrorIs(t, err, transport.ErrNotFound)
			srv.ResetRequests()
			srv.Inject(testserver.Fault{Method: http.MethodPost, PathPrefix: "/api/v1/namespaces/default/configmaps",
				Status: tc.status, RetryAfter: time.Millisecond, Times: 1})
			_, err = cms.Create(ctx, tc.obj(t), nil)
			assert.Len(t, resourceRequests(srv, http.MethodPost, "/configmaps"), tc.wantPosts)
			if tc.wantPosts == 1 {
				var apiErr *transport.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tc.status, apiErr.StatusCode)
				return
			}
			require.NoError(t, err)
		})
	}
}
