package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func getNow[K comparable](t *testing.T, q *Queue[K]) K {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // Get must not block: the key is expected to be ready
	q.mu.Lock()
	ready := q.head < len(q.queue)
	q.mu.Unlock()
	require.True(t, ready, "no key is ready")
	k, err := q.Get(ctx)
	require.NoError(t, err)
	return k
}

func TestQueueDeduplicates(t *testing.T) {
	t.Parallel()
	q := NewQueue[string](nil)
	q.Add("a")
	q.Add("a")
	q.Add("b")
	q.Add("a")
	assert.Equal(t, 2, q.Len())
	assert.Equal(t, "a", getNow(t, q))
	assert.Equal(t, "b", getNow(t, q))
	assert.Equal(t, 0, q.Len())
}

func TestQueueKeyAddedWhileProcessingRunsAgainAfterDone(t *testing.T) {
	t.Parallel()
	q := NewQueue[string](nil)
	q.Add("a")
	k := getNow(t, q)
	require.Equal(t, "a", k)
	q.Add("a")
	q.Add("a")
	assert.Equal(t, 0, q.Len(), "a key being processed is not handed to a second worker")
	q.Done("a")
	assert.Equal(t, 1, q.Len(), "the key added meanwhile is queued once after Done")
	assert.Equal(t, "a", getNow(t, q))
	q.Done("a")
	assert.Equal(t, 0, q.Len())
}

func TestQueueAddAfter(t *testing.T) {
	t.Parallel()
	clk := NewFakeClock()
	q := NewQueue[string](&QueueOptions{Clock: clk})
	q.AddAfter("a", time.Second)
	q.AddAfter("b", 2*time.Second)
	q.AddAfter("b", 500*time.Millisecond) // the earlier time wins
	q.AddAfter("a", 5*time.Second)        // a later time does not postpone
	q.AddAfter("now", 0)
	assert.Equal(t, 1, q.Len())
	assert.Equal(t, "now", getNow(t, q))
	clk.Step(499 * time.Millisecond)
	assert.Equal(t, 0, q.Len())
	clk.Step(time.Millisecond)
	assert.Equal(t, 1, q.Len())
	assert.Equal(t, "b", getNow(t, q))
	clk.Step(499 * time.Millisecond)
	assert.Equal(t, 0, q.Len())
	clk.Step(time.Millisecond)
	assert.Equal(t, "a", getNow(t, q))
	clk.Step(10 * time.Second)
	assert.Equal(t, 0, q.Len(), "each delayed key is added once")
	assert.Equal(t, 0, clk.pending(), "no timer stays armed with nothing waiting")
}

func TestQueueBackoff(t *testing.T) {
	t.Parallel()
	clk := NewFakeClock()
	q := NewQueue[string](&QueueOptions{Clock: clk, BaseDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond, NoOverallLimit: true})
	for i, want := range []time.Duration{10, 20, 40, 50, 50} {
		want *= time.Millisecond
		q.AddRateLimited("a")
		assert.Equal(t, i+1, q.NumRequeues("a"))
		clk.Step(want - time.Millisecond)
		assert.Equal(t, 0, q.Len(), "retry %d before %v", i, want)
		clk.Step(time.Millisecond)
		require.Equal(t, 1, q.Len(), "retry %d at %v", i, want)
		getNow(t, q)
		q.Done("a")
	}
	q.Forget("a")
	assert.Equal(t, 0, q.NumRequeues("a"))
	q.AddRateLimited("a")
	clk.Step(10 * time.Millisecond)
	assert.Equal(t, 1, q.Len(), "after Forget the base delay applies again")
}

