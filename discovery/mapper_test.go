package discovery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResourceForForms(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	c := f.client(nil)
	t.Cleanup(func() { assert.Equal(t, 2, f.totalHits(), "every hit answered from one discovery") })

	for _, tc := range []struct {
		name string
		want string // resource.version.group
	}{
		// Every form of one resource.
		{"deployments", "deployments.v1.apps"},
		{"deployment", "deployments.v1.apps"},
		{"deploy", "deployments.v1.apps"},
		{"Deployment", "deployments.v1.apps"},
		{"DEPLOYMENTS", "deployments.v1.apps"},
		{"deployments.apps", "deployments.v1.apps"},
		{"deployment.apps", "deployments.v1.apps"},
		{"deploy.apps", "deployments.v1.apps"},
		{"Deployment.apps", "deployments.v1.apps"},
		{"deployments.v1.apps", "deployments.v1.apps"},
		{"deploy.v1.apps", "deployments.v1.apps"},
		// The core group.
		{"pods", "pods.v1"},
		{"pod", "pods.v1"},
		{"po", "pods.v1"},
		{"Pod", "pods.v1"},
		{"pods.v1", "pods.v1"},
		{"ns", "namespaces.v1"},
		{"cm", "configmaps.v1"},
		// The core group wins over another built-in group.
		{"events", "events.v1"},
		{"ev", "events.v1"},
		{"Event", "events.v1"},
		{"events.events.k8s.io", "events.v1.events.k8s.io"},
		{"events.v1.events.k8s.io", "events.v1.events.k8s.io"},
		// Among built-in groups, the server's priority order.
		{"ingresses", "ingresses.v1.networking.k8s.io"},
		{"ing", "ingresses.v1.networking.k8s.io"},
		{"ingresses.extensions", "ingresses.v1beta1.extensions"},
		// Preferred version first; an explicit version wins.
		{"hpa", "horizontalpodautoscalers.v2.autoscaling"},
		{"horizontalpodautoscalers.autoscaling", "horizontalpodautoscalers.v2.autoscaling"},
		{"horizontalpodautoscalers.v1.autoscaling", "horizontalpodautoscalers.v1.autoscaling"},
		{"hpa.v1.autoscaling", "horizontalpodautoscalers.v1.autoscaling"},
		// Several short names.
		{"crd", "customresourcedefinitions.v1.apiextensions.k8s.io"},
		{"crds", "customresourcedefinitions.v1.apiextensions.k8s.io"},
		{"CustomResourceDefinition", "customresourcedefinitions.v1.apiextensions.k8s.io"},
		{"cj", "cronjobs.v1.batch"},
		{"jobs", "jobs.v1.batch"},
		// Custom resources qualified by group.
		{"crontabs.stable.example.com", "crontabs.v1.stable.example.com"},
		{"ct", "crontabs.v1.stable.example.com"},
		{"ct.stable.example.com", "crontabs.v1.stable.example.com"},
		{"crontabs.v1beta1.stable.example.com", "crontabs.v1beta1.stable.example.com"},
		{"crontabs.batch.example.org", "crontabs.v1.batch.example.org"},
		{"CronTab.batch.example.org", "crontabs.v1.batch.example.org"},
		{"bct", "crontabs.v1.batch.example.org"},
		// Served only by a version that is not preferred.
		{"crontabhistories", "crontabhistories.v1beta1.stable.example.com"},
		// A plural outranks another resource's short name.
		{"cth", "crontabhistories.v1beta1.stable.example.com"},
		{"  svc  ", "services.v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := c.ResourceFor(context.Background(), tc.name)
			require.NoError(t, err)
			assert.Equal(t, tc.want, r.GroupVersionResource().String())
		})
	}
}

func TestResourceForUnknownAndAmbiguous(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	c := f.client(nil)
	ctx := context.Background()

	for _, name := range []string{"crontabs", "crontab", "CronTab"} {
		t.Run(name, func(t *testing.T) {
			_, err := c.ResourceFor(ctx, name)
			require.ErrorIs(t, err, ErrAmbiguousResource)
			var ae *AmbiguousError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, name, ae.Name)
			assert.Equal(t, []string{"crontabs.v1.stable.example.com", "crontabs.v1.batch.example.org"}, gvrs(ae.Candidates))
			assert.Contains(t, err.Error(), "crontabs.v1.batch.example.org")
			assert.False(t, errors.Is(err, ErrUnknownResource))
		})
	}
	assert.Equal(t, 2, f.totalHits(), "an ambiguous name is no miss: no refresh")

	for _, name := range []string{"nosuch", "deployments.nosuch", "deployments.v2.apps", "pods.v2", "pods.v1.apps", "", ".", "deployments..", ".apps"} {
		t.Run("unknown "+name, func(t *testing.T) {
			_, err := c.ResourceFor(ctx, name)
			require.ErrorIs(t, err, ErrUnknownResource)
			assert.Contains(t, err.Error(), `"`+name+`"`)
		})
	}
}

