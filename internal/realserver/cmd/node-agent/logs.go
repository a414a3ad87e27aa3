package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// A container's output is kept as a kubelet keeps it: one file per run, in
// the CRI log format (`<RFC3339Nano time> <stdout|stderr> <F|P> <text>`, one
// line per line of output, P marking a partial line), which /containerLogs
// reads back with the kubelet's options. Live output also goes to attached
// clients.

// maxLine is where a long line is cut into partial (P) records.
const maxLine = 16 * 1024

// logFile is the log of one run of a container. Methods are safe for
// concurrent use.
type logFile struct {
	path string

	mu      sync.Mutex
	f       *os.File
	changed chan struct{} // closed and replaced on every write
	closed  bool          // the run is over: nothing more will be written
	subs    map[*subscriber]struct{}
}

// subscriber receives live output of one stream pair (an attach).
type subscriber struct {
	out, err io.Writer
}

func newLogFile(path string) (*logFile, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return &logFile{path: path, f: f, changed: make(chan struct{}), subs: map[*subscriber]struct{}{}}, nil
}

// copyFrom reads r (a process's stdout or stderr) until EOF and records it.
func (l *logFile) copyFrom(stream string, r io.Reader) {
	br := bufio.NewReaderSize(r, maxLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			tag := "P"
			if line[len(line)-1] == '\n' {
				tag, line = "F", line[:len(line)-1]
			}
			l.write(stream, tag, line)
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

func (l *logFile) write(stream, tag string, text []byte) {
	var b bytes.Buffer
	b.WriteString(time.Now().UTC().Format(time.RFC3339Nano))
	b.WriteByte(' ')
	b.WriteString(stream)
	b.WriteByte(' ')
	b.WriteString(tag)
	b.WriteByte(' ')
	b.Write(text)
	b.WriteByte('\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		_, _ = l.f.Write(b.Bytes())
	}
	raw := text
	if tag == "F" {
		raw = append(append([]byte(nil), text...), '\n')
	}
	for s := range l.subs {
		w := s.out
		if stream == "stderr" {
			w = s.err
		}
		if w != nil {
			_, _ = w.Write(raw)
		}
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// close marks the run over (after its output pipes reached EOF).
func (l *logFile) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
	l.closed = true
	close(l.changed)
	l.changed = make(chan struct{})
}

// subscribe sends live output to s until the returned function is called.
func (l *logFile) subscribe(s *subscriber) (unsubscribe func(), over <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.subs[s] = struct{}{}
	done := make(chan struct{})
	if l.closed {
		close(done)
	} else {
		go func() {
			for {
				l.mu.Lock()
				closed, ch := l.closed, l.changed
				l.mu.Unlock()
				if closed {
					close(done)
					return
				}
				<-ch
			}
		}()
	}
	return func() {
		l.mu.Lock()
		delete(l.subs, s)
		l.mu.Unlock()
	}, done
}

// state returns the channel closed at the next write and whether the run is
// over.
func (l *logFile) state() (<-chan struct{}, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changed, l.closed
}

// logOptions are the kubelet's /containerLogs query parameters.
type logOptions struct {
	follow     bool
	previous   bool
	timestamps bool
	tailLines  int64 // -1: all
	limitBytes int64 // 0: no limit
	since      time.Time
	stream     string // "", "All", "Stdout" or "Stderr"
}

func parseLogOptions(q map[string][]string) (logOptions, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	o := logOptions{tailLines: -1}
	var err error
	parseBool := func(k string) bool {
		v := get(k)
		if v == "" || err != nil {
			return false
		}
		var b bool
		b, err = strconv.ParseBool(v)
		return b
	}
	o.follow, o.previous, o.timestamps = parseBool("follow"), parseBool("previous"), parseBool("timestamps")
	if err != nil {
		return o, err
	}
	tail := get("tailLines")
	if tail == "" {
		tail = get("tail")
	}
	if tail != "" && tail != "all" {
		if o.tailLines, err = strconv.ParseInt(tail, 10, 64); err != nil || o.tailLines < 0 {
			return o, errBadQuery("tailLines")
		}
	}
	if v := get("limitBytes"); v != "" {
		if o.limitBytes, err = strconv.ParseInt(v, 10, 64); err != nil || o.limitBytes < 1 {
			return o, errBadQuery("limitBytes")
		}
	}
	if v := get("sinceSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return o, errBadQuery("sinceSeconds")
		}
		o.since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	if v := get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return o, errBadQuery("sinceTime")
		}
		o.since = t
	}
	o.stream = get("stream")
	switch o.stream {
	case "", "All", "Stdout", "Stderr":
	default:
		return o, errBadQuery("stream")
	}
	return o, nil
}

type errBadQuery string

func (e errBadQuery) Error() string { return "invalid " + string(e) }

// logRecord is one parsed log line.
type logRecord struct {
	time   []byte
	stream string
	full   bool
	text   []byte
}

func parseRecord(line []byte) (logRecord, bool) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	parts := bytes.SplitN(line, []byte(" "), 4)
	if len(parts) < 3 {
		return logRecord{}, false
	}
	r := logRecord{time: parts[0], stream: string(parts[1]), full: string(parts[2]) == "F"}
	if len(parts) == 4 {
		r.text = parts[3]
	}
	return r, true
}

