package resource_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
)

// page is a ConfigMapList body with one item per name and continue token
// cont.
func page(cont string, names ...string) string {
	items := ""
	for i, n := range names {
		if i > 0 {
			items += ","
		}
		items += `{"metadata":{"name":"` + n + `","namespace":"default"}}`
	}
	return `{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"7","continue":"` + cont + `"},"items":[` + items + `]}`
}

// TestListStopsOnARepeatedContinueToken checks List and ListAll fail with
// ErrContinueRepeated, after a bounded number of requests, when a server
// hands back a continue token already followed (issue: 35,000 requests in
// two seconds until the context ended).
func TestListStopsOnARepeatedContinueToken(t *testing.T) {
	t.Parallel()
	const path = "/api/v1/namespaces/default/configmaps"
	answer := func(query, body string, times int) testserver.Fault {
		return testserver.Fault{Method: http.MethodGet, PathPrefix: path, Query: query, Status: http.StatusOK,
			Body: body, ContentType: "application/json", Times: times}
	}
	tests := []struct {
		name      string
		faults    []testserver.Fault
		opts      *resource.ListOptions
		wantNames []string // yielded by List before the error
		wantReqs  int
	}{
		{
			name:      "the same token with no items",
			faults:    []testserver.Fault{answer("", page("same"), 0)},
			wantNames: nil,
			wantReqs:  2,
		},
		{
			name:      "the same token with items",
			faults:    []testserver.Fault{answer("", page("same", "a"), 0)},
			wantNames: []string{"a"},
			wantReqs:  2,
		},
		{
			name: "a cycle of two tokens",
			faults: []testserver.Fault{
				answer("continue=t1", page("t2", "b"), 0),
				answer("continue=t2", page("t1", "c"), 0),
				answer("", page("t1", "a"), 0),
			},
			wantNames: []string{"a", "b"},
			wantReqs:  3,
		},
		{
			name:      "the token the caller started from",
			faults:    []testserver.Fault{answer("continue=start", page("start"), 0)},
			opts:      &resource.ListOptions{Continue: "start"},
			wantNames: nil,
			wantReqs:  1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv, c := setup(t)
			cms := c.Resource("v1", "ConfigMap").Namespace("default")
			_, err := cms.Resolve(ctx) // discovery before the faults
			require.NoError(t, err)
			for _, f := range tt.faults {
				srv.Inject(f)
			}

			var names []string
			var listErr error
			for o, err := range cms.List(ctx, tt.opts) {
				if err != nil {
					listErr = err
					break
				}
				names = append(names, o.Name())
			}
			require.ErrorIs(t, listErr, resource.ErrContinueRepeated)
			assert.Contains(t, listErr.Error(), "list v1 configmaps in namespace default: ")
			assert.Equal(t, tt.wantNames, names)
			assert.Len(t, exactRequests(srv.Requests(), http.MethodGet, path), tt.wantReqs)

			items, rv, err := cms.ListAll(ctx, tt.opts)
			require.ErrorIs(t, err, resource.ErrContinueRepeated)
			assert.Empty(t, items)
			assert.Empty(t, rv)
			assert.Len(t, exactRequests(srv.Requests(), http.MethodGet, path), 2*tt.wantReqs)
		})
	}
}