func TestResourceForKind(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	c := f.client(nil)
	ctx := context.Background()
	for _, tc := range []struct{ apiVersion, kind, want string }{
		{"apps/v1", "Deployment", "deployments.v1.apps"},
		{"v1", "Pod", "pods.v1"},
		{"v1", "Event", "events.v1"},
		{"events.k8s.io/v1", "Event", "events.v1.events.k8s.io"},
		{"autoscaling/v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers.v1.autoscaling"},
		{"stable.example.com/v1beta1", "CronTabHistory", "crontabhistories.v1beta1.stable.example.com"},
	} {
		r, err := c.ResourceForKind(ctx, tc.apiVersion, tc.kind)
		require.NoError(t, err, tc)
		assert.Equal(t, tc.want, r.GroupVersionResource().String())
		assert.Equal(t, tc.kind, r.Kind)
	}
	// Matching is exact; a subresource's kind (autoscaling/v1 Scale) is not a
	// resource.
	for _, tc := range []struct{ apiVersion, kind string }{
		{"apps/v1", "deployment"},
		{"apps/v2", "Deployment"},
		{"v1", "Deployment"},
		{"autoscaling/v1", "Scale"},
	} {
		_, err := c.ResourceForKind(ctx, tc.apiVersion, tc.kind)
		require.ErrorIs(t, err, ErrUnknownResource, tc)
		assert.Contains(t, err.Error(), tc.kind)
	}
	_, err := c.ResourceForKind(ctx, "a/b/c", "Deployment")
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrUnknownResource))
}

func TestResourcesInCategory(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	rs, err := f.client(nil).ResourcesInCategory(context.Background(), "all")
	require.NoError(t, err)
	assert.Equal(t, []string{
		"pods.v1", "services.v1",
		"daemonsets.v1.apps", "deployments.v1.apps", "replicasets.v1.apps", "statefulsets.v1.apps",
		"horizontalpodautoscalers.v2.autoscaling",
		"cronjobs.v1.batch", "jobs.v1.batch",
		"crontabs.v1.stable.example.com",
	}, gvrs(rs))
}

const widgetGroup = `{"metadata":{"name":"example.com"},"versions":[{"version":"v1","freshness":"Current","resources":[
	{"resource":"widgets","responseKind":{"group":"example.com","version":"v1","kind":"Widget"},"scope":"Namespaced","singularResource":"widget","shortNames":["wd"],"verbs":["get","list","create"]}]}]}`

func TestMissRefreshesOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	c := f.client(nil) // DefaultTTL: without the miss rule nothing would be asked again
	ctx := context.Background()

	_, err := c.ResourceFor(ctx, "deployments")
	require.NoError(t, err)
	require.Equal(t, 2, f.totalHits())

	// The first lookup of a name the cold cache does not know does not
	// refresh twice: the view was fetched during the call.
	cold := f.client(nil)
	_, err = cold.ResourceFor(ctx, "widgets")
	require.ErrorIs(t, err, ErrUnknownResource)
	assert.Equal(t, 4, f.totalHits())

	// A CRD appears on the server.
	f.appendItem("/apis", "items", widgetGroup)
	r, err := c.ResourceFor(ctx, "widgets")
	require.NoError(t, err)
	assert.Equal(t, "widgets.v1.example.com", r.GroupVersionResource().String())
	assert.Equal(t, 6, f.totalHits(), "the miss revalidated both roots once")
	assert.Equal(t, []string{f.etag("/api")}, f.ifNoneMatch("/api"), "the unchanged root was revalidated, not refetched")

	r, err = c.ResourceForKind(ctx, "example.com/v1", "Widget")
	require.NoError(t, err)
	assert.Equal(t, "widgets", r.Resource)
	assert.Equal(t, 6, f.totalHits())

	// Each miss refreshes once, then fails.
	_, err = c.ResourceFor(ctx, "gizmos")
	require.ErrorIs(t, err, ErrUnknownResource)
	assert.Equal(t, 8, f.totalHits())
	_, err = c.ResourceForKind(ctx, "example.com/v1", "Gizmo")
	require.ErrorIs(t, err, ErrUnknownResource)
	assert.Equal(t, 10, f.totalHits())
}

