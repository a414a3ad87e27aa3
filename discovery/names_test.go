package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// crdGroup is an aggregated discovery entry for a group serving one
// namespaced resource at v1.
func crdGroup(t testing.TB, group, plural, singular, kind string, shortNames ...string) string {
	t.Helper()
	if shortNames == nil {
		shortNames = []string{}
	}
	b, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"name": group},
		"versions": []any{map[string]any{
			"version": "v1", "freshness": "Current",
			"resources": []any{map[string]any{
				"resource": plural, "singularResource": singular, "scope": "Namespaced",
				"responseKind": map[string]any{"group": group, "version": "v1", "kind": kind},
				"shortNames":   shortNames, "verbs": []string{"get", "list"},
			}},
		}},
	})
	require.NoError(t, err)
	return string(b)
}

func TestIsBuiltinGroup(t *testing.T) {
	t.Parallel()
	for group, want := range map[string]bool{
		"":                          true,
		"apps":                      true,
		"batch":                     true,
		"networking.k8s.io":         true,
		"storage.k8s.io":            true,
		"apiextensions.k8s.io":      true,
		"apiregistration.k8s.io":    true,
		"rbac.authorization.k8s.io": true,
		"lifecycle.k8s.io":          true,
		// Names under .k8s.io that CRDs or aggregated servers serve.
		"gateway.networking.k8s.io":  false,
		"snapshot.storage.k8s.io":    false,
		"metrics.k8s.io":             false,
		"stable.example.com":         false,
		"apps.example.com":           false,
		"Apps":                       false,
		"policy.networking.k8s.io":   false,
		"x-k8s.io":                   false,
		"cluster.x-k8s.io":           false,
		"internal.apiserver.k8s.io.": false,
	} {
		assert.Equal(t, want, IsBuiltinGroup(group), "%q", group)
	}
}

// The forms kubectl accepts beyond plain names, over a real server's
// discovery documents.
func TestResourceForKubectlForms(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "real/aggregated")
	c := f.client(nil)
	for _, tc := range []struct{ name, want string }{
		// A unique group prefix.
		{"storageclasses.storage", "storageclasses.v1.storage.k8s.io"},
		{"sc.storage", "storageclasses.v1.storage.k8s.io"},
		{"hpa.autosc", "horizontalpodautoscalers.v2.autoscaling"},
		{"deployments.ap", "deployments.v1.apps"},
		{"deploy.a", "deployments.v1.apps"},
		{"events.events", "events.v1.events.k8s.io"},
		{"Event.events", "events.v1.events.k8s.io"},
		{"clusterroles.rbac", "clusterroles.v1.rbac.authorization.k8s.io"},
		{"crd.apiext", "customresourcedefinitions.v1.apiextensions.k8s.io"},
		// An exact group is not a prefix of another.
		{"deployments.apps", "deployments.v1.apps"},
		// A trailing dot: any group, or a version in any group.
		{"deployments.", "deployments.v1.apps"},
		{"deploy.", "deployments.v1.apps"},
		{"Deployment.", "deployments.v1.apps"},
		{"deployments.v1.", "deployments.v1.apps"},
		{"hpa.v1.", "horizontalpodautoscalers.v1.autoscaling"},
		{"pods.", "pods.v1"},
		{"pods.v1.", "pods.v1"},
		{"events.", "events.v1"},
		{"events.v1.", "events.v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := c.ResourceFor(context.Background(), tc.name)
			require.NoError(t, err)
			assert.Equal(t, tc.want, r.GroupVersionResource().String())
		})
	}
	for _, name := range []string{
		"deployments.apps.", "deployments..", "deployments.v2.", "deployments.v1.apps.", ".", "..", ".deployments",
		"deployments.b", "deployments.apps.k8s.io", "deployments.v1.ap", "pods.v1.a",
	} {
		t.Run("unknown "+name, func(t *testing.T) {
			t.Parallel()
			_, err := c.ResourceFor(context.Background(), name)
			require.ErrorIs(t, err, ErrUnknownResource)
		})
	}
	// "s" prefixes storage.k8s.io, scheduling.k8s.io and storagemigration.k8s.io;
	// only storage.k8s.io serves storageclasses.
	r, err := c.ResourceFor(context.Background(), "storageclasses.s")
	require.NoError(t, err)
	assert.Equal(t, "storage.k8s.io", r.Group)
}

