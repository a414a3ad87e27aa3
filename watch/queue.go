package watch

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"
)

// Clock is the time source of a Queue: Now, and AfterFunc, which calls f
// once d has passed unless the returned stop function is called first (stop
// reports whether it prevented the call). The real clock is the time
// package's; tests pass a fake one to step time without sleeping.
//
// A Clock must be safe for concurrent use.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// realClock is the time package.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// Defaults of QueueOptions: the delays and overall limit of client-go's
// default controller rate limiter.
const (
	DefaultBaseDelay = 5 * time.Millisecond
	DefaultMaxDelay  = 1000 * time.Second
	DefaultQueueQPS  = 10
	DefaultBurst     = 100
)

// ErrQueueShutDown is returned by Queue.Get once the queue is shut down and
// holds no more keys.
var ErrQueueShutDown = errors.New("watch: queue is shut down")

// QueueOptions configure a Queue. Nil means defaults. NewQueue only reads
// the options.
type QueueOptions struct {
	// BaseDelay is the first retry delay of a key handed to AddRateLimited;
	// each further failure of the key doubles it, up to MaxDelay, until
	// Forget. 0 means DefaultBaseDelay, MaxDelay 0 means DefaultMaxDelay.
	BaseDelay, MaxDelay time.Duration
	// QPS and Burst bound AddRateLimited across all keys with a token
	// bucket (0 means DefaultQueueQPS and DefaultBurst); a key waits for
	// the longer of its own backoff and the bucket. NoOverallLimit turns
	// the bucket off.
	QPS            float64
	Burst          int
	NoOverallLimit bool
	// Clock is the time source; nil means the real clock.
	Clock Clock
	// Logger receives reconcile failures and panics from Run; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Queue is a work queue for controllers, keyed by K (often a Key). A key
// added many times before a worker takes it is processed once; a key added
// while a worker processes it is processed again after that worker calls
// Done, never by two workers at once. AddRateLimited retries a key with
// per-key exponential backoff under an overall rate limit, until Forget.
// ShutDown stops new keys; workers still get the keys already queued, and
// ShutDownWithDrain waits until they have all been processed.
//
// A Queue is safe for concurrent use by multiple goroutines.
type Queue[K comparable] struct {
	clock  Clock
	logger *slog.Logger

	mu         sync.Mutex
	queue      []K // FIFO of keys ready for a worker
	head       int // queue[head:] are waiting
	dirty      map[K]struct{}
	dirtyPeak  int // most keys dirty at once since the map was made
	processing map[K]struct{}
	shutdown   bool
	wake       chan struct{} // closed when the queue changes

	// delayed keys: a heap by time, one entry per key (the earliest).
	waiting   waitHeap[K]
	waitIndex map[K]*waitEntry[K]
	stopTimer func() bool
	timerAt   time.Time

	// rate limiting
	base, max time.Duration
	failures  map[K]int
	limited   bool
	qps       float64
	burst     float64
	tokens    float64
	last      time.Time
}

// NewQueue returns an empty queue.
func NewQueue[K comparable](opts *QueueOptions) *Queue[K] {
	var o QueueOptions
	if opts != nil {
		o = *opts
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = DefaultBaseDelay
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultMaxDelay
	}
	if o.QPS <= 0 {
		o.QPS = DefaultQueueQPS
	}
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Queue[K]{
		clock:      o.Clock,
		logger:     o.Logger,
		dirty:      map[K]struct{}{},
		processing: map[K]struct{}{},
		wake:       make(chan struct{}),
		waitIndex:  map[K]*waitEntry[K]{},
		base:       o.BaseDelay,
		max:        o.MaxDelay,
		failures:   map[K]int{},
		limited:    !o.NoOverallLimit,
		qps:        o.QPS,
		burst:      float64(o.Burst),
		tokens:     float64(o.Burst),
		last:       o.Clock.Now(),
	}
}

// broadcast wakes every waiter; q.mu must be held. Every change of the
// queue's state broadcasts, so a waiter can wait for any condition.
func (q *Queue[K]) broadcast() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// Add queues key unless it is already waiting for a worker. A key being
// processed is queued again and handed out after Done. After ShutDown, Add
// does nothing.
func (q *Queue[K]) Add(key K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.add(key)
}

func (q *Queue[K]) add(key K) {
	if q.shutdown {
		return
	}
	if _, ok := q.dirty[key]; ok {
		return
	}
	q.dirty[key] = struct{}{}
	q.dirtyPeak = max(q.dirtyPeak, len(q.dirty))
	if _, ok := q.processing[key]; ok {
		return
	}
	q.queue = append(q.queue, key)
	q.broadcast()
}

// AddAfter adds key once d has passed (at once when d <= 0). A key already
// waiting keeps the earlier of its two times.
func (q *Queue[K]) AddAfter(key K, d time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addAfter(key, d)
}

func (q *Queue[K]) addAfter(key K, d time.Duration) {
	if q.shutdown {
		return
	}
	if d <= 0 {
		q.add(key)
		return
	}
	at := q.clock.Now().Add(d)
	if e, ok := q.waitIndex[key]; ok {
		if at.Before(e.at) {
			e.at = at
			heap.Fix(&q.waiting, e.index)
		}
	} else {
		e := &waitEntry[K]{key: key, at: at}
		heap.Push(&q.waiting, e)
		q.waitIndex[key] = e
	}
	q.armTimer()
	q.broadcast()
}

// armTimer makes sure a timer fires at the earliest waiting time; q.mu held.
func (q *Queue[K]) armTimer() {
	if len(q.waiting) == 0 {
		if q.stopTimer != nil {
			q.stopTimer()
			q.stopTimer = nil
		}
		return
	}
	next := q.waiting[0].at
	if q.stopTimer != nil && !q.timerAt.After(next) {
		return // the armed timer fires no later than needed
	}
	if q.stopTimer != nil {
		q.stopTimer()
	}
	q.timerAt = next
	q.stopTimer = q.clock.AfterFunc(next.Sub(q.clock.Now()), q.fire)
}

// fire moves every due key into the queue and re-arms the timer.
func (q *Queue[K]) fire() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stopTimer = nil
	if q.shutdown {
		return
	}
	now := q.clock.Now()
	for len(q.waiting) > 0 && !q.waiting[0].at.After(now) {
		e := heap.Pop(&q.waiting).(*waitEntry[K])
		delete(q.waitIndex, e.key)
		q.add(e.key)
	}
	q.armTimer()
}

