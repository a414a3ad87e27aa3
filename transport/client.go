package transport

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"
)

// Version is the kubedyn version sent in the default User-Agent.
const Version = "0.1.0-dev"

// DefaultUserAgent is "kubedyn/<Version> (<GOOS>/<GOARCH>)".
const DefaultUserAgent = "kubedyn/" + Version + " (" + runtime.GOOS + "/" + runtime.GOARCH + ")"

// Client sends requests to one API server: it adds credentials, the user
// agent and default headers, waits on the client-side rate limiter, retries
// where it is safe and turns error statuses into *APIError. It is built once
// by New and never changes afterwards. Clients are safe for concurrent use by
// multiple goroutines.
type Client struct {
	base      *url.URL
	userAgent string
	timeout   time.Duration
	maxBody   int64

	maxRetries   int
	maxRetryWait time.Duration
	backoff      time.Duration

	limiter *tokenBucket
	auth    *authenticator
	http    *http.Client
	base0   *http.Transport
	other   *http.Transport // for other origins: no client certificate
	tlsConf *tls.Config

	logger   *slog.Logger
	warnLog  *slog.Logger
	warnings func(Warning)

	// sleep waits for d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error

	// sizes sizes the buffers of bodies without a length.
	sizes bodySizes
}

// New builds a Client from cfg, which it copies. It reads the TLS files named
// in cfg (CA, client certificate and key) and fails when they are missing or
// malformed, but it does no network I/O. Insecure together with a CA is
// refused, as client-go does: a CA that is not checked gives a false sense of
// security. Basic auth together with a bearer token (or token file) is
// refused too.
func New(cfg *Config) (*Client, error) {
	if cfg == nil {
		return nil, errors.New("transport: nil Config")
	}
	base, err := ParseHost(cfg.Host)
	if err != nil {
		return nil, fmt.Errorf("transport: Config.Host: %w", err)
	}
	if (cfg.Username != "" || cfg.Password != "") && (cfg.BearerToken != "" || cfg.BearerTokenFile != "") {
		return nil, errors.New("transport: username/password and a bearer token are mutually exclusive")
	}
	imp := cfg.Impersonate
	if imp.UserName == "" && (imp.UID != "" || len(imp.Groups) > 0 || len(imp.Extra) > 0) {
		return nil, errors.New("transport: impersonating a UID, groups or extra requires a user name")
	}
	tlsConf, err := buildTLS(&cfg.TLS, cfg.Credentials)
	if err != nil {
		return nil, err
	}
	hasCredentials := cfg.BearerToken != "" || cfg.BearerTokenFile != "" || cfg.Username != "" ||
		cfg.Password != "" || cfg.Credentials != nil
	if base.Scheme == "http" && hasCredentials && !cfg.AllowPlainHTTPCredentials {
		return nil, errors.New("transport: credentials configured for a plain http:// server would travel unencrypted; " +
			"use https, or set Config.AllowPlainHTTPCredentials to send them anyway")
	}
	proxyTLS, err := buildProxyTLS(cfg.ProxyCAFile, cfg.ProxyCAData)
	if err != nil {
		return nil, err
	}

	c := &Client{
		base:         base,
		userAgent:    cfg.UserAgent,
		timeout:      cfg.Timeout,
		maxBody:      cfg.MaxResponseBytes,
		maxRetries:   cfg.MaxRetries,
		maxRetryWait: cfg.MaxRetryWait,
		backoff:      cfg.RetryBackoff,
		tlsConf:      tlsConf,
		logger:       cfg.Logger,
		warnings:     cfg.WarningHandler,
		sleep:        sleepCtx,
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.maxRetryWait <= 0 {
		c.maxRetryWait = DefaultMaxRetryWait
	}
	if c.backoff <= 0 {
		c.backoff = DefaultRetryBackoff
	}
	c.warnLog = c.logger
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
		c.warnLog = slog.Default()
	}
	if base.Scheme == "http" && hasCredentials {
		c.warnLog.Warn("transport: sending credentials over plain HTTP, as Config.AllowPlainHTTPCredentials allows",
			"host", base.Host)
	}
	if cfg.QPS > 0 {
		c.limiter = newTokenBucket(cfg.QPS, cfg.Burst, time.Now)
	}
	c.auth = newAuthenticator(cfg, base)

	proxy := cfg.Proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	px := &proxyDialer{
		proxy:  proxy,
		tls:    proxyTLS,
		dialer: &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
	}
	c.base0 = &http.Transport{
		Proxy:                 px.proxyFunc,
		DialContext:           px.DialContext,
		DisableCompression:    cfg.DisableCompression,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   10 * time.Second,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   25,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		// A dead HTTP/2 connection (a silent network drop during a quiet
		// watch) is noticed by pinging after 30s without frames.
		HTTP2: &http.HTTP2Config{SendPingTimeout: 30 * time.Second, PingTimeout: 15 * time.Second},
	}
	// Requests to any other origin (a redirect target, or HTTPClient used
	// for another host) go through a twin transport that has no client
	// certificate and checks the other host's own name.
	c.other = c.base0.Clone()
	c.other.TLSClientConfig = withoutClientCert(tlsConf)
	var rt http.RoundTripper = &logRoundTripper{next: &originRoundTripper{base: base, same: c.base0, other: c.other}, logger: c.logger}
	if cfg.WrapTransport != nil {
		rt = cfg.WrapTransport(rt)
	}
	rt = &authRoundTripper{next: rt, auth: c.auth}
	c.http = &http.Client{Transport: rt, CheckRedirect: checkRedirect}
	return c, nil
}