func TestConcurrentMissesShareOneRefresh(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	c := f.client(nil)
	ctx := context.Background()
	_, err := c.Resources(ctx)
	require.NoError(t, err)

	const n = 8
	// Hold the refresh at the server until every other caller waits for it.
	_, release := f.hold("/apis", 2)
	defer release()
	joined := make(chan struct{}, n)
	c.joinHook = func() { joined <- struct{}{} }

	f.appendItem("/apis", "items", widgetGroup)
	var wg sync.WaitGroup
	results := make([]APIResource, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { results[i], errs[i] = c.ResourceFor(ctx, "wd") })
	}
	for range n - 1 {
		<-joined
	}
	release()
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, "widgets", results[i].Resource)
	}
	assert.Equal(t, 2, f.hitsFor("/apis"), "one refresh for every concurrent miss")
	assert.Equal(t, 2, f.hitsFor("/api"))
}

func TestWaiterRetriesWhenLeaderGivesUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	c := f.client(nil)
	arrived, release := f.hold("/apis", 1)
	defer release()
	joined := make(chan struct{}, 1)
	c.joinHook = func() {
		select {
		case joined <- struct{}{}:
		default:
		}
	}

	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := c.Resources(leaderCtx)
		leaderErr <- err
	}()
	// Wait until the leader's request is held at the server.
	select {
	case <-arrived:
	case err := <-leaderErr:
		t.Fatalf("leader returned early: %v", err)
	}
	waiterErr := make(chan error, 1)
	go func() {
		_, err := c.ResourceFor(context.Background(), "pods")
		waiterErr <- err
	}()
	<-joined
	cancel()
	require.ErrorIs(t, <-leaderErr, context.Canceled)
	release()
	assert.NoError(t, <-waiterErr, "the waiter ran its own refresh")
}

func TestPreferredResources(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	rs, err := f.client(nil).PreferredResources(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{
		"bindings.v1", "configmaps.v1", "events.v1", "namespaces.v1", "nodes.v1", "pods.v1", "secrets.v1", "services.v1",
		"daemonsets.v1.apps", "deployments.v1.apps", "replicasets.v1.apps", "statefulsets.v1.apps",
		"events.v1.events.k8s.io",
		"horizontalpodautoscalers.v2.autoscaling",
		"cronjobs.v1.batch", "jobs.v1.batch",
		"ingresses.v1.networking.k8s.io", "ingresses.v1beta1.extensions",
		"customresourcedefinitions.v1.apiextensions.k8s.io",
		"crontabs.v1.stable.example.com", "crontabhistories.v1beta1.stable.example.com",
		"crontabs.v1.batch.example.org",
	}, gvrs(rs))
}

// A resource the server stops serving (a CRD deleted) is gone from lookups
// once the TTL has passed and the documents are revalidated; within the TTL
// the cached view answers without a request.
func TestRemovedResourceDisappearsAfterTTL(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	f.appendItem("/apis", "items", widgetGroup)
	c := f.client(nil)
	ctx := context.Background()
	_, err := c.ResourceFor(ctx, "widgets")
	require.NoError(t, err)

	withWidgets := f.body("/apis")
	f.set("/apis", []byte(strings.Replace(string(withWidgets), ","+widgetGroup, "", 1)))
	require.NotEqual(t, withWidgets, f.body("/apis"), "the fixture removed the group")

	_, err = c.ResourceFor(ctx, "widgets")
	assert.NoError(t, err, "within the TTL the cached view answers")
	assert.Equal(t, 2, f.totalHits())

	f.clock.Advance(DefaultTTL)
	_, err = c.ResourceFor(ctx, "widgets")
	assert.ErrorIs(t, err, ErrUnknownResource)
	assert.Equal(t, 4, f.totalHits(), "one revalidation; the miss found a view fetched during the call")
	_, err = c.ResourceFor(ctx, "deploy")
	assert.NoError(t, err)
}

