// Package greeter is the controller of examples/operator: for every Greeting
// custom resource it keeps one ConfigMap holding the greeting, owned by the
// Greeting (so the garbage collector removes it with its owner), and reports
// progress in the Greeting's status: status.observedGeneration and a Ready
// condition, written through the status subresource.
//
// It is built the way an operator author would build one with kubedyn: two
// shared informers (Greetings, and ConfigMaps indexed by their controller's
// uid) feed a work queue of Greeting keys; workers reconcile one key at a
// time from the informers' stores and write only what differs.
package greeter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
)

// The Greeting custom resource.
const (
	Group      = "demo.kubedyn.dev"
	Version    = "v1"
	Kind       = "Greeting"
	APIVersion = Group + "/" + Version
	CRDName    = "greetings." + Group

	// FieldManager is the operator's field manager on every write.
	FieldManager = "greeter"
	// DataKey is the ConfigMap key that holds the greeting.
	DataKey = "greeting"
)

// CRD is the CustomResourceDefinition of Greeting: spec.message and
// spec.name, a status subresource with observedGeneration and conditions.
const CRD = `{
  "apiVersion": "apiextensions.k8s.io/v1",
  "kind": "CustomResourceDefinition",
  "metadata": {"name": "greetings.demo.kubedyn.dev"},
  "spec": {
    "group": "demo.kubedyn.dev",
    "scope": "Namespaced",
    "names": {"plural": "greetings", "singular": "greeting", "kind": "Greeting"},
    "versions": [{
      "name": "v1", "served": true, "storage": true,
      "subresources": {"status": {}},
      "schema": {"openAPIV3Schema": {
        "type": "object",
        "properties": {
          "spec": {"type": "object", "properties": {
            "message": {"type": "string"},
            "name": {"type": "string"}
          }},
          "status": {"type": "object", "properties": {
            "observedGeneration": {"type": "integer"},
            "conditions": {"type": "array", "items": {
              "type": "object",
              "properties": {
                "type": {"type": "string"},
                "status": {"type": "string"},
                "reason": {"type": "string"},
                "message": {"type": "string"},
                "observedGeneration": {"type": "integer"},
                "lastTransitionTime": {"type": "string"}
              }
            }}
          }}
        }
      }}
    }]
  }
}`

// ConfigMapName returns the name of the ConfigMap kept for a Greeting.
func ConfigMapName(greeting string) string { return greeting + "-greeting" }

// Text returns the greeting a Greeting's spec asks for.
func Text(greeting unstructured.Object) string {
	msg := greeting.Get("spec.message").String()
	if msg == "" {
		msg = "Hello"
	}
	name := greeting.Get("spec.name").String()
	if name == "" {
		name = "world"
	}
	return msg + ", " + name + "!"
}

// InstallCRD creates the Greeting CRD unless it exists and waits until the
// server serves it.
func InstallCRD(ctx context.Context, c *resource.Client) error {
	crds := c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
	crd := unstructured.MustParse(CRD)
	if _, err := crds.Create(ctx, crd, nil); err != nil && !errors.Is(err, transport.ErrAlreadyExists) {
		return fmt.Errorf("install CRD: %w", err)
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := crds.Get(ctx, CRDName, nil)
		if err != nil {
			return fmt.Errorf("install CRD: %w", err)
		}
		if got.Get(`status.conditions.#(type=="Established").status`).String() == "True" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for CRD %s: %w", CRDName, ctx.Err())
		case <-tick.C:
		}
	}
}

// Options configure an Operator. Nil means defaults.
type Options struct {
	// Workers is the number of concurrent reconciles (default 2).
	Workers int
	// Log receives one line per change the operator makes; nil discards.
	Log io.Writer
	// Logger gets the informers' and queue's reports; nil is slog.Default().
	Logger *slog.Logger
}

// Operator reconciles the Greetings of one namespace. It is safe for
// concurrent use; Run it once.
type Operator struct {
	c          *resource.Client
	ns         string
	opts       Options
	greetings  resource.Handle
	configMaps resource.Handle
	ginf, cinf *watch.Informer
	queue      *watch.Queue[watch.Key]
}

// New returns an operator for namespace ns. It does no I/O.
func New(c *resource.Client, ns string, opts *Options) *Operator {
	o := &Operator{c: c, ns: ns}
	if opts != nil {
		o.opts = *opts
	}
	if o.opts.Workers <= 0 {
		o.opts.Workers = 2
	}
	if o.opts.Log == nil {
		o.opts.Log = io.Discard
	}
	o.greetings = c.Resource(APIVersion, Kind).Namespace(ns)
	o.configMaps = c.Resource("v1", "ConfigMap").Namespace(ns)
	f := watch.NewFactory(&watch.InformerOptions{Transform: watch.DropManagedFields, Logger: o.opts.Logger})
	o.ginf = f.Informer(o.greetings.ListWatcher(nil), nil)
	o.cinf = f.Informer(o.configMaps.ListWatcher(nil), &watch.InformerOptions{
		Transform: watch.DropManagedFields,
		Indexers:  map[string]watch.IndexFunc{watch.IndexControllerUID: watch.ControllerUID},
		Logger:    o.opts.Logger,
	})
	o.queue = watch.NewQueue[watch.Key](&watch.QueueOptions{Logger: o.opts.Logger})
	return o
}

