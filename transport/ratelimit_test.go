package transport

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenBucketReserve(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	b := newTokenBucket(2, 3, clock.Now) // 2/s, burst 3
	now := clock.Now()
	// The burst is free.
	for i := 0; i < 3; i++ {
		assert.Zero(t, b.reserve(now), "burst token %d", i)
	}
	// Then each reservation waits 0.5s longer than the previous one.
	assert.Equal(t, 500*time.Millisecond, b.reserve(now))
	assert.Equal(t, time.Second, b.reserve(now))
	// Time passes: tokens refill at QPS, never beyond the burst.
	now = now.Add(10 * time.Second)
	for i := 0; i < 3; i++ {
		assert.Zero(t, b.reserve(now), "refilled token %d", i)
	}
	assert.Equal(t, 500*time.Millisecond, b.reserve(now))
	// Giving a token back shortens the queue.
	b.unreserve()
	assert.Equal(t, 500*time.Millisecond, b.reserve(now))
}

func TestTokenBucketDefaultsBurst(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	b := newTokenBucket(10, 0, clock.Now)
	assert.Zero(t, b.reserve(clock.Now()))
	assert.Equal(t, 100*time.Millisecond, b.reserve(clock.Now()))
}

func TestTokenBucketWaitContext(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	b := newTokenBucket(1, 1, clock.Now) // frozen clock: no refill
	require.NoError(t, b.Wait(context.Background()))

	// A deadline before the token fails at once and gives the token back.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err := b.Wait(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, time.Second, b.reserve(clock.Now()), "the failed waiter's token was returned")
	b.unreserve()

	// Cancellation while waiting returns the context's error.
	ctx2, cancel2 := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx2) }()
	cancel2()
	assert.ErrorIs(t, <-done, context.Canceled)

	// An already-cancelled context takes no token.
	assert.ErrorIs(t, b.Wait(ctx2), context.Canceled)
	assert.Equal(t, time.Second, b.reserve(clock.Now()))
}

func TestClientRateLimit(t *testing.T) {
	t.Parallel()
	rec, srv := newRecorded(t, nil)
	c, err := New(&Config{Host: srv.URL, QPS: 1, Burst: 2})
	require.NoError(t, err)
	clock := newFakeClock()
	c.limiter.now = clock.Now
	c.limiter.last = clock.Now()

	ctx := context.Background()
	for i := 0; i < 2; i++ {
		_, err := c.Do(ctx, &Request{Path: "/api"})
		require.NoError(t, err)
	}
	// The bucket is empty and the clock frozen: a third request with a
	// short deadline is refused by the limiter without reaching the server.
	// A deadline shorter than the 1s wait makes the limiter fail at once
	// instead of sleeping.
	short := func() context.Context {
		c, cancel := context.WithTimeout(ctx, 900*time.Millisecond)
		t.Cleanup(cancel)
		return c
	}
	_, err = c.Do(short(), &Request{Path: "/api"})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "rate limiter")
	assert.Equal(t, 2, rec.count())

	// NoRateLimit bypasses the bucket. (No deadline here: on a loaded
	// machine a real request may take longer than any short one.)
	_, err = c.Do(ctx, &Request{Path: "/api", NoRateLimit: true})
	require.NoError(t, err)
	assert.Equal(t, 3, rec.count())
	assert.Equal(t, time.Second, c.limiter.reserve(clock.Now()), "NoRateLimit took no token")
	c.limiter.unreserve()

	// After a second of (fake) time there is a token again, and the request
	// takes it.
	clock.Advance(time.Second)
	assert.Zero(t, c.limiter.reserve(clock.Now()), "refilled")
	c.limiter.unreserve()
	_, err = c.Do(ctx, &Request{Path: "/api", Method: http.MethodGet})
	require.NoError(t, err)
	assert.Equal(t, 4, rec.count())
	assert.Equal(t, time.Second, c.limiter.reserve(clock.Now()), "the request took the token")
	c.limiter.unreserve()
}
