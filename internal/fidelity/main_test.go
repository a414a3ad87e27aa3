package fidelity

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/cluster"
	"github.com/kubedyn/kubedyn/internal/testserver"
)

var update = flag.Bool("update", false, "rewrite testdata/ from the real kube-apiserver")

func TestMain(m *testing.M) { os.Exit(cluster.Main(m)) }

// target is one API server reached over HTTPS with CA verification and a
// bearer token.
type target struct {
	url   string
	token string
	http  *http.Client
}

func newTarget(t testing.TB, url string, caPEM []byte, token string) *target {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(caPEM), "CA PEM")
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return &target{url: url, token: token, http: &http.Client{
		Transport: tr,
		// Report redirects as they are instead of following them.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// realTarget returns the shared real control plane as admin.
func realTarget(t testing.TB) *target {
	t.Helper()
	c := cluster.ForTest(t)
	return newTarget(t, c.URL, c.CAPEM, c.AdminToken)
}

// testTarget starts a fresh test server, which establishes CRDs after the
// real server's delay.
func testTarget(t testing.TB) *target {
	t.Helper()
	s := testserver.NewWithOptions(t, &testserver.Options{CRDEstablishDelay: testserver.RealCRDEstablishDelay})
	return newTarget(t, s.URL(), s.CAPEM(), s.Token())
}

// fill replaces every saved placeholder in rq's path and body.
func fill(rq request, vars map[string]string) request {
	for k, v := range vars {
		rq.Path = strings.ReplaceAll(rq.Path, k, url.QueryEscape(v))
		rq.Body = strings.ReplaceAll(rq.Body, k, v)
	}
	return rq
}

// response is what a capture keeps of an answer.
type response struct {
	Status       int
	ContentType  string
	ETag         string
	CacheControl string
	Warnings     []string
	Body         []byte
}

func (tg *target) do(ctx context.Context, rq request) (*response, error) {
	var body io.Reader
	if rq.Body != "" {
		body = strings.NewReader(rq.Body)
	}
	req, err := http.NewRequestWithContext(ctx, rq.Method, tg.url+rq.Path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range rq.Header {
		req.Header.Set(k, v)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+tg.token)
	}
	resp, err := tg.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", rq.Method, rq.Path, err)
	}
	return &response{
		Status:       resp.StatusCode,
		ContentType:  resp.Header.Get("Content-Type"),
		ETag:         resp.Header.Get("ETag"),
		CacheControl: resp.Header.Get("Cache-Control"),
		Warnings:     resp.Header.Values("Warning"),
		Body:         b,
	}, nil
}

// setup runs a case's setup steps; each must answer 2xx, or 409 when it
// creates something that an earlier run of the same process created, or
// 404 when it deletes what an earlier run would have left. It
// returns the values the steps saved (see request.Save).
func (tg *target) setup(t testing.TB, steps []request) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, st := range steps {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		st = fill(st, vars)
		for {
			resp, err := tg.do(ctx, st)
			require.NoError(t, err, "setup %s %s", st.Method, st.Path)
			ok := resp.Status/100 == 2 || (st.Method == http.MethodPost && resp.Status == http.StatusConflict) ||
				(st.Method == http.MethodDelete && resp.Status == http.StatusNotFound)
			if ok {
				for name, p := range st.Save {
					v := str(decode(resp.Body), strings.Split(p, ".")...)
					require.NotEmpty(t, v, "setup %s %s: nothing at %s to save as %s: %s", st.Method, st.Path, p, name, resp.Body)
					vars[name] = v
				}
				break
			}
			if !st.Retry {
				cancel()
				require.Failf(t, "setup failed", "%s %s: %d %s", st.Method, st.Path, resp.Status, resp.Body)
			}
			// A custom resource is served a moment after its CRD is
			// Established on the real server: poll until it is.
			select {
			case <-ctx.Done():
				cancel()
				require.Failf(t, "setup timed out", "%s %s: %d %s", st.Method, st.Path, resp.Status, resp.Body)
			case <-time.After(100 * time.Millisecond):
			}
		}
		cancel()
	}
	return vars
}

// mediaType splits a Content-Type into its media type and parameters; an
// unparsable value is returned whole as the media type.
func mediaType(ct string) (string, map[string]string) {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct, nil
	}
	return mt, params
}
