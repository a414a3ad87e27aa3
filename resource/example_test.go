package resource_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// exampleClient starts a test server and returns a client for it; programs
// build their Config with kubeconfig.Load instead.
func exampleClient() (*resource.Client, func()) {
	srv, err := testserver.Start()
	if err != nil {
		panic(err)
	}
	c, err := resource.NewClient(&transport.Config{
		Host:        srv.URL(),
		TLS:         transport.TLSConfig{CAData: srv.CAPEM()},
		BearerToken: srv.Token(),
	})
	if err != nil {
		panic(err)
	}
	return c, srv.Close
}

func Example() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	cm, err := unstructured.ParseString(`{"metadata":{"name":"settings"},"data":{"color":"blue"}}`)
	if err != nil {
		panic(err)
	}
	if _, err := cms.Create(ctx, cm, nil); err != nil {
		panic(err)
	}
	got, err := cms.Get(ctx, "settings", nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Kind(), got.Namespace(), got.Name(), got.Get("data.color"))

	if err := cms.Delete(ctx, "settings", nil); err != nil {
		panic(err)
	}
	_, err = cms.Get(ctx, "settings", nil)
	fmt.Println(errors.Is(err, transport.ErrNotFound))
	// Output:
	// ConfigMap default settings blue
	// true
}

func ExampleHandle_List() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	for _, name := range []string{"a", "b", "c"} {
		cm := unstructured.New("v1", "ConfigMap")
		cm, _ = cm.Set("metadata.name", name)
		cm, _ = cm.Set("metadata.labels.app", "web")
		if _, err := cms.Create(ctx, cm, nil); err != nil {
			panic(err)
		}
	}
	// Two objects per request; the iterator follows the continue tokens.
	for obj, err := range cms.List(ctx, &resource.ListOptions{LabelSelector: "app=web", Limit: 2}) {
		if err != nil {
			panic(err)
		}
		fmt.Println(obj.Name())
	}
	// Output:
	// a
	// b
	// c
}

func ExampleHandle_Namespace() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	pods := c.Resource("v1", "Pod")
	// A namespaced resource without a namespace is refused, never sent to
	// the cluster-wide URL.
	_, err := pods.Get(ctx, "web", nil)
	fmt.Println(errors.Is(err, resource.ErrNamespaceRequired))
	// Listing across namespaces is explicit.
	n := 0
	for _, err := range pods.AllNamespaces().List(ctx, nil) {
		if err != nil {
			panic(err)
		}
		n++
	}
	fmt.Println("pods in all namespaces:", n)
	// Output:
	// true
	// pods in all namespaces: 0
}

func ExampleHandle_Apply() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	cms := c.ResourceFor("cm").Namespace("default")
	cm, _ := unstructured.ParseString(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"app"},"data":{"mode":"fast"}}`)
	applied, err := cms.Apply(ctx, cm, &resource.ApplyOptions{FieldManager: "deployer"})
	if err != nil {
		panic(err)
	}
	// An object read from the server can be changed and applied back: Apply
	// strips resourceVersion, uid, managedFields and the other fields the
	// server owns.
	changed, _ := applied.Set("data.mode", "safe")
	got, err := cms.Apply(ctx, changed, &resource.ApplyOptions{FieldManager: "deployer"})
	var conflict *resource.ApplyConflictError
	if errors.As(err, &conflict) {
		// Other managers own some fields: each is listed.
		for _, f := range conflict.Conflicts {
			fmt.Printf("%s is owned by %s\n", f.Field, f.Manager)
		}
		return
	}
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Get("data.mode"))
	// Output: safe
}

func ExampleHandle_Patch() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	deploys := c.Resource("apps/v1", "Deployment").Namespace("default")
	d, _ := unstructured.ParseString(`{"metadata":{"name":"web"},"spec":{"replicas":1,
		"selector":{"matchLabels":{"app":"web"}},
		"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}`)
	if _, err := deploys.Create(ctx, d, nil); err != nil {
		panic(err)
	}
	got, err := deploys.Patch(ctx, "web", resource.MergePatch, []byte(`{"spec":{"replicas":3}}`), nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Get("spec.replicas"))
	// Output: 3
}
