// Command quickstart walks through kubedyn's core: it creates, reads, lists,
// patches and deletes a Pod, then installs a CustomResourceDefinition and does
// a round trip with one of its custom resources.
//
// It uses the configured cluster (KUBECONFIG, ~/.kube/config or in-cluster)
// when there is one. Otherwise it starts kubedyn's in-process test API server
// and says so. Everything it creates carries a random suffix and is deleted
// before it exits.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kubedyn/kubedyn/examples/internal/setup"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

func main() { setup.Main("quickstart", realMain) }

func realMain(ctx context.Context, out io.Writer) error {
	// The configured cluster, or the in-process test server. Its CRDs are
	// established after the real server's delay, so the tour waits for
	// Established as it must on a cluster.
	env, err := setup.Connect(out, &setup.Options{RealCRDEstablishDelay: true})
	if err != nil {
		return err
	}
	defer env.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return run(ctx, out, env.Config)
}

// run does the tour against the server cfg points at.
func run(ctx context.Context, out io.Writer, cfg *transport.Config) error {
	c, err := resource.NewClient(cfg)
	if err != nil {
		return err
	}
	ns := setup.Namespace(cfg)
	suffix := setup.RandomSuffix()
	if err := podTour(ctx, out, c, ns, "quickstart-"+suffix); err != nil {
		return err
	}
	return crdTour(ctx, out, c, ns, suffix)
}

const podManifest = `
apiVersion: v1
kind: Pod
metadata:
  name: NAME
  labels:
    app: quickstart
spec:
  containers:
  - name: web
    image: nginx:1.27
    ports:
    - containerPort: 80
`

func podTour(ctx context.Context, out io.Writer, c *resource.Client, ns, name string) error {
	objs, err := unstructured.Decode([]byte(podManifest))
	if err != nil {
		return err
	}
	pod, err := objs[0].Set("metadata.name", name)
	if err != nil {
		return err
	}
	pods := c.Resource("v1", "Pod").Namespace(ns)

	created, err := pods.Create(ctx, pod, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "created pod %s/%s (uid %s)\n", created.Namespace(), created.Name(), created.UID())
	defer func() {
		// Clean up even when a later step fails; a pod already gone is fine.
		if _, err := pods.Delete(context.WithoutCancel(ctx), name, nil); err != nil && !errors.Is(err, transport.ErrNotFound) {
			fmt.Fprintf(out, "cleanup: %v\n", err)
		}
	}()

	got, err := pods.Get(ctx, name, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "read pod %s: image %s\n", got.Name(), got.Get("spec.containers.0.image").String())

	n := 0
	for obj, err := range pods.List(ctx, &resource.ListOptions{LabelSelector: "app=quickstart"}) {
		if err != nil {
			return err
		}
		if obj.Name() == name {
			n++
		}
	}
	fmt.Fprintf(out, "listed pods with app=quickstart: found ours %d time(s)\n", n)

	patched, err := pods.Patch(ctx, name, resource.MergePatch, []byte(`{"metadata":{"labels":{"tier":"web"}}}`), nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "patched pod %s: labels %v\n", patched.Name(), patched.Labels())

	if _, err := pods.Delete(ctx, name, nil); err != nil {
		return err
	}
	fmt.Fprintf(out, "deleted pod %s\n", name)
	return nil
}

const crdManifest = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.GROUP
spec:
  group: GROUP
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wg]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size:
                type: integer
`

func crdTour(ctx context.Context, out io.Writer, c *resource.Client, ns, suffix string) error {
	group := "q" + suffix + ".example.kubedyn.dev"
	objs, err := unstructured.Decode([]byte(crdManifest))
	if err != nil {
		return err
	}
	b := objs[0].Builder()
	b.Set("metadata.name", "widgets."+group)
	b.Set("spec.group", group)
	crd, err := b.Object()
	if err != nil {
		return err
	}
	crds := c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
	if _, err := crds.Create(ctx, crd, nil); err != nil {
		return err
	}
	fmt.Fprintf(out, "created CRD widgets.%s\n", group)
	defer func() {
		if _, err := crds.Delete(context.WithoutCancel(ctx), "widgets."+group, nil); err != nil && !errors.Is(err, transport.ErrNotFound) {
			fmt.Fprintf(out, "cleanup: %v\n", err)
		}
	}()
	// The kind is served only once the CRD is Established (0.2-0.4 s on a
	// real server); WaitEstablished also refreshes discovery so it resolves.
	if _, err := c.WaitEstablished(ctx, "widgets."+group, nil); err != nil {
		return err
	}

	widget := unstructured.New(group+"/v1", "Widget")
	wb := widget.Builder()
	wb.Set("metadata.name", "first")
	wb.Set("spec.size", 3)
	widget, err = wb.Object()
	if err != nil {
		return err
	}
	widgets := c.Resource(group+"/v1", "Widget").Namespace(ns)
	if _, err := widgets.Create(ctx, widget, nil); err != nil {
		return err
	}
	got, err := widgets.Get(ctx, "first", nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "created and read widget %s: spec.size %d\n", got.Name(), got.Get("spec.size").Int())
	if _, err := widgets.Delete(ctx, "first", nil); err != nil {
		return err
	}
	fmt.Fprintln(out, "deleted widget first")
	if _, err := crds.Delete(ctx, "widgets."+group, nil); err != nil {
		return err
	}
	fmt.Fprintf(out, "deleted CRD widgets.%s\n", group)
	return nil
}