// ParseHost checks a server address the way New reads Config.Host and
// returns the base URL: scheme://host[:port][/prefix] with http or https
// (none means https), no user info, query or fragment; a trailing slash is
// dropped. kubeconfig uses it to report a bad server with its file and field.
func ParseHost(host string) (*url.URL, error) {
	if host == "" {
		return nil, errors.New("host is empty")
	}
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	// The messages never quote host: user info in it may hold a password.
	u, err := url.Parse(host)
	if err != nil {
		return nil, urlError(host, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("scheme %q: must be http or https", u.Scheme)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("want scheme://host[:port][/prefix], without user info, query or fragment")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = strings.TrimSuffix(u.RawPath, "/")
	return u, nil
}

// urlError turns an error of url.Parse(raw) into one that does not quote
// raw: the URL's user info may hold a password. When raw holds no user
// info, the parser's reason is kept without the URL (`invalid port ":x"
// after host`); otherwise only "not a valid URL" is said.
func urlError(raw string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && !strings.Contains(raw, "@") && !strings.Contains(ue.Err.Error(), raw) {
		return fmt.Errorf("not a valid URL: %w", ue.Err)
	}
	return errors.New("not a valid URL (not quoted here: it may hold a password)")
}

// Host returns the server's base URL, such as https://10.0.0.1:6443.
func (c *Client) Host() string { return c.base.String() }

// HTTPClient returns the underlying *http.Client: TLS, credentials (only
// for requests to the configured host; other hosts get neither the
// credential headers nor the client certificate), logging and redirect
// policy, but no rate limiting, retries or error decoding. Use it for protocols Do and Stream
// do not cover, such as WebSocket upgrades.
func (c *Client) HTTPClient() *http.Client { return c.http }

// TLSConfig returns a copy of the TLS configuration the Client uses for
// https: root CAs, client certificate (or the provider's), server name.
func (c *Client) TLSConfig() *tls.Config { return c.tlsConf.Clone() }

// CloseIdleConnections closes connections that are not in use.
func (c *Client) CloseIdleConnections() {
	c.base0.CloseIdleConnections()
	c.other.CloseIdleConnections()
}

// Request is one API request. Do and Stream only read it, so one Request may
// be sent by several goroutines at once as long as nobody modifies it.
type Request struct {
	// Method is the HTTP method; empty means GET.
	Method string
	// Path is the escaped absolute path, such as
	// /api/v1/namespaces/default/pods; build it with JoinPath. It may carry a
	// query, which is merged with Query. Paths with empty, "." or ".."
	// segments, or with an escaped "/" inside a segment, are refused
	// (ErrInvalidName) before anything is sent.
	Path string
	// Query holds the query parameters.
	Query url.Values
	// Header holds extra headers; they override the defaults (Accept:
	// application/json, and Content-Type: application/json when there is a
	// body), for example a patch's Content-Type.
	Header http.Header
	// Body is sent as the request body when non-nil. Being a byte slice it
	// can be replayed, so requests with a body are retried like any other.
	Body []byte
	// NoRateLimit bypasses the client-side rate limiter (discovery uses it
	// so that it never queues behind user traffic).
	NoRateLimit bool
	// NoReplay marks a request the server must not act on twice, such as a
	// create whose name the server generates (metadata.generateName): a
	// second copy would create a second object. It is retried only after a
	// 429, which the API server sends before acting on a request (API
	// Priority and Fairness, max-in-flight, shutdown); never after a 5xx or
	// a connection failure, which do not prove that nothing was done. Without
	// it a request with a fixed name may be retried as the package doc
	// describes (a repeated create then fails with AlreadyExists).
	NoReplay bool
	// MaxResponseBytes, when positive and below Config.MaxResponseBytes,
	// caps the body Do reads for this request: resource sets it to the
	// largest object it accepts for requests that return one object, so a
	// hostile body is refused as soon as it passes the cap (counted as it
	// arrives, a chunked body included) rather than after it was read whole.
	MaxResponseBytes int64
}

// Response is a complete response. It is a plain value; Do hands each caller
// its own.
type Response struct {
	// StatusCode is the HTTP status: 2xx, or 304 for a conditional GET.
	StatusCode int
	// Header holds the response headers (ETag, Warning, ...).
	Header http.Header
	// Body is the whole body; empty for 304.
	Body []byte
}

// Do sends req and reads the whole body, at most Config.MaxResponseBytes. A
// 2xx or 304 response is returned; any other status becomes an *APIError.
// Config.Timeout, when set, bounds the whole call including retries and
// reading the body. A GET or HEAD whose body is cut off (the connection
// dropped or the HTTP/2 stream was reset mid-body) is retried like a
// connection error.
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	// The retries of send and those after a cut-off body share one budget
	// of Config.MaxRetries.
	attempt := 0
	for {
		resp, last, err := c.send(ctx, req, attempt)
		if err != nil {
			return nil, err
		}
		attempt = last
		out, err := c.read(resp, req.MaxResponseBytes)
		var cut *bodyReadError
		if err == nil || ctx.Err() != nil || attempt >= c.maxRetries ||
			!errors.As(err, &cut) || !idempotentRead(resp.Request.Method) {
			return out, err
		}
		d := c.backoffFor(attempt)
		c.logger.DebugContext(ctx, "retrying after a cut-off body", "method", resp.Request.Method,
			"path", resp.Request.URL.Path, "error", err, "wait", d, "attempt", attempt+1)
		if werr := c.wait(ctx, d); werr != nil {
			return nil, err
		}
		attempt++
	}
}

// read consumes and closes resp for Do; limit, when positive, lowers the
// Client's body cap.
func (c *Client) read(resp *http.Response, limit int64) (*Response, error) {
	defer resp.Body.Close()
	if !isSuccess(resp.StatusCode) && resp.StatusCode != http.StatusNotModified {
		return nil, c.errorFrom(resp)
	}
	maxBody := c.maxBody
	if limit > 0 && limit < maxBody {
		maxBody = limit
	}
	if resp.ContentLength > maxBody {
		return nil, fmt.Errorf("transport: %s %s: %w: Content-Length %d exceeds the limit of %d bytes",
			resp.Request.Method, resp.Request.URL.Path, ErrResponseTooLarge, resp.ContentLength, maxBody)
	}
	// The cap is applied while reading, so a body without Content-Length
	// (chunked) stops costing memory one byte past it.
	body, err := c.sizes.readBody(resp.Body, maxBody, resp.ContentLength, sizeKey(resp.Request.URL))
	if err != nil {
		return nil, fmt.Errorf("transport: %s %s: reading body: %w", resp.Request.Method, resp.Request.URL.Path, &bodyReadError{err})
	}
	if int64(len(body)) > maxBody {
		return nil, fmt.Errorf("transport: %s %s: %w: more than %d bytes",
			resp.Request.Method, resp.Request.URL.Path, ErrResponseTooLarge, maxBody)
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// bodyReadError marks a failure while reading a 2xx body: the connection
// dropped, the server closed it after the headers, or an HTTP/2 stream was
// reset (RST_STREAM) mid-body. Do retries a GET or HEAD after any of them.
type bodyReadError struct{ err error }

func (e *bodyReadError) Error() string { return e.err.Error() }
func (e *bodyReadError) Unwrap() error { return e.err }

// Stream sends req and returns the response with its body unread; the caller
// closes it. A non-2xx status becomes an *APIError. Config.Timeout does not
// apply (it would cut long watches); only ctx bounds the request and the
// body.
func (c *Client) Stream(ctx context.Context, req *Request) (*http.Response, error) {
	resp, _, err := c.send(ctx, req, 0)
	if err != nil {
		return nil, err
	}
	if !isSuccess(resp.StatusCode) {
		defer resp.Body.Close()
		return nil, c.errorFrom(resp)
	}
	return resp, nil
}

func isSuccess(code int) bool { return code >= 200 && code < 300 }

// errorFrom reads (a bounded part of) resp's body and decodes it.
func (c *Client) errorFrom(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBodyBytes))
	return decodeAPIError(resp.StatusCode, resp.Header, body)
}

// url resolves req.Path (and its query) against the base URL.
func (c *Client) url(req *Request) (*url.URL, error) {
	if !strings.HasPrefix(req.Path, "/") || strings.HasPrefix(req.Path, "//") {
		return nil, fmt.Errorf("transport: request path %q is not an absolute path", req.Path)
	}
	ref, err := url.Parse(req.Path)
	if err != nil {
		return nil, fmt.Errorf("transport: request path: %w", err)
	}
	if ref.Scheme != "" || ref.Host != "" || ref.User != nil || ref.Fragment != "" {
		return nil, fmt.Errorf("transport: request path %q is not an absolute path", req.Path)
	}
	raw := ref.EscapedPath()
	segs := strings.Split(raw[1:], "/")
	for i, seg := range segs {
		unesc, _ := url.PathUnescape(seg)
		if (seg == "" && i != len(segs)-1) || unesc == "." || unesc == ".." {
			return nil, fmt.Errorf("transport: request path %q: %w: empty, \".\" or \"..\" segment", req.Path, ErrInvalidName)
		}
		// The API server decodes the path before splitting it, so an
		// escaped slash would become a separator there.
		if strings.Contains(unesc, "/") {
			return nil, fmt.Errorf("transport: request path %q: %w: segment %q holds an escaped '/'", req.Path, ErrInvalidName, seg)
		}
	}
	u := *c.base
	u.RawPath = c.base.EscapedPath() + raw
	if u.Path, err = url.PathUnescape(u.RawPath); err != nil {
		return nil, fmt.Errorf("transport: request path: %w", err)
	}
	q := ref.Query()
	for k, vs := range req.Query {
		q[k] = append(q[k], vs...)
	}
	u.RawQuery = q.Encode()
	return &u, nil
}

// newHTTPRequest builds one attempt of req.
func (c *Client) newHTTPRequest(ctx context.Context, u *url.URL, req *Request) (*http.Request, error) {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	hreq.Header.Set("User-Agent", c.userAgent)
	hreq.Header.Set("Accept", "application/json")
	if req.Body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range req.Header {
		hreq.Header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	return hreq, nil
}

// send runs the attempts of req: rate limit, credentials, one re-authentication
// after a 401, retries. It counts retries from first, which is the number of
// retries the caller has already spent, and returns the last response,
// unread, with the number of the attempt that produced it.
func (c *Client) send(ctx context.Context, req *Request, first int) (*http.Response, int, error) {
	if req == nil {
		return nil, 0, errors.New("transport: nil Request")
	}
	u, err := c.url(req)
	if err != nil {
		return nil, 0, err
	}
	reauthenticated := false
	for attempt := first; ; attempt++ {
		if c.limiter != nil && !req.NoRateLimit {
			if err := c.limiter.Wait(ctx); err != nil {
				return nil, attempt, fmt.Errorf("transport: %s %s: rate limiter: %w", cmp.Or(req.Method, http.MethodGet), u.Path, err)
			}
		}
		hreq, err := c.newHTTPRequest(ctx, u, req)
		if err != nil {
			return nil, attempt, err
		}
		resp, err := c.http.Do(hreq)
		if err != nil {
			if ctx.Err() == nil && attempt < c.maxRetries && retryableConnError(hreq.Method, err) {
				d := c.backoffFor(attempt)
				c.logger.DebugContext(ctx, "retrying after connection error", "method", hreq.Method, "path", u.Path,
					"error", err, "wait", d, "attempt", attempt+1)
				if werr := c.wait(ctx, d); werr == nil {
					continue
				}
			}
			if errors.Is(err, http.ErrSchemeMismatch) {
				return nil, attempt, fmt.Errorf("transport: %w: the server at %s speaks plain HTTP, not TLS "+
					"(a server address without a scheme is taken as https://; write http:// to use plain HTTP)", err, c.base.Host)
			}
			return nil, attempt, fmt.Errorf("transport: %w", err)
		}
		c.handleWarnings(resp.Header)
		if resp.StatusCode == http.StatusUnauthorized && !reauthenticated && c.auth.canRefresh() {
			reauthenticated = true
			if rerr := c.auth.refresh(ctx); rerr != nil {
				c.logger.DebugContext(ctx, "credential refresh after 401 failed", "error", rerr)
				return resp, attempt, nil
			}
			drain(resp)
			// A refreshed client certificate only takes effect on a new
			// connection.
			c.base0.CloseIdleConnections()
			c.logger.DebugContext(ctx, "retrying with refreshed credentials after 401", "method", hreq.Method, "path", u.Path)
			attempt-- // a re-authentication is not a retry
			continue
		}
		if attempt < c.maxRetries {
			if d, ok := c.retryDelay(ctx, req, hreq.Method, resp, attempt); ok {
				drain(resp)
				c.logger.DebugContext(ctx, "retrying", "method", hreq.Method, "path", u.Path,
					"status", resp.StatusCode, "wait", d, "attempt", attempt+1)
				if err := c.wait(ctx, d); err != nil {
					return nil, attempt, fmt.Errorf("transport: %s %s: waiting to retry: %w", hreq.Method, u.Path, err)
				}
				continue
			}
		}
		return resp, attempt, nil
	}
}

// drain discards a little of resp's body so the connection can be reused,
// and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// wait sleeps d, unless ctx ends first.
func (c *Client) wait(ctx context.Context, d time.Duration) error {
	return c.sleep(ctx, d)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// checkRedirect follows up to 10 redirects and strips every credential
// header from a redirect to another scheme, host or port. The auth round
// tripper adds the configured credentials only for the configured host, so
// nothing secret travels to a different host.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if !sameOrigin(req.URL, via[0].URL) {
		for k := range req.Header {
			if isSensitiveHeader(k) {
				delete(req.Header, k)
			}
		}
	}
	return nil
}

// sameOrigin compares scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(hostPort(a), hostPort(b))
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}
