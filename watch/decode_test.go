package watch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
)

// closeRecorder is a stream body that records Close.
type closeRecorder struct {
	io.Reader
	closed chan struct{}
}

func newBody(s string) *closeRecorder {
	return &closeRecorder{Reader: strings.NewReader(s), closed: make(chan struct{})}
}

func (c *closeRecorder) Close() error {
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	return nil
}

// collect ranges over a decoded stream and returns its events and its
// final error.
func collect(seq func(func(watch.Event, error) bool)) ([]watch.Event, error) {
	var evs []watch.Event
	for ev, err := range seq {
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

const (
	cmA      = `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","namespace":"ns","resourceVersion":"5"},"data":{"k":"v"}}`
	addedA   = `{"type":"ADDED","object":` + cmA + "}\n"
	bookmark = `{"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"9","annotations":{"k8s.io/initial-events-end":"true"}}}}` + "\n"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	type want struct {
		typ watch.EventType
		rv  string
	}
	tests := []struct {
		name    string
		stream  string
		want    []want
		wantErr error  // matched with errors.Is
		errText string // contained in the error
	}{
		{name: "server layout", stream: addedA +
			`{"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"6"}}}` + "\n" +
			`{"type":"DELETED","object":{"metadata":{"name":"a","resourceVersion":"7"}}}` + "\n" + bookmark,
			want: []want{{watch.Added, "5"}, {watch.Modified, "6"}, {watch.Deleted, "7"}, {watch.Bookmark, "9"}}},
		{name: "other key order and spacing", stream: ` { "object" : ` + cmA + ` , "type" : "ADDED" } ` + "\r\n",
			want: []want{{watch.Added, "5"}}},
		{name: "blank lines and no final newline", stream: "\n\n" + addedA + "\n  \n" + strings.TrimSuffix(addedA, "\n"),
			want: []want{{watch.Added, "5"}, {watch.Added, "5"}}},
		{name: "pretty-printed over several lines", stream: "{\n  \"type\": \"ADDED\",\n  \"object\": {\n    \"metadata\": {\"name\": \"a\\n}\", \"resourceVersion\": \"3\"}\n  }\n}\n" + addedA,
			want: []want{{watch.Added, "3"}, {watch.Added, "5"}}},
		{name: "empty stream", stream: ""},
		{name: "cut off in the middle of an event", stream: addedA + addedA[:40],
			want: []want{{watch.Added, "5"}}, wantErr: io.ErrUnexpectedEOF},
		{name: "duplicate key in the object", stream: `{"type":"ADDED","object":{"metadata":{"name":"a","name":"b"}}}` + "\n",
			wantErr: unstructured.ErrDuplicateKey},
		{name: "duplicate key in the envelope", stream: `{"type":"ADDED","type":"DELETED","object":{}}` + "\n",
			wantErr: unstructured.ErrDuplicateKey},
		{name: "garbage after the object", stream: `{"type":"ADDED","object":{"a":1}x}` + "\n",
			wantErr: unstructured.ErrMalformed},
		{name: "two objects on a line", stream: `{"type":"ADDED","object":{"a":1}}{"type":"ADDED","object":{"a":1}}` + "\n",
			wantErr: unstructured.ErrMalformed},
		{name: "unknown type", stream: `{"type":"RENAMED","object":{}}` + "\n",
			wantErr: unstructured.ErrMalformed, errText: `unknown event type "RENAMED"`},
		{name: "object not an object", stream: `{"type":"ADDED","object":[1]}` + "\n",
			wantErr: unstructured.ErrMalformed},
		{name: "no type", stream: `{"object":{}}` + "\n", wantErr: unstructured.ErrMalformed},
		{name: "bad JSON in a bookmark", stream: `{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":9,}}}` + "\n",
			wantErr: unstructured.ErrMalformed},
		{name: "too deep", stream: `{"type":"ADDED","object":` + strings.Repeat(`{"a":`, 1100) + "1" + strings.Repeat("}", 1100) + "}\n",
			wantErr: unstructured.ErrTooDeep},
		{name: "ERROR event", stream: addedA + `{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (2)","reason":"Expired","code":410}}` + "\n" + addedA,
			want: []want{{watch.Added, "5"}}, wantErr: transport.ErrGone, errText: "too old resource version: 1 (2)"},
		{name: "ERROR event without a Status", stream: `{"type":"ERROR","object":{"kind":"Pod"}}` + "\n",
			wantErr: transport.ErrInternalError, errText: "without a Status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := newBody(tt.stream)
			evs, err := collect(watch.Decode(t.Context(), body))
			var got []want
			for _, ev := range evs {
				got = append(got, want{ev.Type, ev.ResourceVersion()})
				assert.NoError(t, unstructured.ValidateJSON([]byte(ev.Object.String())))
			}
			assert.Equal(t, tt.want, got)
			if tt.wantErr == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tt.wantErr)
			}
			if tt.errText != "" {
				assert.ErrorContains(t, err, tt.errText)
			}
			select {
			case <-body.closed:
			default:
				t.Error("the body was not closed")
			}
		})
	}
}

