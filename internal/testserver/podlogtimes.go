package testserver

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// stampedLog is a container log whose lines carry the times the node
// recorded, so timestamps, sinceTime and sinceSeconds can be served.
type stampedLog struct {
	lines []stampedLine
	cut   chan struct{} // closed and replaced by CutPodLogFollowers
}

type stampedLine struct {
	at   time.Time
	text string
}

// AppendPodLog appends lines to a container's log, each recorded at time at
// (the current time when at is zero). A log written this way serves the
// options a node serves: timestamps (RFC 3339 with nanoseconds, as the
// kubelet writes them), sinceTime (kept to whole seconds, as the API
// server passes it on), sinceSeconds, tailLines (applied before since, as
// the kubelet does), limitBytes and follow. It replaces what SetPodLog set
// for the container.
func (s *Server) AppendPodLog(namespace, pod, container string, at time.Time, lines ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stampedLogs == nil {
		s.stampedLogs = map[string]*stampedLog{}
	}
	key := namespace + "/" + pod + "/" + container
	l := s.stampedLogs[key]
	if l == nil {
		l = &stampedLog{cut: make(chan struct{})}
		s.stampedLogs[key] = l
	}
	for _, text := range lines {
		t := at
		if t.IsZero() {
			t = time.Now()
		}
		l.lines = append(l.lines, stampedLine{at: t.UTC(), text: text})
	}
	s.wake()
}

// CutPodLogFollowers drops the open follow streams of a log written with
// AppendPodLog: the connection closes without the end of the chunked body,
// as when a node or the API server restarts mid-stream.
func (s *Server) CutPodLogFollowers(namespace, pod, container string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.stampedLogs[namespace+"/"+pod+"/"+container]; l != nil {
		close(l.cut)
		l.cut = make(chan struct{})
	}
}

// serveStampedLog answers pods/log for a log written with AppendPodLog and
// reports whether it did.
func (s *Server) serveStampedLog(w http.ResponseWriter, r *http.Request, req request) bool {
	q := r.URL.Query()
	_, container, err := s.podContainer(req, q.Get("container"), false)
	if err != nil {
		return false // servePodLog reports it
	}
	key := req.namespace + "/" + req.name + "/" + container
	s.mu.Lock()
	l := s.stampedLogs[key]
	var lines []stampedLine
	var cut chan struct{}
	if l != nil {
		lines, cut = l.lines, l.cut
	}
	s.mu.Unlock()
	if l == nil {
		return false
	}
	var since time.Time
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeErr(w, errBadRequest(fmt.Sprintf("sinceTime: Invalid value: %q", v)))
			return true
		}
		since = t.Truncate(time.Second)
	}
	if v := q.Get("sinceSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			writeErr(w, errBadRequest(fmt.Sprintf("sinceSeconds: Invalid value: %q", v)))
			return true
		}
		since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	limit := int64(-1)
	if v := q.Get("limitBytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			writeErr(w, errBadRequest(fmt.Sprintf("limitBytes: Invalid value: %q", v)))
			return true
		}
		limit = n
	}
	start := 0
	if v := q.Get("tailLines"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeErr(w, errBadRequest(fmt.Sprintf("tailLines: Invalid value: %q", v)))
			return true
		}
		start = max(0, len(lines)-n)
	}
	stamps, follow := q.Get("timestamps") == "true", q.Get("follow") == "true"
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	written := int64(0)
	// write sends lines[from:] and reports whether the stream may go on.
	write := func(from []stampedLine) bool {
		for _, ln := range from {
			if !since.IsZero() && ln.at.Before(since) {
				continue
			}
			b := ln.text + "\n"
			if stamps {
				b = ln.at.Format(time.RFC3339Nano) + " " + b
			}
			if limit >= 0 && written+int64(len(b)) > limit {
				_, _ = w.Write([]byte(b[:limit-written]))
				return false
			}
			if _, err := w.Write([]byte(b)); err != nil {
				return false
			}
			written += int64(len(b))
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	if !write(lines[start:]) || !follow {
		return true
	}
	sent := len(lines)
	for {
		s.mu.Lock()
		cur := l.lines
		notify := s.notify
		_, alive := s.bucket(req.def)[objKey(req.namespace, req.name)]
		s.mu.Unlock()
		if len(cur) > sent {
			if !write(cur[sent:]) {
				return true
			}
			sent = len(cur)
			continue
		}
		if !alive {
			return true
		}
		select {
		case <-notify:
		case <-cut:
			// End the connection without the chunked body's end.
			panic(http.ErrAbortHandler)
		case <-r.Context().Done():
			return true
		case <-s.done:
			return true
		}
	}
}
