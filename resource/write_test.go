package resource_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

func TestUpdateConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	created, err := cms.Create(ctx, configMap(t, "u", map[string]string{"k": "1"}), nil)
	require.NoError(t, err)

	first, err := created.Set("data.k", "2")
	require.NoError(t, err)
	updated, err := cms.Update(ctx, first, nil)
	require.NoError(t, err)
	assert.Equal(t, "2", updated.Get("data.k").String())
	assert.NotEqual(t, created.ResourceVersion(), updated.ResourceVersion())

	// The same stale object again: its resourceVersion is out of date.
	stale, err := created.Set("data.k", "3")
	require.NoError(t, err)
	_, err = cms.Update(ctx, stale, nil)
	require.ErrorIs(t, err, transport.ErrConflict)
	assert.Contains(t, err.Error(), "update v1 configmaps default/u: ")
	var ae *transport.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusConflict, ae.StatusCode)

	got, err := cms.Get(ctx, "u", nil)
	require.NoError(t, err)
	assert.Equal(t, "2", got.Get("data.k").String())
}

func TestUpdateStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	deploys := c.Resource("apps/v1", "Deployment").Namespace("default")
	created, err := deploys.Create(ctx, obj(t, deployment("st", 2)), nil)
	require.NoError(t, err)

	withStatus, err := created.Set("status.observedGeneration", 7)
	require.NoError(t, err)
	withStatus, err = withStatus.Set("spec.replicas", 9) // ignored on /status
	require.NoError(t, err)
	updated, err := deploys.UpdateStatus(ctx, withStatus, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(7), updated.Get("status.observedGeneration").Int())
	assert.Equal(t, int64(2), updated.Get("spec.replicas").Int())
	assert.Len(t, resourceRequests(srv, "PUT", "/apis/apps/v1/namespaces/default/deployments/st/status"), 1)

	// ConfigMaps have no status subresource.
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	_, err = cms.UpdateStatus(ctx, configMap(t, "x", nil), nil)
	require.ErrorIs(t, err, resource.ErrNoSubresource)
	assert.Empty(t, resourceRequests(srv, "", "/configmaps"))
}

func TestScaleSubresource(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := setup(t)
	deploys := c.Resource("apps/v1", "Deployment").Namespace("default")
	_, err := deploys.Create(ctx, obj(t, deployment("sc", 2)), nil)
	require.NoError(t, err)

	scale := deploys.Subresource("scale")
	s, err := scale.Get(ctx, "sc", nil)
	require.NoError(t, err)
	assert.Equal(t, "Scale", s.Kind())
	assert.Equal(t, int64(2), s.Get("spec.replicas").Int())

	s, err = s.Set("spec.replicas", 5)
	require.NoError(t, err)
	_, err = scale.Update(ctx, s, nil)
	require.NoError(t, err)
	got, err := deploys.Get(ctx, "sc", nil)
	require.NoError(t, err)
	assert.Equal(t, int64(5), got.Get("spec.replicas").Int())
}

func TestPatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	_, err := cms.Create(ctx, configMap(t, "p", map[string]string{"a": "1"}), nil)
	require.NoError(t, err)
	tests := []struct {
		name  string
		pt    resource.PatchType
		patch string
		path  string
		want  string
	}{
		{"merge", resource.MergePatch, `{"data":{"b":"2"}}`, "data.b", "2"},
		{"json", resource.JSONPatch, `[{"op":"replace","path":"/data/a","value":"10"}]`, "data.a", "10"},
		{"strategic on a built-in", resource.StrategicMergePatch, `{"data":{"c":"3"}}`, "data.c", "3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cms.Patch(ctx, "p", tt.pt, []byte(tt.patch), nil)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Get(tt.path).String())
		})
	}
	patches := resourceRequests(srv, "PATCH", "/api/v1/namespaces/default/configmaps/p")
	require.Len(t, patches, 3)
	assert.Equal(t, string(resource.MergePatch), patches[0].Header.Get("Content-Type"))
	assert.Equal(t, string(resource.JSONPatch), patches[1].Header.Get("Content-Type"))

	_, err = cms.Patch(ctx, "p", resource.PatchType("text/plain"), []byte(`{}`), nil)
	require.ErrorIs(t, err, resource.ErrPatchTypeUnsupported)
	_, err = cms.Patch(ctx, "missing", resource.MergePatch, []byte(`{}`), nil)
	require.ErrorIs(t, err, transport.ErrNotFound)
	_, err = cms.Patch(ctx, "p", resource.ApplyPatch, []byte(`{}`), nil)
	require.ErrorIs(t, err, resource.ErrFieldManagerRequired)
	_, err = cms.Patch(ctx, "p", resource.MergePatch, []byte(`{}`), &resource.PatchOptions{Force: true})
	require.ErrorIs(t, err, resource.ErrPatchTypeUnsupported, "force is for apply patches only")
}

