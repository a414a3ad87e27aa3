package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// authenticator supplies the credential and impersonation headers.
type authenticator struct {
	base        *url.URL
	token       string
	tokenFile   *fileToken
	user, pass  string
	provider    CredentialProvider
	impersonate http.Header
}

func newAuthenticator(cfg *Config, base *url.URL) *authenticator {
	a := &authenticator{
		base:     base,
		token:    cfg.BearerToken,
		user:     cfg.Username,
		pass:     cfg.Password,
		provider: cfg.Credentials,
	}
	if cfg.BearerTokenFile != "" {
		// A static token, when also given, serves as the last good token
		// until the file can be read (as client-go does).
		a.tokenFile = &fileToken{path: cfg.BearerTokenFile, period: DefaultTokenFileRefresh, now: time.Now, token: cfg.BearerToken}
	}
	a.impersonate = impersonationHeaders(&cfg.Impersonate)
	return a
}

// impersonationHeaders builds the Impersonate-* headers. Extra keys are
// percent-encoded where they are not header token characters, as the API
// server expects.
func impersonationHeaders(imp *Impersonation) http.Header {
	if imp.UserName == "" {
		return nil
	}
	h := http.Header{}
	h.Set("Impersonate-User", imp.UserName)
	if imp.UID != "" {
		h.Set("Impersonate-Uid", imp.UID)
	}
	for _, g := range imp.Groups {
		h.Add("Impersonate-Group", g)
	}
	for k, vs := range imp.Extra {
		key := "Impersonate-Extra-" + escapeExtraKey(k)
		h[key] = append(h[key], vs...)
	}
	return h
}

func escapeExtraKey(k string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		c := k[i]
		if isTokenChar(c) && c != '%' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// canRefresh reports whether a 401 can be answered by fresh credentials.
func (a *authenticator) canRefresh() bool { return a.provider != nil || a.tokenFile != nil }

// refresh forces new credentials after a 401.
func (a *authenticator) refresh(ctx context.Context) error {
	if a.provider != nil {
		_, err := a.provider.Credentials(ctx, true)
		return err
	}
	if a.tokenFile != nil {
		_, err := a.tokenFile.get(true)
		return err
	}
	return nil
}

// apply sets the credential and impersonation headers on h.
func (a *authenticator) apply(ctx context.Context, h http.Header) error {
	tok := a.token
	if a.tokenFile != nil {
		t, err := a.tokenFile.get(false)
		if err != nil {
			return err
		}
		tok = t
	}
	if a.provider != nil {
		c, err := a.provider.Credentials(ctx, false)
		if err != nil {
			return fmt.Errorf("credential provider: %w", err)
		}
		if c.Token != "" {
			tok = c.Token
		}
	}
	switch {
	case tok != "":
		h.Set("Authorization", "Bearer "+tok)
	case a.user != "" || a.pass != "":
		r := http.Request{Header: h}
		r.SetBasicAuth(a.user, a.pass)
	}
	for k, vs := range a.impersonate {
		h[k] = append([]string(nil), vs...)
	}
	return nil
}

// authRoundTripper adds credentials to requests for the configured host and
// to no other.
type authRoundTripper struct {
	next http.RoundTripper
	auth *authenticator
}

func (rt *authRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if !sameOrigin(req.URL, rt.auth.base) {
		return rt.next.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	if err := rt.auth.apply(req.Context(), r.Header); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return rt.next.RoundTrip(r)
}

// fileToken reads a bearer token file, re-reading it after period and
// keeping the last good token when a read fails or finds the file empty.
type fileToken struct {
	path   string
	period time.Duration
	now    func() time.Time

	mu     sync.Mutex
	token  string
	readAt time.Time
}

func (f *fileToken) get(force bool) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if !force && f.token != "" && now.Sub(f.readAt) < f.period {
		return f.token, nil
	}
	b, err := os.ReadFile(f.path)
	tok := strings.TrimSpace(string(b))
	if err == nil && tok == "" {
		err = errors.New("file is empty")
	}
	if err != nil {
		if f.token != "" {
			// Keep the last good token; try the file again next period.
			f.readAt = now
			return f.token, nil
		}
		return "", fmt.Errorf("bearer token file %s: %w", f.path, err)
	}
	f.token, f.readAt = tok, now
	return tok, nil
}