// AddRateLimited adds key after its backoff: DefaultBaseDelay (or
// QueueOptions.BaseDelay) doubled for each earlier AddRateLimited of the
// key since its last Forget, capped at MaxDelay, and no sooner than the
// overall rate limit allows.
func (q *Queue[K]) AddRateLimited(key K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shutdown {
		return
	}
	q.addAfter(key, q.when(key))
}

// when returns the delay of the next rate-limited add of key; q.mu held.
func (q *Queue[K]) when(key K) time.Duration {
	n := q.failures[key]
	q.failures[key] = n + 1
	d := q.max
	if n < 62 {
		if b := float64(q.base) * math.Pow(2, float64(n)); b < float64(q.max) {
			d = time.Duration(b)
		}
	}
	if q.limited {
		now := q.clock.Now()
		if now.After(q.last) {
			q.tokens = min(q.burst, q.tokens+now.Sub(q.last).Seconds()*q.qps)
			q.last = now
		}
		q.tokens--
		if q.tokens < 0 {
			d = max(d, time.Duration(-q.tokens/q.qps*float64(time.Second)))
		}
	}
	return d
}

// Forget clears key's backoff, so its next AddRateLimited waits only the
// base delay. Call it when the key was processed successfully. It does not
// remove the key from the queue.
func (q *Queue[K]) Forget(key K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.failures, key)
	q.broadcast()
}

// NumRequeues returns how many times key went through AddRateLimited since
// its last Forget.
func (q *Queue[K]) NumRequeues(key K) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.failures[key]
}

// Len returns the number of keys waiting for a worker (not the delayed
// ones, nor those being processed).
func (q *Queue[K]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue) - q.head
}