// widgetCRD installs a namespaced custom resource Widget in group and returns
// the group's apiVersion.
func widgetCRD(t *testing.T, c *resource.Client, group string) string {
	t.Helper()
	crd := obj(t, fmt.Sprintf(`{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
"metadata":{"name":"widgets.%s"},
"spec":{"group":%q,"scope":"Namespaced",
 "names":{"plural":"widgets","singular":"widget","kind":"Widget","shortNames":["wg"]},
 "versions":[{"name":"v1","served":true,"storage":true,"subresources":{"status":{}},
  "schema":{"openAPIV3Schema":{"type":"object","properties":{
   "spec":{"type":"object","properties":{"size":{"type":"integer"},"color":{"type":"string"}}},
   "status":{"type":"object","properties":{"ready":{"type":"boolean"}}}}}}}]}}`, group, group))
	_, err := c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition").Create(context.Background(), crd, nil)
	require.NoError(t, err)
	return group + "/v1"
}

func TestCRDCreatedThenFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	// Discovery runs (and caches) before the CRD exists.
	_, err := c.Resource("v1", "ConfigMap").Namespace("default").Get(ctx, "none", nil)
	require.ErrorIs(t, err, transport.ErrNotFound)

	av := widgetCRD(t, c, "crd.example.com")
	widgets := c.Resource(av, "Widget").Namespace("default")
	created, err := widgets.Create(ctx, obj(t, `{"apiVersion":"crd.example.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"size":3}}`), nil)
	require.NoError(t, err)
	assert.Equal(t, int64(3), created.Get("spec.size").Int())

	for _, name := range []string{"widgets", "wg", "widgets.crd.example.com", "widget"} {
		got, err := c.ResourceFor(name).Namespace("default").Get(ctx, "w1", nil)
		require.NoError(t, err, name)
		assert.Equal(t, "Widget", got.Kind(), name)
	}

	// Strategic merge patch is refused client side for a custom resource.
	srv.ResetRequests()
	_, err = widgets.Patch(ctx, "w1", resource.StrategicMergePatch, []byte(`{"spec":{"size":4}}`), nil)
	require.ErrorIs(t, err, resource.ErrPatchTypeUnsupported)
	assert.Contains(t, err.Error(), "Widget")
	assert.Empty(t, resourceRequests(srv, "PATCH", "/widgets"))
	got, err := widgets.Patch(ctx, "w1", resource.MergePatch, []byte(`{"spec":{"size":4}}`), nil)
	require.NoError(t, err)
	assert.Equal(t, int64(4), got.Get("spec.size").Int())

	// Its status subresource is known from discovery.
	st, err := got.Set("status.ready", true)
	require.NoError(t, err)
	updated, err := widgets.UpdateStatus(ctx, st, nil)
	require.NoError(t, err)
	assert.True(t, updated.Get("status.ready").Bool())
}

func TestDryRunLeavesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")

	out, err := cms.Create(ctx, configMap(t, "dry", map[string]string{"k": "v"}), &resource.CreateOptions{DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, "dry", out.Name())
	_, err = cms.Get(ctx, "dry", nil)
	require.ErrorIs(t, err, transport.ErrNotFound)
	posts := resourceRequests(srv, "POST", "/configmaps")
	require.Len(t, posts, 1)
	assert.Equal(t, "All", posts[0].Query.Get("dryRun"))

	created, err := cms.Create(ctx, configMap(t, "real", map[string]string{"k": "v"}), nil)
	require.NoError(t, err)
	changed, err := created.Set("data.k", "changed")
	require.NoError(t, err)
	_, err = cms.Update(ctx, changed, &resource.UpdateOptions{DryRun: true})
	require.NoError(t, err)
	_, err = cms.Patch(ctx, "real", resource.MergePatch, []byte(`{"data":{"k":"patched"}}`), &resource.PatchOptions{DryRun: true})
	require.NoError(t, err)
	_, err = cms.Apply(ctx, changed, &resource.ApplyOptions{FieldManager: "dry", DryRun: true, Force: true})
	require.NoError(t, err)
	_, err = cms.Delete(ctx, "real", &resource.DeleteOptions{DryRun: true})
	require.NoError(t, err)
	require.NoError(t, cms.DeleteCollection(ctx, &resource.DeleteOptions{DryRun: true}, nil))

	got, err := cms.Get(ctx, "real", nil)
	require.NoError(t, err)
	assert.Equal(t, "v", got.Get("data.k").String())
	assert.Equal(t, created.ResourceVersion(), got.ResourceVersion())
}

func TestApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	deploys := c.Resource("apps/v1", "Deployment").Namespace("default")

	applied, err := deploys.Apply(ctx, obj(t, deployment("ap", 2)), &resource.ApplyOptions{FieldManager: "alice"})
	require.NoError(t, err, "apply creates")
	assert.Equal(t, int64(2), applied.Get("spec.replicas").Int())

	// Applying back an object read from the server works: the fields the
	// server owns are stripped before sending.
	again, err := applied.Set("metadata.labels.extra", "yes")
	require.NoError(t, err)
	b := again.Builder()
	b.SetRaw("metadata.managedFields", `[{"manager":"alice","operation":"Apply"}]`)
	b.Set("metadata.creationTimestamp", "2020-01-01T00:00:00Z")
	b.Set("metadata.generation", 4)
	b.Set("metadata.selfLink", "/x")
	b.Set("status.replicas", 1)
	again, err = b.Object()
	require.NoError(t, err)
	srv.ResetRequests()
	applied2, err := deploys.Apply(ctx, again, &resource.ApplyOptions{FieldManager: "alice", Force: true})
	require.NoError(t, err)
	assert.Equal(t, "yes", applied2.Get("metadata.labels.extra").String())
	patches := resourceRequests(srv, "PATCH", "/apis/apps/v1/namespaces/default/deployments/ap")
	require.Len(t, patches, 1)
	assert.Equal(t, string(resource.ApplyPatch), patches[0].Header.Get("Content-Type"))
	assert.Equal(t, "alice", patches[0].Query.Get("fieldManager"))
	assert.Equal(t, "true", patches[0].Query.Get("force"))

	// A field manager is required, unless the client has one.
	_, err = deploys.Apply(ctx, obj(t, deployment("ap", 5)), nil)
	require.ErrorIs(t, err, resource.ErrFieldManagerRequired)
	srv2, c2 := setup(t, resource.WithFieldManager("carol"))
	_, err = c2.Resource("apps/v1", "Deployment").Namespace("default").Apply(ctx, obj(t, deployment("ap", 1)), nil)
	require.NoError(t, err)
	applies := resourceRequests(srv2, "PATCH", "/deployments/ap")
	require.Len(t, applies, 1)
	assert.Equal(t, "carol", applies[0].Query.Get("fieldManager"))
	assert.Empty(t, applies[0].Query.Get("force"))
}

// captureBody records the body of apply requests.
type captureBody struct {
	next http.RoundTripper
	mu   sync.Mutex
	last []byte
}

func (c *captureBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPatch && r.Body != nil {
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body.Close()
		c.mu.Lock()
		c.last = data
		c.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(data))
	}
	return c.next.RoundTrip(r)
}

func TestApplyStripsServerOwnedFields(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testserver.New(t)
	capture := &captureBody{}
	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token(),
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper { capture.next = rt; return capture }}
	c, err := resource.NewClient(cfg)
	require.NoError(t, err)
	full := obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"s","namespace":"default",
