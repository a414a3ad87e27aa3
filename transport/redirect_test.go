package transport

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRedirectDoesNotLeakCredentials redirects from the API server to a
// second listener on 127.0.0.1 (another port, so another host) and checks
// that no credential-bearing header arrives there.
func TestRedirectDoesNotLeakCredentials(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			other, otherSrv := newRecorded(t, nil)
			api, apiSrv := newRecorded(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if r.URL.Path == "/same" {
					http.Redirect(w, r, "/api", status)
					return
				}
				if r.URL.Path == "/away" {
					http.Redirect(w, r, otherSrv.URL+"/stolen", status)
					return
				}
				_, _ = io.WriteString(w, "home")
			})
			require.NotEqual(t, strings.Split(apiSrv.URL, ":")[2], strings.Split(otherSrv.URL, ":")[2])
			c, err := New(&Config{Host: apiSrv.URL, AllowPlainHTTPCredentials: true, BearerToken: "secret",
				Impersonate: Impersonation{UserName: "root", Groups: []string{"system:masters"}, Extra: map[string][]string{"k": {"v"}}}})
			require.NoError(t, err)

			req := &Request{Method: http.MethodPost, Path: "/away", Body: []byte(`{}`), Header: http.Header{
				"Cookie":              {"session=abc"},
				"Proxy-Authorization": {"Basic xyz"},
			}}
			_, err = c.Do(context.Background(), req)
			require.NoError(t, err)
			got := other.requests()
			require.Len(t, got, 1)
			for k := range got[0].Header {
				assert.False(t, isSensitiveHeader(k), "header %s leaked to another host", k)
			}
			assert.Empty(t, got[0].Header.Get("Authorization"))

			// The original request carried them.
			first := api.requests()[0]
			assert.Equal(t, "Bearer secret", first.Header.Get("Authorization"))
			assert.Equal(t, "root", first.Header.Get("Impersonate-User"))

			// A same-host redirect keeps them.
			resp, err := c.Do(context.Background(), &Request{Path: "/same"})
			require.NoError(t, err)
			assert.Equal(t, "home", string(resp.Body))
			reqs := api.requests()
			last := reqs[len(reqs)-1]
			assert.Equal(t, "/api", last.URL.Path)
			assert.Equal(t, "Bearer secret", last.Header.Get("Authorization"))
			assert.Equal(t, "root", last.Header.Get("Impersonate-User"))
		})
	}
}

func TestHTTPClientAddsCredentialsOnlyForConfiguredHost(t *testing.T) {
	t.Parallel()
	api, apiSrv := newRecorded(t, nil)
	other, otherSrv := newRecorded(t, nil)
	c, err := New(&Config{Host: apiSrv.URL, AllowPlainHTTPCredentials: true, BearerToken: "secret"})
	require.NoError(t, err)
	for _, u := range []string{apiSrv.URL + "/x", otherSrv.URL + "/y"} {
		resp, err := c.HTTPClient().Get(u)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
	}
	assert.Equal(t, "Bearer secret", api.requests()[0].Header.Get("Authorization"))
	assert.Empty(t, other.requests()[0].Header.Get("Authorization"))
}
