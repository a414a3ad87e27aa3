package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a manually advanced clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

func TestTokenFileRotation(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token")
	clock := newFakeClock()
	f := &fileToken{path: path, period: time.Minute, now: clock.Now}

	_, err := f.get(false)
	assert.ErrorContains(t, err, path, "no file and no token yet")

	require.NoError(t, os.WriteFile(path, []byte("first\n"), 0o600))
	tok, err := f.get(false)
	require.NoError(t, err)
	assert.Equal(t, "first", tok)

	require.NoError(t, os.WriteFile(path, []byte("second"), 0o600))
	clock.Advance(59 * time.Second)
	tok, err = f.get(false)
	require.NoError(t, err)
	assert.Equal(t, "first", tok, "cached within the period")

	clock.Advance(2 * time.Second)
	tok, err = f.get(false)
	require.NoError(t, err)
	assert.Equal(t, "second", tok, "re-read after the period")

	// A missing or empty file keeps the last good token.
	require.NoError(t, os.Remove(path))
	clock.Advance(time.Minute)
	tok, err = f.get(false)
	require.NoError(t, err)
	assert.Equal(t, "second", tok)
	require.NoError(t, os.WriteFile(path, []byte("  \n"), 0o600))
	clock.Advance(time.Minute)
	tok, err = f.get(false)
	require.NoError(t, err)
	assert.Equal(t, "second", tok)

	// A forced read ignores the period.
	require.NoError(t, os.WriteFile(path, []byte("third"), 0o600))
	tok, err = f.get(true)
	require.NoError(t, err)
	assert.Equal(t, "third", tok)
}

func TestTokenFileFallsBackToStaticToken(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token")
	rec, srv := newRecorded(t, nil)
	c, err := New(&Config{Host: srv.URL, AllowPlainHTTPCredentials: true, BearerTokenFile: path, BearerToken: "static"})
	require.NoError(t, err)
	clock := newFakeClock()
	c.auth.tokenFile.now = clock.Now

	// No file yet: the static token is the last good one.
	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	require.NoError(t, err)

	// The file appears; it wins once it is read (next period).
	require.NoError(t, os.WriteFile(path, []byte("from-file"), 0o600))
	clock.Advance(DefaultTokenFileRefresh)
	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	require.NoError(t, err)

	reqs := rec.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "Bearer static", reqs[0].Header.Get("Authorization"))
	assert.Equal(t, "Bearer from-file", reqs[1].Header.Get("Authorization"))

	// Without a static token a missing file fails the request, sending
	// nothing.
	rec2, srv2 := newRecorded(t, nil)
	c2, err := New(&Config{Host: srv2.URL, AllowPlainHTTPCredentials: true, BearerTokenFile: filepath.Join(t.TempDir(), "missing")})
	require.NoError(t, err)
	_, err = c2.Do(context.Background(), &Request{Path: "/api"})
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Zero(t, rec2.count())
}

// tokenServer accepts only the token held in *valid.
func tokenServer(t *testing.T, valid func() string) (*recorder, string) {
	t.Helper()
	rec, srv := newRecorded(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Header.Get("Authorization") != "Bearer "+valid() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, statusBody(401, "Unauthorized", "Unauthorized"))
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	return rec, srv.URL
}

func TestTokenFileRefreshAfter401(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
	var mu sync.Mutex
	valid := "old"
	rec, url := tokenServer(t, func() string { mu.Lock(); defer mu.Unlock(); return valid })
	c, err := New(&Config{Host: url, AllowPlainHTTPCredentials: true, BearerTokenFile: path, BearerToken: "ignored"})
	require.NoError(t, err)
	// A frozen clock: the re-read period never passes on its own.
	c.auth.tokenFile.now = newFakeClock().Now
	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	require.NoError(t, err)

	// The token rotates on disk and the server stops accepting the old one
	// before the client's re-read period is over.
	require.NoError(t, os.WriteFile(path, []byte("new"), 0o600))
	mu.Lock()
	valid = "new"
	mu.Unlock()
	resp, err := c.Do(context.Background(), &Request{Path: "/api"})
	require.NoError(t, err)
	assert.Equal(t, "ok", string(resp.Body))
	reqs := rec.requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, "Bearer old", reqs[1].Header.Get("Authorization"))
	assert.Equal(t, "Bearer new", reqs[2].Header.Get("Authorization"))
}

// tokenProvider hands out tok1, then tok2 after a forced refresh, and so on.
type tokenProvider struct {
	mu     sync.Mutex
	tokens []string
	i      int
	forced int
	err    error
}

