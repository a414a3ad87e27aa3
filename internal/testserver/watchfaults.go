package testserver

import (
	"bytes"
	"net/http"
	"sync"
)

// Watch faults beyond EndWatches, DropWatches and Compact. Their state lives
// outside Server so that they stay in this file.

// watchFaultState is the armed watch faults of one Server.
type watchFaultState struct {
	mu sync.Mutex
	// cut is bumped by CutWatches; a watch whose generation is older cuts
	// its next event.
	cut int
	// hideEnd drops the initial-events-end bookmark.
	hideEnd bool
}

var watchFaults sync.Map // *Server -> *watchFaultState

func (s *Server) watchFaults() *watchFaultState {
	v, _ := watchFaults.LoadOrStore(s, &watchFaultState{})
	return v.(*watchFaultState)
}

// OpenWatches returns how many watch requests are being served now.
func (s *Server) OpenWatches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.watchers)
}

// CutWatches makes every watch open now send only the first half of its
// next event and then close the connection, as when the network fails in
// the middle of an event.
func (s *Server) CutWatches() {
	st := s.watchFaults()
	st.mu.Lock()
	st.cut++
	st.mu.Unlock()
}

// HideInitialEventsEnd makes watches with sendInitialEvents leave out the
// bookmark that ends the initial events (hide true), as a server does that
// accepts the parameter but does not implement it; false restores it.
func (s *Server) HideInitialEventsEnd(hide bool) {
	st := s.watchFaults()
	st.mu.Lock()
	st.hideEnd = hide
	st.mu.Unlock()
}

// faultyWatchWriter applies the watch faults to one watch response. Each
// Write is one whole event (json.Encoder writes a line at a time).
type faultyWatchWriter struct {
	http.ResponseWriter
	st  *watchFaultState
	gen int
}

// watchWriter wraps a watch response in the server's watch faults.
func (s *Server) watchWriter(w http.ResponseWriter) http.ResponseWriter {
	st := s.watchFaults()
	st.mu.Lock()
	defer st.mu.Unlock()
	return &faultyWatchWriter{ResponseWriter: w, st: st, gen: st.cut}
}

var initialEventsEnd = []byte(`"k8s.io/initial-events-end"`)

func (w *faultyWatchWriter) Write(b []byte) (int, error) {
	w.st.mu.Lock()
	cut, hide := w.st.cut != w.gen, w.st.hideEnd
	w.st.mu.Unlock()
	if hide && bytes.Contains(b, initialEventsEnd) {
		return len(b), nil
	}
	if cut {
		_, _ = w.ResponseWriter.Write(b[:len(b)/2])
		if fl, ok := w.ResponseWriter.(http.Flusher); ok {
			fl.Flush()
		}
		// Aborting the handler closes the connection mid-event.
		panic(http.ErrAbortHandler)
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends what was written.
func (w *faultyWatchWriter) Flush() {
	if fl, ok := w.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}
