package watch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"

	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// MaxEventBytes bounds one event on the wire: an object of at most
// unstructured.MaxObjectBytes plus its envelope.
const MaxEventBytes = unstructured.MaxObjectBytes + 4096

// readBufferSize is the read window of Decode; a longer event is assembled
// in a buffer of its own.
const readBufferSize = 64 << 10

// Decode reads a watch stream (one JSON event per line, as the API server
// sends it) from body and yields its events in order, each as soon as its
// line is complete: the stream is never buffered beyond one event.
//
// Every event is checked with the same strict scanner as
// unstructured.Parse, so an event that is cut off or malformed (bad JSON, a
// duplicate key, an unknown type, an object that is not a JSON object)
// yields an error wrapping one of unstructured's sentinels, never a partial
// object. An ERROR event yields the *transport.APIError its Status
// describes (a 410 Expired matches transport.ErrGone). A stream that ends
// in the middle of an event, or whose read fails, yields an error wrapping
// io.ErrUnexpectedEOF or the read error; a stream that ends cleanly between
// events ends the sequence without error. When ctx ends, Decode closes body
// (which unblocks a pending read) and yields the context's error.
//
// At most one of Event and error is set, and an error ends the sequence.
// Decode owns body once the loop starts: body is closed when the loop ends
// for any reason, so body's Close must be safe to call while a Read is
// blocked (HTTP response bodies and io.Pipe are). The sequence is meant to
// be ranged over once.
func Decode(ctx context.Context, body io.ReadCloser) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		defer body.Close()
		stop := context.AfterFunc(ctx, func() { body.Close() })
		defer stop()
		d := decoder{r: bufio.NewReaderSize(body, readBufferSize)}
		for {
			if err := ctx.Err(); err != nil {
				yield(Event{}, context.Cause(ctx))
				return
			}
			ev, err := d.next()
			if err == io.EOF {
				return
			}
			if err != nil {
				if ctx.Err() != nil {
					err = context.Cause(ctx)
				}
				yield(Event{}, err)
				return
			}
			if !yield(ev, nil) {
				return
			}
		}
	}
}

// decoder splits a stream into events.
type decoder struct {
	r   *bufio.Reader
	acc []byte // an event longer than the read window, or spread over lines
	n   int    // events decoded so far, for error messages
}

// next returns the next event, io.EOF at a clean end of the stream, or an
// error. ERROR events come back as errors. A line is normally one event; a
// line that is the start of an unfinished JSON value (a pretty-printed
// event) is joined with the following ones until the value closes, each
// byte scanned once for that.
func (d *decoder) next() (Event, error) {
	d.acc = d.acc[:0]
	var bal balance
	multi := false
	for {
		line, err := d.r.ReadSlice('\n')
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return Event{}, fmt.Errorf("watch: reading event %d: %w", d.n+1, err)
		}
		if len(d.acc) > 0 || err == bufio.ErrBufferFull {
			// Assemble in acc: the line does not fit the read window, or
			// continues an event spread over several lines.
			if len(d.acc)+len(line) > MaxEventBytes {
				return Event{}, fmt.Errorf("watch: event %d: %w: longer than %d bytes", d.n+1, unstructured.ErrTooLarge, MaxEventBytes)
			}
			d.acc = append(d.acc, line...)
			if err == bufio.ErrBufferFull {
				continue
			}
			line = d.acc
		}
		if multi {
			bal.feed(d.acc[bal.scanned:])
			bal.scanned = len(d.acc)
			if bal.open() {
				if err == io.EOF {
					return Event{}, fmt.Errorf("watch: event %d: stream ended in the middle of the event: %w", d.n+1, io.ErrUnexpectedEOF)
				}
				continue
			}
			d.n++
			ev, perr := parseEvent(bytes.TrimSpace(d.acc))
			if perr != nil {
				return Event{}, fmt.Errorf("watch: event %d: %w", d.n, perr)
			}
			return ev, nil
		}
		text := bytes.TrimSpace(line)
		if len(text) == 0 {
			if err == io.EOF {
				return Event{}, io.EOF
			}
			d.acc = d.acc[:0]
			continue
		}
		ev, perr := parseEvent(text)
		if perr == nil {
			d.n++
			return ev, nil
		}
		bal.feed(text)
		if !bal.open() {
			d.n++
			return Event{}, fmt.Errorf("watch: event %d: %w", d.n, perr)
		}
		if err == io.EOF {
			return Event{}, fmt.Errorf("watch: event %d: stream ended in the middle of the event: %w", d.n+1, io.ErrUnexpectedEOF)
		}
		// A pretty-printed event spans lines: read on.
		multi = true
		if len(d.acc) == 0 {
			d.acc = append(d.acc, line...)
		}
		bal.scanned = len(d.acc)
	}
}

