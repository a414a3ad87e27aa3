package resource_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// TestWriteOptionsReachTheServer checks that every write sends its dryRun,
// fieldManager and fieldValidation options as query parameters, and that the
// client's WithFieldManager fills in an empty FieldManager.
func TestWriteOptionsReachTheServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t, resource.WithFieldManager("client-default"))
	createNamespace(t, c, "wire")
	cms := c.Resource("v1", "ConfigMap").Namespace("wire")
	deploys := c.Resource("apps/v1", "Deployment").Namespace("wire")
	cm, err := cms.Create(ctx, configMap(t, "w", map[string]string{"k": "v"}), nil)
	require.NoError(t, err)
	dep, err := deploys.Create(ctx, obj(t, deployment("d", 1)), nil)
	require.NoError(t, err)
	changed, err := cm.Set("data.k", "changed")
	require.NoError(t, err)

	const strict = resource.FieldValidationStrict
	tests := []struct {
		name   string
		method string
		path   string
		call   func(manager string) error
		// noManager: the call has no fieldManager parameter (deletes).
		noManager bool
	}{
		{"create", http.MethodPost, "/api/v1/namespaces/wire/configmaps", func(m string) error {
			_, err := cms.Create(ctx, configMap(t, "new", nil), &resource.CreateOptions{DryRun: true, FieldManager: m, FieldValidation: strict})
			return err
		}, false},
		{"update", http.MethodPut, "/api/v1/namespaces/wire/configmaps/w", func(m string) error {
			_, err := cms.Update(ctx, changed, &resource.UpdateOptions{DryRun: true, FieldManager: m, FieldValidation: strict})
			return err
		}, false},
		{"update status", http.MethodPut, "/apis/apps/v1/namespaces/wire/deployments/d/status", func(m string) error {
			_, err := deploys.UpdateStatus(ctx, dep, &resource.UpdateOptions{DryRun: true, FieldManager: m, FieldValidation: strict})
			return err
		}, false},
		{"patch", http.MethodPatch, "/api/v1/namespaces/wire/configmaps/w", func(m string) error {
			_, err := cms.Patch(ctx, "w", resource.MergePatch, []byte(`{"data":{"k":"p"}}`),
				&resource.PatchOptions{DryRun: true, FieldManager: m, FieldValidation: strict})
			return err
		}, false},
		{"apply", http.MethodPatch, "/api/v1/namespaces/wire/configmaps/w", func(m string) error {
			_, err := cms.Apply(ctx, changed, &resource.ApplyOptions{DryRun: true, FieldManager: m, FieldValidation: strict, Force: true})
			return err
		}, false},
		{"delete", http.MethodDelete, "/api/v1/namespaces/wire/configmaps/w", func(string) error {
			_, err := cms.Delete(ctx, "w", &resource.DeleteOptions{DryRun: true})
			return err
		}, true},
		{"delete collection", http.MethodDelete, "/api/v1/namespaces/wire/configmaps", func(string) error {
			return cms.DeleteCollection(ctx, &resource.DeleteOptions{DryRun: true}, &resource.ListOptions{LabelSelector: "a=b"})
		}, true},
	}
	for _, tt := range tests {
		srv.ResetRequests()
		require.NoError(t, tt.call("explicit"), tt.name)
		reqs := exactRequests(srv.Requests(), tt.method, tt.path)
		require.Len(t, reqs, 1, tt.name)
		q := reqs[0].Query
		assert.Equal(t, "All", q.Get("dryRun"), tt.name)
		if tt.noManager {
			continue
		}
		assert.Equal(t, "explicit", q.Get("fieldManager"), tt.name)
		assert.Equal(t, "Strict", q.Get("fieldValidation"), tt.name)

		// An empty FieldManager takes the client's.
		srv.ResetRequests()
		require.NoError(t, tt.call(""), tt.name)
		reqs = exactRequests(srv.Requests(), tt.method, tt.path)
		require.Len(t, reqs, 1, tt.name)
		assert.Equal(t, "client-default", reqs[0].Query.Get("fieldManager"), tt.name)
	}

	// Nothing was written: every call above was a dry run.
	got, err := cms.Get(ctx, "w", nil)
	require.NoError(t, err)
	assert.Equal(t, cm.ResourceVersion(), got.ResourceVersion())

	// DeleteCollection sends its selectors and DeleteOptions body too.
	srv.ResetRequests()
	require.NoError(t, cms.DeleteCollection(ctx, &resource.DeleteOptions{PropagationPolicy: resource.PropagationBackground, DryRun: true},
		&resource.ListOptions{LabelSelector: "a=b", FieldSelector: "metadata.name=w"}))
	reqs := exactRequests(srv.Requests(), http.MethodDelete, "/api/v1/namespaces/wire/configmaps")
	require.Len(t, reqs, 1)
	assert.Equal(t, "a=b", reqs[0].Query.Get("labelSelector"))
	assert.Equal(t, "metadata.name=w", reqs[0].Query.Get("fieldSelector"))
	assert.Equal(t, "application/json", reqs[0].Header.Get("Content-Type"), "a DeleteOptions body is sent")
}

