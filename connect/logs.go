package connect

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"strconv"
	"time"

	"github.com/kubedyn/kubedyn/transport"
)

// LogOptions select what Logs and LogLines read; nil means the defaults
// (the pod's only container, its whole current log, no follow). The fields
// mirror the pods/log query parameters, plus NoResume. The struct is read,
// never modified.
type LogOptions struct {
	// Container names the container; empty means the pod's only one.
	Container string
	// Follow keeps the stream open and delivers lines as they are written,
	// until the container ends or ctx does (a clean end either way).
	Follow bool
	// Previous reads the log of the container's previous instance.
	Previous bool
	// SinceSeconds, when positive, starts that many seconds ago.
	SinceSeconds int64
	// SinceTime, when not zero, starts at that time. The server keeps
	// only whole seconds of it. Use one of SinceSeconds and SinceTime.
	SinceTime time.Time
	// TailLines, when set, starts that many lines from the end (0: only
	// what a follow sees next). new(int64(10)) asks for the last ten.
	TailLines *int64
	// Timestamps prefixes each line with its RFC 3339 time, as the node
	// recorded it.
	Timestamps bool
	// LimitBytes, when positive, stops after that many bytes.
	LimitBytes int64
	// InsecureSkipTLSVerifyBackend lets the API server skip verifying the
	// node's serving certificate (a broken node certificate).
	InsecureSkipTLSVerifyBackend bool
	// NoResume turns off what a Follow does when its connection drops: ask
	// again from the last line's timestamp and drop the lines already
	// delivered. With it (and always with LimitBytes) a drop is an error.
	NoResume bool
}

// LogLine is one line of a log. It is a plain value.
type LogLine struct {
	// Time is the line's timestamp when the server sent one (Timestamps,
	// or any resuming Follow, which asks for them); zero otherwise.
	Time time.Time
	// Text is the line without its timestamp and without its newline.
	Text string
}

// MaxLogLine is the longest line a resuming follow holds at once; a longer
// line is delivered in pieces of this size.
const MaxLogLine = 1 << 20

// Logs returns a container's log. The reader ends with io.EOF when the log
// (or a Follow, when the container ends or ctx is done) ends, and with an
// error when the connection is cut mid-way, never with a silent short read;
// a Follow resumes a dropped connection unless NoResume is set (see
// LogOptions). The caller closes the reader. A refused request is the
// server's *transport.APIError (pod or container missing: ErrNotFound or
// ErrBadRequest). A pod that never ran gives an empty log.
func (c *Client) Logs(ctx context.Context, namespace, pod string, opts *LogOptions) (io.ReadCloser, error) {
	s, err := c.openLog(ctx, namespace, pod, opts)
	if err != nil {
		return nil, err
	}
	return &logReader{s: s}, nil
}

// LogLines returns the lines of a container's log as they are read. An
// error ends the sequence; so does the end of the log and, for a Follow,
// the end of ctx (cleanly, without an error). The request is sent when the
// loop starts and closed when it ends. Lines longer than MaxLogLine come in
// pieces.
func (c *Client) LogLines(ctx context.Context, namespace, pod string, opts *LogOptions) iter.Seq2[LogLine, error] {
	return func(yield func(LogLine, error) bool) {
		s, err := c.openLog(ctx, namespace, pod, opts)
		if err != nil {
			yield(LogLine{}, err)
			return
		}
		defer s.close()
		for {
			l, err := s.next()
			if l.full != nil {
				text := bytes.TrimSuffix(l.text, []byte("\n"))
				if !yield(LogLine{Time: l.ts, Text: string(text)}, nil) {
					return
				}
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(LogLine{}, err)
				return
			}
		}
	}
}

// rawLine is one line (or piece of a long line) as read: full as the server
// sent it, text without the timestamp, ts the timestamp (zero when none).
type rawLine struct {
	full, text []byte
	ts         time.Time
}

// logStream reads a log line by line, reconnecting a dropped follow.
type logStream struct {
	c       *Client
	ctx     context.Context
	cancel  context.CancelFunc
	op      string
	path    string
	opts    LogOptions
	resume  bool
	stamped bool // the server sends timestamps (asked by the caller or for resuming)

	body io.ReadCloser
	br   *bufio.Reader

	inLine  bool      // the last piece delivered did not end its line
	last    time.Time // timestamp of the last line delivered
	atLast  int       // lines delivered with that timestamp
	skip    bool      // after a reconnect: drop what was delivered already
	skipped int       // lines with timestamp last dropped since the reconnect
	drops   int       // reconnects since the last line delivered
}

