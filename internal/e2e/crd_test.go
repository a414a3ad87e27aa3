package e2e_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// eventually polls cond every 100ms until it holds, failing t after d. It
// waits for the server's asynchronous controllers (CRD establishment,
// discovery publication), never for our own code.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(d)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
	}
}

// crdManifest is a namespaced Widget CRD in group with status and scale
// subresources. Its short name and category are the group's first label, so
// that CRDs installed by parallel tests do not make them ambiguous.
func crdManifest(group string) string {
	id, _, _ := strings.Cut(group, ".")
	return `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.` + group + `
spec:
  group: ` + group + `
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [` + id + `]
    categories: [` + id + `]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.selector
    additionalPrinterColumns:
    - name: Size
      type: string
      jsonPath: .spec.size
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size:
                type: string
                enum: [small, large]
              replicas:
                type: integer
                minimum: 0
              tags:
                type: array
                items:
                  type: string
          status:
            type: object
            properties:
              replicas:
                type: integer
              selector:
                type: string
              phase:
                type: string
`
}

// servedByDiscovery reports whether the server's aggregated discovery lists
// group (asked directly over HTTP, bypassing our client).
func servedByDiscovery(t testing.TB, group string) bool {
	t.Helper()
	resp, body := newRaw(t, cluster(t).AdminToken).do(http.MethodGet, "/apis", http.Header{"Accept": {aggregatedAccept}}, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var doc struct {
		Items []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal(body, &doc))
	for _, it := range doc.Items {
		if it.Metadata.Name == group {
			return true
		}
	}
	return false
}

// installCRD creates the Widget CRD in a fresh group, waits until the server
// establishes it and publishes it in discovery, and deletes it when the test
// ends.
func installCRD(t testing.TB, c *resource.Client) string {
	t.Helper()
	ctx := testContext(t)
	group := uniqueName("e2e") + ".example.com"
	crds := c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
	_, err := crds.Create(ctx, obj(t, crdManifest(group)), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = crds.Delete(ctx, "widgets."+group, nil) })
	eventually(t, time.Minute, "the CRD to be established", func() bool {
		got, err := crds.Get(ctx, "widgets."+group, nil)
		require.NoError(t, err)
		for _, cond := range got.Get("status.conditions").Array() {
			if cond.Get("type").String() == "Established" && cond.Get("status").String() == "True" {
				return true
			}
		}
		return false
	})
	eventually(t, time.Minute, "the group in discovery", func() bool { return servedByDiscovery(t, group) })
	return group
}

func TestCRDFoundByTheNextCallAndGoneAfterDelete(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	// A long TTL: the cached view cannot expire while the CRD is installed,
	// so only the refresh on a miss can find the new kind.
	tc, err := transport.New(config(t, "admin"))
	require.NoError(t, err)
	d := discovery.New(tc, &discovery.Options{TTL: time.Hour})
	c := newClientFromConfig(t, nil, resource.WithTransport(tc), resource.WithDiscovery(d))
	ns := newNamespace(t)
	// Warm the client's discovery cache before the CRD exists.
	_, _, err = c.Resource("v1", "ConfigMap").Namespace(ns).ListAll(ctx, nil)
	require.NoError(t, err)

	group := installCRD(t, c)

	// The cached view predates the CRD: the miss must refresh it.
	before := d.Stats()
	widgets := c.Resource(group+"/v1", "Widget").Namespace(ns)
	created, err := widgets.Create(ctx, obj(t, `{"apiVersion":"`+group+`/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"size":"small"}}`), nil)
	require.NoError(t, err)
	assert.Greater(t, d.Stats().Requests, before.Requests, "the miss refreshed discovery")
	assert.Equal(t, "small", created.Get("spec.size").String())
	id, _, _ := strings.Cut(group, ".")
	for _, name := range []string{id, "widgets." + group, "widgets.v1." + group} {
		got, err := c.ResourceFor(name).Namespace(ns).Get(ctx, "w1", nil)
		require.NoError(t, err, name)
		assert.Equal(t, created.UID(), got.UID())
	}
	inCategory, err := c.Discovery().ResourcesInCategory(ctx, id)
	require.NoError(t, err)
	var kinds []string
	for _, r := range inCategory {
		kinds = append(kinds, r.Group+"/"+r.Kind)
	}
	assert.Equal(t, []string{group + "/Widget"}, kinds)

	crds := c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
	_, err = crds.Delete(ctx, "widgets."+group, nil)
	require.NoError(t, err)
	eventually(t, time.Minute, "the group to leave discovery", func() bool { return !servedByDiscovery(t, group) })

	_, err = widgets.Get(ctx, "w1", nil)
	require.Error(t, err, "the resource is gone")
	// Within discovery's TTL the cached mapping still resolves and the server
	// answers 404; after it, revalidation finds the group gone.
	assert.True(t, errors.Is(err, transport.ErrNotFound) || errors.Is(err, discovery.ErrUnknownResource), "got %v", err)
	c.Discovery().Invalidate()
	_, err = c.Discovery().ResourceForKind(ctx, group+"/v1", "Widget")
	assert.ErrorIs(t, err, discovery.ErrUnknownResource)
	_, err = c.Resource(group+"/v1", "Widget").Namespace(ns).Get(ctx, "w1", nil)
	assert.ErrorIs(t, err, discovery.ErrUnknownResource)
}