// Get blocks until a key is ready and returns it, marking it as being
// processed: the caller must call Done(key) when finished. It returns
// ErrQueueShutDown once the queue is shut down and empty, and ctx's error
// when ctx ends first.
func (q *Queue[K]) Get(ctx context.Context) (K, error) {
	q.mu.Lock()
	for {
		if q.head < len(q.queue) {
			key := q.queue[q.head]
			var zero K
			q.queue[q.head] = zero
			q.head++
			if q.head == len(q.queue) {
				// Drained. A burst (every key of a big informer at start)
				// leaves a large slice and map behind; Go maps never
				// shrink, so both are given back and start small again.
				if cap(q.queue) > 1024 {
					q.queue = nil
				}
				q.queue, q.head = q.queue[:0], 0
			} else if q.head > 64 && q.head*2 > len(q.queue) {
				n := copy(q.queue, q.queue[q.head:])
				clear(q.queue[n:])
				q.queue, q.head = q.queue[:n], 0
			}
			q.processing[key] = struct{}{}
			delete(q.dirty, key)
			if len(q.dirty) == 0 && q.dirtyPeak > 1024 {
				q.dirty, q.dirtyPeak = map[K]struct{}{}, 0
			}
			q.mu.Unlock()
			return key, nil
		}
		if q.shutdown {
			q.mu.Unlock()
			var zero K
			return zero, ErrQueueShutDown
		}
		wake := q.wake
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			var zero K
			return zero, ctx.Err()
		case <-wake:
		}
		q.mu.Lock()
	}
}

// Done marks key as processed. If it was added again meanwhile, it is
// queued for the next Get.
func (q *Queue[K]) Done(key K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, key)
	if _, ok := q.dirty[key]; ok {
		q.queue = append(q.queue, key)
	}
	q.broadcast()
}

// ShutDown stops the queue: later adds are ignored, delayed keys are
// dropped, and Get returns the keys already queued, then ErrQueueShutDown.
func (q *Queue[K]) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shutdown {
		return
	}
	q.shutdown = true
	if q.stopTimer != nil {
		q.stopTimer()
		q.stopTimer = nil
	}
	q.waiting = nil
	clear(q.waitIndex)
	q.broadcast()
}

// ShutDownWithDrain shuts the queue down and waits until every key already
// queued or being processed is Done (workers must keep calling Get). It
// returns ctx's error if ctx ends first.
func (q *Queue[K]) ShutDownWithDrain(ctx context.Context) error {
	q.ShutDown()
	q.mu.Lock()
	for q.head < len(q.queue) || len(q.processing) > 0 {
		wake := q.wake
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return fmt.Errorf("drain queue: %w", ctx.Err())
		case <-wake:
		}
		q.mu.Lock()
	}
	q.mu.Unlock()
	return nil
}

// ShuttingDown reports whether ShutDown was called.
func (q *Queue[K]) ShuttingDown() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shutdown
}

// RequeueAfter returns an error that tells Run to process the key again
// after d without counting a failure (for periodic checks).
func RequeueAfter(d time.Duration) error { return &requeueError{after: d} }

type requeueError struct{ after time.Duration }

func (e *requeueError) Error() string { return fmt.Sprintf("requeue after %v", e.after) }

// Run starts workers goroutines (at least one) that take keys and call
// reconcile for each. A nil error forgets the key's backoff; an error
// returned by RequeueAfter forgets it and adds the key after that delay;
// any other error (or a panic, which is recovered) is logged and the key
// retried with AddRateLimited. Run returns when ctx ends (the workers finish
// the key in hand; the queue is shut down) or when the queue is shut down
// and drained.
func (q *Queue[K]) Run(ctx context.Context, workers int, reconcile func(ctx context.Context, key K) error) {
	workers = max(workers, 1)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				key, err := q.Get(ctx)
				if err != nil {
					return
				}
				err = q.call(ctx, key, reconcile)
				var rq *requeueError
				switch {
				case err == nil:
					q.Forget(key)
				case errors.As(err, &rq):
					q.Forget(key)
					q.AddAfter(key, rq.after)
				default:
					if ctx.Err() == nil {
						q.logger.Error("reconcile failed; retrying with backoff", "key", fmt.Sprint(key), "err", err)
					}
					q.AddRateLimited(key)
				}
				q.Done(key)
			}
		})
	}
	wg.Wait()
	q.ShutDown()
}

// call runs reconcile, turning a panic into an error.
func (q *Queue[K]) call(ctx context.Context, key K, reconcile func(context.Context, K) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reconcile panicked: %v", r)
		}
	}()
	return reconcile(ctx, key)
}

type waitEntry[K comparable] struct {
	key   K
	at    time.Time
	index int
}

// waitHeap orders delayed keys by time.
type waitHeap[K comparable] []*waitEntry[K]

func (h waitHeap[K]) Len() int           { return len(h) }
func (h waitHeap[K]) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h waitHeap[K]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *waitHeap[K]) Push(x any) {
	e := x.(*waitEntry[K])
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *waitHeap[K]) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
