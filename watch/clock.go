package watch

import (
	"math/rand/v2"
	"time"
)

// Backoff is the schedule of waits between failed attempts: Initial, then
// multiplied by Factor after each failure up to Max, each wait spread by
// Jitter (a wait of d lasts between d·(1-Jitter) and d·(1+Jitter), never
// more than Max), and back to Initial once ResetAfter has passed without a
// failure. It is a plain value.
type Backoff struct {
	Initial    time.Duration
	Max        time.Duration
	Factor     float64
	Jitter     float64
	ResetAfter time.Duration
}

// DefaultBackoff is client-go's and kube-rs's watch schedule: 0.8 s
// doubling to 30 s, jittered, reset after 2 minutes of health.
var DefaultBackoff = Backoff{Initial: 800 * time.Millisecond, Max: 30 * time.Second, Factor: 2, Jitter: 0.25, ResetAfter: 2 * time.Minute}

// withDefaults fills the zero fields from DefaultBackoff.
func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = DefaultBackoff.Initial
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoff.Max
	}
	if b.Factor < 1 {
		b.Factor = DefaultBackoff.Factor
	}
	if b.Jitter < 0 || b.Jitter > 1 {
		b.Jitter = DefaultBackoff.Jitter
	}
	if b.ResetAfter <= 0 {
		b.ResetAfter = DefaultBackoff.ResetAfter
	}
	return b
}

// Step returns the wait before retry number attempt (0 for the first
// retry), with r a random number in [0, 1).
func (b Backoff) Step(attempt int, r float64) time.Duration {
	b = b.withDefaults()
	d := float64(b.Initial)
	for i := 0; i < attempt && d < float64(b.Max); i++ {
		d *= b.Factor
	}
	d = min(d, float64(b.Max))
	d *= 1 - b.Jitter + 2*b.Jitter*r
	return min(time.Duration(d), b.Max)
}

// randFloat is the source of jitter.
func randFloat() float64 { return rand.Float64() }
