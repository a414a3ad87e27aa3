package transport

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadBody(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("0123456789abcdef", 8<<10) // 128 kB: remembered
	tests := []struct {
		name      string
		body      string
		limit     int64
		known     int64
		hint      int // remembered before the read
		oneByte   bool
		wantBody  string
		wantCapLE int // the buffer's capacity at most this, when set
	}{
		{name: "empty", body: "", limit: 100, known: -1, wantBody: ""},
		{name: "small without length", body: "hello", limit: 100, known: -1, wantBody: "hello"},
		{name: "small with length", body: "hello", limit: 100, known: 5, wantBody: "hello", wantCapLE: 512},
		{name: "one byte at a time", body: big, limit: 1 << 20, known: -1, oneByte: true, wantBody: big},
		{name: "bigger than the remembered size", body: big + big, limit: 1 << 20, known: -1, hint: len(big), wantBody: big + big},
		{name: "the remembered size", body: big, limit: 1 << 20, known: -1, hint: len(big), wantBody: big, wantCapLE: len(big) + len(big)/32 + 1},
		{name: "exact length", body: big, limit: 1 << 20, known: int64(len(big)), wantBody: big, wantCapLE: len(big) + 1},
		{name: "a false length allocates only what arrives, then the rest", body: "short", limit: 1 << 30, known: 1 << 29, wantBody: "short", wantCapLE: 1<<20 + 1},
		{name: "one byte past the limit is read, no more", body: big, limit: 1000, known: -1, wantBody: big[:1001]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s bodySizes
			if tt.hint > 0 {
				s.remember("/p", tt.hint)
			}
			var r io.Reader = strings.NewReader(tt.body)
			if tt.oneByte {
				r = iotest.OneByteReader(r)
			}
			b, err := s.readBody(r, tt.limit, tt.known, "/p")
			require.NoError(t, err)
			assert.Equal(t, tt.wantBody, string(b))
			if tt.wantCapLE > 0 {
				assert.LessOrEqual(t, cap(b), tt.wantCapLE)
			}
		})
	}

	t.Run("sizes are remembered per path", func(t *testing.T) {
		t.Parallel()
		var s bodySizes
		s.remember("/a", len(big))
		assert.Equal(t, int64(len(big)), s.hint("/a"))
		assert.Zero(t, s.hint("/b"), "another path, whatever its slot, gets no guess")
		s.remember("/a", 10)
		assert.Zero(t, s.hint("/a"), "a small body forgets the size")
	})

	t.Run("keys: the path and the page size", func(t *testing.T) {
		t.Parallel()
		for raw, want := range map[string]string{
			"/api/v1/configmaps":                             "/api/v1/configmaps",
			"/api/v1/configmaps?limit=500&continue=abc":      "/api/v1/configmaps?limit=500",
			"/api/v1/configmaps?continue=xyz&limit=500":      "/api/v1/configmaps?limit=500",
			"/api/v1/configmaps?labelSelector=a%3Db":         "/api/v1/configmaps",
			"/api/v1/configmaps?climit=3&limit=7&fieldSel=x": "/api/v1/configmaps?limit=7",
		} {
			u, err := url.Parse(raw)
			require.NoError(t, err)
			assert.Equal(t, want, sizeKey(u), raw)
		}
	})

	t.Run("a failed read is returned", func(t *testing.T) {
		t.Parallel()
		var s bodySizes
		_, err := s.readBody(iotest.ErrReader(io.ErrUnexpectedEOF), 100, -1, "/p")
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	})
}

// A gzipped body has no length: read a second time, a large one costs
// little more than itself (io.ReadAll's doubling cost about 2.5 times).
func TestGzippedBodyAllocation(t *testing.T) {
	var plain bytes.Buffer
	for i := 0; plain.Len() < 8<<20; i++ {
		plain.WriteString(`{"metadata":{"name":"cfg-`)
		plain.WriteString(strings.Repeat("x", i%50))
		plain.WriteString(`"},"data":{"k":"v"}},`)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err := zw.Write(plain.Bytes())
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			_, _ = w.Write(plain.Bytes())
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(gz.Bytes())
	}))
	t.Cleanup(srv.Close)
	c, err := New(&Config{Host: srv.URL})
	require.NoError(t, err)
	ctx := context.Background()

	get := func() (allocated uint64) {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		resp, err := c.Do(ctx, &Request{Path: "/api/v1/configmaps"})
		runtime.ReadMemStats(&after)
		require.NoError(t, err)
		require.Equal(t, plain.Len(), len(resp.Body))
		require.True(t, bytes.Equal(plain.Bytes(), resp.Body))
		return after.TotalAlloc - before.TotalAlloc
	}
	get() // learns the size
	for range 2 {
		got := get()
		assert.LessOrEqual(t, float64(got), 1.3*float64(plain.Len()), "allocated %d bytes for a body of %d", got, plain.Len())
	}
}
