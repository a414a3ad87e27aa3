package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordSleeps replaces c's sleep with one that records the waits and
// returns at once (or the context's error).
func recordSleeps(c *Client) func() []time.Duration {
	var mu sync.Mutex
	var waits []time.Duration
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return ctx.Err()
	}
	return func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), waits...)
	}
}

// failing answers the first n requests with status (and Retry-After when
// retryAfter is not empty), then 200.
func failing(n, status int, retryAfter string) func(w http.ResponseWriter, r *http.Request, i int) {
	return func(w http.ResponseWriter, r *http.Request, i int) {
		if i <= n {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(status)
			return
		}
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(append([]byte("ok:"), body...))
	}
}

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		method     string
		status     int
		retryAfter string
		fails      int
		wantReqs   int
		wantOK     bool
	}{
		{"429 with Retry-After, POST", http.MethodPost, 429, "1", 2, 3, true},
		{"503 with Retry-After, PUT", http.MethodPut, 503, "0", 1, 2, true},
		{"504 with Retry-After, DELETE", http.MethodDelete, 504, "1", 1, 2, true},
		{"500 with Retry-After, POST", http.MethodPost, 500, "1", 1, 2, true},
		{"500 without Retry-After, GET", http.MethodGet, 500, "", 1, 1, false},
		{"503 without Retry-After, GET", http.MethodGet, 503, "", 1, 2, true},
		{"503 without Retry-After, POST", http.MethodPost, 503, "", 1, 1, false},
		{"429 without Retry-After, PATCH", http.MethodPatch, 429, "", 1, 1, false},
		{"502 is not retried", http.MethodGet, 502, "1", 1, 1, false},
		{"gives up after MaxRetries", http.MethodGet, 429, "1", 10, 4, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, srv := newRecorded(t, failing(tc.fails, tc.status, tc.retryAfter))
			c, err := New(&Config{Host: srv.URL, MaxRetryWait: 500 * time.Millisecond})
			require.NoError(t, err)
			waits := recordSleeps(c)
			resp, err := c.Do(context.Background(), &Request{Method: tc.method, Path: "/api", Body: []byte(`{"n":1}`)})
			assert.Equal(t, tc.wantReqs, rec.count())
			assert.Len(t, waits(), tc.wantReqs-1)
			if !tc.wantOK {
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tc.status, apiErr.StatusCode)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, `ok:{"n":1}`, string(resp.Body), "the body is replayed")
			for _, r := range rec.requests() {
				assert.Equal(t, tc.method, r.Method)
			}
		})
	}
}

func TestRetryAfterHonouredAndCapped(t *testing.T) {
	t.Parallel()
	_, srv := newRecorded(t, func(w http.ResponseWriter, r *http.Request, i int) {
		switch i {
		case 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(429)
		case 2:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
		case 3:
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(503)
		default:
			_, _ = io.WriteString(w, "ok")
		}
	})
	c, err := New(&Config{Host: srv.URL, MaxRetryWait: 2 * time.Second})
	require.NoError(t, err)
	waits := recordSleeps(c)
	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{0, time.Second, 2 * time.Second}, waits())
}

func TestRetryRealSleepTiny(t *testing.T) {
	t.Parallel()
	// Uses the real sleep with Retry-After: 0 to exercise the timer path.
	rec, srv := newRecorded(t, failing(2, 429, "0"))
	c, err := New(&Config{Host: srv.URL})
	require.NoError(t, err)
	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	require.NoError(t, err)
	assert.Equal(t, 3, rec.count())
}

func TestRetryBackoffJittered(t *testing.T) {
	t.Parallel()
	rec, srv := newRecorded(t, failing(3, 503, ""))
	c, err := New(&Config{Host: srv.URL, RetryBackoff: 100 * time.Millisecond, MaxRetryWait: 300 * time.Millisecond})
	require.NoError(t, err)
	waits := recordSleeps(c)
	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	require.NoError(t, err)
	assert.Equal(t, 4, rec.count())
	w := waits()
	require.Len(t, w, 3)
	bounds := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}
	for i, d := range w {
		assert.GreaterOrEqual(t, d, bounds[i]/2, "wait %d", i)
		assert.LessOrEqual(t, d, bounds[i], "wait %d", i)
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	rec, srv := newRecorded(t, failing(10, 429, "1"))
	c, err := New(&Config{Host: srv.URL})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	c.sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return sleepCtx(ctx, d)
	}
	_, err = c.Do(ctx, &Request{Path: "/api"})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, rec.count())

	// A wait that would outlive the deadline is not attempted: the 429 is
	// returned as is.
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Hour)
	defer cancel2()
	rec2, srv2 := newRecorded(t, failing(10, 429, "7200"))
	c2, err := New(&Config{Host: srv2.URL, MaxRetryWait: 3 * time.Hour})
	require.NoError(t, err)
	waits := recordSleeps(c2)
	_, err = c2.Do(ctx2, &Request{Path: "/api"})
	assert.ErrorIs(t, err, ErrTooManyRequests)
	assert.Empty(t, waits())
	assert.Equal(t, 1, rec2.count())
}