func (c *Client) openLog(ctx context.Context, namespace, pod string, opts *LogOptions) (*logStream, error) {
	var o LogOptions
	if opts != nil {
		o = *opts
	}
	op := fmt.Sprintf("logs of pod %s/%s", namespace, pod)
	path, err := podPath(namespace, pod, "log")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if o.Container != "" {
		if err := transport.ValidatePathSegment("container", o.Container); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	if o.SinceSeconds > 0 && !o.SinceTime.IsZero() {
		return nil, fmt.Errorf("%s: use one of SinceSeconds and SinceTime", op)
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &logStream{c: c, ctx: ctx, cancel: cancel, op: op, path: path, opts: o}
	s.resume = o.Follow && !o.NoResume && o.LimitBytes <= 0
	s.stamped = o.Timestamps || s.resume
	if err := s.open(); err != nil {
		cancel()
		return nil, err
	}
	return s, nil
}

func (s *logStream) query() url.Values {
	o := s.opts
	q := url.Values{}
	if o.Container != "" {
		q.Set("container", o.Container)
	}
	setBool := func(name string, on bool) {
		if on {
			q.Set(name, "true")
		}
	}
	setBool("follow", o.Follow)
	setBool("previous", o.Previous)
	setBool("timestamps", s.stamped)
	setBool("insecureSkipTLSVerifyBackend", o.InsecureSkipTLSVerifyBackend)
	if o.LimitBytes > 0 {
		q.Set("limitBytes", strconv.FormatInt(o.LimitBytes, 10))
	}
	if !s.last.IsZero() {
		// Resuming: from the second of the last line delivered; what came
		// before it in that second is dropped by timestamp and count.
		q.Set("sinceTime", s.last.UTC().Format(time.RFC3339))
		return q
	}
	if o.SinceSeconds > 0 {
		q.Set("sinceSeconds", strconv.FormatInt(o.SinceSeconds, 10))
	}
	if !o.SinceTime.IsZero() {
		q.Set("sinceTime", o.SinceTime.UTC().Format(time.RFC3339))
	}
	if o.TailLines != nil {
		q.Set("tailLines", strconv.FormatInt(*o.TailLines, 10))
	}
	return q
}

func (s *logStream) open() error {
	resp, err := s.c.t.Stream(s.ctx, &transport.Request{Path: s.path, Query: s.query(), Header: map[string][]string{"Accept": {"*/*"}}})
	if err != nil {
		return fmt.Errorf("%s: %w", s.op, err)
	}
	s.body = resp.Body
	if s.br == nil {
		s.br = bufio.NewReaderSize(resp.Body, 64<<10)
	} else {
		s.br.Reset(resp.Body)
	}
	return nil
}

func (s *logStream) close() {
	s.cancel()
	if s.body != nil {
		s.body.Close()
	}
}

// next returns the next line (with its newline, when it has one) or a
// piece of a long line; io.EOF at the end.
func (s *logStream) next() (rawLine, error) {
	for {
		line, err := s.readLine()
		switch {
		case err == nil || (err == io.EOF && len(line) > 0):
			if l, ok := s.accept(line); ok {
				return l, nil
			}
			continue
		case err == io.EOF:
			return rawLine{}, io.EOF
		case s.ctx.Err() != nil && s.opts.Follow:
			// The caller ended the follow: a clean end.
			return rawLine{}, io.EOF
		case s.ctx.Err() != nil:
			return rawLine{}, fmt.Errorf("%s: %w", s.op, s.ctx.Err())
		case !s.resume:
			return rawLine{}, fmt.Errorf("%s: the stream was cut: %w", s.op, err)
		}
		if rerr := s.reconnect(err); rerr != nil {
			if s.ctx.Err() != nil {
				return rawLine{}, io.EOF
			}
			return rawLine{}, rerr
		}
	}
}

// readLine reads up to and including the next newline, at most MaxLogLine
// bytes. A read error drops a partial line: a resumed stream sends it
// again; a stream that cannot resume reports the error.
func (s *logStream) readLine() ([]byte, error) {
	var line []byte
	for {
		piece, err := s.br.ReadSlice('\n')
		line = append(line, piece...)
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			if len(line) >= MaxLogLine {
				return line, nil
			}
		case err == io.EOF:
			return line, io.EOF
		default:
			return nil, err
		}
	}
}

// accept decides whether a line read is delivered (after a reconnect, the
// ones already delivered are not) and returns it as the caller sees it.
func (s *logStream) accept(line []byte) (rawLine, bool) {
	continued := s.inLine
	s.inLine = line[len(line)-1] != '\n'
	if !s.stamped || continued {
		return rawLine{full: line, text: line}, true
	}
	stamp, rest, ok := bytes.Cut(line, []byte(" "))
	ts, err := time.Parse(time.RFC3339Nano, string(stamp))
	if !ok || err != nil {
		return rawLine{full: line, text: line}, true
	}
	if s.skip {
		switch {
		case ts.Before(s.last):
			return rawLine{}, false
		case ts.Equal(s.last) && s.skipped < s.atLast:
			s.skipped++
			return rawLine{}, false
		}
		s.skip = false
	}
	if ts.Equal(s.last) {
		s.atLast++
	} else {
		s.last, s.atLast = ts, 1
	}
	s.drops = 0
	return rawLine{full: line, text: rest, ts: ts}, true
}

// reconnect waits a backoff and opens the stream again from the last
// line's timestamp. It gives up after five drops in a row with no line
// delivered between them.
func (s *logStream) reconnect(cause error) error {
	s.body.Close()
	s.drops++
	if s.drops > 5 {
		return fmt.Errorf("%s: the stream was cut %d times in a row: %w", s.op, s.drops, cause)
	}
	wait := time.Duration(1<<(s.drops-1)) * 250 * time.Millisecond
	s.c.logger.DebugContext(s.ctx, "log follow dropped; resuming", "op", s.op, "error", cause, "since", s.last, "wait", wait)
	t := time.NewTimer(wait)
	select {
	case <-t.C:
	case <-s.ctx.Done():
		t.Stop()
		return s.ctx.Err()
	}
	s.skip, s.skipped, s.inLine = !s.last.IsZero(), 0, false
	if err := s.open(); err != nil {
		var apiErr *transport.APIError
		if errors.As(err, &apiErr) {
			return err
		}
		return s.reconnect(err)
	}
	return nil
}

// logReader is the io.ReadCloser of Logs.
type logReader struct {
	s       *logStream
	pending []byte
	err     error
}

func (r *logReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		var l rawLine
		l, r.err = r.s.next()
		if r.s.opts.Timestamps {
			r.pending = l.full
		} else {
			r.pending = l.text
		}
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

func (r *logReader) Close() error {
	r.s.close()
	return nil
}