// Run starts the informers and workers and blocks until ctx ends; it then
// stops everything it started and returns nil. It fails early only when
// the informers cannot sync.
func (o *Operator) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	enqueue := func(obj unstructured.Object) { o.queue.Add(watch.ObjectKey(obj)) }
	o.ginf.AddHandler(watch.Handler{
		OnAdd:    func(obj unstructured.Object, _ bool) { enqueue(obj) },
		OnUpdate: func(_, obj unstructured.Object) { enqueue(obj) },
	})
	// A ConfigMap that changes or goes away brings its Greeting back to the
	// queue, so edits by others are undone.
	owner := func(cm unstructured.Object) {
		for _, ref := range cm.OwnerReferences() {
			if ref.Controller && ref.Kind == Kind && ref.APIVersion == APIVersion {
				o.queue.Add(watch.Key{Namespace: cm.Namespace(), Name: ref.Name})
			}
		}
	}
	o.cinf.AddHandler(watch.Handler{
		OnAdd:    func(obj unstructured.Object, _ bool) { owner(obj) },
		OnUpdate: func(_, obj unstructured.Object) { owner(obj) },
		OnDelete: owner,
	})

	done := make(chan struct{})
	go func() {
		defer close(done)
		o.runInformers(ctx)
	}()
	defer func() { cancel(); <-done }()
	if err := o.ginf.WaitForSync(ctx); err != nil {
		return nil // stopped before the caches synced
	}
	if err := o.cinf.WaitForSync(ctx); err != nil {
		return nil
	}
	o.queue.Run(ctx, o.opts.Workers, o.reconcile)
	return nil
}

func (o *Operator) runInformers(ctx context.Context) {
	ch := make(chan struct{}, 2)
	for _, inf := range []*watch.Informer{o.ginf, o.cinf} {
		go func() {
			_ = inf.Run(ctx)
			ch <- struct{}{}
		}()
	}
	<-ch
	<-ch
}

// reconcile brings one Greeting's ConfigMap and status in line with its
// spec.
func (o *Operator) reconcile(ctx context.Context, key watch.Key) error {
	g, ok := o.ginf.Store().Get(key)
	if !ok || g.IsDeleting() {
		return nil // the garbage collector removes the ConfigMap with its owner
	}
	want := Text(g)
	cmName := ConfigMapName(g.Name())
	cm, ok := o.cinf.Store().Get(watch.Key{Namespace: o.ns, Name: cmName})
	if !ok || cm.Get("data."+DataKey).String() != want || !ownedBy(cm, g) {
		desired, err := unstructured.NewBuilder("v1", "ConfigMap").
			Set("metadata.name", cmName).
			Set("metadata.namespace", o.ns).
			Set("metadata.labels", map[string]string{"app.kubernetes.io/managed-by": FieldManager}).
			Set("metadata.ownerReferences", []map[string]any{{
				"apiVersion": APIVersion, "kind": Kind, "name": g.Name(), "uid": g.UID(),
				"controller": true, "blockOwnerDeletion": true,
			}}).
			Set("data", map[string]string{DataKey: want}).
			Object()
		if err != nil {
			return err
		}
		if _, err := o.configMaps.Apply(ctx, desired, &resource.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
			return fmt.Errorf("apply configmap %s: %w", cmName, err)
		}
		fmt.Fprintf(o.opts.Log, "configmap %s/%s: %q\n", o.ns, cmName, want)
	}
	gen := g.Generation()
	if g.Get("status.observedGeneration").Int() == gen &&
		g.Get(`status.conditions.#(type=="Ready").status`).String() == "True" {
		return nil
	}
	status, err := unstructured.New(APIVersion, Kind).Builder().
		Set("status.observedGeneration", gen).
		Set("status.conditions", []map[string]any{{
			"type": "Ready", "status": "True", "reason": "ConfigMapReady",
			"message":            "ConfigMap " + cmName + " holds the greeting",
			"observedGeneration": gen,
			"lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
		}}).
		Object()
	if err != nil {
		return err
	}
	patch, err := status.Delete("apiVersion")
	if err != nil {
		return err
	}
	if patch, err = patch.Delete("kind"); err != nil {
		return err
	}
	if _, err := o.greetings.Subresource("status").Patch(ctx, g.Name(), resource.MergePatch, []byte(patch.String()),
		&resource.PatchOptions{FieldManager: FieldManager}); err != nil {
		if errors.Is(err, transport.ErrNotFound) {
			return nil
		}
		return fmt.Errorf("patch status of %s: %w", key, err)
	}
	fmt.Fprintf(o.opts.Log, "greeting %s: ready (generation %d)\n", key, gen)
	return nil
}

func ownedBy(cm, g unstructured.Object) bool {
	for _, ref := range cm.OwnerReferences() {
		if ref.Controller && ref.UID == g.UID() {
			return true
		}
	}
	return false
}
