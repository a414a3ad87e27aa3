package transport

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// tokenBucket is a client-side rate limiter: it holds up to burst tokens,
// refilled at qps per second; each request takes one, waiting when none is
// left. Waiters are served in arrival order because each reserves its
// token (driving the count negative) before it sleeps.
type tokenBucket struct {
	qps   float64
	burst float64
	now   func() time.Time

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newTokenBucket(qps float64, burst int, now func() time.Time) *tokenBucket {
	if burst < 1 {
		burst = 1
	}
	return &tokenBucket{qps: qps, burst: float64(burst), now: now, tokens: float64(burst), last: now()}
}

// reserve takes a token at time now and returns how long its holder must
// wait before using it.
func (b *tokenBucket) reserve(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.qps)
		b.last = now
	}
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.qps * float64(time.Second))
}

// unreserve gives back a token that was reserved but not used.
func (b *tokenBucket) unreserve() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = min(b.burst, b.tokens+1)
}

// Wait blocks until a token is available or ctx ends. When ctx's deadline
// comes before the token would, it fails at once instead of sleeping.
func (b *tokenBucket) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := b.now()
	d := b.reserve(now)
	if d == 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		b.unreserve()
		return fmt.Errorf("waiting %v would exceed the deadline: %w", d, context.DeadlineExceeded)
	}
	if err := sleepCtx(ctx, d); err != nil {
		b.unreserve()
		return err
	}
	return nil
}
