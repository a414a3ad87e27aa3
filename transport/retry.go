package transport

import (
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// retryDelay decides whether resp is worth another attempt and how long to
// wait first:
//   - with a Retry-After header, 429, 500, 503 and 504 are retried for every
//     method (the body is a byte slice and can be replayed), waiting what the
//     server asked, capped at MaxRetryWait;
//   - without one, 429, 503 and 504 are retried only for GET and HEAD, with
//     jittered exponential backoff;
//   - a NoReplay request only after a 429 (with a Retry-After).
//
// A wait that would outlive ctx's deadline is not attempted.
func (c *Client) retryDelay(ctx context.Context, req *Request, method string, resp *http.Response, attempt int) (time.Duration, bool) {
	var d time.Duration
	ra, hasRA := retryAfterDuration(resp.Header, time.Now())
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
	case http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusInternalServerError:
		// The request may have been acted on (a timeout after the write, an
		// aggregated API failing half-way): never repeat a NoReplay one.
		if req.NoReplay {
			return 0, false
		}
	default:
		return 0, false
	}
	switch {
	case hasRA:
		d = ra
	case resp.StatusCode != http.StatusInternalServerError && idempotentRead(method):
		d = c.backoffFor(attempt)
	default:
		return 0, false
	}
	if d > c.maxRetryWait {
		d = c.maxRetryWait
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return 0, false
	}
	return d, true
}

// backoffFor returns the jittered backoff before retry number attempt+1:
// RetryBackoff*2^attempt, scaled by a random factor in [0.5, 1), capped at
// MaxRetryWait.
func (c *Client) backoffFor(attempt int) time.Duration {
	d := c.backoff << min(attempt, 16)
	if d <= 0 || d > c.maxRetryWait {
		d = c.maxRetryWait
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func idempotentRead(method string) bool {
	return method == http.MethodGet || method == http.MethodHead
}

// retryableConnError reports whether err is a connection failure worth
// retrying: reset, refused, or the connection closing before a response.
// Only GET and HEAD are retried, since the server may have acted on a write.
func retryableConnError(method string, err error) bool {
	if !idempotentRead(method) {
		return false
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// maxRetryAfterSeconds is the largest Retry-After taken at its word; a larger
// value (up to any number of digits) counts as this many seconds, so that
// converting it to a time.Duration cannot overflow.
const maxRetryAfterSeconds = int64(math.MaxInt64 / time.Second)

// parseRetryAfter reads Retry-After as seconds or as an HTTP date.
func parseRetryAfter(h http.Header) (int, bool) {
	return parseRetryAfterAt(h, time.Now())
}

// parseRetryAfterAt is parseRetryAfter with a date counted from now.
func parseRetryAfterAt(h http.Header, now time.Time) (int, bool) {
	d, ok := retryAfterDuration(h, now)
	return int(d / time.Second), ok
}

// retryAfterDuration reads Retry-After as whole seconds (saturating at
// maxRetryAfterSeconds, never overflowing) or as an HTTP date counted from
// now (a date in the past means 0). A negative or malformed value counts as
// no Retry-After.
func retryAfterDuration(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > maxRetryAfterSeconds { // only a range error is possible
			n = maxRetryAfterSeconds
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		// Sub saturates instead of overflowing.
		return max(t.Sub(now).Round(time.Second), 0), true
	}
	return 0, false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
