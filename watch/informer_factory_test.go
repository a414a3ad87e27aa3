package watch

import (
	"context"
	"iter"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// valueLW is a comparable ListWatcher value, as resource's is.
type valueLW struct{ ns, selector string }

func (valueLW) Key() string { return "server kind" }
func (valueLW) List(context.Context, *ListRequest) (unstructured.List, error) {
	return unstructured.ParseListString(`{"metadata":{"resourceVersion":"1"},"items":[]}`)
}
func (valueLW) Watch(ctx context.Context, req *WatchRequest) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if req.SendInitialEvents != nil {
			yield(Event{}, &transport.APIError{StatusCode: 422, Reason: "Invalid"})
			return
		}
		<-ctx.Done()
	}
}

// funcLW is not comparable (it holds a func).
type funcLW struct {
	valueLW
	_ func()
}

func TestFactorySharesInformers(t *testing.T) {
	t.Parallel()
	f := NewFactory(nil)
	a := f.Informer(valueLW{ns: "a"}, nil)
	assert.Same(t, a, f.Informer(valueLW{ns: "a"}, &InformerOptions{ResyncPeriod: 1}), "equal ListWatchers share one informer")
	assert.NotSame(t, a, f.Informer(valueLW{ns: "b"}, nil), "another namespace is another informer")
	assert.NotSame(t, a, f.Informer(valueLW{ns: "a", selector: "x=y"}, nil), "another selector is another informer")
	assert.NotSame(t, f.Informer(funcLW{}, nil), f.Informer(funcLW{}, nil), "a ListWatcher that cannot be compared is never shared")

	ctx, cancel := context.WithCancel(t.Context())
	f.Start(ctx)
	late := f.Informer(valueLW{ns: "late"}, nil)
	require.NoError(t, f.WaitForSync(ctx))
	assert.True(t, a.HasSynced())
	assert.True(t, late.HasSynced(), "an informer created after Start starts at once")
	cancel()
	f.Wait()
	assert.ErrorIs(t, a.Run(t.Context()), ErrInformerRunning, "the factory ran it")
}