func TestRetriesDisabled(t *testing.T) {
	t.Parallel()
	rec, srv := newRecorded(t, failing(1, 429, "0"))
	c, err := New(&Config{Host: srv.URL, MaxRetries: -1})
	require.NoError(t, err)
	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	assert.ErrorIs(t, err, ErrTooManyRequests)
	assert.Equal(t, 1, rec.count())
}

// flakyListener resets the first n connections it accepts.
type flakyListener struct {
	net.Listener
	mu    sync.Mutex
	n     int
	reset int
}

func (l *flakyListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		drop := l.reset < l.n
		if drop {
			l.reset++
		}
		l.mu.Unlock()
		if !drop {
			return conn, nil
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST instead of FIN
		}
		_ = conn.Close()
	}
}

func TestConnectionResetRetriedOnlyForReads(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method string
		ok     bool
	}{{http.MethodGet, true}, {http.MethodHead, true}, {http.MethodPost, false}, {http.MethodDelete, false}} {
		t.Run(tc.method, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			srv := httptest.NewUnstartedServer(rec)
			fl := &flakyListener{Listener: srv.Listener, n: 2}
			srv.Listener = fl
			srv.Start()
			t.Cleanup(srv.Close)
			c, err := New(&Config{Host: srv.URL})
			require.NoError(t, err)
			waits := recordSleeps(c)
			var body []byte
			if tc.method == http.MethodPost {
				body = []byte(`{}`)
			}
			_, err = c.Do(context.Background(), &Request{Method: tc.method, Path: "/api", Body: body})
			if tc.ok {
				require.NoError(t, err)
				assert.Equal(t, 1, rec.count())
				assert.Len(t, waits(), 2)
				return
			}
			require.Error(t, err)
			var apiErr *APIError
			assert.False(t, errors.As(err, &apiErr))
			assert.Zero(t, rec.count())
			assert.Empty(t, waits())
		})
	}
}

func TestConnectionRefusedRetriedForGet(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	c, err := New(&Config{Host: "http://" + addr})
	require.NoError(t, err)
	waits := recordSleeps(c)
	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	require.Error(t, err)
	assert.Len(t, waits(), DefaultMaxRetries)
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"0": 0, "5": 5, " 7 ": 7} {
		got, ok := parseRetryAfter(http.Header{"Retry-After": {in}})
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "-1", "soon"} {
		_, ok := parseRetryAfter(http.Header{"Retry-After": {in}})
		assert.False(t, ok, in)
	}
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	date := now.Add(90 * time.Second).Format(http.TimeFormat)
	got, ok := parseRetryAfterAt(http.Header{"Retry-After": {date}}, now)
	assert.True(t, ok)
	assert.Equal(t, 90, got)
	past := now.Add(-time.Minute).Format(http.TimeFormat)
	got, ok = parseRetryAfterAt(http.Header{"Retry-After": {past}}, now)
	assert.True(t, ok)
	assert.Zero(t, got, "a date in the past means retry now")
}

