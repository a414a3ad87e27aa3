package watch_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
)

// A Watcher delivers the current objects, Synced, and then every change,
// resuming after failures on its own.
func ExampleWatcher() {
	srv, _ := testserver.Start()
	defer srv.Close()
	c, _ := resource.NewClient(&transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()})
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, _ = cms.Create(ctx, unstructured.MustParse(`{"metadata":{"name":"first"}}`), nil)

	w := watch.NewWatcher(cms.ListWatcher(nil), nil)
	for ev, err := range w.Events(ctx) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(strings.TrimSpace(string(ev.Type) + " " + ev.Object.Name()))
		switch {
		case ev.Type == watch.Synced:
			_, _ = cms.Create(ctx, unstructured.MustParse(`{"metadata":{"name":"second"}}`), nil)
		case ev.Object.Name() == "second":
			cancel() // ends the loop
		}
	}
	// Output:
	// ADDED first
	// SYNCED
	// ADDED second
}

// Decode reads one watch response; Handle.Watch opens one and decodes it.
func ExampleDecode() {
	srv, _ := testserver.Start()
	defer srv.Close()
	c, _ := resource.NewClient(&transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()})
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	ctx := context.Background()
	_, _ = cms.Create(ctx, unstructured.MustParse(`{"metadata":{"name":"a"}}`), nil)

	yes := true
	for ev, err := range cms.Watch(ctx, &resource.WatchOptions{SendInitialEvents: &yes, AllowWatchBookmarks: true,
		ResourceVersionMatch: resource.ResourceVersionMatchNotOlderThan}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(ev.Type, ev.IsInitialEventsEnd(), ev.Object.Name())
		if ev.IsInitialEventsEnd() {
			break
		}
	}
	// Output:
	// ADDED false a
	// BOOKMARK true
}