// TestListResourceVersionOnFirstPageOnly checks ResourceVersion and
// ResourceVersionMatch go with the first page only (the server refuses them
// with a continue token), while selectors, limit and timeoutSeconds go with
// every page.
func TestListResourceVersionOnFirstPageOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	createNamespace(t, c, "rv")
	cms := c.Resource("v1", "ConfigMap").Namespace("rv")
	var last unstructured.Object
	for i := range 5 {
		o, err := configMap(t, fmt.Sprintf("c%d", i), nil).Set("metadata.labels.app", "web")
		require.NoError(t, err)
		last, err = cms.Create(ctx, o, nil)
		require.NoError(t, err)
	}
	_, err := cms.Create(ctx, configMap(t, "unlabelled", nil), nil)
	require.NoError(t, err)

	opts := &resource.ListOptions{
		LabelSelector: "app=web", Limit: 2, TimeoutSeconds: 30,
		ResourceVersion: last.ResourceVersion(), ResourceVersionMatch: resource.ResourceVersionMatchNotOlderThan,
	}
	for _, tt := range []struct {
		name string
		list func() ([]string, error)
	}{
		{"List", func() ([]string, error) {
			var names []string
			for o, err := range cms.List(ctx, opts) {
				if err != nil {
					return nil, err
				}
				names = append(names, o.Name())
			}
			return names, nil
		}},
		{"ListAll", func() ([]string, error) {
			items, rv, err := cms.ListAll(ctx, opts)
			if err != nil {
				return nil, err
			}
			assert.NotEmpty(t, rv)
			var names []string
			for _, o := range items {
				names = append(names, o.Name())
			}
			return names, nil
		}},
	} {
		srv.ResetRequests()
		names, err := tt.list()
		require.NoError(t, err, tt.name)
		assert.ElementsMatch(t, []string{"c0", "c1", "c2", "c3", "c4"}, names, tt.name)
		reqs := exactRequests(srv.Requests(), http.MethodGet, "/api/v1/namespaces/rv/configmaps")
		require.Len(t, reqs, 3, tt.name)
		for i, r := range reqs {
			assert.Equal(t, "app=web", r.Query.Get("labelSelector"), "%s page %d", tt.name, i)
			assert.Equal(t, "2", r.Query.Get("limit"), "%s page %d", tt.name, i)
			assert.Equal(t, "30", r.Query.Get("timeoutSeconds"), "%s page %d", tt.name, i)
			if i == 0 {
				assert.Equal(t, last.ResourceVersion(), r.Query.Get("resourceVersion"))
				assert.Equal(t, "NotOlderThan", r.Query.Get("resourceVersionMatch"))
				assert.Empty(t, r.Query.Get("continue"))
				continue
			}
			assert.NotEmpty(t, r.Query.Get("continue"), "%s page %d", tt.name, i)
			assert.False(t, r.Query.Has("resourceVersion"), "%s page %d", tt.name, i)
			assert.False(t, r.Query.Has("resourceVersionMatch"), "%s page %d", tt.name, i)
		}
	}

	// ListPage and Table send what they are given, in one request.
	srv.ResetRequests()
	page, err := cms.ListPage(ctx, opts)
	require.NoError(t, err)
	assert.Len(t, page.Items(), 2)
	tbl, err := cms.Table(ctx, &resource.TableOptions{ListOptions: *opts})
	require.NoError(t, err)
	assert.Len(t, tbl.Get("rows").Array(), 2)
	reqs := exactRequests(srv.Requests(), http.MethodGet, "/api/v1/namespaces/rv/configmaps")
	require.Len(t, reqs, 2)
	for _, r := range reqs {
		assert.Equal(t, last.ResourceVersion(), r.Query.Get("resourceVersion"))
		assert.Equal(t, "NotOlderThan", r.Query.Get("resourceVersionMatch"))
		assert.Equal(t, "app=web", r.Query.Get("labelSelector"))
	}
}

func TestDeleteCollectionRefusedOnSubresource(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	err := c.Resource("apps/v1", "Deployment").Namespace("default").Subresource("status").DeleteCollection(context.Background(), nil, nil)
	require.ErrorIs(t, err, resource.ErrSubresourceNotAllowed)
	assert.Empty(t, srv.Requests())
}

