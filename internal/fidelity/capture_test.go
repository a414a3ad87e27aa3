package fidelity

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// capture is the stored answer of the real server to one case.
type capture struct {
	Request      request  `json:"request"`
	Status       int      `json:"status"`
	ContentType  string   `json:"contentType"`
	ETag         bool     `json:"etag"`
	CacheControl string   `json:"cacheControl,omitempty"`
	Warnings     []string `json:"warnings,omitempty"`
	Body         any      `json:"body"`
}

// goldenPath is where c's capture is stored; whole OpenAPI documents are
// gzipped.
func goldenPath(c fcase) string {
	if c.Kind == kindOpenAPIFull {
		return filepath.Join("testdata", c.Name+".json.gz")
	}
	return filepath.Join("testdata", c.Name+".json")
}

// run sets up c on tg, sends its request and returns the normalised answer.
func run(t *testing.T, tg *target, c fcase) capture {
	t.Helper()
	vars := tg.setup(t, c.Setup)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rq := fill(c.Request, vars)
	if c.FollowIndex != "" {
		resp, err := tg.do(ctx, get("/openapi/v3"))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		u := str(decode(resp.Body), "paths", c.FollowIndex, "serverRelativeURL")
		require.NotEmpty(t, u, "/openapi/v3 lists no %s", c.FollowIndex)
		rq.Path = u
	}
	resp, err := tg.do(ctx, rq)
	require.NoError(t, err)
	if c.Revalidate {
		require.NotEmpty(t, resp.ETag, "no ETag to revalidate with")
		rq.Header = maps.Clone(rq.Header)
		if rq.Header == nil {
			rq.Header = map[string]string{}
		}
		rq.Header["If-None-Match"] = resp.ETag
		resp, err = tg.do(ctx, rq)
		require.NoError(t, err)
	}
	var body any
	if c.Kind == kindWatch {
		body = decodeStream(resp.Body)
	} else {
		body = decode(resp.Body)
	}
	return capture{
		Request:      c.Request,
		Status:       resp.Status,
		ContentType:  resp.ContentType,
		ETag:         resp.ETag != "",
		CacheControl: resp.CacheControl,
		Warnings:     resp.Warnings,
		Body:         normalise(c, body),
	}
}

func readGolden(t *testing.T, c fcase) capture {
	t.Helper()
	b, err := os.ReadFile(goldenPath(c))
	require.NoError(t, err, "no capture for %s: run go test ./internal/fidelity -run TestCapture -update", c.Name)
	if strings.HasSuffix(goldenPath(c), ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		require.NoError(t, err)
		b, err = io.ReadAll(zr)
		require.NoError(t, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var g capture
	require.NoError(t, dec.Decode(&g))
	return g
}

func writeGolden(t *testing.T, c fcase, g capture) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	gz := strings.HasSuffix(goldenPath(c), ".gz")
	if !gz {
		enc.SetIndent("", " ")
	}
	require.NoError(t, enc.Encode(g))
	out := buf.Bytes()
	if gz {
		var zb bytes.Buffer
		zw, err := gzip.NewWriterLevel(&zb, gzip.BestCompression)
		require.NoError(t, err)
		_, err = zw.Write(out)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		out = zb.Bytes()
	}
	require.NoError(t, os.WriteFile(goldenPath(c), out, 0o644))
}

// TestCapture sends every case to the real kube-apiserver. With -update it
// rewrites testdata/; without, it checks that the server still answers
// with the stored status, media type and shapes.
func TestCapture(t *testing.T) {
	real := realTarget(t)
	// Discovery first: the error cases install a CRD that would otherwise
	// show up in the discovery captures.
	for _, group := range []struct {
		name  string
		cases []fcase
	}{{"discovery", discoveryCases}, {"errors", errorCases}, {"objects", objectCases}, {"changes", changeCases}} {
		t.Run(group.name, func(t *testing.T) {
			for _, c := range group.cases {
				t.Run(c.Name, func(t *testing.T) {
					t.Parallel()
					got := run(t, real, c)
					if *update {
						writeGolden(t, c, got)
						return
					}
					want := readGolden(t, c)
					assert.Equal(t, want.Request, c.Request, "the stored request differs from the case: run with -update")
					for _, d := range compare(c, want, got) {
						t.Errorf("real server no longer matches testdata/%s.json (\"real\" is the capture, \"testserver\" the live answer): %s: %s", c.Name, d.Key, d.Detail)
					}
				})
			}
		})
	}
}