// balance follows the nesting of JSON text fed to it piece by piece.
type balance struct {
	depth             int
	inString, escaped bool
	scanned           int // bytes of the decoder's acc already fed
}

// feed scans b, which continues what was fed before.
func (bl *balance) feed(b []byte) {
	for _, c := range b {
		switch {
		case bl.inString:
			switch {
			case bl.escaped:
				bl.escaped = false
			case c == '\\':
				bl.escaped = true
			case c == '"':
				bl.inString = false
			}
		case c == '"':
			bl.inString = true
		case c == '{' || c == '[':
			bl.depth++
		case c == '}' || c == ']':
			bl.depth--
		}
	}
}

// open reports whether the text fed so far is an unfinished JSON value.
func (bl *balance) open() bool { return bl.inString || bl.depth > 0 }

// fastPrefix and fastMiddle frame an event in the server's own layout:
// {"type":"<TYPE>","object":<object>}.
const (
	fastPrefix = `{"type":"`
	fastMiddle = `","object":`
)

// parseEvent decodes one event from its JSON text (surrounding white space
// removed). The object is validated strictly and copied out of text.
func parseEvent(text []byte) (Event, error) {
	typ, objText, err := splitEvent(text)
	if err != nil {
		return Event{}, err
	}
	switch EventType(typ) {
	case Added, Modified, Deleted, Bookmark:
	case Error:
		return Event{}, statusError(objText)
	default:
		return Event{}, fmt.Errorf("%w: unknown event type %q", unstructured.ErrMalformed, typ)
	}
	obj, err := unstructured.Parse(objText)
	if err != nil {
		return Event{}, fmt.Errorf("%s object: %w", typ, err)
	}
	return Event{Type: EventType(typ), Object: obj}, nil
}

// splitEvent finds the type and the object's text of an event. The server's
// own layout is recognised without a separate pass (the object's validation
// then proves the whole event well-formed); any other layout is validated
// as a whole first.
func splitEvent(text []byte) (typ string, obj []byte, err error) {
	if bytes.HasPrefix(text, []byte(fastPrefix)) && text[len(text)-1] == '}' {
		rest := text[len(fastPrefix):]
		if i := bytes.IndexByte(rest, '"'); i > 0 && plainType(rest[:i]) && bytes.HasPrefix(rest[i:], []byte(fastMiddle)) {
			obj = rest[i+len(fastMiddle) : len(rest)-1]
			if len(obj) > 0 && obj[0] == '{' {
				return typeName(rest[:i]), obj, nil
			}
		}
	}
	if err := unstructured.ValidateJSON(text); err != nil {
		return "", nil, err
	}
	s := unsafe.String(unsafe.SliceData(text), len(text))
	t := gjson.Get(s, "type")
	if t.Type != gjson.String {
		return "", nil, fmt.Errorf("%w: event has no string \"type\"", unstructured.ErrMalformed)
	}
	o := gjson.Get(s, "object")
	if !o.IsObject() {
		return "", nil, fmt.Errorf("%w: %s event has no \"object\" holding a JSON object", unstructured.ErrMalformed, t.Str)
	}
	return strings.Clone(t.Str), text[o.Index : o.Index+len(o.Raw)], nil
}

// typeName returns b as a string, without allocating for the known types.
func typeName(b []byte) string {
	switch string(b) {
	case string(Added):
		return string(Added)
	case string(Modified):
		return string(Modified)
	case string(Deleted):
		return string(Deleted)
	case string(Bookmark):
		return string(Bookmark)
	case string(Error):
		return string(Error)
	}
	return string(b)
}

// plainType reports whether b can be an event type as the server writes
// it: upper-case ASCII letters, so no escapes are involved.
func plainType(b []byte) bool {
	for _, c := range b {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// wireStatus is the part of a metav1.Status that an ERROR event carries.
type wireStatus struct {
	Kind    string                   `json:"kind"`
	Message string                   `json:"message"`
	Reason  string                   `json:"reason"`
	Code    int                      `json:"code"`
	Details *transport.StatusDetails `json:"details"`
}

// statusError turns an ERROR event's object into the *transport.APIError
// it describes. An object that is not a Status becomes a 500 APIError
// whose message says so, so the failure is never lost.
func statusError(obj []byte) error {
	if err := unstructured.ValidateJSON(obj); err != nil {
		return fmt.Errorf("ERROR object: %w", err)
	}
	var st wireStatus
	if err := json.Unmarshal(obj, &st); err != nil || st.Kind != "Status" {
		return &transport.APIError{StatusCode: http.StatusInternalServerError,
			Message: "watch ERROR event without a Status: " + snippet(obj)}
	}
	code := st.Code
	if code == 0 {
		code = http.StatusInternalServerError
	}
	return &transport.APIError{StatusCode: code, Reason: st.Reason, Message: st.Message, Details: st.Details}
}

// snippet shortens b for an error message.
func snippet(b []byte) string {
	const max = 200
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
