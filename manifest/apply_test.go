package manifest_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/manifest"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

const appSet = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: shop}
spec: {size: 1}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w2, namespace: shop}
spec: {size: 2}
---
` + widgetCRD + `---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: bad, namespace: shop}
data: {"a/b": "x"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: needs-bad
  namespace: shop
  annotations: {kubedyn.io/depends-on: /namespaces/shop/ConfigMap/bad}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: shop}
stringData: {password: hunter2}
`

func TestApplyCRDAndItsResourcesInOneRun(t *testing.T) {
	t.Parallel()
	_, c, e := setup(t)
	ctx := t.Context()
	plan, err := e.Plan(ctx, decode(t, "app.yaml", appSet), nil)
	require.NoError(t, err)

	var mu sync.Mutex
	var streamed []manifest.Result
	rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{FieldManager: "test", OnResult: func(r manifest.Result) {
		mu.Lock()
		streamed = append(streamed, r)
		mu.Unlock()
	}})
	require.NoError(t, err)
	require.Len(t, rep.Results, 8)
	assert.Len(t, streamed, 8)
	got := byName(rep.Results)
	for _, name := range []string{"Namespace shop", "CustomResourceDefinition.apiextensions.k8s.io widgets.example.com",
		"Widget.example.com shop/w1", "Widget.example.com shop/w2", "ConfigMap shop/settings", "Secret shop/creds"} {
		assert.Equal(t, manifest.Created, got[name].Action, "%s: %v", name, got[name].Err)
	}
	bad := got["ConfigMap shop/bad"]
	assert.Equal(t, manifest.Failed, bad.Action)
	require.ErrorIs(t, bad.Err, transport.ErrInvalid)
	require.NotEmpty(t, bad.Causes)
	assert.Equal(t, "data[a/b]", bad.Causes[0].Field)
	assert.Equal(t, "app.yaml", bad.Source.Name)
	assert.Contains(t, bad.String(), "app.yaml:")
	skipped := got["ConfigMap shop/needs-bad"]
	assert.Equal(t, manifest.Skipped, skipped.Action)
	assert.Contains(t, skipped.Err.Error(), "depends on ConfigMap shop/bad, which failed")
	assert.False(t, rep.OK())
	assert.Equal(t, "6 created, 1 failed, 1 skipped", rep.Summary())

	w, err := c.Resource("example.com/v1", "Widget").Namespace("shop").Get(ctx, "w2", nil)
	require.NoError(t, err)
	assert.Equal(t, int64(2), w.Get("spec.size").Int())

	t.Run("again: all unchanged, no resourceVersion moved", func(t *testing.T) {
		rep2, err := e.Apply(ctx, plan, &manifest.ApplyOptions{FieldManager: "test"})
		require.NoError(t, err)
		for _, r := range rep2.Results {
			switch r.Ref.Name {
			case "bad":
				assert.Equal(t, manifest.Failed, r.Action)
			case "needs-bad":
				assert.Equal(t, manifest.Skipped, r.Action)
			case "shop":
				// The Namespace names only itself: its first apply owned no
				// field, so this one records the object's fields under
				// "before-first-apply" and writes, on the real server too
				// (internal/e2e TestCLI); a third run leaves it unchanged.
				assert.Equal(t, manifest.Configured, r.Action, "%s: %v", r.Ref, r.Err)
			default:
				assert.Equal(t, manifest.Unchanged, r.Action, "%s: %v", r.Ref, r.Err)
				assert.Equal(t, got[r.Ref.String()].Object.ResourceVersion(), r.Object.ResourceVersion(), r.Ref.String())
			}
		}
		rep3, err := e.Apply(ctx, plan, &manifest.ApplyOptions{FieldManager: "test"})
		require.NoError(t, err)
		assert.Equal(t, "6 unchanged, 1 failed, 1 skipped", rep3.Summary())
	})
	t.Run("a change is configured", func(t *testing.T) {
		changed, err := e.Plan(ctx, decode(t, "app2.yaml", `apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: shop}
spec: {size: 5}
`), nil)
		require.NoError(t, err)
		rep3, err := e.Apply(ctx, changed, &manifest.ApplyOptions{FieldManager: "test"})
		require.NoError(t, err)
		assert.Equal(t, manifest.Configured, rep3.Results[0].Action, rep3.Results[0].Err)
	})
	t.Run("delete in reverse", func(t *testing.T) {
		var order []string
		drep, err := e.Delete(ctx, plan, &manifest.DeleteOptions{Concurrency: 1, OnResult: func(r manifest.Result) { order = append(order, r.Ref.String()) }})
		require.NoError(t, err)
		d := byName(drep.Results)
		assert.Equal(t, manifest.Deleted, d["Widget.example.com shop/w1"].Action)
		assert.Equal(t, manifest.Unchanged, d["ConfigMap shop/bad"].Action, "never created")
		pos := map[string]int{}
		for i, n := range order {
			pos[n] = i
		}
		assert.Less(t, pos["Widget.example.com shop/w1"], pos["CustomResourceDefinition.apiextensions.k8s.io widgets.example.com"])
		assert.Less(t, pos["ConfigMap shop/settings"], pos["Namespace shop"])
		assert.Equal(t, "Namespace shop", order[len(order)-1])
	})
}

func TestCreateModeReportsAlreadyExistsPerObject(t *testing.T) {
	t.Parallel()
	_, c, e := setup(t)
	ctx := t.Context()
	_, err := c.Resource("v1", "ConfigMap").Namespace("default").Create(ctx, decode(t, "x", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: there}\n")[0].Object, nil)
	require.NoError(t, err)
	plan, err := e.Plan(ctx, decode(t, "c.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: there}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: new, annotations: {kubedyn.io/depends-on: /namespaces/default/ConfigMap/there}}
`), nil)
	require.NoError(t, err)
	rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{Mode: manifest.CreateOnly})
	require.NoError(t, err)
	got := byName(rep.Results)
	assert.Equal(t, manifest.Failed, got["ConfigMap default/there"].Action)
	assert.ErrorIs(t, got["ConfigMap default/there"].Err, transport.ErrAlreadyExists)
	assert.Equal(t, manifest.Created, got["ConfigMap default/new"].Action, "an existing dependency does not block")
}

