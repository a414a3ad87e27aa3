package watch

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
)

// Factory shares informers within a process: one informer per collection
// (ListWatcher), however many controllers ask for it. Informers are keyed
// by the ListWatcher's Key together with the ListWatcher value itself, so
// equal values share one informer: resource.Handle.ListWatcher returns
// equal values for equal handles and options (resource, namespace,
// selectors, metadata-only). A ListWatcher whose dynamic type is not
// comparable is never shared.
//
// A Factory is safe for concurrent use by multiple goroutines.
type Factory struct {
	defaults InformerOptions

	mu        sync.Mutex
	informers map[factoryKey]*Informer
	order     []*Informer
	ctx       context.Context // set by Start
	wg        sync.WaitGroup
}

type factoryKey struct {
	key string
	lw  any
}

// NewFactory returns a factory whose informers get opts (nil means
// defaults) unless Informer is given options of its own.
func NewFactory(opts *InformerOptions) *Factory {
	f := &Factory{informers: map[factoryKey]*Informer{}}
	if opts != nil {
		f.defaults = *opts
	}
	return f
}

// Informer returns the shared informer of lw's collection, creating it
// (with opts, or the factory's options when opts is nil) on first use. The
// first caller's options win; later callers get the same informer whatever
// options they pass. If the factory is started, a new informer starts at
// once.
func (f *Factory) Informer(lw ListWatcher, opts *InformerOptions) *Informer {
	k := factoryKey{key: lw.Key()}
	comparable := lw != nil && reflect.TypeOf(lw).Comparable()
	if comparable {
		k.lw = lw
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if comparable {
		if inf, ok := f.informers[k]; ok {
			return inf
		}
	}
	if opts == nil {
		opts = &f.defaults
	}
	inf := NewInformer(lw, opts)
	if comparable {
		f.informers[k] = inf
	}
	f.order = append(f.order, inf)
	if f.ctx != nil {
		f.start(inf)
	}
	return inf
}

// start runs inf until the factory's context ends; f.mu held.
func (f *Factory) start(inf *Informer) {
	ctx := f.ctx
	f.wg.Go(func() {
		if err := inf.Run(ctx); err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
			inf.report(fmt.Errorf("informer stopped: %w", err))
		}
	})
}

// Start runs every informer created so far, and every one created later,
// until ctx ends. It returns at once; Wait waits for the informers to stop.
// Calling Start again does nothing.
func (f *Factory) Start(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ctx != nil {
		return
	}
	f.ctx = ctx
	for _, inf := range f.order {
		f.start(inf)
	}
}

// WaitForSync waits until every informer created so far has synced, or ctx
// ends (then ctx's error).
func (f *Factory) WaitForSync(ctx context.Context) error {
	f.mu.Lock()
	infs := append([]*Informer(nil), f.order...)
	f.mu.Unlock()
	for _, inf := range infs {
		if err := inf.WaitForSync(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Wait blocks until every informer the factory started has stopped (after
// Start's context ends).
func (f *Factory) Wait() { f.wg.Wait() }