func TestCustomResourceVerbs(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := admin(t)
	ns := newNamespace(t)
	group := installCRD(t, c)
	widgets := c.Resource(group+"/v1", "Widget").Namespace(ns)
	widget := func(name string) unstructured.Object {
		return obj(t, `{"apiVersion":"`+group+`/v1","kind":"Widget","metadata":{"name":"`+name+`","labels":{"app":"w"}},"spec":{"size":"small","replicas":1,"tags":["a"]}}`)
	}

	created, err := widgets.Create(ctx, widget("w1"), nil)
	require.NoError(t, err)
	_, err = widgets.Create(ctx, widget("w1"), nil)
	assert.ErrorIs(t, err, transport.ErrAlreadyExists)

	t.Run("schema validation", func(t *testing.T) {
		_, err := widgets.Create(ctx, set(t, widget("bad"), "spec.size", "huge"), nil)
		assert.ErrorIs(t, err, transport.ErrInvalid)
		var ae *transport.APIError
		require.ErrorAs(t, err, &ae)
		require.NotEmpty(t, ae.Causes())
		assert.Equal(t, "spec.size", ae.Causes()[0].Field)
		_, err = widgets.Create(ctx, set(t, widget("unknown"), "spec.colour", "red"), &resource.CreateOptions{FieldValidation: resource.FieldValidationStrict})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `unknown field "spec.colour"`)
	})

	t.Run("update and stale update", func(t *testing.T) {
		upd, err := widgets.Update(ctx, set(t, created, "spec.size", "large"), nil)
		require.NoError(t, err)
		assert.Equal(t, "large", upd.Get("spec.size").String())
		_, err = widgets.Update(ctx, set(t, created, "spec.size", "small"), nil)
		assert.ErrorIs(t, err, transport.ErrConflict)
	})

	t.Run("status subresource", func(t *testing.T) {
		cur, err := widgets.Get(ctx, "w1", nil)
		require.NoError(t, err)
		withStatus, err := widgets.UpdateStatus(ctx, set(t, cur, "status", map[string]any{"phase": "Ready", "replicas": 1, "selector": "app=w"}), nil)
		require.NoError(t, err)
		assert.Equal(t, "Ready", withStatus.Get("status.phase").String())
		ignored, err := widgets.Patch(ctx, "w1", resource.MergePatch, []byte(`{"status":{"phase":"Ignored"}}`), nil)
		require.NoError(t, err)
		assert.Equal(t, "Ready", ignored.Get("status.phase").String(), "the main resource ignores status")
		p, err := widgets.Subresource("status").Patch(ctx, "w1", resource.MergePatch, []byte(`{"status":{"phase":"Patched"}}`), nil)
		require.NoError(t, err)
		assert.Equal(t, "Patched", p.Get("status.phase").String())
	})

	t.Run("scale subresource", func(t *testing.T) {
		scale, err := widgets.Subresource("scale").Get(ctx, "w1", nil)
		require.NoError(t, err)
		assert.Equal(t, "Scale", scale.Kind())
		assert.Equal(t, int64(1), scale.Get("spec.replicas").Int())
		assert.Equal(t, "app=w", scale.Get("status.selector").String())
		_, err = widgets.Subresource("scale").Update(ctx, set(t, scale, "spec.replicas", 4), nil)
		require.NoError(t, err)
		got, err := widgets.Get(ctx, "w1", nil)
		require.NoError(t, err)
		assert.Equal(t, int64(4), got.Get("spec.replicas").Int())
	})

	t.Run("patches", func(t *testing.T) {
		p, err := widgets.Patch(ctx, "w1", resource.MergePatch, []byte(`{"spec":{"tags":["b","c"]}}`), nil)
		require.NoError(t, err)
		assert.Equal(t, `["b","c"]`, p.Get("spec.tags").Raw)
		p, err = widgets.Patch(ctx, "w1", resource.JSONPatch, []byte(`[{"op":"remove","path":"/spec/tags/0"}]`), nil)
		require.NoError(t, err)
		assert.Equal(t, `["c"]`, p.Get("spec.tags").Raw)
		_, err = widgets.Patch(ctx, "w1", resource.StrategicMergePatch, []byte(`{}`), nil)
		assert.ErrorIs(t, err, resource.ErrPatchTypeUnsupported, "refused before sending")
	})

	t.Run("apply", func(t *testing.T) {
		cfg := obj(t, `{"apiVersion":"`+group+`/v1","kind":"Widget","metadata":{"name":"applied"},"spec":{"size":"small","tags":["x"]}}`)
		first, err := widgets.Apply(ctx, cfg, &resource.ApplyOptions{FieldManager: "team-a"})
		require.NoError(t, err)
		again, err := widgets.Apply(ctx, cfg, &resource.ApplyOptions{FieldManager: "team-a"})
		require.NoError(t, err)
		assert.Equal(t, first.ResourceVersion(), again.ResourceVersion(), "an unchanged apply is a no-op")
		_, err = widgets.Apply(ctx, set(t, cfg, "spec.size", "large"), &resource.ApplyOptions{FieldManager: "team-b"})
		var conflict *resource.ApplyConflictError
		require.ErrorAs(t, err, &conflict)
		require.Len(t, conflict.Conflicts, 1)
		assert.Equal(t, ".spec.size", conflict.Conflicts[0].Field)
		assert.Equal(t, "team-a", conflict.Conflicts[0].Manager)
	})

	t.Run("table", func(t *testing.T) {
		table, err := widgets.Table(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, "Table", table.Kind())
		var cols []string
		for _, c := range table.Get("columnDefinitions.#.name").Array() {
			cols = append(cols, c.String())
		}
		assert.Equal(t, []string{"Name", "Size"}, cols, "explicit printer columns replace the default Age")
		require.Len(t, table.Get("rows").Array(), 2)
	})

	require.NoError(t, widgets.DeleteCollection(ctx, nil, &resource.ListOptions{LabelSelector: "app=w"}))
	left, _, err := widgets.ListAll(ctx, nil)
	require.NoError(t, err)
	var names []string
	for _, o := range left {
		names = append(names, o.Name())
	}
	assert.Equal(t, []string{"applied"}, names, "only the labelled widgets were deleted")

	_, err = widgets.Delete(ctx, "applied", nil)
	require.NoError(t, err)
	_, err = widgets.Get(ctx, "applied", nil)
	assert.ErrorIs(t, err, transport.ErrNotFound)
	_, err = widgets.Delete(ctx, "applied", nil)
	assert.ErrorIs(t, err, transport.ErrNotFound)
}