func TestFailFastSkipsTheRest(t *testing.T) {
	t.Parallel()
	_, _, e := setup(t)
	ctx := t.Context()
	plan, err := e.Plan(ctx, decode(t, "f.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: bad}
data: {"..x": "1"}
---
apiVersion: v1
kind: Secret
metadata: {name: later}
`), nil)
	require.NoError(t, err)
	rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{FailFast: true})
	require.NoError(t, err)
	got := byName(rep.Results)
	assert.Equal(t, manifest.Failed, got["ConfigMap default/bad"].Action)
	assert.Equal(t, manifest.Skipped, got["Secret default/later"].Action)
	assert.Contains(t, got["Secret default/later"].Err.Error(), "FailFast")
}

func TestApplyConflictNeedsForce(t *testing.T) {
	t.Parallel()
	_, _, e := setup(t)
	ctx := t.Context()
	plan := func(v string) *manifest.Plan {
		p, err := e.Plan(ctx, decode(t, "p.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: {k: \""+v+"\"}\n"), nil)
		require.NoError(t, err)
		return p
	}
	_, err := e.Apply(ctx, plan("a"), &manifest.ApplyOptions{FieldManager: "one"})
	require.NoError(t, err)
	rep, err := e.Apply(ctx, plan("b"), &manifest.ApplyOptions{FieldManager: "two"})
	require.NoError(t, err)
	r := rep.Results[0]
	assert.Equal(t, manifest.Failed, r.Action)
	assert.ErrorIs(t, r.Err, transport.ErrConflict)
	require.NotEmpty(t, r.Causes)
	assert.Equal(t, "FieldManagerConflict", r.Causes[0].Type)
	rep, err = e.Apply(ctx, plan("b"), &manifest.ApplyOptions{FieldManager: "two", Force: true})
	require.NoError(t, err)
	assert.Equal(t, manifest.Configured, rep.Results[0].Action)
}

func TestApplyContextEndSkipsTheRest(t *testing.T) {
	t.Parallel()
	_, _, e := setup(t)
	ctx, cancel := contextWithCancel(t)
	plan, err := e.Plan(ctx, decode(t, "c.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\n"), nil)
	require.NoError(t, err)
	rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{OnResult: func(manifest.Result) { cancel() }})
	require.Error(t, err)
	got := byName(rep.Results)
	assert.Equal(t, manifest.Created, got["ConfigMap default/a"].Action)
	assert.Equal(t, manifest.Skipped, got["Secret default/b"].Action)
	assert.ErrorIs(t, got["Secret default/b"].Err, context.Canceled)
}

// gate is a round tripper that holds every PATCH until limit of them are
// in flight at once, and records the peak.
type gate struct {
	next    http.RoundTripper
	limit   int
	mu      sync.Mutex
	cur     int
	peak    int
	reached chan struct{}
	once    sync.Once
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPatch {
		return g.next.RoundTrip(r)
	}
	g.mu.Lock()
	g.cur++
	g.peak = max(g.peak, g.cur)
	if g.cur == g.limit {
		g.once.Do(func() { close(g.reached) })
	}
	g.mu.Unlock()
	select {
	case <-g.reached:
	case <-time.After(10 * time.Second): // the test fails below
	}
	defer func() {
		g.mu.Lock()
		g.cur--
		g.mu.Unlock()
	}()
	return g.next.RoundTrip(r)
}

// Independent objects go concurrently, at most Concurrency at once.
func TestApplyIsConcurrentAndBounded(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	g := &gate{limit: 4, reached: make(chan struct{})}
	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token(),
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper { g.next = rt; return g }}
	c, err := resource.NewClient(cfg)
	require.NoError(t, err)
	e := manifest.New(c)
	ctx := t.Context()
	text := ""
	for i := range 40 {
		text += fmt.Sprintf("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d}\n", i)
	}
	plan, err := e.Plan(ctx, decode(t, "many.yaml", text), nil)
	require.NoError(t, err)
	start := time.Now()
	rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{Concurrency: 4})
	require.NoError(t, err)
	require.True(t, rep.OK(), rep.Summary())
	assert.Equal(t, 40, rep.Count(manifest.Created))
	assert.Less(t, time.Since(start), 5*time.Second, "four applies were in flight together")
	assert.Equal(t, 4, g.peak, "never more than Concurrency at once")
}
