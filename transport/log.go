package transport

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// isSensitiveHeader reports whether a header carries credentials:
// Authorization, Proxy-Authorization, Cookie and every Impersonate-*.
func isSensitiveHeader(k string) bool {
	k = http.CanonicalHeaderKey(k)
	switch k {
	case "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie":
		return true
	}
	return strings.HasPrefix(k, "Impersonate-")
}

// maskHeaders copies h with credential-bearing values replaced.
func maskHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if !isSensitiveHeader(k) {
			out[k] = vs
			continue
		}
		// Only the authorization headers keep their scheme ("Bearer
		// <masked>"); in other values the text before a space is secret
		// too (a Set-Cookie's name=value before its attributes).
		ck := http.CanonicalHeaderKey(k)
		keepScheme := ck == "Authorization" || ck == "Proxy-Authorization"
		masked := make([]string, len(vs))
		for i, v := range vs {
			masked[i] = "<masked>"
			if scheme, _, ok := strings.Cut(v, " "); ok && keepScheme {
				masked[i] = scheme + " <masked>"
			}
		}
		out[k] = masked
	}
	return out
}

// logRoundTripper logs each attempt at Debug level, credentials masked.
type logRoundTripper struct {
	next   http.RoundTripper
	logger *slog.Logger
}

func (rt *logRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if !rt.logger.Enabled(ctx, slog.LevelDebug) {
		return rt.next.RoundTrip(req)
	}
	start := time.Now()
	rt.logger.LogAttrs(ctx, slog.LevelDebug, "request",
		slog.String("method", req.Method), slog.String("url", req.URL.String()),
		slog.Any("header", maskHeaders(req.Header)))
	resp, err := rt.next.RoundTrip(req)
	if err != nil {
		rt.logger.LogAttrs(ctx, slog.LevelDebug, "request failed",
			slog.String("method", req.Method), slog.String("url", req.URL.String()),
			slog.Duration("elapsed", time.Since(start)), slog.String("error", err.Error()))
		return nil, err
	}
	rt.logger.LogAttrs(ctx, slog.LevelDebug, "response",
		slog.String("method", req.Method), slog.String("url", req.URL.String()),
		slog.Int("status", resp.StatusCode), slog.Duration("elapsed", time.Since(start)),
		slog.Any("header", maskHeaders(resp.Header)))
	return resp, nil
}