func (p *tokenProvider) Credentials(ctx context.Context, force bool) (Credentials, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return Credentials{}, p.err
	}
	if force {
		p.forced++
		if p.i < len(p.tokens)-1 {
			p.i++
		}
	}
	return Credentials{Token: p.tokens[p.i]}, nil
}

func TestCredentialProvider401RefreshOnce(t *testing.T) {
	t.Parallel()
	t.Run("refresh succeeds", func(t *testing.T) {
		t.Parallel()
		rec, url := tokenServer(t, func() string { return "tok2" })
		p := &tokenProvider{tokens: []string{"tok1", "tok2"}}
		c, err := New(&Config{Host: url, AllowPlainHTTPCredentials: true, Credentials: p, BearerToken: "static"})
		require.NoError(t, err)
		resp, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/api", Body: []byte(`{"a":1}`)})
		require.NoError(t, err)
		assert.Equal(t, "ok", string(resp.Body))
		assert.Equal(t, 1, p.forced)
		reqs := rec.requests()
		require.Len(t, reqs, 2)
		assert.Equal(t, "Bearer tok1", reqs[0].Header.Get("Authorization"))
		assert.Equal(t, "Bearer tok2", reqs[1].Header.Get("Authorization"))
	})
	t.Run("still 401", func(t *testing.T) {
		t.Parallel()
		rec, url := tokenServer(t, func() string { return "never" })
		p := &tokenProvider{tokens: []string{"tok1", "tok2", "tok3"}}
		c, err := New(&Config{Host: url, AllowPlainHTTPCredentials: true, Credentials: p})
		require.NoError(t, err)
		_, err = c.Do(context.Background(), &Request{Path: "/api"})
		assert.ErrorIs(t, err, ErrUnauthorized)
		assert.Equal(t, 1, p.forced)
		assert.Equal(t, 2, rec.count())
	})
	t.Run("static token is not retried", func(t *testing.T) {
		t.Parallel()
		rec, url := tokenServer(t, func() string { return "never" })
		c, err := New(&Config{Host: url, AllowPlainHTTPCredentials: true, BearerToken: "static"})
		require.NoError(t, err)
		_, err = c.Do(context.Background(), &Request{Path: "/api"})
		assert.ErrorIs(t, err, ErrUnauthorized)
		assert.Equal(t, 1, rec.count())
	})
	t.Run("provider error", func(t *testing.T) {
		t.Parallel()
		rec, url := tokenServer(t, func() string { return "x" })
		p := &tokenProvider{err: fmt.Errorf("plugin exploded")}
		c, err := New(&Config{Host: url, AllowPlainHTTPCredentials: true, Credentials: p})
		require.NoError(t, err)
		_, err = c.Do(context.Background(), &Request{Path: "/api"})
		assert.ErrorContains(t, err, "plugin exploded")
		assert.Zero(t, rec.count())
	})
}

func TestImpersonationHeaders(t *testing.T) {
	t.Parallel()
	rec, srv := newRecorded(t, nil)
	c, err := New(&Config{Host: srv.URL, Impersonate: Impersonation{
		UserName: "jane",
		UID:      "u-42",
		Groups:   []string{"dev", "ops"},
		Extra:    map[string][]string{"scopes": {"a", "b"}, "example.com/team": {"x"}},
	}})
	require.NoError(t, err)
	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	require.NoError(t, err)
	h := rec.requests()[0].Header
	assert.Equal(t, "jane", h.Get("Impersonate-User"))
	assert.Equal(t, "u-42", h.Get("Impersonate-Uid"))
	assert.Equal(t, []string{"dev", "ops"}, h.Values("Impersonate-Group"))
	assert.Equal(t, []string{"a", "b"}, h.Values("Impersonate-Extra-Scopes"))
	assert.Equal(t, []string{"x"}, h.Values("Impersonate-Extra-Example.com%2Fteam"))
}

func TestParseWarnings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want []Warning
	}{
		{`299 - "deprecated API"`, []Warning{{299, "-", "deprecated API"}}},
		{`299 kube-apiserver "a \"quoted\" word" "Sat, 28 Nov 2026 17:00:00 GMT"`, []Warning{{299, "kube-apiserver", `a "quoted" word`}}},
		{`299 - "one, with comma", 299 - "two"`, []Warning{{299, "-", "one, with comma"}, {299, "-", "two"}}},
		{`garbage, 299 - "kept"`, []Warning{{299, "-", "kept"}}},
		{`299 - "unterminated`, nil},
		{`2x9 - "bad code"`, nil},
		{``, nil},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, ParseWarnings(tc.in))
		})
	}
}

