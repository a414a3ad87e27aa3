package testserver

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"
)

// Fault describes a failure injected before normal request handling. A
// request matches when its method equals Method (any method when empty),
// its URL path starts with PathPrefix (any path when empty) and its raw
// query contains Query (any query when empty). The effects of a
// matching fault apply in this order: Delay, Warning, Drop, Status,
// Truncate; a fault with none of Drop, Status or Truncate lets the request
// through to normal handling after its delay and warning. A Fault is a
// plain value; Inject copies it.
type Fault struct {
	Method     string
	PathPrefix string
	// Query, when set, must occur in the raw query ("watch=true" picks
	// watches only).
	Query string
	// Status, when non-zero, answers with a Status object of this code
	// (reason and message as the real server gives for the code), or with
	// Body when that is set.
	Status int
	// Body replaces the Status object of a Status answer, such as the HTML
	// page of a proxy's 502; ContentType labels it (text/html when empty).
	Body        string
	ContentType string
	// RetryAfter sets the Retry-After header (whole seconds, rounded up)
	// and details.retryAfterSeconds of a Status answer.
	RetryAfter time.Duration
	// Delay holds the request this long (or until the client gives up)
	// before anything else.
	Delay time.Duration
	// Drop closes the connection without an answer.
	Drop bool
	// Truncate handles the request normally, then sends only the first
	// half of the body (the Content-Length announces all of it) and closes
	// the connection. It is not applied to watch requests.
	Truncate bool
	// Warning adds a `299 - "<Warning>"` Warning header to the answer.
	Warning string
	// Header adds headers to the answer, such as Location for a redirect
	// (Status 307 with Header {"Location": {url}}).
	Header http.Header
	// Times is how many matching requests the fault applies to; 0 means
	// every matching request until ClearFaults.
	Times int
}

type faultState struct {
	f    Fault
	left int // remaining uses; -1 = unlimited
}

// Inject adds a fault. Faults are tried in the order they were injected;
// the first that matches and has uses left applies, and only that one.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := f.Times
	if left <= 0 {
		left = -1
	}
	s.faults = append(s.faults, &faultState{f: f, left: left})
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

func (s *Server) matchFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, fs := range s.faults {
		if fs.f.Method != "" && !strings.EqualFold(fs.f.Method, r.Method) {
			continue
		}
		if !strings.HasPrefix(r.URL.Path, fs.f.PathPrefix) || !strings.Contains(r.URL.RawQuery, fs.f.Query) {
			continue
		}
		f := fs.f
		if fs.left > 0 {
			fs.left--
			if fs.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return &f
	}
	return nil
}

// apply carries out the fault; it reports whether the request was answered.
// A delay ends early, unanswered, when the client goes or done is closed
// (the server is closing).
func (f *Fault) apply(w http.ResponseWriter, r *http.Request, next http.HandlerFunc, done <-chan struct{}) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		case <-done:
			t.Stop()
			return true
		}
	}
	if f.Warning != "" {
		writeWarnings(w, []string{f.Warning})
	}
	for k, vs := range f.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if f.Drop {
		dropConnection(w)
		return true
	}
	if f.Status != 0 {
		secs := 0
		if f.RetryAfter > 0 {
			secs = int((f.RetryAfter + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
		if f.Body != "" {
			ct := f.ContentType
			if ct == "" {
				ct = "text/html"
			}
			w.Header().Set("Content-Type", ct)
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte(f.Body))
			return true
		}
		writeStatus(w, errForCode(f.Status, secs))
		return true
	}
	if f.Truncate && !isWatch(r) {
		rec := httptest.NewRecorder()
		next(rec, r)
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		body := rec.Body.Bytes()
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body[:len(body)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		// Aborting the handler makes net/http close the connection
		// with the body incomplete.
		panic(http.ErrAbortHandler)
	}
	return false
}

// dropConnection closes the client's connection without a (further) answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func isWatch(r *http.Request) bool { return boolParam(r.URL.Query(), "watch") }
