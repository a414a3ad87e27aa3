package resource_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/resource"
)

// TestSubresourceCallsRefused checks the one rule for Subresource handles:
// the collection calls are refused before any request (discovery included),
// and a call whose verb discovery does not list for the subresource is
// refused before its own request. Before the rule, List on a status handle
// listed the parent deployments and Delete sent a DELETE the server refused.
func TestSubresourceCallsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	deploys := c.Resource("apps/v1", "Deployment").Namespace("default")
	_, err := deploys.Create(ctx, obj(t, deployment("web", 1)), nil)
	require.NoError(t, err)
	status := deploys.Subresource("status")
	eviction := c.Resource("v1", "Pod").Namespace("default").Subresource("eviction")

	collection := map[string]func() error{
		"list": func() error {
			for _, err := range status.List(ctx, nil) {
				return err
			}
			return nil
		},
		"list page":         func() error { _, err := status.ListPage(ctx, nil); return err },
		"list all":          func() error { _, _, err := status.ListAll(ctx, nil); return err },
		"table":             func() error { _, err := status.Table(ctx, nil); return err },
		"delete collection": func() error { return status.DeleteCollection(ctx, nil, nil) },
		"watch": func() error {
			for _, err := range status.Watch(ctx, nil) {
				return err
			}
			return nil
		},
		"list all namespaces": func() error {
			_, err := c.Resource("apps/v1", "Deployment").AllNamespaces().Subresource("scale").ListPage(ctx, nil)
			return err
		},
	}
	for name, call := range collection {
		t.Run("collection/"+name, func(t *testing.T) {
			srv.ResetRequests()
			err := call()
			require.ErrorIs(t, err, resource.ErrSubresourceNotAllowed)
			assert.Contains(t, err.Error(), "has no collection")
			assert.Empty(t, srv.Requests(), "refused before any request, discovery included")
		})
	}

	verbs := []struct {
		name, method, path string
		call               func() error
	}{
		{"delete on status", http.MethodDelete, "/apis/apps/v1/namespaces/default/deployments/web/status", func() error {
			_, err := status.Delete(ctx, "web", nil)
			return err
		}},
		{"get on eviction", http.MethodGet, "/api/v1/namespaces/default/pods/p/eviction", func() error {
			_, err := eviction.Get(ctx, "p", nil)
			return err
		}},
		{"update on eviction", http.MethodPut, "/api/v1/namespaces/default/pods/p/eviction", func() error {
			_, err := eviction.Update(ctx, obj(t, `{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"p"}}`), nil)
			return err
		}},
		{"create on status", http.MethodPost, "/apis/apps/v1/namespaces/default/deployments/web/status", func() error {
			_, err := status.Create(ctx, obj(t, deployment("web", 1)), nil)
			return err
		}},
	}
	for _, tt := range verbs {
		t.Run("verb/"+tt.name, func(t *testing.T) {
			srv.ResetRequests()
			err := tt.call()
			require.ErrorIs(t, err, resource.ErrSubresourceNotAllowed)
			assert.Contains(t, err.Error(), "discovery lists")
			assert.Empty(t, exactRequests(srv.Requests(), tt.method, tt.path))
		})
	}

	// What the subresource serves still goes through.
	got, err := status.Get(ctx, "web", nil)
	require.NoError(t, err)
	assert.Equal(t, "web", got.Name())
}
