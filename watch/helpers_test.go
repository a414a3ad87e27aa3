package watch_test

import (
	"context"
	"io"
	"iter"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
)

// iterPull is iter.Pull2 for event streams.
func iterPull[K, V any](seq iter.Seq2[K, V]) (func() (K, V, bool), func()) { return iter.Pull2(seq) }

// setup starts a test server and returns it with a ConfigMap handle on
// namespace default.
func setup(t *testing.T) (*testserver.Server, resource.Handle) {
	t.Helper()
	srv := testserver.New(t)
	c, err := resource.NewClient(&transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()})
	require.NoError(t, err)
	return srv, c.Resource("v1", "ConfigMap").Namespace("default")
}

func configMap(t *testing.T, name, value string) unstructured.Object {
	t.Helper()
	o, err := unstructured.NewBuilder("v1", "ConfigMap").Set("metadata.name", name).Set("data.v", value).Object()
	require.NoError(t, err)
	return o
}

// fastBackoff makes reconnects quick, so tests need no fake clock for them.
var fastBackoff = watch.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond}

// quiet is a logger that drops everything.
func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// events runs a Watcher's events in a goroutine and hands them over on a
// channel; the run ends with the test. Errors are sent as events of type
// "error" with the message in the object.
type events struct {
	t    *testing.T
	ch   chan watch.Event
	errs chan error
	done chan struct{}
}

func run(t *testing.T, w *watch.Watcher) *events {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	e := &events{t: t, ch: make(chan watch.Event, 100000), errs: make(chan error, 1), done: make(chan struct{})}
	go func() {
		defer close(e.done)
		for ev, err := range w.Events(ctx) {
			if err != nil {
				e.errs <- err
				return
			}
			e.ch <- ev
		}
	}()
	t.Cleanup(func() { cancel(); <-e.done })
	return e
}

// next returns the next event, failing the test after 20 seconds.
func (e *events) next() watch.Event {
	e.t.Helper()
	select {
	case ev := <-e.ch:
		return ev
	case err := <-e.errs:
		e.t.Fatalf("watcher ended with %v", err)
	case <-time.After(20 * time.Second):
		e.t.Fatal("no event within 20 seconds")
	}
	return watch.Event{}
}

// until returns the events up to and including the first of type typ.
func (e *events) until(typ watch.EventType) []watch.Event {
	e.t.Helper()
	var out []watch.Event
	for {
		ev := e.next()
		out = append(out, ev)
		if ev.Type == typ {
			return out
		}
	}
}

// summary is "TYPE name" per event, for comparisons.
func summary(evs []watch.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = string(ev.Type) + " " + ev.Object.Name()
	}
	return out
}

// manualClock is the package's FakeClock: time moves only on Step, and due
// timers fire inside Step.
type manualClock = watch.FakeClock

func newManualClock() *manualClock { return watch.NewFakeClock() }
