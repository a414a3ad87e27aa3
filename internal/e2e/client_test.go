package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/kubeconfig"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// testContext returns a context that ends with the test or after two
// minutes, whichever comes first.
func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// config loads the shared cluster's kubeconfig with the named context
// ("admin", "nobody", "impersonator" or "admin-cert").
func config(t testing.TB, kubeContext string) *transport.Config {
	t.Helper()
	cfg, err := kubeconfig.Load(&kubeconfig.Options{Path: cluster(t).Kubeconfig, Context: kubeContext})
	require.NoError(t, err)
	return cfg
}

// newClient returns a resource client for the named kubeconfig context.
func newClient(t testing.TB, kubeContext string, opts ...resource.Option) *resource.Client {
	t.Helper()
	c, err := resource.NewClient(config(t, kubeContext), opts...)
	require.NoError(t, err)
	return c
}

// newClientFromConfig returns a resource client for cfg.
func newClientFromConfig(t testing.TB, cfg *transport.Config, opts ...resource.Option) *resource.Client {
	t.Helper()
	c, err := resource.NewClient(cfg, opts...)
	require.NoError(t, err)
	return c
}

// admin returns a resource client authenticated as the cluster admin.
func admin(t testing.TB) *resource.Client {
	t.Helper()
	return newClient(t, "admin")
}

// newNamespace creates a namespace with a unique name for one test and
// deletes it when the test ends (it stays Terminating: no namespace
// controller runs).
func newNamespace(t testing.TB) string {
	t.Helper()
	name := uniqueName("e2e")
	ns := obj(t, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"`+name+`"}}`)
	c := admin(t)
	_, err := c.Resource("v1", "Namespace").Create(testContext(t), ns, nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = c.Resource("v1", "Namespace").Delete(ctx, name, nil)
	})
	return name
}

// obj parses JSON (or YAML) holding one object.
func obj(t testing.TB, doc string) unstructured.Object {
	t.Helper()
	objs, err := unstructured.Decode([]byte(doc))
	require.NoError(t, err)
	require.Len(t, objs, 1)
	return objs[0]
}

// set returns o with path set to value.
func set(t testing.TB, o unstructured.Object, path string, value any) unstructured.Object {
	t.Helper()
	o, err := o.Set(path, value)
	require.NoError(t, err)
	return o
}