// Names that several groups serve, made to collide as CRDs do.
func TestResourceForCollisions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	for _, g := range []string{
		// A CRD group under .k8s.io is no built-in group.
		crdGroup(t, "gateway.networking.k8s.io", "gateways", "gateway", "Gateway", "gtw"),
		crdGroup(t, "gateway.example.net", "gateways", "gateway", "Gateway", "gtw"),
		// A kind against another resource's short name.
		crdGroup(t, "blobs.example.com", "blobs", "blobby", "Blob"),
		crdGroup(t, "things.example.com", "things", "thing", "Thing", "blob"),
		// A CRD serving a built-in plural: the built-in group wins.
		crdGroup(t, "apps.example.com", "deployments", "deployment", "Deployment", "deploy"),
	} {
		f.appendItem("/apis", "items", g)
	}
	c := f.client(nil)
	ctx := context.Background()

	for _, tc := range []struct{ name, want string }{
		{"blob", "things.v1.things.example.com"}, // plural and singular, then short names, then kinds
		{"blobby", "blobs.v1.blobs.example.com"},
		{"Blob", "things.v1.things.example.com"},
		{"Blob.blobs.example.com", "blobs.v1.blobs.example.com"},
		{"deployments", "deployments.v1.apps"},
		{"deploy", "deployments.v1.apps"},
		{"deployments.apps.example.com", "deployments.v1.apps.example.com"},
		{"deployments.apps.", "deployments.v1.apps.example.com"}, // as in kubectl: the group prefix "apps."
		{"gateways.gateway.e", "gateways.v1.gateway.example.net"},
		{"gateways.gateway.n", "gateways.v1.gateway.networking.k8s.io"},
		{"gtw.gateway.example.net", "gateways.v1.gateway.example.net"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := c.ResourceFor(ctx, tc.name)
			require.NoError(t, err)
			assert.Equal(t, tc.want, r.GroupVersionResource().String())
		})
	}

	for _, tc := range []struct {
		name string
		want []string
	}{
		{"gateways", []string{"gateways.v1.gateway.networking.k8s.io", "gateways.v1.gateway.example.net"}},
		{"Gateway", []string{"gateways.v1.gateway.networking.k8s.io", "gateways.v1.gateway.example.net"}},
		{"gtw", []string{"gateways.v1.gateway.networking.k8s.io", "gateways.v1.gateway.example.net"}},
		{"gateways.gateway", []string{"gateways.v1.gateway.networking.k8s.io", "gateways.v1.gateway.example.net"}},
		{"gateways.v1.", []string{"gateways.v1.gateway.networking.k8s.io", "gateways.v1.gateway.example.net"}},
		{"crontabs", []string{"crontabs.v1.stable.example.com", "crontabs.v1.batch.example.org"}},
		{"deployments.a", []string{"deployments.v1.apps", "deployments.v1.apps.example.com"}},
	} {
		t.Run("ambiguous "+tc.name, func(t *testing.T) {
			_, err := c.ResourceFor(ctx, tc.name)
			require.ErrorIs(t, err, ErrAmbiguousResource)
			assert.False(t, errors.Is(err, ErrUnknownResource))
			var ae *AmbiguousError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.name, ae.Name)
			assert.Equal(t, tc.want, gvrs(ae.Candidates))
			for _, cand := range ae.Candidates {
				// Each candidate is named in the message by a name that
				// resolves to it alone.
				assert.Contains(t, err.Error(), cand.QualifiedName()+" (kind "+cand.Kind+")")
				r, err := c.ResourceFor(ctx, cand.QualifiedName())
				require.NoError(t, err)
				assert.Equal(t, cand.GroupVersionResource(), r.GroupVersionResource())
			}
		})
	}
	assert.Equal(t, 2, f.totalHits(), "nothing above missed: one discovery")
}