"uid":"u","resourceVersion":"5","generation":2,"creationTimestamp":"2020-01-01T00:00:00Z","selfLink":"/x",
"managedFields":[{"manager":"m"}],"labels":{"keep":"me"}},"data":{"k":"v"},"status":{"x":1}}`)
	tests := []struct {
		name    string
		h       resource.Handle
		opts    *resource.ApplyOptions
		gone    []string
		kept    []string
		keepsRV bool
	}{
		{"main resource", c.Resource("v1", "ConfigMap").Namespace("default"), &resource.ApplyOptions{FieldManager: "m"},
			[]string{"metadata.uid", "metadata.resourceVersion", "metadata.generation", "metadata.creationTimestamp",
				"metadata.selfLink", "metadata.managedFields", "status"},
			[]string{"metadata.labels.keep", "data.k", "metadata.name", "metadata.namespace", "apiVersion", "kind"}, false},
		{"keep resourceVersion", c.Resource("v1", "ConfigMap").Namespace("default"),
			&resource.ApplyOptions{FieldManager: "m", KeepResourceVersion: true},
			[]string{"metadata.uid", "metadata.managedFields", "status"},
			[]string{"metadata.resourceVersion"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.h.Apply(ctx, full, tt.opts)
			if !tt.keepsRV {
				require.NoError(t, err)
			} // else the server may refuse the stale resourceVersion; only the body matters here
			capture.mu.Lock()
			sent := obj(t, string(capture.last))
			capture.mu.Unlock()
			for _, p := range tt.gone {
				assert.False(t, sent.Get(p).Exists(), "%s must be stripped", p)
			}
			for _, p := range tt.kept {
				assert.True(t, sent.Get(p).Exists(), "%s must be kept", p)
			}
		})
	}
	// The caller's object is unchanged.
	assert.True(t, full.Get("metadata.managedFields").Exists())
}

// conflictingApplier answers an apply by manager "bob" without force with
// the 409 kube-apiserver sends when fields belong to other managers; the test
// server does not track field ownership.
type conflictingApplier struct{ next http.RoundTripper }

func (c conflictingApplier) RoundTrip(r *http.Request) (*http.Response, error) {
	q := r.URL.Query()
	if r.Method != http.MethodPatch || q.Get("fieldManager") != "bob" || q.Get("force") == "true" {
		return c.next.RoundTrip(r)
	}
	body := `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
"message":"Apply failed with 2 conflicts: conflicts with \"alice\" using apps/v1:\n- .spec.replicas\nconflicts with \"kubectl-edit\" using apps/v1:\n- .metadata.labels.tier",
"reason":"Conflict","details":{"causes":[
 {"reason":"FieldManagerConflict","message":"conflict with \"alice\"","field":".spec.replicas"},
 {"reason":"FieldManagerConflict","message":"conflict with \"kubectl-edit\" using apps/v1","field":".metadata.labels.tier"}]},