func TestWarningsToHandlerAndLogger(t *testing.T) {
	t.Parallel()
	_, srv := newRecorded(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Add("Warning", `299 - "first"`)
		w.Header().Add("Warning", `299 - "second", 299 - "third"`)
		w.WriteHeader(http.StatusNotFound)
	})
	var mu sync.Mutex
	var got []Warning
	c, err := New(&Config{Host: srv.URL, WarningHandler: func(w Warning) { mu.Lock(); got = append(got, w); mu.Unlock() }})
	require.NoError(t, err)
	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	require.ErrorIs(t, err, ErrNotFound, "warnings arrive on error responses too")
	mu.Lock()
	assert.Equal(t, []Warning{{299, "-", "first"}, {299, "-", "second"}, {299, "-", "third"}}, got)
	mu.Unlock()

	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err = New(&Config{Host: srv.URL, Logger: logger})
	require.NoError(t, err)
	_, _ = c.Do(context.Background(), &Request{Path: "/api"})
	out := buf.String()
	assert.Equal(t, 3, strings.Count(out, "server warning"), out)
	assert.Contains(t, out, `text=third`)
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDebugLogMasksCredentials(t *testing.T) {
	t.Parallel()
	_, srv := newRecorded(t, func(w http.ResponseWriter, r *http.Request, n int) {
		// Attributes put a space after the secret name=value.
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "cookie-secret", Path: "/", HttpOnly: true})
		_, _ = io.WriteString(w, "ok")
	})
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(&Config{Host: srv.URL, AllowPlainHTTPCredentials: true, BearerToken: "top-secret-token", Logger: logger,
		Impersonate: Impersonation{UserName: "secret-user", Groups: []string{"secret-group"}}})
	require.NoError(t, err)
	_, err = c.Do(context.Background(), &Request{Path: "/api", Header: http.Header{
		"Cookie":              {"a=cookie-in-request"},
		"Proxy-Authorization": {"Basic proxy-secret"},
	}})
	require.NoError(t, err)
	out := buf.String()
	for _, secret := range []string{"top-secret-token", "secret-user", "secret-group", "cookie-in-request", "proxy-secret", "cookie-secret"} {
		assert.NotContains(t, out, secret)
	}
	assert.Contains(t, out, "Bearer <masked>")
	assert.Contains(t, out, "Basic <masked>")
	assert.Contains(t, out, `"Set-Cookie":["<masked>"]`)
	assert.Contains(t, out, `"Impersonate-User":["<masked>"]`)
	assert.Contains(t, out, `"status":200`)
}

func TestWrapTransportSeesEveryAttempt(t *testing.T) {
	t.Parallel()
	_, srv := newRecorded(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	var mu sync.Mutex
	var auths []string
	c, err := New(&Config{Host: srv.URL, AllowPlainHTTPCredentials: true, BearerToken: "t", WrapTransport: func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			auths = append(auths, r.Header.Get("Authorization"))
			mu.Unlock()
			return next.RoundTrip(r)
		})
	}})
	require.NoError(t, err)
	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"Bearer t", "Bearer t"}, auths)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestWarningsDedupedAndCapped: 2,000 Warning headers on one response give
// at most MaxWarningsPerResponse handler calls (or log lines), duplicates
// counted once, and one record of how many were dropped.
func TestWarningsDedupedAndCapped(t *testing.T) {
	t.Parallel()
	_, srv := newRecorded(t, func(w http.ResponseWriter, r *http.Request, n int) {
		for i := range 1000 {
			w.Header().Add("Warning", `299 - "same"`)
			w.Header().Add("Warning", fmt.Sprintf(`299 - "distinct %d"`, i))
		}
	})
	var mu sync.Mutex
	var got []Warning
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := New(&Config{Host: srv.URL, Logger: logger, WarningHandler: func(w Warning) { mu.Lock(); got = append(got, w); mu.Unlock() }})
	require.NoError(t, err)
	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	require.NoError(t, err)
	mu.Lock()
	require.Len(t, got, MaxWarningsPerResponse)
	assert.Equal(t, Warning{299, "-", "same"}, got[0])
	assert.Equal(t, Warning{299, "-", "distinct 0"}, got[1])
	assert.Equal(t, Warning{299, "-", "distinct 1"}, got[2], "the duplicate is passed once")
	mu.Unlock()
	assert.Contains(t, buf.String(), fmt.Sprintf("dropped=%d", 1001-MaxWarningsPerResponse))

	var buf2 syncBuffer
	c, err = New(&Config{Host: srv.URL, Logger: slog.New(slog.NewTextHandler(&buf2, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	require.NoError(t, err)
	_, err = c.Do(context.Background(), &Request{Path: "/api"})
	require.NoError(t, err)
	out := buf2.String()
	assert.Equal(t, MaxWarningsPerResponse, strings.Count(out, "msg=\"server warning\""), out)
	assert.Equal(t, 1, strings.Count(out, "server warnings dropped"))
}
