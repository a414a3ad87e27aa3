package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/kubedyn/kubedyn/watch"
	cgunstructured "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// informerRows: an informer of the 10,000 ConfigMaps started, synced,
// measured and stopped, in each client: the heap its cache holds after
// sync (with and without dropping managedFields through each client's
// transform hook) and the time from start to synced.
func informerRows(e *env) []*row {
	kd := func(dropMF bool) side { return kdInformer(e, dropMF, false) }
	kdCompressed := func(dropMF bool) side { return kdInformer(e, dropMF, true) }
	cg := func(dropMF bool) side {
		return func(ctx context.Context) (sample, error) {
			var si cache.SharedIndexInformer
			ctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			defer func() { cancel(); <-done }()
			return held(e.n, func() error {
				si = dynamicinformer.NewFilteredDynamicInformer(e.cg, configMaps, benchNamespace, 0,
					cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}, nil).Informer()
				if dropMF {
					if err := si.SetTransform(func(o any) (any, error) {
						if u, ok := o.(*cgunstructured.Unstructured); ok {
							u.SetManagedFields(nil)
						}
						return o, nil
					}); err != nil {
						return err
					}
				}
				go func() { si.RunWithContext(ctx); close(done) }()
				if !cache.WaitForCacheSync(ctx.Done(), si.HasSynced) {
					return fmt.Errorf("client-go informer did not sync: %w", ctx.Err())
				}
				if n := len(si.GetStore().ListKeys()); n != e.n {
					return fmt.Errorf("client-go informer holds %d objects, want %d", n, e.n)
				}
				return nil
			}, func() { runtime.KeepAlive(si) })
		}
	}
	jsonFloor := func(context.Context) (sample, error) {
		return sample{value: float64(len(e.listBytes)) / float64(e.n)}, nil
	}
	// syncTime turns a heap side into a time side: its time is start to
	// synced.
	syncTime := func(s side) side {
		return func(ctx context.Context) (sample, error) {
			smp, err := s(ctx)
			return sample{ns: smp.ns, bytes: smp.bytes}, err
		}
	}
	return []*row{
		{group: "informer 10k", name: "heap after sync", unit: "B/object",
			note:    "kubedyn watch.Informer, client-go dynamic informer; the floor is the list's JSON per object",
			kubedyn: kd(false), clientgo: cg(false), floorName: "JSON bytes", floor: jsonFloor},
		{group: "informer 10k", name: "heap after sync, managedFields dropped", unit: "B/object",
			note:    "both through their transform hooks (watch.DropManagedFields, SetTransform)",
			kubedyn: kd(true), clientgo: cg(true), floorName: "JSON bytes", floor: jsonFloor},
		{group: "informer 10k", name: "heap after sync, managedFields dropped, kubedyn's store compressed", unit: "B/object",
			note:    "kubedyn InformerOptions.Compress (every Store read decompresses: ~5 µs a Get); client-go as above",
			kubedyn: kdCompressed(true), clientgo: cg(true), floorName: "JSON bytes", floor: jsonFloor},
		{group: "informer 10k", name: "start to synced",
			note:    "each client's defaults (WatchList where the server serves it)",
			kubedyn: syncTime(kd(false)), clientgo: syncTime(cg(false))},
		{group: "informer 10k", name: "start to synced, kubedyn's store compressed",
			note:    "kubedyn InformerOptions.Compress against client-go's defaults",
			kubedyn: syncTime(kdCompressed(false)), clientgo: syncTime(cg(false))},
	}
}

// kdInformer is kubedyn's informer side: start, sync, measure the heap it
// holds, stop; managedFields dropped and the store compressed on request.
func kdInformer(e *env, dropMF, compress bool) side {
	return func(ctx context.Context) (sample, error) {
		opts := &watch.InformerOptions{Compress: compress}
		if dropMF {
			opts.Transform = watch.DropManagedFields
		}
		lw := e.kd.Resource("v1", "ConfigMap").Namespace(benchNamespace).ListWatcher(nil)
		var inf *watch.Informer
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		defer func() { cancel(); <-done }()
		return held(e.n, func() error {
			inf = watch.NewInformer(lw, opts)
			go func() { _ = inf.Run(ctx); close(done) }()
			if err := inf.WaitForSync(ctx); err != nil {
				return err
			}
			if n := inf.Store().Len(); n != e.n {
				return fmt.Errorf("kubedyn informer holds %d objects, want %d", n, e.n)
			}
			return nil
		}, func() { runtime.KeepAlive(inf) })
	}
}
