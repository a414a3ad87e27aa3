package discovery

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// The documents in testdata/real were answered by a real kube-apiserver.

func TestRealServerAggregated(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "real/aggregated")
	c := f.client(nil)
	ctx := context.Background()

	rs, err := c.Resources(ctx)
	require.NoError(t, err)
	assert.Greater(t, len(rs), 60)

	d := find(t, rs, "apps", "v1", "deployments")
	assert.Equal(t, "Deployment", d.Kind)
	assert.Equal(t, []string{"deploy"}, d.ShortNames)
	scale, ok := d.Subresource("scale")
	require.True(t, ok)
	assert.Equal(t, unstructured.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}, scale.Kind)
	status, ok := d.Subresource("status")
	require.True(t, ok)
	assert.Equal(t, unstructured.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, status.Kind)
	pods := find(t, rs, "", "v1", "pods")
	ev, ok := pods.Subresource("eviction")
	require.True(t, ok)
	assert.Equal(t, unstructured.GroupVersionKind{Group: "policy", Version: "v1", Kind: "Eviction"}, ev.Kind)
	logs, ok := pods.Subresource("log")
	require.True(t, ok)
	assert.Equal(t, unstructured.GroupVersionKind{Version: "v1", Kind: "Pod"}, logs.Kind)

	for name, want := range map[string]string{
		"deploy":                             "deployments.v1.apps",
		"po":                                 "pods.v1",
		"events":                             "events.v1",
		"ev":                                 "events.v1",
		"hpa":                                "horizontalpodautoscalers.v2.autoscaling",
		"ing":                                "ingresses.v1.networking.k8s.io",
		"crd":                                "customresourcedefinitions.v1.apiextensions.k8s.io",
		"sa":                                 "serviceaccounts.v1",
		"pvc":                                "persistentvolumeclaims.v1",
		"cj":                                 "cronjobs.v1.batch",
		"Lease":                              "leases.v1.coordination.k8s.io",
		"netpol":                             "networkpolicies.v1.networking.k8s.io",
		"quota":                              "resourcequotas.v1",
		"apiservices.apiregistration.k8s.io": "apiservices.v1.apiregistration.k8s.io",
	} {
		r, err := c.ResourceFor(ctx, name)
		if assert.NoError(t, err, name) {
			assert.Equal(t, want, r.GroupVersionResource().String(), name)
		}
	}
	assert.Equal(t, 2, f.totalHits())
}

// The legacy walk over the real server's resource lists finds exactly what
// the aggregated documents list for the same group versions.
func TestRealServerLegacyAgreesWithAggregated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	agg, err := newFixture(t, "real/aggregated").client(nil).Resources(ctx)
	require.NoError(t, err)

	f := newFixture(t, "real/legacy")
	legacy, err := f.client(nil).Resources(ctx)
	// Only four group versions' lists were captured; the others answer 404.
	var pe *PartialError
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, transport.ErrNotFound)
	captured := map[unstructured.GroupVersion]bool{
		{Version: "v1"}: true, {Group: "apps", Version: "v1"}: true,
		{Group: "rbac.authorization.k8s.io", Version: "v1"}: true, {Group: "apiextensions.k8s.io", Version: "v1"}: true,
	}
	for _, gv := range pe.GroupVersions() {
		assert.False(t, captured[gv], gv)
	}

	byGVR := make(map[unstructured.GroupVersionResource]APIResource)
	for _, r := range agg {
		if captured[unstructured.GroupVersion{Group: r.Group, Version: r.Version}] {
			byGVR[r.GroupVersionResource()] = r
		}
	}
	require.NotEmpty(t, legacy)
	assert.Len(t, legacy, len(byGVR))
	for _, r := range legacy {
		want, ok := byGVR[r.GroupVersionResource()]
		if assert.True(t, ok, r.GroupVersionResource().String()) {
			assert.ElementsMatch(t, want.Subresources, r.Subresources, r.GroupVersionResource().String())
			want.Subresources, r.Subresources = nil, nil
			assert.Equal(t, want, r)
		}
	}
}