// An unknown kind or name says once what was asked for and suggests the
// likely fix.
func TestUnknownErrorsSuggestAFix(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "real/aggregated")
	c := f.client(nil)
	ctx := context.Background()
	for _, tc := range []struct{ apiVersion, kind, want string }{
		{"apps/v1", "deployment", `discovery: no resource serves kind "deployment" in "apps/v1"; did you mean kind "Deployment"? Kinds are case-sensitive`},
		{"apps/v1", "Deployments", `discovery: no resource serves kind "Deployments" in "apps/v1"; "Deployments" names the resource deployments; its kind is "Deployment"`},
		{"apps/v1", "deploy", `discovery: no resource serves kind "deploy" in "apps/v1"; "deploy" names the resource deployments; its kind is "Deployment"`},
		{"apps", "Deployment", `discovery: no resource serves kind "Deployment" in "apps"; apiVersion "apps" has no version: Deployment is served in "apps/v1"`},
		{"v1", "Deployment", `discovery: no resource serves kind "Deployment" in "v1"; Deployment is served in "apps/v1"`},
		{"apps/v1beta1", "Deployment", `discovery: no resource serves kind "Deployment" in "apps/v1beta1"; Deployment is served in "apps/v1"`},
		{"v1", "Event", ""}, // served: no error
		{"events.k8s.io/v2", "event", `discovery: no resource serves kind "event" in "events.k8s.io/v2"; Event is served in "v1" or "events.k8s.io/v1"`},
		{"apps/v1", "Deploymnet", `discovery: no resource serves kind "Deploymnet" in "apps/v1"; did you mean kind "Deployment"?`},
		{"apps/v1", "StatefullSet", `discovery: no resource serves kind "StatefullSet" in "apps/v1"; did you mean kind "StatefulSet"?`},
		{"v1", "ConfigMaps", `discovery: no resource serves kind "ConfigMaps" in "v1"; "ConfigMaps" names the resource configmaps; its kind is "ConfigMap"`},
		{"v1", "Secrte", `discovery: no resource serves kind "Secrte" in "v1"; did you mean kind "Secret"?`},
		{"v1", "CronJb", `discovery: no resource serves kind "CronJb" in "v1"; did you mean batch/v1 CronJob?`},
		{"example.com/v1", "Widget", `discovery: no resource serves kind "Widget" in "example.com/v1"; apiVersion "example.com/v1" is not served`},
		{"apps/v1", "Frobnicator", `discovery: no resource serves kind "Frobnicator" in "apps/v1"`},
	} {
		t.Run(tc.apiVersion+" "+tc.kind, func(t *testing.T) {
			_, err := c.ResourceForKind(ctx, tc.apiVersion, tc.kind)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrUnknownResource)
			assert.Equal(t, tc.want, err.Error())
			var ue *UnknownError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, tc.kind, ue.Kind)
			assert.Equal(t, tc.apiVersion, ue.APIVersion)
		})
	}
	for _, tc := range []struct{ name, want string }{
		{"deploymnets", `discovery: no resource named "deploymnets" is served; did you mean "deployments"?`},
		{"statefullsets", `discovery: no resource named "statefullsets" is served; did you mean "statefulsets"?`},
		{"deployments.extensions", `discovery: no resource named "deployments.extensions" is served; served as "deployments.v1.apps"`},
		{"pods.v2", `discovery: no resource named "pods.v2" is served; served as "pods.v1"`},
		{"frobnicators", `discovery: no resource named "frobnicators" is served`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ResourceFor(ctx, tc.name)
			require.ErrorIs(t, err, ErrUnknownResource)
			assert.Equal(t, tc.want, err.Error())
			var ue *UnknownError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, tc.name, ue.Name)
		})
	}
}

func TestEditDistance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"deploymnet", "deployment", 1}, {"ab", "ba", 1}, {"pod", "pdo", 1}, {"secret", "secrte", 1},
	} {
		assert.Equal(t, tc.want, editDistance(tc.a, tc.b), "%q %q", tc.a, tc.b)
		assert.Equal(t, tc.want, editDistance(tc.b, tc.a), "%q %q", tc.b, tc.a)
	}
}

// A huge unknown name or kind is answered quickly: the hint does not
// compare it with every served name character by character.
func TestHugeUnknownNameIsCheap(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "real/aggregated")
	c := f.client(nil)
	ctx := context.Background()
	_, err := c.Resources(ctx)
	require.NoError(t, err)
	huge := strings.Repeat("deployment", 100_000) // 1 MB
	start := time.Now()
	_, err = c.ResourceForKind(ctx, "apps/v1", huge)
	require.ErrorIs(t, err, ErrUnknownResource)
	_, err = c.ResourceFor(ctx, huge)
	require.ErrorIs(t, err, ErrUnknownResource)
	// Comparing it with every served name took 23 s; skipping names of a
	// too different length takes milliseconds.
	assert.Less(t, time.Since(start), 2*time.Second)
}

// A kind of a group version that failed discovery is not called
// "not served": the hint says it could not be discovered, and the error
// carries the failure.
func TestUnknownKindOfAFailedGroupVersion(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	f.appendItem("/apis", "items", `{"metadata":{"name":"metrics.k8s.io"},"versions":[
		{"version":"v1beta1","freshness":"Stale","resources":[
			{"resource":"pods","responseKind":{"group":"metrics.k8s.io","version":"v1beta1","kind":"PodMetrics"},"scope":"Namespaced","verbs":["get","list"]}]}]}`)
	c := f.client(nil)
	_, err := c.ResourceForKind(context.Background(), "metrics.k8s.io/v1beta1", "PodMetrics")
	require.ErrorIs(t, err, ErrUnknownResource)
	require.ErrorIs(t, err, ErrStale)
	var ue *UnknownError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, `apiVersion "metrics.k8s.io/v1beta1" could not be discovered`, ue.Hint)
	assert.True(t, strings.HasPrefix(err.Error(),
		`discovery: no resource serves kind "PodMetrics" in "metrics.k8s.io/v1beta1"; apiVersion "metrics.k8s.io/v1beta1" could not be discovered (discovery incomplete: `), err.Error())
}
