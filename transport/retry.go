package transport

import (
	"context"
	"errors"
	"io"
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
//     jittered exponential backoff.
//
// A wait that would outlive ctx's deadline is not attempted.
func (c *Client) retryDelay(ctx context.Context, method string, resp *http.Response, attempt int) (time.Duration, bool) {
	var d time.Duration
	secs, hasRA := parseRetryAfter(resp.Header)
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusInternalServerError:
	default:
		return 0, false
	}
	switch {
	case hasRA:
		d = time.Duration(secs) * time.Second
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

// parseRetryAfter reads Retry-After as seconds or as an HTTP date.
func parseRetryAfter(h http.Header) (int, bool) {
	return parseRetryAfterAt(h, time.Now())
}

// parseRetryAfterAt is parseRetryAfter with a date counted from now.
func parseRetryAfterAt(h http.Header, now time.Time) (int, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0, false
		}
		return n, true
	}
	if t, err := http.ParseTime(v); err == nil {
		secs := int(t.Sub(now).Round(time.Second) / time.Second)
		return max(secs, 0), true
	}
	return 0, false
}
