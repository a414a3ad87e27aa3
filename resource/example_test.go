package resource_test

import (
	"context"
	"errors"
	"fmt"
	"iter"

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

	if _, err := cms.Delete(ctx, "settings", nil); err != nil {
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

func ExampleClient_ResourceFor() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	// Plural, singular, short name, kind, or plural.group all name the same resource.
	for _, name := range []string{"deployments", "deploy", "deployments.apps"} {
		r, err := c.ResourceFor(name).Resolve(ctx)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s -> %s %s namespaced=%v\n", name, r.GroupVersionResource().GroupVersion(), r.Resource, r.Namespaced)
	}
	// Output:
	// deployments -> apps/v1 deployments namespaced=true
	// deploy -> apps/v1 deployments namespaced=true
	// deployments.apps -> apps/v1 deployments namespaced=true
}

func ExampleHandle_Update() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	cm, _ := unstructured.ParseString(`{"metadata":{"name":"counter"},"data":{"n":"1"}}`)
	created, err := cms.Create(ctx, cm, nil)
	if err != nil {
		panic(err)
	}
	next, _ := created.Set("data.n", "2")
	if _, err := cms.Update(ctx, next, nil); err != nil {
		panic(err)
	}
	// created carries an old resourceVersion: updating from it conflicts.
	stale, _ := created.Set("data.n", "3")
	_, err = cms.Update(ctx, stale, nil)
	fmt.Println(errors.Is(err, transport.ErrConflict))
	// Output: true
}

func ExampleHandle_Table() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	cm, _ := unstructured.ParseString(`{"metadata":{"name":"shown"}}`)
	if _, err := cms.Create(ctx, cm, nil); err != nil {
		panic(err)
	}
	table, err := cms.Table(ctx, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(table.Kind(), table.Get("columnDefinitions.0.name"), table.Get("rows.0.cells.0"))
	// Output: Table Name shown
}

// Custom resources are used like built-in kinds as soon as their CRD exists:
// the first call with the new kind refreshes discovery.
func ExampleClient_Resource_customResource() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	crd, _ := unstructured.ParseString(`{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
		"metadata":{"name":"widgets.example.com"},
		"spec":{"group":"example.com","scope":"Namespaced",
		 "names":{"plural":"widgets","singular":"widget","kind":"Widget"},
		 "versions":[{"name":"v1","served":true,"storage":true,
		  "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}`)
	if _, err := c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition").Create(ctx, crd, nil); err != nil {
		panic(err)
	}
	widgets := c.Resource("example.com/v1", "Widget").Namespace("default")
	w, _ := unstructured.ParseString(`{"metadata":{"name":"first"},"spec":{"size":3}}`)
	created, err := widgets.Create(ctx, w, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(created.APIVersion(), created.Kind(), created.Name(), created.Get("spec.size"))

	// Strategic merge patch does not exist for custom resources.
	_, err = widgets.Patch(ctx, "first", resource.StrategicMergePatch, []byte(`{"spec":{"size":4}}`), nil)
	fmt.Println(errors.Is(err, resource.ErrPatchTypeUnsupported))
	// Output:
	// example.com/v1 Widget first 3
	// true
}

// iter.Pull2 turns a List into a next function, for callers that need to
// interleave reading with other work.
func ExampleHandle_List_pull() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	next, done := iter.Pull2(c.Resource("v1", "Namespace").List(ctx, nil))
	defer done()
	for {
		ns, err, ok := next()
		if !ok {
			break
		}
		if err != nil {
			panic(err)
		}
		if ns.Name() == "default" {
			fmt.Println("found", ns.Name())
		}
	}
	// Output: found default
}

func ExampleClient_ForObject() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	// Objects decoded from a manifest: the handle takes each one's scope
	// from discovery, its namespace from the object or the kubeconfig.
	objs, err := unstructured.Decode([]byte(`
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {color: blue}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader, namespace: ignored}
rules: []
`))
	if err != nil {
		panic(err)
	}
	ctx = resource.WithWarningHandler(ctx, func(w transport.Warning) { fmt.Println("warning:", w.Text) })
	for _, obj := range objs {
		got, err := c.ForObject(obj).Apply(ctx, obj, &resource.ApplyOptions{FieldManager: "example"})
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s %q %s\n", got.Kind(), got.Namespace(), got.Name())
	}
	// Output:
	// ConfigMap "default" settings
	// warning: metadata.namespace "ignored" dropped from ClusterRole "reader": clusterroles.rbac.authorization.k8s.io is cluster-scoped
	// ClusterRole "" reader
}

