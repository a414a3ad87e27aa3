package discovery

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/kubedyn/kubedyn/transport"
)

// fixture is an httptest TLS server that serves discovery documents from a
// testdata tree (testdata/<dir>/apis/apps/v1.json answers GET /apis/apps/v1),
// with ETags, and records what it was asked.
type fixture struct {
	t   testing.TB
	srv *httptest.Server

	mu   sync.Mutex
	docs map[string]fixtureDoc
	hits map[string]int
	inm  map[string][]string // If-None-Match headers received, per path
	gate map[string]chan struct{}
	// variants, when set for a path, are served in turn, one per request,
	// each with its own ETag.
	variants map[string][][]byte
	gateHit  map[string]int // requests to a gated path block from this hit on
	arrived  map[string]chan struct{}
	// clock is the clocks of the clients the fixture makes: it stands still
	// unless a test advances it, so a TTL never runs out because the
	// machine is slow, and request counts depend only on what the test does.
	clock *fakeClock
}

type fixtureDoc struct {
	body   []byte
	etag   string
	status int // non-zero: answer this status with a Status body
}

const aggregatedContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

func newFixture(t testing.TB, dir string) *fixture {
	t.Helper()
	f := &fixture{
		t:       t,
		docs:    make(map[string]fixtureDoc),
		hits:    make(map[string]int),
		inm:     make(map[string][]string),
		gate:    make(map[string]chan struct{}),
		gateHit: make(map[string]int),
		arrived: make(map[string]chan struct{}),
		clock:   &fakeClock{now: time.Unix(1_700_000_000, 0)},
	}
	root := filepath.Join("testdata", dir)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		f.set("/"+strings.TrimSuffix(filepath.ToSlash(rel), ".json"), body)
		return nil
	})
	require.NoError(t, err)
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	// Connections the client leaves idle are cut at Close: not worth a log.
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hits[r.URL.Path]++
	n := f.hits[r.URL.Path]
	if v := r.Header.Get("If-None-Match"); v != "" {
		f.inm[r.URL.Path] = append(f.inm[r.URL.Path], v)
	}
	gate, gated := f.gate[r.URL.Path]
	gated = gated && n >= f.gateHit[r.URL.Path]
	arrived := f.arrived[r.URL.Path]
	f.mu.Unlock()
	if gated {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	f.mu.Lock()
	d, ok := f.docs[r.URL.Path]
	if v := f.variants[r.URL.Path]; len(v) > 0 {
		body := v[n%len(v)]
		sum := sha256.Sum256(body)
		d, ok = fixtureDoc{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}, true
	}
	f.mu.Unlock()
	switch {
	case !ok:
		writeStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	case d.status != 0:
		writeStatus(w, d.status, http.StatusText(d.status), "injected failure")
		return
	}
	aggregated := gjson.GetBytes(d.body, "kind").String() == kindAggregated
	if aggregated && !strings.Contains(r.Header.Get("Accept"), "as=APIGroupDiscoveryList") {
		writeStatus(w, http.StatusNotAcceptable, "NotAcceptable", "fixture serves only the aggregated form here")
		return
	}
	w.Header().Set("ETag", d.etag)
	if r.Header.Get("If-None-Match") == d.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if aggregated {
		w.Header().Set("Content-Type", aggregatedContentType)
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	_, _ = w.Write(d.body)
}

func writeStatus(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":%q,"reason":%q,"code":%d}`, msg, reason, code)
}

// set serves body at path with an ETag derived from its content.
func (f *fixture) set(path string, body []byte) {
	sum := sha256.Sum256(body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.docs[path] = fixtureDoc{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// rotate serves the bodies at path in turn, one per request.
func (f *fixture) rotate(path string, bodies ...[]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.variants == nil {
		f.variants = make(map[string][][]byte)
	}
	f.variants[path] = bodies
}

// body returns the document served at path.
func (f *fixture) body(path string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.docs[path].body
}

// appendItem adds a raw JSON element to the array at arrayPath of the
// document served at path.
func (f *fixture) appendItem(path, arrayPath, raw string) {
	out, err := sjson.SetRawBytes(f.body(path), arrayPath+".-1", []byte(raw))
	require.NoError(f.t, err)
	require.True(f.t, gjson.ValidBytes(out))
	f.set(path, out)
}

// recover serves path's document again after fail.
func (f *fixture) recover(path string) { f.fail(path, 0) }

// fail answers status for path from now on.
func (f *fixture) fail(path string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.docs[path]
	d.status = status
	f.docs[path] = d
}

// hold makes requests to path, from its n-th on, wait until release is
// called. Each held request signals arrived (buffered, never blocking).
func (f *fixture) hold(path string, n int) (arrived <-chan struct{}, release func()) {
	ch := make(chan struct{})
	arr := make(chan struct{}, 16)
	f.mu.Lock()
	f.gate[path] = ch
	f.gateHit[path] = n
	f.arrived[path] = arr
	f.mu.Unlock()
	var once sync.Once
	return arr, func() { once.Do(func() { close(ch) }) }
}

func (f *fixture) hitsFor(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[path]
}

func (f *fixture) totalHits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, v := range f.hits {
		n += v
	}
	return n
}

func (f *fixture) ifNoneMatch(path string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.inm[path]...)
}

func (f *fixture) etag(path string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.docs[path].etag
}

// transport returns a transport client for the fixture with retries off, so
// request counts are exact.
func (f *fixture) transport() *transport.Client {
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	tc, err := transport.New(&transport.Config{Host: f.srv.URL, TLS: transport.TLSConfig{CAData: ca}, MaxRetries: -1})
	require.NoError(f.t, err)
	return tc
}

// client returns a discovery client for the fixture, on the fixture's
// clock.
func (f *fixture) client(opts *Options) *Client {
	c := New(f.transport(), opts)
	c.now = f.clock.Now
	return c
}
