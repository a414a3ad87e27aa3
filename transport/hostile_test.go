package transport

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type connKey struct{}

// TestGoSilentRetryOnReusedConnection pins down the real bound on what
// reaches the server: Go's HTTP/1.1 transport sends a GET again, on its own,
// when a reused keep-alive connection closes before the response starts,
// even with retries disabled; a POST whose body was written is never sent
// again. The server closes each connection after reading its second request.
func TestGoSilentRetryOnReusedConnection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method   string
		wantSeen int
		wantErr  bool
	}{
		{http.MethodGet, 2, false},
		{http.MethodPost, 1, true},
	} {
		t.Run(tc.method, func(t *testing.T) {
			t.Parallel()
			var seen atomic.Int32
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := r.Context().Value(connKey{}).(*atomic.Int32).Add(1)
				if r.URL.Path == "/target" {
					seen.Add(1)
				}
				if n == 2 { // the second request on this connection
					conn, _, err := http.NewResponseController(w).Hijack()
					if err == nil {
						_ = conn.Close()
					}
					return
				}
				_, _ = io.WriteString(w, "ok")
			}))
			srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
				return context.WithValue(ctx, connKey{}, new(atomic.Int32))
			}
			srv.Start()
			t.Cleanup(srv.Close)
			c, err := New(&Config{Host: srv.URL, MaxRetries: -1})
			require.NoError(t, err)
			_, err = c.Do(context.Background(), &Request{Path: "/warm"})
			require.NoError(t, err)
			var body []byte
			if tc.method == http.MethodPost {
				body = []byte(`{}`)
			}
			_, err = c.Do(context.Background(), &Request{Method: tc.method, Path: "/target", Body: body})
			assert.Equal(t, tc.wantErr, err != nil, "%v", err)
			assert.Equal(t, int32(tc.wantSeen), seen.Load(), "copies of the request the server read, with MaxRetries -1")
		})
	}
}

// TestServerClosesAfterHeaders: a server that closes every connection right
// after the response headers (a body announced and never sent, or a chunked
// body that never ends) costs a GET MaxRetries+1 attempts and a clear
// error, and a POST one attempt; nothing hangs.
func TestServerClosesAfterHeaders(t *testing.T) {
	t.Parallel()
	for _, chunked := range []bool{false, true} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			name := method + " content-length"
			if chunked {
				name = method + " chunked"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				rec, srv := newRecorded(t, func(w http.ResponseWriter, r *http.Request, n int) {
					if !chunked {
						w.Header().Set("Content-Length", "1000")
					}
					w.WriteHeader(http.StatusOK)
					w.(http.Flusher).Flush()
					conn, _, err := http.NewResponseController(w).Hijack()
					if err == nil {
						_ = conn.Close()
					}
				})
				c, err := New(&Config{Host: srv.URL, MaxRetries: 2})
				require.NoError(t, err)
				waits := recordSleeps(c)
				_, err = c.Do(context.Background(), &Request{Method: method, Path: "/api/v1/pods", Body: []byte(`{}`)})
				require.Error(t, err)
				assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
				assert.Contains(t, err.Error(), "reading body")
				want := 3
				if method == http.MethodPost {
					want = 1
				}
				assert.Equal(t, want, rec.count())
				assert.Len(t, waits(), want-1)
			})
		}
	}
}

// TestHTTP2ResetMidList: the server resets the HTTP/2 stream (RST_STREAM)
// half-way through a list body; a GET is retried and gets the whole list, a
// POST is not repeated.
func TestHTTP2ResetMidList(t *testing.T) {
	t.Parallel()
	full := `{"kind":"List","items":[` + strings.Repeat(`{"a":1},`, 2000) + `{"a":1}]}`
	ca := newTestCA(t, "ca")
	var mu sync.Mutex
	var protos []string
	srv := tlsServerH2(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		protos = append(protos, r.Proto)
		n := len(protos)
		mu.Unlock()
		if n%2 == 1 {
			_, _ = io.WriteString(w, full[:len(full)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // RST_STREAM on HTTP/2
		}
		_, _ = io.WriteString(w, full)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	c, err := New(&Config{Host: srv.URL, TLS: TLSConfig{CAData: ca.pem}})
	require.NoError(t, err)
	waits := recordSleeps(c)
	resp, err := c.Do(context.Background(), &Request{Path: "/api/v1/configmaps"})
	require.NoError(t, err)
	assert.True(t, full == string(resp.Body), "the whole list arrived")
	assert.Len(t, waits(), 1)

	_, err = c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/api/v1/configmaps", Body: []byte(`{}`)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stream error")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"HTTP/2.0", "HTTP/2.0", "HTTP/2.0"}, protos, "the POST was sent once")
}

// chanListener is a net.Listener fed by a channel.
type chanListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }

// TestHTTP2GoAwayMidList: the server starts a graceful shutdown (GOAWAY)
// while a list body is half sent. The list still arrives whole, and the
// next request goes over a new connection to the server that took over.
func TestHTTP2GoAwayMidList(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "ca")
	certPEM, keyPEM := ca.issue(t, "server", false, nil, []net.IP{net.ParseIP("127.0.0.1")})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	first, second := newChanListener(ln.Addr()), newChanListener(ln.Addr())
	var phase atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			target := first
			if phase.Load() > 0 {
				target = second
			}
			select {
			case target.conns <- conn:
			case <-target.done:
				_ = conn.Close()
			}
		}
	}()

	full := `{"kind":"List","items":[` + strings.Repeat(`{"a":1},`, 4000) + `{"a":1}]}`
	var served [2]atomic.Int32
	var srvA *http.Server
	shutdownStarted := make(chan struct{})
	newServer := func(idx int) *http.Server {
		s := &http.Server{
			TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
			ErrorLog:  log.New(io.Discard, "", 0),
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				served[idx].Add(1)
				if idx == 0 && r.URL.Path == "/list" {
					_, _ = io.WriteString(w, full[:len(full)/2])
					w.(http.Flusher).Flush()
					phase.Store(1)
					go func() { _ = srvA.Shutdown(context.Background()) }()
					<-shutdownStarted
					_, _ = io.WriteString(w, full[len(full)/2:])
					return
				}
				_, _ = io.WriteString(w, r.Proto)
			}),
		}
		return s
	}
	srvA = newServer(0)
	srvA.RegisterOnShutdown(func() { close(shutdownStarted) })
	srvB := newServer(1)
	go func() { _ = srvA.ServeTLS(first, "", "") }()
	go func() { _ = srvB.ServeTLS(second, "", "") }()
	t.Cleanup(func() { _ = srvA.Close(); _ = srvB.Close() })

	c, err := New(&Config{Host: "https://" + ln.Addr().String(), TLS: TLSConfig{CAData: ca.pem}})
	require.NoError(t, err)
	resp, err := c.Do(context.Background(), &Request{Path: "/list"})
	require.NoError(t, err)
	assert.True(t, full == string(resp.Body), "the list arrived whole")
	resp, err = c.Do(context.Background(), &Request{Path: "/next"})
	require.NoError(t, err)
	assert.Equal(t, "HTTP/2.0", string(resp.Body))
	assert.Equal(t, int32(1), served[0].Load())
	assert.Equal(t, int32(1), served[1].Load(), "the next request went to the new server")
}
