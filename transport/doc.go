// Package transport sends requests to a Kubernetes API server: it builds the
// HTTP client from a Config (TLS, credentials, impersonation, user agent),
// rate-limits and retries requests where that is safe, and turns error
// responses into *APIError values decoded from the server's metav1.Status.
//
// It is a leaf package: it imports only the standard library. The packages
// above it (kubeconfig, discovery, watch, resource) build a Config, call New
// once and share the Client.
//
// # Requests
//
// A Request names a method, an escaped absolute path built with JoinPath, a
// query, headers and a body held as a byte slice. Do reads the whole
// response (at most Config.MaxResponseBytes, or the lower
// Request.MaxResponseBytes, counted as the body arrives) and returns it for
// 2xx and 304;
// Stream returns the response with its body unread for watches and logs.
// Config.Timeout bounds Do only; a stream lives as long as its context.
//
// Names and namespaces go through ValidatePathSegment before they become
// path segments: ".", "..", and anything containing "/" or "%" is refused
// with ErrInvalidName. As a second line of defence Do and Stream refuse any
// path with an empty, "." or ".." segment or with an escaped "/" inside a
// segment (the server decodes before it splits). In both cases no request
// is sent.
//
// # Errors
//
// Every other status becomes an *APIError carrying the HTTP code and the
// Status reason, message and details (name, kind, causes), and the raw body
// (at most MaxErrorBodyBytes). Error() quotes at most MaxErrorMessageBytes
// of the message with control characters replaced, so a hostile server
// cannot flood a log line or send terminal escapes; the fields keep the raw
// text. Match it with
// errors.Is against ErrNotFound, ErrAlreadyExists, ErrConflict, ErrInvalid,
// ErrForbidden, ErrUnauthorized, ErrGone (also for the Expired reason),
// ErrTooManyRequests, ErrServerTimeout, ErrMethodNotSupported,
// ErrBadRequest and a few more; the reason decides, and the HTTP code only
// when the reason is empty or unknown. A body that is not a Status (an HTML
// page from a proxy) still gives an APIError with the code and a trimmed
// snippet of the body as its message. The field errors of an Invalid
// response are in APIError.Causes.
//
// # Security
//
// TLS: the CA, client certificate and key each come from inline data or a
// file, data winning. Insecure skips server verification only when set, and
// is refused together with a CA. Credentials: a static bearer token, a token
// file re-read about every minute (the last good token is kept when a read
// fails, the static token serving as the first), basic auth, or a CredentialProvider (exec plugins) that supplies a
// token or a client certificate; after a 401 the provider (or the token file)
// is asked once for fresh credentials and the request is retried.
//
// Credentials and Impersonate-* headers are added only to requests for the
// configured scheme, host and port. Redirects to anywhere else lose every
// credential-bearing header, unlike Go's default policy, which ignores the
// port, and client-go, which re-adds the bearer token after a cross-host
// redirect. Requests to another origin also go through a connection pool
// whose TLS configuration has no client certificate, so a redirect target
// never sees it either.
//
// Credentials are refused for a plain http:// server, where anyone on the
// path could read them, unless Config.AllowPlainHTTPCredentials is set (New
// then logs a warning). A server address without a scheme is taken as
// https://; when such a server answers in plain HTTP the error matches
// http.ErrSchemeMismatch and says to write http:// explicitly.
//
// An https:// proxy is verified against the system roots plus
// Config.ProxyCAFile and ProxyCAData, not against the API server's CA, and
// is never shown the client certificate (Go's transport would use the API
// server's TLS configuration for it). Debug logs mask Authorization, Proxy-Authorization, Cookie,
// Set-Cookie and every Impersonate-* header.
//
// # Rate limiting and retries
//
// Config.QPS and Config.Burst configure a token bucket; each attempt takes a
// token and waits for it in arrival order, giving up at once when the
// context's deadline comes first. Request.NoRateLimit bypasses it.
//
// Retries (Config.MaxRetries, default 3) happen when it is safe:
//   - 429, 500, 503 and 504 with a Retry-After header, for any method (bodies
//     are byte slices and can be replayed), waiting what the server asked,
//     capped at Config.MaxRetryWait;
//   - 429, 503 and 504 without Retry-After, for GET and HEAD only, with
//     jittered exponential backoff;
//   - connection refused, reset or closed before a response, and (in Do) a
//     body cut off mid-way, for GET and HEAD only, since the server may have
//     acted on a write;
//   - a request marked Request.NoReplay (a create whose name the server
//     generates, where a second copy makes a second object) only after a
//     429, which the API server sends before acting (API Priority and
//     Fairness, max-in-flight, shutdown); never after a 5xx, which may come
//     after the object was created. A create with a fixed name is retried as
//     above: a duplicate fails with AlreadyExists.
//
// A Retry-After too large for a time.Duration saturates; every wait is
// capped at Config.MaxRetryWait.
//
// All of these together make at most Config.MaxRetries retries per call (a
// re-authentication after a 401 is not counted). A body cut off includes an
// HTTP/2 stream reset (RST_STREAM) mid-body and a server that closes the
// connection right after the headers.
//
// What the wire sees can be more than MaxRetries+1 copies of a read, because
// Go's transport retries below ours, silently: over HTTP/1.1 it sends a GET
// or HEAD again when a reused keep-alive connection closes before the
// response starts (once per such idle connection, so in practice once; at
// most 25, the idle pool's size), and any request of which nothing was
// written yet; over HTTP/2 it sends a request again, up to 6 times, when
// the server refused its stream unprocessed (GOAWAY naming an earlier
// stream, REFUSED_STREAM) or reset it with PROTOCOL_ERROR. A request with
// another method whose body reached the server is never re-sent by Go over
// HTTP/1.1. So a POST, PUT, PATCH or DELETE the server may have acted on is
// sent at most MaxRetries+1 times by us (once for NoReplay, unless a 429
// came back); a GET or HEAD may be read more often, which is harmless. A
// graceful HTTP/2 shutdown (GOAWAY) lets the streams in flight finish; new
// requests go over a new connection.
//
// A wait that would outlive the context's deadline is not started: the last
// response or error is returned instead.
//
// # Warnings and logging
//
// Warning headers (`299 - "text"`) are parsed with ParseWarnings and passed
// to Config.WarningHandler, or logged at Warn level; the same warning twice
// in one response is passed once, and at most MaxWarningsPerResponse per
// response (one Warn record counts the rest). Config.Logger receives
// a Debug record per attempt, credentials masked. Config.WrapTransport wraps
// the round tripper for metrics or tests; it sees every attempt with the
// credentials already added.
//
// # HTTP/2
//
// HTTP/2 is attempted over TLS. Connections send a ping after 30 seconds
// without frames and are closed when the ping goes unanswered for 15
// seconds, so a dead connection under a quiet watch is noticed.
package transport