func TestDecodeErrorEventIsAPIError(t *testing.T) {
	t.Parallel()
	stream := `{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Timeout: Too large resource version: 99, current: 5","reason":"Timeout","details":{"causes":[{"reason":"ResourceVersionTooLarge","message":"Too large resource version"}],"retryAfterSeconds":1},"code":504}}` + "\n"
	_, err := collect(watch.Decode(t.Context(), newBody(stream)))
	var ae *transport.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 504, ae.StatusCode)
	assert.Equal(t, "Timeout", ae.Reason)
	require.Len(t, ae.Causes(), 1)
	assert.Equal(t, "ResourceVersionTooLarge", ae.Causes()[0].Type)
	assert.ErrorIs(t, err, transport.ErrServerTimeout)
}

func TestDecodeEventHelpers(t *testing.T) {
	t.Parallel()
	evs, err := collect(watch.Decode(t.Context(), newBody(addedA+bookmark+`{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"10"}}}`+"\n")))
	require.NoError(t, err)
	require.Len(t, evs, 3)
	assert.False(t, evs[0].IsInitialEventsEnd())
	assert.True(t, evs[1].IsInitialEventsEnd())
	assert.False(t, evs[2].IsInitialEventsEnd())
}

// TestDecodeLongEvent decodes events larger than the read window, next to
// small ones.
func TestDecodeLongEvent(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 300<<10)
	line := `{"type":"ADDED","object":{"metadata":{"name":"big","resourceVersion":"1"},"data":{"k":"` + big + `"}}}` + "\n"
	evs, err := collect(watch.Decode(t.Context(), newBody(addedA+line+addedA+line)))
	require.NoError(t, err)
	require.Len(t, evs, 4)
	assert.Equal(t, big, evs[1].Object.Get("data.k").String())
	assert.Equal(t, big, evs[3].Object.Get("data.k").String())
	assert.Equal(t, "a", evs[2].Object.Name())
}

// TestDecodeStreams checks that each event is yielded as soon as its line
// is complete, before the stream goes on.
func TestDecodeStreams(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	next, stop := iterPull(watch.Decode(t.Context(), pr))
	defer stop()
	go func() { _, _ = pw.Write([]byte(addedA[:30])); _, _ = pw.Write([]byte(addedA[30:])) }()
	ev, err, ok := next()
	require.True(t, ok)
	require.NoError(t, err)
	assert.Equal(t, "a", ev.Object.Name())
	// A connection that breaks in the middle of the next event yields an
	// error, never the part that arrived.
	go func() {
		_, _ = pw.Write([]byte(addedA[:50]))
		pw.CloseWithError(errors.New("connection reset by peer"))
	}()
	ev, err, ok = next()
	require.True(t, ok)
	assert.ErrorContains(t, err, "connection reset by peer")
	assert.True(t, ev.Object.IsZero())
	_, _, ok = next()
	assert.False(t, ok)
}

// TestDecodeStopsWithContext ends a stream blocked in a read by cancelling
// its context: the body is closed and the context's error is yielded.
func TestDecodeStopsWithContext(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := collect(watch.Decode(ctx, pr))
		done <- err
	}()
	_, err := pw.Write([]byte(addedA)) // the decoder has read the first event
	require.NoError(t, err)
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("Decode did not stop when its context ended")
	}
	// The pipe's reader is closed: writes fail.
	_, err = pw.Write([]byte(addedA))
	assert.ErrorIs(t, err, io.ErrClosedPipe)
}

// TestDecodeBreakClosesBody checks that leaving the loop early closes the
// body.
func TestDecodeBreakClosesBody(t *testing.T) {
	t.Parallel()
	body := newBody(addedA + addedA + addedA)
	for range watch.Decode(t.Context(), body) {
		break
	}
	select {
	case <-body.closed:
	default:
		t.Fatal("the body was not closed")
	}
}

// TestDecodeLongPrettyEvent decodes a pretty-printed event of many lines;
// each line is scanned once, so this stays linear.
func TestDecodeLongPrettyEvent(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("{\n  \"type\": \"ADDED\",\n  \"object\": {\n    \"metadata\": {\"name\": \"p\"},\n    \"data\": {\n")
	const n = 40000
	for i := range n {
		fmt.Fprintf(&b, "      \"k%05d\": \"v\\\"{[\",\n", i)
	}
	b.WriteString("      \"last\": \"x\"\n    }\n  }\n}\n")
	evs, err := collect(watch.Decode(t.Context(), newBody(b.String()+addedA)))
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.Equal(t, "v\"{[", evs[0].Object.Get("data.k39999").String())
	assert.Equal(t, "a", evs[1].Object.Name())
}
