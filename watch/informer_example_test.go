package watch_test

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
)

// exampleClient starts a test server and returns a client for it; programs
// build their Config with kubeconfig.Load instead.
func exampleClient() (*resource.Client, func()) {
	srv, err := testserver.Start()
	if err != nil {
		panic(err)
	}
	c, err := resource.NewClient(&transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()})
	if err != nil {
		panic(err)
	}
	return c, srv.Close
}

// An informer keeps a store of ConfigMaps in step with the server and
// tells a handler about each change; a work queue takes the keys to a
// reconcile function.
func ExampleInformer() {
	c, stop := exampleClient()
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	for _, name := range []string{"a", "b"} {
		if _, err := cms.Create(ctx, unstructured.MustParse(`{"metadata":{"name":"`+name+`"}}`), nil); err != nil {
			panic(err)
		}
	}

	inf := watch.NewInformer(cms.ListWatcher(nil), &watch.InformerOptions{Transform: watch.DropManagedFields})
	queue := watch.NewQueue[watch.Key](nil)
	inf.AddHandler(watch.Handler{
		OnAdd:    func(obj unstructured.Object, _ bool) { queue.Add(watch.ObjectKey(obj)) },
		OnUpdate: func(_, obj unstructured.Object) { queue.Add(watch.ObjectKey(obj)) },
	})
	done := make(chan error, 1)
	go func() { done <- inf.Run(ctx) }()
	if err := inf.WaitForSync(ctx); err != nil {
		panic(err)
	}
	fmt.Println("synced:", inf.Store().Keys())

	var seen []string
	for range 2 {
		key, err := queue.Get(ctx)
		if err != nil {
			panic(err)
		}
		obj, _ := inf.Store().Get(key)
		seen = append(seen, obj.Name())
		queue.Done(key)
	}
	sort.Strings(seen)
	fmt.Println("reconciled:", seen)

	cancel()
	fmt.Println(errors.Is(<-done, context.Canceled))
	// Output:
	// synced: [default/a default/b]
	// reconciled: [a b]
	// true
}

// Queue.Run is the usual worker loop: a key added many times is
// reconciled once, and a failed key is retried with backoff.
func ExampleQueue_Run() {
	q := watch.NewQueue[string](nil)
	q.Add("web")
	q.Add("web")
	q.Add("db")
	attempts := map[string]int{}
	reconcile := func(_ context.Context, key string) error {
		attempts[key]++ // one worker: no lock needed
		if key == "db" && attempts[key] == 1 {
			return errors.New("not yet") // retried after a short backoff
		}
		if attempts["db"] == 2 {
			go q.ShutDownWithDrain(context.Background()) // stop once db has passed
		}
		return nil
	}
	q.Run(context.Background(), 1, reconcile)
	fmt.Println(attempts)
	// Output:
	// map[db:2 web:1]
}