func ExampleWithWarningHandler() {
	c, stop := exampleClient()
	defer stop()

	var warnings []string
	ctx := resource.WithWarningHandler(context.Background(), func(w transport.Warning) {
		warnings = append(warnings, w.Agent+": "+w.Text)
	})
	role, _ := unstructured.ParseString(`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole",
		"metadata":{"name":"r","namespace":"from-a-chart"}}`)
	if _, err := c.Resource("rbac.authorization.k8s.io/v1", "ClusterRole").Create(ctx, role, nil); err != nil {
		panic(err)
	}
	fmt.Println(warnings)
	// Output:
	// [kubedyn: metadata.namespace "from-a-chart" dropped from ClusterRole "r": clusterroles.rbac.authorization.k8s.io is cluster-scoped]
}

func ExampleHandle_MetadataOnly() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	cm, _ := unstructured.ParseString(`{"metadata":{"name":"big","labels":{"app":"web"}},"data":{"blob":"imagine megabytes here"}}`)
	if _, err := cms.Create(ctx, cm, nil); err != nil {
		panic(err)
	}
	// Names and labels only: the server leaves data out.
	for obj, err := range cms.MetadataOnly().List(ctx, &resource.ListOptions{LabelSelector: "app=web"}) {
		if err != nil {
			panic(err)
		}
		fmt.Println(obj.Kind(), obj.Name(), obj.Labels()["app"], obj.Get("data").Exists())
	}
	// Output:
	// PartialObjectMetadata big web false
}

func ExampleHandle_Table_includeObject() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	cm, _ := unstructured.ParseString(`{"metadata":{"name":"settings"},"data":{"color":"blue"}}`)
	if _, err := cms.Create(ctx, cm, nil); err != nil {
		panic(err)
	}
	// Rows carry only the object's metadata unless asked for the object.
	for _, include := range []resource.IncludeObjectPolicy{resource.IncludeMetadata, resource.IncludeObject} {
		table, err := cms.Table(ctx, &resource.TableOptions{IncludeObject: include})
		if err != nil {
			panic(err)
		}
		row := table.Get("rows.0")
		fmt.Println(include, row.Get("object.kind"), row.Get("object.data.color").Exists())
	}
	// Output:
	// Metadata PartialObjectMetadata false
	// Object ConfigMap true
}

func ExampleClient_WaitEstablished() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	crd, _ := unstructured.ParseString(`{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
		"metadata":{"name":"widgets.example.com"},
		"spec":{"group":"example.com","scope":"Namespaced","names":{"plural":"widgets","kind":"Widget"},
		 "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}`)
	if _, err := c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition").Create(ctx, crd, nil); err != nil {
		panic(err)
	}
	// The kind is served only once the CRD is Established.
	if _, err := c.WaitEstablished(ctx, "widgets.example.com", nil); err != nil {
		panic(err)
	}
	w, _ := unstructured.ParseString(`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"first"},"spec":{"size":3}}`)
	got, err := c.ForObject(w).Create(ctx, w, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Kind(), got.Namespace(), got.Name(), got.Get("spec.size"))
	// Output:
	// Widget default first 3
}

func ExampleExtract() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	deploys := c.Resource("apps/v1", "Deployment").Namespace("default")
	manifest, _ := unstructured.ParseString(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
		"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
		 "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}`)
	opts := &resource.ApplyOptions{FieldManager: "me"}
	if _, err := deploys.Apply(ctx, manifest, opts); err != nil {
		panic(err)
	}
	// Later, perhaps in another program: read the object, take just what
	// "me" applied (not the server's defaults), change it, apply it.
	cur, err := deploys.Get(ctx, "web", nil)
	if err != nil {
		panic(err)
	}
	mine, err := resource.Extract(cur, "me", nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("server default in the object:", cur.Get("spec.strategy.type"))
	fmt.Println("in the extract:", mine.Get("spec.strategy").Exists())
	mine, _ = mine.Set("spec.replicas", 3)
	got, err := deploys.Apply(ctx, mine, opts)
	if err != nil {
		panic(err)
	}
	fmt.Println("replicas:", got.Get("spec.replicas"))
	// Output:
	// server default in the object: RollingUpdate
	// in the extract: false
	// replicas: 3
}

func ExampleHandle_Delete() {
	c, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	for _, doc := range []string{
		`{"metadata":{"name":"plain"}}`,
		`{"metadata":{"name":"held","finalizers":["example.com/cleanup"]}}`,
	} {
		cm, _ := unstructured.ParseString(doc)
		if _, err := cms.Create(ctx, cm, nil); err != nil {
			panic(err)
		}
	}
	// Gone at once: the server answers a Status.
	ans, err := cms.Delete(ctx, "plain", nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(ans.Kind(), ans.Get("status"), ans.Get("details.name"))
	// Held by a finalizer: the server answers the object, marked for deletion.
	ans, err = cms.Delete(ctx, "held", nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(ans.Kind(), ans.Name(), ans.IsDeleting(), ans.Finalizers())
	// Output:
	// Status Success plain
	// ConfigMap held true [example.com/cleanup]
}
