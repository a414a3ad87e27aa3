package resource_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

// crdBody is a CRD for gizmos.<group> as the server would answer it, with
// the given conditions (JSON array) and metadata extras.
func crdBody(group, conditions, metaExtra string) string {
	return `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
"metadata":{"name":"gizmos.` + group + `","resourceVersion":"5"` + metaExtra + `},
"spec":{"group":"` + group + `","scope":"Namespaced","names":{"plural":"gizmos","kind":"Gizmo"},
 "versions":[{"name":"v1","served":true,"storage":true}]},
"status":{"conditions":` + conditions + `}}`
}

const (
	notYet      = `[{"type":"NamesAccepted","status":"True"},{"type":"Established","status":"False","reason":"Installing"}]`
	established = `[{"type":"NamesAccepted","status":"True"},{"type":"Established","status":"True"}]`
)

func TestWaitEstablished(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fast := &resource.WaitOptions{Interval: time.Millisecond}

	t.Run("a created CRD is found when the wait returns", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t)
		// Established 300 ms after the create, as on a real server.
		srv.SetCRDEstablishDelay(testserver.RealCRDEstablishDelay)
		av := widgetCRD(t, c, "wait.example.com")
		crd, err := c.WaitEstablished(ctx, "widgets.wait.example.com", fast)
		require.NoError(t, err)
		assert.Equal(t, "widgets.wait.example.com", crd.Name())
		assert.Equal(t, "True", crd.Get(`status.conditions.#(type=="Established").status`).String())
		assert.Len(t, exactRequests(srv.Requests(), http.MethodGet, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.wait.example.com"), 1,
			"read once, then watched: no polling")
		var watches []testserver.RecordedRequest
		for _, r := range exactRequests(srv.Requests(), http.MethodGet, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions") {
			if r.Query.Get("watch") == "true" {
				watches = append(watches, r)
			}
		}
		require.Len(t, watches, 1)
		assert.Equal(t, "metadata.name=widgets.wait.example.com", watches[0].Query.Get("fieldSelector"))
		srv.ResetRequests()
		_, err = c.Resource(av, "Widget").Namespace("default").Create(ctx, obj(t, `{"metadata":{"name":"w"}}`), nil)
		require.NoError(t, err)
		assert.Empty(t, exactRequests(srv.Requests(), http.MethodGet, "/apis"), "the kind resolves without another discovery refresh")
	})

	t.Run("a refused watch falls back to reading again", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t)
		srv.SetCRDEstablishDelay(testserver.RealCRDEstablishDelay)
		// Allowed to read CRDs but not to watch them.
		srv.Inject(testserver.Fault{Method: http.MethodGet, PathPrefix: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", Query: "watch=true",
			Status: http.StatusForbidden})
		widgetCRD(t, c, "refusedwatch.example.com")
		crd, err := c.WaitEstablished(ctx, "widgets.refusedwatch.example.com", &resource.WaitOptions{Interval: 20 * time.Millisecond})
		require.NoError(t, err)
		assert.Equal(t, "True", crd.Get(`status.conditions.#(type=="Established").status`).String())
		assert.Greater(t, len(exactRequests(srv.Requests(), http.MethodGet, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.refusedwatch.example.com")), 1)
	})

	t.Run("a CRD deleted during the wait", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t)
		srv.SetCRDEstablishDelay(time.Hour)
		widgetCRD(t, c, "gone.example.com")
		errc := make(chan error, 1)
		go func() {
			_, err := c.WaitEstablished(ctx, "widgets.gone.example.com", fast)
			errc <- err
		}()
		// Delete once the wait is watching.
		require.Eventually(t, func() bool {
			for _, r := range srv.Requests() {
				if r.Query.Get("watch") == "true" {
					return true
				}
			}
			return false
		}, 10*time.Second, time.Millisecond)
		_, err := c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition").Delete(ctx, "widgets.gone.example.com", nil)
		require.NoError(t, err)
		err = <-errc
		require.ErrorIs(t, err, resource.ErrCRDNotEstablished)
		require.ErrorIs(t, err, transport.ErrNotFound)
		assert.Contains(t, err.Error(), "deleted while waiting")
	})

	failures := []struct {
		name, body string
		is         error
		msg        string
	}{
		{"names refused", crdBody("refused.example.com",
			`[{"type":"NamesAccepted","status":"False","reason":"ListKindConflict","message":"\"GizmoList\" is already in use"},{"type":"Established","status":"False"}]`, ""),
			resource.ErrCRDNotEstablished, `ListKindConflict: "GizmoList" is already in use`},
		{"being deleted", crdBody("refused.example.com", notYet, `,"deletionTimestamp":"2026-01-01T00:00:00Z"`),
			resource.ErrCRDNotEstablished, "being deleted"},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t)
			srv.Inject(testserver.Fault{Method: http.MethodGet, PathPrefix: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.refused.example.com",
				Status: http.StatusOK, Body: tt.body, ContentType: "application/json"})
			_, err := c.WaitEstablished(ctx, "gizmos.refused.example.com", &resource.WaitOptions{Interval: time.Millisecond, Timeout: time.Minute})
			require.ErrorIs(t, err, tt.is)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Contains(t, err.Error(), "wait for CustomResourceDefinition gizmos.refused.example.com to be established: ")
			assert.Len(t, exactRequests(srv.Requests(), http.MethodGet, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.refused.example.com"), 1,
				"no polling for what cannot change")
		})
	}

	t.Run("no such CRD", func(t *testing.T) {
		t.Parallel()
		_, c := setup(t)
		_, err := c.WaitEstablished(ctx, "nothing.example.com", fast)
		require.ErrorIs(t, err, transport.ErrNotFound)
	})

	t.Run("bounded when never established", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t)
		srv.Inject(testserver.Fault{Method: http.MethodGet, PathPrefix: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.slow.example.com",
			Status: http.StatusOK, Body: crdBody("slow.example.com", notYet, ""), ContentType: "application/json"})
		_, err := c.WaitEstablished(ctx, "gizmos.slow.example.com", &resource.WaitOptions{Interval: time.Millisecond, Timeout: time.Second})
		require.ErrorIs(t, err, resource.ErrCRDNotEstablished)
		assert.Contains(t, err.Error(), "Established is not True yet")
	})

	t.Run("bounded when discovery never lists it", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t)
		// Established, but no such kind is served: discovery is asked again
		// and again until the bound.
		srv.Inject(testserver.Fault{Method: http.MethodGet, PathPrefix: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.ghost.example.com",
			Status: http.StatusOK, Body: crdBody("ghost.example.com", established, ""), ContentType: "application/json"})
		_, err := c.WaitEstablished(ctx, "gizmos.ghost.example.com", &resource.WaitOptions{Interval: 10 * time.Millisecond, Timeout: 2 * time.Second})
		require.ErrorIs(t, err, resource.ErrCRDNotEstablished)
		assert.Contains(t, err.Error(), "discovery does not list ghost.example.com/v1 Gizmo yet")
		// The first load, the refresh of the first miss, and more after.
		assert.GreaterOrEqual(t, len(exactRequests(srv.Requests(), http.MethodGet, "/apis")), 3, "discovery refreshed while waiting")
	})

	t.Run("the caller's context ends the wait", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t)
		srv.Inject(testserver.Fault{Method: http.MethodGet, PathPrefix: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.slow.example.com",
			Status: http.StatusOK, Body: crdBody("slow.example.com", notYet, ""), ContentType: "application/json"})
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := c.WaitEstablished(cctx, "gizmos.slow.example.com", fast)
		require.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, resource.ErrCRDNotEstablished)
	})

	t.Run("a bad name is refused before any request", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t)
		_, err := c.WaitEstablished(ctx, "../x", fast)
		require.ErrorIs(t, err, transport.ErrInvalidName)
		assert.Empty(t, srv.Requests())
	})
}