func TestQueueOverallRateLimit(t *testing.T) {
	t.Parallel()
	clk := NewFakeClock()
	q := NewQueue[int](&QueueOptions{Clock: clk, BaseDelay: time.Millisecond, QPS: 2, Burst: 3})
	for i := range 5 {
		q.AddRateLimited(i)
	}
	clk.Step(time.Millisecond)
	assert.Equal(t, 3, q.Len(), "the burst passes after the base delay")
	clk.Step(498 * time.Millisecond)
	assert.Equal(t, 3, q.Len())
	clk.Step(time.Millisecond)
	assert.Equal(t, 4, q.Len(), "then one key per 1/QPS")
	clk.Step(500 * time.Millisecond)
	assert.Equal(t, 5, q.Len())
}

func TestQueueShutDown(t *testing.T) {
	t.Parallel()
	clk := NewFakeClock()
	q := NewQueue[string](&QueueOptions{Clock: clk})
	q.Add("a")
	q.Add("b")
	q.AddAfter("later", time.Second)
	q.ShutDown()
	assert.True(t, q.ShuttingDown())
	q.Add("c")
	q.AddRateLimited("d")
	assert.Equal(t, 0, clk.pending(), "delayed keys are dropped with their timer")
	clk.Step(time.Hour)
	assert.Equal(t, "a", getNow(t, q), "keys queued before ShutDown are still handed out")
	assert.Equal(t, "b", getNow(t, q))
	_, err := q.Get(t.Context())
	assert.ErrorIs(t, err, ErrQueueShutDown)
}

func TestQueueGetEndsWithContext(t *testing.T) {
	t.Parallel()
	q := NewQueue[string](nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		_, err := q.Get(ctx)
		done <- err
	}()
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}

func TestQueueGetWakesOnAdd(t *testing.T) {
	t.Parallel()
	q := NewQueue[string](nil)
	got := make(chan string)
	go func() {
		k, err := q.Get(t.Context())
		assert.NoError(t, err)
		got <- k
	}()
	q.Add("x")
	assert.Equal(t, "x", <-got)
}

func TestQueueShutDownWithDrainWaitsForWork(t *testing.T) {
	t.Parallel()
	q := NewQueue[string](nil)
	q.Add("a")
	q.Add("b")
	k := getNow(t, q)
	drained := make(chan error)
	go func() { drained <- q.ShutDownWithDrain(t.Context()) }()
	// A worker keeps taking keys until the queue says it is shut down.
	var processed []string
	processed = append(processed, k)
	q.Done(k)
	for {
		k, err := q.Get(t.Context())
		if errors.Is(err, ErrQueueShutDown) {
			break
		}
		require.NoError(t, err)
		select {
		case <-drained:
			t.Fatal("drain returned while a key was still being processed")
		default:
		}
		processed = append(processed, k)
		q.Done(k)
	}
	require.NoError(t, <-drained)
	assert.Equal(t, []string{"a", "b"}, processed)

	q2 := NewQueue[string](nil)
	q2.Add("stuck")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, q2.ShutDownWithDrain(ctx), context.Canceled, "a drain nobody works on ends with its context")
}

