package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/examples/operator/greeter"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
)

// TestOperatorAgainstRealServer runs examples/operator's controller against
// the whole control plane: it reconciles a Greeting into an owned ConfigMap,
// writes status.observedGeneration and a Ready condition through the status
// subresource, follows a spec change, and when the Greeting is deleted the
// garbage collector removes the ConfigMap through its owner reference; the
// operator stops when its context ends.
func TestOperatorAgainstRealServer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	ns := planeNamespace(t)
	c := planeAdmin(t)
	require.NoError(t, greeter.InstallCRD(ctx, c))

	opCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- greeter.New(c, ns, nil).Run(opCtx) }()

	greetings := c.Resource(greeter.APIVersion, greeter.Kind).Namespace(ns)
	gw := runInformer(t, greetings.ListWatcher(nil), nil)
	cw := runInformer(t, c.Resource("v1", "ConfigMap").Namespace(ns).ListWatcher(nil), nil)

	created, err := greetings.Create(ctx, obj(t, `{"apiVersion":"demo.kubedyn.dev/v1","kind":"Greeting","metadata":{"name":"ada"},"spec":{"name":"Ada"}}`), nil)
	require.NoError(t, err)
	key := watch.Key{Namespace: ns, Name: "ada"}
	cmKey := watch.Key{Namespace: ns, Name: greeter.ConfigMapName("ada")}

	var cm unstructured.Object
	cw.until(t, time.Minute, "the greeting's ConfigMap", func(s *watch.Store) bool {
		var ok bool
		cm, ok = s.Get(cmKey)
		return ok
	})
	assert.Equal(t, "Hello, Ada!", cm.Get("data.greeting").String())
	assert.Equal(t, []unstructured.OwnerReference{{APIVersion: greeter.APIVersion, Kind: greeter.Kind, Name: "ada",
		UID: created.UID(), Controller: true, BlockOwnerDeletion: true}}, cm.OwnerReferences())

	ready := func(gen int64) func(s *watch.Store) bool {
		return func(s *watch.Store) bool {
			g, ok := s.Get(key)
			return ok && g.Get("status.observedGeneration").Int() == gen &&
				g.Get(`status.conditions.#(type=="Ready").status`).String() == "True" &&
				g.Get(`status.conditions.#(type=="Ready").observedGeneration`).Int() == gen
		}
	}
	gw.until(t, time.Minute, "status for generation 1", ready(1))

	_, err = greetings.Patch(ctx, "ada", resource.MergePatch, []byte(`{"spec":{"message":"Hi"}}`), nil)
	require.NoError(t, err)
	cw.until(t, time.Minute, "the new greeting text", func(s *watch.Store) bool {
		cm, ok := s.Get(cmKey)
		return ok && cm.Get("data.greeting").String() == "Hi, Ada!"
	})
	gw.until(t, time.Minute, "status for generation 2", ready(2))

	// The status went through the status subresource: the main resource's
	// generation counts spec changes only.
	g, err := greetings.Get(ctx, "ada", nil)
	require.NoError(t, err)
	assert.Equal(t, int64(2), g.Generation())

	// Deleting the Greeting deletes its ConfigMap: the garbage collector
	// follows the owner reference the operator set.
	_, err = greetings.Delete(ctx, "ada", nil)
	require.NoError(t, err)
	cw.until(t, planeWait, "the garbage collector to delete the ConfigMap", func(s *watch.Store) bool {
		_, ok := s.Get(cmKey)
		return !ok
	})

	stop()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("the operator did not stop with its context")
	}
}