// TestWaitEstablishedWithTheRealDelay runs against a test server that, like
// the real one, serves a CRD's kind only once it is established: a custom
// resource sent right after the CRD fails, one sent after WaitEstablished
// is created.
func TestWaitEstablishedWithTheRealDelay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testserver.NewWithOptions(t, &testserver.Options{CRDEstablishDelay: testserver.RealCRDEstablishDelay})
	c, err := resource.NewClient(&transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()})
	require.NoError(t, err)
	av := widgetCRD(t, c, "delay.example.com")
	widget := obj(t, `{"apiVersion":"`+av+`","kind":"Widget","metadata":{"name":"w","namespace":"default"}}`)

	_, err = c.ForObject(widget).Create(ctx, widget, nil)
	require.Error(t, err, "the kind is not served before Established")

	start := time.Now()
	crd, err := c.WaitEstablished(ctx, "widgets.delay.example.com", nil)
	require.NoError(t, err)
	t.Logf("waited %s", time.Since(start).Round(time.Millisecond))
	assert.Contains(t, crd.Get(`status.conditions.#(type=="Established").status`).String(), "True")
	created, err := c.ForObject(widget).Create(ctx, widget, nil)
	require.NoError(t, err)
	assert.Equal(t, "Widget", created.Kind())
}