// serveLog writes the log of l (a finished or running run) to w with o.
// When following, it returns once the run is over or ctx ends.
func serveLog(ctx context.Context, w http.ResponseWriter, l *logFile, o logOptions) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	f, err := os.Open(l.path)
	if err != nil {
		return
	}
	defer f.Close()
	written := int64(0)
	emit := func(r logRecord) bool {
		if o.stream == "Stdout" && r.stream != "stdout" || o.stream == "Stderr" && r.stream != "stderr" {
			return true
		}
		if !o.since.IsZero() {
			if t, err := time.Parse(time.RFC3339Nano, string(r.time)); err == nil && t.Before(o.since) {
				return true
			}
		}
		var b []byte
		if o.timestamps {
			b = append(append(b, r.time...), ' ')
		}
		b = append(b, r.text...)
		if r.full {
			b = append(b, '\n')
		}
		if o.limitBytes > 0 && written+int64(len(b)) > o.limitBytes {
			b = b[:o.limitBytes-written]
		}
		n, err := w.Write(b)
		written += int64(n)
		return err == nil && (o.limitBytes == 0 || written < o.limitBytes)
	}

	// What is there now, with tailLines applied.
	changed, closed := l.state()
	data, err := io.ReadAll(f)
	if err != nil {
		return
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if n := len(lines); n > 0 && len(lines[n-1]) == 0 {
		lines = lines[:n-1]
	}
	var partial []byte // an incomplete last line, read again later
	if n := len(lines); n > 0 && !bytes.HasSuffix(lines[n-1], []byte("\n")) {
		partial, lines = lines[n-1], lines[:n-1]
	}
	if o.tailLines >= 0 && int64(len(lines)) > o.tailLines {
		lines = lines[int64(len(lines))-o.tailLines:]
	}
	for _, line := range lines {
		if r, ok := parseRecord(line); ok && !emit(r) {
			return
		}
	}
	if flusher != nil {
		flusher.Flush()
	}
	if !o.follow {
		return
	}
	br := bufio.NewReader(io.MultiReader(bytes.NewReader(partial), f))
	var pending []byte
	for {
		for {
			chunk, err := br.ReadBytes('\n')
			pending = append(pending, chunk...)
			if err != nil {
				break
			}
			if r, ok := parseRecord(pending); ok && !emit(r) {
				return
			}
			pending = pending[:0]
		}
		if flusher != nil {
			flusher.Flush()
		}
		if closed {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
		changed, closed = l.state()
		br.Reset(f)
	}
}
