package testserver

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// tclient sends raw HTTP requests to a test server.
type tclient struct {
	t   testing.TB
	srv *Server
	hc  *http.Client
}

func setup(t testing.TB) *tclient {
	t.Helper()
	srv := New(t)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(srv.CAPEM()))
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &tclient{t: t, srv: srv, hc: &http.Client{Transport: tr}}
}

type resp struct {
	code   int
	header http.Header
	raw    []byte
	obj    map[string]any
}

// do sends a request; hdr holds header name/value pairs. A body of "" sends
// none.
func (c *tclient) do(method, path, body string, hdr ...string) resp {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.srv.URL()+path, rd)
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+c.srv.Token())
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.hc.Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	r := resp{code: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		require.NoError(c.t, json.Unmarshal(raw, &r.obj), string(raw))
	}
	return r
}

// path reads a dotted path ("metadata.name", "items.0.kind") of a decoded
// JSON value.
func path(v any, p string) any {
	if p == "" {
		return v
	}
	for _, seg := range strings.Split(p, ".") {
		switch t := v.(type) {
		case map[string]any:
			v = t[seg]
		case []any:
			i := 0
			for _, ch := range seg {
				if ch < '0' || ch > '9' {
					return nil
				}
				i = i*10 + int(ch-'0')
			}
			if i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

func (r resp) get(p string) any { return path(r.obj, p) }

func (r resp) str(p string) string {
	s, _ := r.get(p).(string)
	return s
}

const podJSON = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx:1.27"}]}}`

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
