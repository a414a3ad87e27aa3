package manifest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/manifest"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// exampleEngine starts a test server whose CRDs are established after the
// real server's delay and returns an engine for it; programs build their
// Config with kubeconfig.Load instead.
func exampleEngine() (*manifest.Engine, func()) {
	srv, err := testserver.StartWithOptions(&testserver.Options{CRDEstablishDelay: testserver.RealCRDEstablishDelay})
	if err != nil {
		panic(err)
	}
	c, err := resource.NewClient(&transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()})
	if err != nil {
		panic(err)
	}
	return manifest.New(c), srv.Close
}

// A custom resource listed before its CRD, and an object the server
// refuses: the CRD goes first and is waited for, the widget follows in the
// same run, and the invalid ConfigMap fails alone with the server's cause.
func ExampleEngine_Apply() {
	e, stop := exampleEngine()
	defer stop()
	ctx := context.Background()
	objs, err := unstructured.DecodeManifest([]byte(`apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec: {size: 3}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: bad}
data: {"no/slash": "x"}
`), &unstructured.DecodeOptions{Source: "app.yaml"})
	if err != nil {
		panic(err)
	}
	plan, err := e.Plan(ctx, objs, nil)
	if err != nil {
		panic(err)
	}
	rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{FieldManager: "example"})
	if err != nil {
		panic(err)
	}
	for _, r := range rep.Results {
		fmt.Println(r.Source, r.Ref, r.Action)
		for _, c := range r.Causes {
			fmt.Println("   ", c.Field, c.Type)
		}
	}
	fmt.Println(rep.Summary())
	// Output:
	// app.yaml:2:6 CustomResourceDefinition.apiextensions.k8s.io widgets.example.com created
	// app.yaml:3:19 ConfigMap default/bad failed
	//     data[no/slash] FieldValueInvalid
	// app.yaml:1:1 Widget.example.com default/w created
	// 2 created, 1 failed
}

// Readiness by watch: a custom resource nobody writes a status for is
// InProgress for the grace period, then taken as ready.
func ExampleEngine_Wait() {
	e, stop := exampleEngine()
	defer stop()
	ctx := context.Background()
	objs, err := unstructured.DecodeManifest([]byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
`), nil)
	if err != nil {
		panic(err)
	}
	plan, err := e.Plan(ctx, objs, nil)
	if err != nil {
		panic(err)
	}
	rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{
		FieldManager: "example",
		Wait:         &manifest.WaitOptions{Timeout: time.Minute},
	})
	if err != nil {
		panic(err)
	}
	for _, w := range rep.Ready {
		fmt.Println(w.Ref, w.Status, w.Message)
	}
	// Output:
	// ConfigMap default/settings Current no status to wait for
}

func ExampleEvaluate() {
	d := unstructured.MustParse(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","generation":4},
		"spec":{"replicas":3},"status":{"observedGeneration":4,"replicas":3,"updatedReplicas":3,"availableReplicas":2}}`)
	fmt.Println(manifest.Evaluate(d, nil))
	// Output:
	// InProgress 2 of 3 replicas available
}
