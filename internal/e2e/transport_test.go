package e2e_test

import (
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	clusterpkg "github.com/kubedyn/kubedyn/internal/cluster"
	"github.com/kubedyn/kubedyn/transport"
)

func TestTransportSpeaksHTTP2(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	var mu sync.Mutex
	protos := map[string]int{}
	cfg := config(t, "admin")
	cfg.WrapTransport = func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			resp, err := next.RoundTrip(req)
			if err == nil {
				mu.Lock()
				protos[resp.Proto]++
				mu.Unlock()
			}
			return resp, err
		})
	}
	c := newClientFromConfig(t, cfg)
	_, _, err := c.Resource("v1", "Namespace").ListAll(ctx, nil)
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"HTTP/2.0"}, slices.Collect(maps.Keys(protos)))
}

// TestTokenFileRotationAfter401 replaces the token in a token file while a
// client uses it: the server's 401 makes the client re-read the file and
// retry once with the new token.
func TestTokenFileRotationAfter401(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := cluster(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("revoked-token\n"), 0o600))
	cfg := config(t, "nobody")
	cfg.BearerToken = ""
	cfg.BearerTokenFile = tokenFile
	tc, err := transport.New(cfg)
	require.NoError(t, err)
	get := func() error {
		_, err := tc.Do(ctx, &transport.Request{Method: http.MethodGet, Path: "/api/v1/namespaces/default"})
		return err
	}

	assert.ErrorIs(t, get(), transport.ErrUnauthorized)
	require.NoError(t, os.WriteFile(tokenFile, []byte(c.AdminToken+"\n"), 0o600))
	assert.NoError(t, get(), "the 401 made the client re-read the rotated file")

	rc := newClientFromConfig(t, cfg)
	user, _, err := whoAmI(t, ctx, rc)
	require.NoError(t, err)
	assert.Equal(t, clusterpkg.AdminUser, user)
}