"code":409}`
	return &http.Response{
		StatusCode: http.StatusConflict,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    r,
	}, nil
}

func TestApplyConflictListsFieldsAndManagers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testserver.New(t)
	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token(),
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper { return conflictingApplier{rt} }}
	c, err := resource.NewClient(cfg)
	require.NoError(t, err)
	deploys := c.Resource("apps/v1", "Deployment").Namespace("default")

	_, err = deploys.Apply(ctx, obj(t, deployment("ap", 5)), &resource.ApplyOptions{FieldManager: "bob"})
	require.ErrorIs(t, err, transport.ErrConflict)
	var ce *resource.ApplyConflictError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, []resource.FieldConflict{
		{Manager: "alice", Field: ".spec.replicas", Message: `conflict with "alice"`},
		{Manager: "kubectl-edit", Field: ".metadata.labels.tier", Message: `conflict with "kubectl-edit" using apps/v1`},
	}, ce.Conflicts)
	assert.Contains(t, err.Error(), `apply apps/v1 deployments default/ap: apply conflict: .spec.replicas owned by "alice"; .metadata.labels.tier owned by "kubectl-edit"`)

	// The same through Patch with ApplyPatch.
	_, err = deploys.Patch(ctx, "ap", resource.ApplyPatch, []byte(deployment("ap", 5)), &resource.PatchOptions{FieldManager: "bob"})
	require.ErrorAs(t, err, &ce)
	assert.Len(t, ce.Conflicts, 2)

	forced, err := deploys.Apply(ctx, obj(t, deployment("ap", 5)), &resource.ApplyOptions{FieldManager: "bob", Force: true})
	require.NoError(t, err)
	assert.Equal(t, int64(5), forced.Get("spec.replicas").Int())
}

func TestApplyKeepResourceVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	created, err := cms.Create(ctx, configMap(t, "rv", map[string]string{"k": "1"}), nil)
	require.NoError(t, err)
	_, err = cms.Patch(ctx, "rv", resource.MergePatch, []byte(`{"data":{"k":"2"}}`), nil)
	require.NoError(t, err)

	// The apply sets only data.other, which nobody else owns, so the only
	// reason to refuse it is the stale resourceVersion (a real server checks
	// field ownership first: sending data.k=1 would be a field conflict).
	stale, err := created.Delete("data")
	require.NoError(t, err)
	stale, err = stale.Set("data.other", "x")
	require.NoError(t, err)
	_, err = cms.Apply(ctx, stale, &resource.ApplyOptions{FieldManager: "m", KeepResourceVersion: true})
	require.ErrorIs(t, err, transport.ErrConflict, "a stale resourceVersion kept on purpose conflicts")
	var ce *resource.ApplyConflictError
	assert.False(t, errors.As(err, &ce), "a stale resourceVersion is no field-manager conflict")
	_, err = cms.Apply(ctx, stale, &resource.ApplyOptions{FieldManager: "m", Force: true})
	require.NoError(t, err, "stripped by default")
}

func TestDeleteOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	created, err := cms.Create(ctx, configMap(t, "d", nil), nil)
	require.NoError(t, err)

	_, err = cms.Delete(ctx, "d", &resource.DeleteOptions{Preconditions: &resource.Preconditions{UID: "not-the-uid"}})
	require.ErrorIs(t, err, transport.ErrConflict)
	_, err = cms.Delete(ctx, "d", &resource.DeleteOptions{Preconditions: &resource.Preconditions{ResourceVersion: "1"}})
	require.ErrorIs(t, err, transport.ErrConflict)
	_, err = cms.Get(ctx, "d", nil)
	require.NoError(t, err, "failed preconditions delete nothing")

	_, err = cms.Delete(ctx, "d", &resource.DeleteOptions{
		PropagationPolicy:  resource.PropagationForeground,
		GracePeriodSeconds: new(int64),
		Preconditions:      &resource.Preconditions{UID: created.UID(), ResourceVersion: created.ResourceVersion()},
	})
	require.NoError(t, err)
	dels := resourceRequests(srv, "DELETE", "/configmaps/d")
	require.Len(t, dels, 3)
	assert.Equal(t, "application/json", dels[2].Header.Get("Content-Type"))
	_, err = cms.Get(ctx, "d", nil)
	require.ErrorIs(t, err, transport.ErrNotFound)
}

func TestDeleteCollection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := setup(t)
	createNamespace(t, c, "dc")
	cms := c.Resource("v1", "ConfigMap").Namespace("dc")
	for i := range 6 {
		cm, err := configMap(t, fmt.Sprintf("c%d", i), nil).Set("metadata.labels.even", fmt.Sprint(i%2 == 0))
		require.NoError(t, err)
		_, err = cms.Create(ctx, cm, nil)
		require.NoError(t, err)
	}
	require.NoError(t, cms.DeleteCollection(ctx, nil, &resource.ListOptions{LabelSelector: "even=true"}))
	var left []string
	for o, err := range cms.List(ctx, nil) {
		require.NoError(t, err)
		left = append(left, o.Name())
	}
	assert.ElementsMatch(t, []string{"c1", "c3", "c5"}, left)
}

func TestTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	for _, name := range []string{"t1", "t2"} {
		_, err := cms.Create(ctx, configMap(t, name, nil), nil)
		require.NoError(t, err)
	}
	tbl, err := cms.Table(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "Table", tbl.Kind())
	assert.Equal(t, "meta.k8s.io/v1", tbl.APIVersion())
	assert.Equal(t, "Name", tbl.Get("columnDefinitions.0.name").String())
	var names []string
	for _, row := range tbl.Get("rows").Array() {
		names = append(names, row.Get("cells.0").String())
	}
	assert.Subset(t, names, []string{"t1", "t2"})
	reqs := resourceRequests(srv, "GET", "/api/v1/namespaces/default/configmaps")
	require.NotEmpty(t, reqs)
	assert.Contains(t, reqs[len(reqs)-1].Header.Get("Accept"), "as=Table")
}

func TestFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("503 with Retry-After then success", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t)
		cms := c.Resource("v1", "ConfigMap").Namespace("default")
		_, err := cms.Create(ctx, configMap(t, "r", nil), nil)
		require.NoError(t, err)
		srv.ResetRequests()
		srv.Inject(testserver.Fault{Method: "GET", PathPrefix: "/api/v1/namespaces/default/configmaps/r",
			Status: http.StatusServiceUnavailable, RetryAfter: time.Second, Times: 1})
		got, err := cms.Get(ctx, "r", nil)
		require.NoError(t, err)
		assert.Equal(t, "r", got.Name())
		assert.Len(t, resourceRequests(srv, "GET", "/configmaps/r"), 2)
	})

	t.Run("truncated list body gives an error or the whole list, never part", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t)
		cms := c.Resource("v1", "ConfigMap").Namespace("default")
		for i := range 20 {
			_, err := cms.Create(ctx, configMap(t, fmt.Sprintf("t%02d", i), map[string]string{"pad": "0123456789abcdef"}), nil)
			require.NoError(t, err)
		}
		list := func() (n, errs int, last error) {
			for _, err := range cms.List(ctx, nil) {
				if err != nil {
					errs++
					last = err
					continue
				}
				n++
			}
			return n, errs, last
		}

		// Once: the read is retried and the whole list arrives.
		srv.Inject(testserver.Fault{Method: "GET", PathPrefix: "/api/v1/namespaces/default/configmaps", Truncate: true, Times: 1})
		srv.ResetRequests()
		n, errs, last := list()
		require.NoError(t, last)
		assert.Equal(t, 20, n)
		assert.Equal(t, 0, errs)
		assert.Len(t, resourceRequests(srv, "GET", "/configmaps"), 2, "one truncated answer, one retry")

		// Always: an error, and no item of the broken page.
		srv.Inject(testserver.Fault{Method: "GET", PathPrefix: "/api/v1/namespaces/default/configmaps", Truncate: true})
		n, errs, last = list()
		assert.Equal(t, 0, n, "no item of a truncated page may be yielded")
		assert.Equal(t, 1, errs)
		require.Error(t, last)
		assert.Contains(t, last.Error(), "list v1 configmaps in namespace default: ")
		srv.ClearFaults()
	})

	t.Run("403 on a list is returned, typed", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t)
		srv.Inject(testserver.Fault{Method: "GET", PathPrefix: "/api/v1/namespaces/default/configmaps", Status: http.StatusForbidden, Times: 1})
		_, _, err := c.Resource("v1", "ConfigMap").Namespace("default").ListAll(ctx, nil)
		require.ErrorIs(t, err, transport.ErrForbidden)
		var ae *transport.APIError
		assert.True(t, errors.As(err, &ae))
	})
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Resource("v1", "ConfigMap").Namespace("default").Get(ctx, "x", nil)
	require.ErrorIs(t, err, context.Canceled)
}

func TestDeleteReturnsTheAnswer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	for _, name := range []string{"gone", "held"} {
		_, err := cms.Create(ctx, configMap(t, name, nil), nil)
		require.NoError(t, err)
	}
	_, err := cms.Patch(ctx, "held", resource.MergePatch, []byte(`{"metadata":{"finalizers":["example.com/hold"]}}`), nil)
	require.NoError(t, err)

	tests := []struct {
		name, obj   string
		opts        *resource.DeleteOptions
		wantKind    string
		wantDeleted bool
	}{
		{"gone at once answers a Status", "gone", nil, "Status", false},
		{"held by a finalizer answers the object", "held", nil, "ConfigMap", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cms.Delete(ctx, tt.obj, tt.opts)
			require.NoError(t, err)
			assert.Equal(t, tt.wantKind, got.Kind())
			_, deleting := got.DeletionTimestamp()
			assert.Equal(t, tt.wantDeleted, deleting)
			if tt.wantKind == "Status" {
				assert.Equal(t, "Success", got.Get("status").String())
				assert.Equal(t, tt.obj, got.Get("details.name").String())
			} else {
				assert.Equal(t, tt.obj, got.Name())
				assert.Contains(t, got.Finalizers(), "example.com/hold")
			}
		})
	}
}
