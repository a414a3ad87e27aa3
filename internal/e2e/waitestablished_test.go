package e2e_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/unstructured"
)

// TestWaitEstablished creates CRDs on the real server and checks that once
// WaitEstablished returns, a custom resource of the kind is created at the
// first try through a fresh client's Resource, ResourceFor and ForObject
// handles, which only works if discovery already lists it. It logs how long
// the wait took.
func TestWaitEstablished(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	c := admin(t)
	crds := c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")

	for i, how := range []string{"Resource", "ResourceFor", "ForObject"} {
		group := uniqueName("e2e-wait") + ".example.com"
		// Discovery is loaded before the CRD exists, as in a long-running
		// program: the wait must refresh it.
		_, err := c.Resource("v1", "ConfigMap").Resolve(ctx)
		require.NoError(t, err)

		start := time.Now()
		_, err = crds.Create(ctx, obj(t, crdManifest(group)), nil)
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = crds.Delete(context.Background(), "widgets."+group, nil) })
		crd, err := c.WaitEstablished(ctx, "widgets."+group, nil)
		require.NoError(t, err)
		waited := time.Since(start)
		t.Logf("run %d: create + WaitEstablished took %s", i, waited.Round(time.Millisecond))
		assert.Equal(t, "True", establishedStatus(crd))

		w := obj(t, `{"apiVersion":"`+group+`/v1","kind":"Widget","metadata":{"name":"w","namespace":"`+ns+`"},"spec":{"replicas":1}}`)
		var h resource.Handle
		switch how {
		case "Resource":
			h = c.Resource(group+"/v1", "Widget").Namespace(ns)
		case "ResourceFor":
			h = c.ResourceFor("widgets." + group).Namespace(ns)
		case "ForObject":
			h = c.ForObject(w)
		}
		created, err := h.Create(ctx, w, nil)
		require.NoError(t, err, how)
		assert.Equal(t, "Widget", created.Kind())
	}

	t.Run("names refused", func(t *testing.T) {
		// A second CRD claiming the same kind and list kind in the same group
		// under another plural is refused: NamesAccepted False.
		group := uniqueName("e2e-clash") + ".example.com"
		_, err := crds.Create(ctx, obj(t, crdManifest(group)), nil)
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = crds.Delete(context.Background(), "widgets."+group, nil) })
		_, err = c.WaitEstablished(ctx, "widgets."+group, nil)
		require.NoError(t, err)
		clash := obj(t, `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
"metadata":{"name":"gadgets.`+group+`"},
"spec":{"group":"`+group+`","scope":"Namespaced","names":{"plural":"gadgets","kind":"Widget"},
 "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object"}}}]}}`)
		_, err = crds.Create(ctx, clash, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = crds.Delete(context.Background(), "gadgets."+group, nil) })
		_, err = c.WaitEstablished(ctx, "gadgets."+group, &resource.WaitOptions{Timeout: 30 * time.Second})
		require.ErrorIs(t, err, resource.ErrCRDNotEstablished)
		assert.Contains(t, err.Error(), "refused its names")
		assert.False(t, errors.Is(err, discovery.ErrUnknownResource))
	})
}

// establishedStatus returns the status of a CRD's Established condition.
func establishedStatus(crd unstructured.Object) string {
	for _, c := range crd.Get("status.conditions").Array() {
		if c.Get("type").String() == "Established" {
			return c.Get("status").String()
		}
	}
	return ""
}