// A name or kind that missed is remembered for MissTTL, so a mistyped kind
// in a loop costs no request per call; any change to discovery (Invalidate,
// a revalidation that finds a changed document) forgets it at once.
func TestMissIsRememberedBriefly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	c := f.client(nil) // DefaultTTL, DefaultMissTTL
	ctx := context.Background()
	_, err := c.ResourceFor(ctx, "deployments")
	require.NoError(t, err)
	require.Equal(t, 2, f.totalHits())

	typo := func() error { _, err := c.ResourceForKind(ctx, "apps/v1", "Deploymnet"); return err }
	require.ErrorIs(t, typo(), ErrUnknownResource)
	assert.Equal(t, 4, f.totalHits(), "the first miss refreshes once")
	for range 5 {
		err := typo()
		require.ErrorIs(t, err, ErrUnknownResource)
		assert.Contains(t, err.Error(), `did you mean kind "Deployment"?`, "the remembered miss still says why")
	}
	assert.Equal(t, 4, f.totalHits(), "a remembered miss sends nothing")

	// Another name is another miss.
	_, err = c.ResourceFor(ctx, "gizmos")
	require.ErrorIs(t, err, ErrUnknownResource)
	assert.Equal(t, 6, f.totalHits())
	_, err = c.ResourceFor(ctx, "gizmos")
	require.ErrorIs(t, err, ErrUnknownResource)
	assert.Equal(t, 6, f.totalHits())

	// After MissTTL the next miss refreshes again.
	f.clock.Advance(DefaultMissTTL)
	require.ErrorIs(t, typo(), ErrUnknownResource)
	assert.Equal(t, 8, f.totalHits())
	require.ErrorIs(t, typo(), ErrUnknownResource)
	assert.Equal(t, 8, f.totalHits())

	// Invalidate forgets the misses: a CRD installed now is found by the
	// next call.
	widget := func() (APIResource, error) { return c.ResourceForKind(ctx, "example.com/v1", "Widget") }
	_, err = widget()
	require.ErrorIs(t, err, ErrUnknownResource)
	assert.Equal(t, 10, f.totalHits())
	f.appendItem("/apis", "items", widgetGroup)
	_, err = widget()
	require.ErrorIs(t, err, ErrUnknownResource, "remembered: the cached view is within its TTL")
	assert.Equal(t, 10, f.totalHits())
	c.Invalidate()
	r, err := widget()
	require.NoError(t, err)
	assert.Equal(t, "widgets", r.Resource)
	assert.Equal(t, 12, f.totalHits())

	// A revalidation that finds a changed document answers from the new
	// view at once, whatever was remembered.
	_, err = c.ResourceFor(ctx, "gadgets")
	require.ErrorIs(t, err, ErrUnknownResource)
	assert.Equal(t, 14, f.totalHits())
	f.appendItem("/apis", "items", `{"metadata":{"name":"gadgets.example.com"},"versions":[{"version":"v1","freshness":"Current","resources":[
		{"resource":"gadgets","responseKind":{"group":"gadgets.example.com","version":"v1","kind":"Gadget"},"scope":"Cluster","singularResource":"gadget","verbs":["get"]}]}]}`)
	f.clock.Advance(DefaultTTL)
	r, err = c.ResourceFor(ctx, "gadgets")
	require.NoError(t, err)
	assert.Equal(t, "gadgets.example.com", r.Group)
	assert.Equal(t, 16, f.totalHits())
	assert.Equal(t, int64(16), c.Stats().Requests)
}

// With a negative MissTTL every miss refreshes, as before misses were
// remembered.
func TestNegativeMissTTLRefreshesEveryMiss(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	c := f.client(&Options{MissTTL: -1})
	ctx := context.Background()
	_, err := c.Resources(ctx)
	require.NoError(t, err)
	for i := range 3 {
		_, err := c.ResourceForKind(ctx, "apps/v1", "Deploymnet")
		require.ErrorIs(t, err, ErrUnknownResource)
		assert.Equal(t, 2+2*(i+1), f.totalHits())
	}
}

// Misses of huge names are remembered by a small key: 256 distinct 1 MB
// names do not pin 256 MB.
func TestMissMemoryStaysSmall(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	c := f.client(nil)
	ctx := context.Background()
	_, err := c.Resources(ctx)
	require.NoError(t, err)
	for i := range 3 {
		huge := strings.Repeat("x", 1<<20) + fmt.Sprint(i)
		_, err := c.ResourceFor(ctx, huge)
		require.ErrorIs(t, err, ErrUnknownResource)
		_, err = c.ResourceFor(ctx, huge)
		require.ErrorIs(t, err, ErrUnknownResource)
		assert.Equal(t, 2+2*(i+1), f.totalHits(), "each huge name is still remembered")
	}
	_, err = c.ResourceFor(ctx, "gizmos")
	require.ErrorIs(t, err, ErrUnknownResource)
	keys := c.misses.Keys()
	require.Len(t, keys, 4)
	for _, k := range keys {
		assert.LessOrEqual(t, len(k), maxMissKey)
	}
}