// TestZeroHandleEveryCall checks that every call on the zero Handle fails
// with ErrInvalidHandle instead of panicking.
func TestZeroHandleEveryCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var h resource.Handle
	cm := configMap(t, "x", nil)
	calls := map[string]func() error{
		"get":               func() error { _, err := h.Get(ctx, "x", nil); return err },
		"create":            func() error { _, err := h.Create(ctx, cm, nil); return err },
		"update":            func() error { _, err := h.Update(ctx, cm, nil); return err },
		"update status":     func() error { _, err := h.UpdateStatus(ctx, cm, nil); return err },
		"patch":             func() error { _, err := h.Patch(ctx, "x", resource.MergePatch, []byte(`{}`), nil); return err },
		"apply":             func() error { _, err := h.Apply(ctx, cm, &resource.ApplyOptions{FieldManager: "m"}); return err },
		"delete":            func() error { _, err := h.Delete(ctx, "x", nil); return err },
		"delete collection": func() error { return h.DeleteCollection(ctx, nil, nil) },
		"list page":         func() error { _, err := h.ListPage(ctx, nil); return err },
		"list all":          func() error { _, _, err := h.ListAll(ctx, nil); return err },
		"table":             func() error { _, err := h.Table(ctx, nil); return err },
		"resolve":           func() error { _, err := h.Resolve(ctx); return err },
	}
	for what, call := range calls {
		assert.ErrorIs(t, call(), resource.ErrInvalidHandle, what)
	}
}

// exactRequests returns the recorded requests with this method and path.
func exactRequests(reqs []testserver.RecordedRequest, method, path string) []testserver.RecordedRequest {
	var out []testserver.RecordedRequest
	for _, r := range reqs {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// TestErrorsNameTheOperation checks every call wraps a server error with the
// operation, the resource and the object, and keeps it reachable.
func TestErrorsNameTheOperation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	deploys := c.Resource("apps/v1", "Deployment").Namespace("default")
	missing := configMap(t, "missing", nil)
	tests := []struct {
		prefix string
		call   func() error
	}{
		{"get v1 configmaps default/missing: ", func() error { _, err := cms.Get(ctx, "missing", nil); return err }},
		{"update v1 configmaps default/missing: ", func() error { _, err := cms.Update(ctx, missing, nil); return err }},
		{"patch v1 configmaps default/missing: ", func() error {
			_, err := cms.Patch(ctx, "missing", resource.MergePatch, []byte(`{}`), nil)
			return err
		}},
		{"delete v1 configmaps default/missing: ", func() error { _, err := cms.Delete(ctx, "missing", nil); return err }},
		{"update status apps/v1 deployments/status default/missing: ", func() error {
			_, err := deploys.UpdateStatus(ctx, obj(t, deployment("missing", 1)), nil)
			return err
		}},
		{"get apps/v1 deployments/scale default/missing: ", func() error {
			_, err := deploys.Subresource("scale").Get(ctx, "missing", nil)
			return err
		}},
	}
	for _, tt := range tests {
		err := tt.call()
		require.ErrorIs(t, err, transport.ErrNotFound, tt.prefix)
		assert.True(t, strings.HasPrefix(err.Error(), tt.prefix), "%q does not start with %q", err.Error(), tt.prefix)
		var ae *transport.APIError
		assert.ErrorAs(t, err, &ae, tt.prefix)
	}

	// A create without a name names the namespace.
	srv.Inject(testserver.Fault{Method: http.MethodPost, PathPrefix: "/api/v1/namespaces/default/configmaps", Status: http.StatusForbidden, Times: 1})
	_, err := cms.Create(ctx, obj(t, `{"metadata":{"generateName":"g-"}}`), nil)
	require.ErrorIs(t, err, transport.ErrForbidden)
	assert.True(t, strings.HasPrefix(err.Error(), "create v1 configmaps in namespace default: "), err.Error())
}

// TestUnknownKindErrorNamesTheHandleOnce checks a resolve failure is worded
// once: the call's prefix names the handle, and nothing repeats it.
func TestUnknownKindErrorNamesTheHandleOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := setup(t)
	tests := []struct {
		name string
		h    resource.Handle
		what string
	}{
		{"by kind", c.Resource("example.com/v1", "Gizmo").Namespace("default"), "example.com/v1 Gizmo"},
		{"by name", c.ResourceFor("gizmos").Namespace("default"), "gizmos"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.h.Get(ctx, "g", nil)
			require.ErrorIs(t, err, discovery.ErrUnknownResource)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, "get "+tt.what+" default/g: "), msg)
			assert.NotContains(t, msg, "resolve")
			// Discovery may quote the name it missed ("gizmos"), but the
			// handle's own wording comes once.
			assert.Equal(t, 1, strings.Count(msg, tt.what+" "), msg)
		})
	}
}