func TestQueueRun(t *testing.T) {
	t.Parallel()
	clk := NewFakeClock()
	q := NewQueue[string](&QueueOptions{Clock: clk, NoOverallLimit: true, Logger: quietLogger()})
	type call struct {
		key string
		n   int
	}
	calls := make(chan call, 100)
	var mu sync.Mutex
	count := map[string]int{}
	reconcile := func(_ context.Context, key string) error {
		mu.Lock()
		count[key]++
		n := count[key]
		mu.Unlock()
		calls <- call{key, n}
		switch {
		case key == "flaky" && n < 3:
			return fmt.Errorf("attempt %d failed", n)
		case key == "panics" && n == 1:
			panic("boom")
		case key == "periodic" && n == 1:
			return RequeueAfter(time.Minute)
		}
		return nil
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		q.Run(ctx, 2, reconcile)
		close(done)
	}()
	q.Add("flaky")
	q.Add("panics")
	q.Add("periodic")
	seen := map[string]int{}
	wait := func(n int) {
		for range n {
			c := <-calls
			seen[c.key] = c.n
		}
	}
	wait(3)
	// flaky failed once, panics panicked once: both wait DefaultBaseDelay.
	waitQueue(t, q, func() bool { return len(q.waiting) == 3 && q.failures["flaky"] == 1 && q.failures["panics"] == 1 })
	clk.Step(DefaultBaseDelay)
	wait(2)
	assert.Equal(t, 2, seen["flaky"])
	assert.Equal(t, 2, seen["panics"], "a panicking reconcile is recovered and retried")
	waitQueue(t, q, func() bool { return len(q.waiting) == 2 && q.failures["flaky"] == 2 && q.failures["panics"] == 0 })
	clk.Step(2 * DefaultBaseDelay)
	wait(1)
	assert.Equal(t, 3, seen["flaky"], "the second retry waits twice the base delay")
	waitQueue(t, q, func() bool { return len(q.waiting) == 1 && q.failures["flaky"] == 0 })
	clk.Step(time.Minute)
	wait(1)
	assert.Equal(t, 2, seen["periodic"], "RequeueAfter comes back after its delay")
	cancel()
	<-done
	assert.True(t, q.ShuttingDown())
}

// waitQueue waits until cond, called with q.mu held, holds; the queue
// broadcasts every change of its state.
func waitQueue[K comparable](t *testing.T, q *Queue[K], cond func() bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	q.mu.Lock()
	for !cond() {
		wake := q.wake
		q.mu.Unlock()
		select {
		case <-wake:
		case <-timeout:
			t.Fatal("queue never reached the expected state")
		}
		q.mu.Lock()
	}
	q.mu.Unlock()
}

func TestQueueConcurrentNeverProcessesAKeyTwiceAtOnce(t *testing.T) {
	t.Parallel()
	q := NewQueue[int](&QueueOptions{Logger: quietLogger()})
	var (
		mu       sync.Mutex
		inFlight = map[int]bool{}
		lastSeen = map[int]int64{} // key -> version seen by the last reconcile
		version  = map[int]int64{} // key -> version at its last Add
		overlaps atomic.Int64
	)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan struct{})
	go func() {
		q.Run(ctx, 4, func(_ context.Context, k int) error {
			mu.Lock()
			if inFlight[k] {
				overlaps.Add(1)
			}
			inFlight[k] = true
			lastSeen[k] = version[k]
			mu.Unlock()
			mu.Lock()
			inFlight[k] = false
			mu.Unlock()
			return nil
		})
		close(done)
	}()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				k := (i*7 + w) % 50
				mu.Lock()
				version[k]++
				mu.Unlock()
				q.Add(k)
			}
		})
	}
	wg.Wait()
	require.NoError(t, q.ShutDownWithDrain(t.Context()))
	<-done
	assert.Zero(t, overlaps.Load(), "a key was processed by two workers at once")
	mu.Lock()
	defer mu.Unlock()
	for k, v := range version {
		assert.Equal(t, v, lastSeen[k], "key %d: the last add was processed", k)
	}
}

// TestQueueGivesBackMemoryAfterABurst queues 100,000 keys, works them all
// off, and checks the heap returns to where it was: the drained slice and
// the emptied dedup map are not kept at their peak size. Not parallel: it
// reads heap statistics.
func TestQueueGivesBackMemoryAfterABurst(t *testing.T) {
	heap := func() int64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	q := NewQueue[Key](nil)
	base := heap()
	for i := range 100000 {
		q.Add(Key{"ns", fmt.Sprint(i)})
	}
	peak := heap() - base
	for range 100000 {
		k := getNow(t, q)
		q.Done(k)
	}
	left := heap() - base
	t.Logf("queue of 100,000 keys: %d B at the peak, %d B once drained", peak, left)
	assert.Less(t, left, peak/20)
	runtime.KeepAlive(q)
}