// cutBody answers the first n requests with a body cut off mid-way, then
// with the whole body.
func cutBody(n int) func(w http.ResponseWriter, r *http.Request, i int) {
	return func(w http.ResponseWriter, r *http.Request, i int) {
		if i > n {
			_, _ = io.WriteString(w, `{"items":[]}`)
			return
		}
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"items":[`)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}
}

func TestCutOffBodyRetriedForReads(t *testing.T) {
	t.Parallel()
	rec, srv := newRecorded(t, cutBody(2))
	c, err := New(&Config{Host: srv.URL})
	require.NoError(t, err)
	waits := recordSleeps(c)
	resp, err := c.Do(context.Background(), &Request{Path: "/api/v1/pods"})
	require.NoError(t, err)
	assert.Equal(t, `{"items":[]}`, string(resp.Body))
	assert.Equal(t, 3, rec.count())
	assert.Len(t, waits(), 2)

	// A write is not repeated.
	rec2, srv2 := newRecorded(t, cutBody(1))
	c2, err := New(&Config{Host: srv2.URL})
	require.NoError(t, err)
	_, err = c2.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/api/v1/pods", Body: []byte(`{}`)})
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, 1, rec2.count())

	// Retries are bounded.
	rec3, srv3 := newRecorded(t, cutBody(100))
	c3, err := New(&Config{Host: srv3.URL, MaxRetries: 2})
	require.NoError(t, err)
	recordSleeps(c3)
	_, err = c3.Do(context.Background(), &Request{Path: "/api/v1/pods"})
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, 3, rec3.count())
}

func TestRetryBudgetSharedByStatusAndCutOffBody(t *testing.T) {
	t.Parallel()
	// Odd requests get a 503, even ones a body cut off mid-way: each kind
	// of failure is retried, and together they spend one budget.
	cut := cutBody(1 << 30)
	rec, srv := newRecorded(t, func(w http.ResponseWriter, r *http.Request, i int) {
		if i%2 == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		cut(w, r, i)
	})
	c, err := New(&Config{Host: srv.URL, MaxRetries: 2})
	require.NoError(t, err)
	waits := recordSleeps(c)
	_, err = c.Do(context.Background(), &Request{Path: "/api/v1/pods"})
	assert.ErrorIs(t, err, ErrServiceUnavailable)
	assert.Equal(t, 3, rec.count(), "one request and MaxRetries retries in all")
	assert.Len(t, waits(), 2)
}

// TestRetryAfterHugeOrNegative: Retry-After values too large for a
// time.Duration wait MaxRetryWait, never a negative (instant) wait;
// negative and malformed values count as no Retry-After.
func TestRetryAfterHugeOrNegative(t *testing.T) {
	t.Parallel()
	const maxWait = 50 * time.Millisecond
	huge := []string{"9999999999", "9223372036", "9223372037", "99999999999999999999999999"}
	for _, ra := range huge {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(method+" "+ra, func(t *testing.T) {
				t.Parallel()
				rec, srv := newRecorded(t, failing(10, http.StatusTooManyRequests, ra))
				c, err := New(&Config{Host: srv.URL, MaxRetryWait: maxWait})
				require.NoError(t, err)
				waits := recordSleeps(c)
				_, err = c.Do(context.Background(), &Request{Method: method, Path: "/api", Body: []byte(`{}`)})
				assert.ErrorIs(t, err, ErrTooManyRequests)
				assert.Equal(t, DefaultMaxRetries+1, rec.count())
				assert.Equal(t, []time.Duration{maxWait, maxWait, maxWait}, waits())
			})
		}
	}
	t.Run("parse saturates", func(t *testing.T) {
		t.Parallel()
		for _, ra := range huge {
			d, ok := retryAfterDuration(http.Header{"Retry-After": {ra}}, time.Now())
			assert.True(t, ok, ra)
			assert.Positive(t, d, ra)
			secs, ok := parseRetryAfter(http.Header{"Retry-After": {ra}})
			assert.True(t, ok, ra)
			assert.Positive(t, secs, ra)
		}
		far := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Format(http.TimeFormat)
		d, ok := retryAfterDuration(http.Header{"Retry-After": {far}}, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC))
		assert.True(t, ok)
		assert.Positive(t, d)
		for _, ra := range []string{"-1", "-9999999999", "+5", "1.5", "0x10"} {
			_, ok := retryAfterDuration(http.Header{"Retry-After": {ra}}, time.Now())
			assert.False(t, ok, ra)
		}
	})
	t.Run("negative means no Retry-After", func(t *testing.T) {
		t.Parallel()
		// A POST is not retried without a Retry-After; a GET backs off.
		rec, srv := newRecorded(t, failing(10, http.StatusTooManyRequests, "-9999999999"))
		c, err := New(&Config{Host: srv.URL, MaxRetryWait: maxWait})
		require.NoError(t, err)
		_, err = c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/api", Body: []byte(`{}`)})
		assert.ErrorIs(t, err, ErrTooManyRequests)
		assert.Equal(t, 1, rec.count())
	})
}

// TestNoReplayRetriedOnlyAfter429: a create the server names
// (generateName), marked NoReplay, is sent again only after a 429; a 5xx
// with Retry-After (which the server may send after creating the object)
// ends the call, while the same request with a fixed name is retried.
func TestNoReplayRetriedOnlyAfter429(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status   int
		noReplay bool
		wantReqs int
	}{
		{http.StatusTooManyRequests, true, 2},
		{http.StatusServiceUnavailable, true, 1},
		{http.StatusGatewayTimeout, true, 1},
		{http.StatusInternalServerError, true, 1},
		{http.StatusTooManyRequests, false, 2},
		{http.StatusServiceUnavailable, false, 2},
		{http.StatusGatewayTimeout, false, 2},
		{http.StatusInternalServerError, false, 2},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d noReplay=%v", tc.status, tc.noReplay), func(t *testing.T) {
			t.Parallel()
			rec, srv := newRecorded(t, failing(1, tc.status, "1"))
			c, err := New(&Config{Host: srv.URL})
			require.NoError(t, err)
			waits := recordSleeps(c)
			_, err = c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/api/v1/namespaces/a/configmaps",
				Body: []byte(`{"metadata":{"generateName":"x-"}}`), NoReplay: tc.noReplay})
			assert.Equal(t, tc.wantReqs, rec.count())
			assert.Len(t, waits(), tc.wantReqs-1)
			if tc.wantReqs == 1 {
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tc.status, apiErr.StatusCode)
				return
			}
			assert.NoError(t, err)
		})
	}
}
