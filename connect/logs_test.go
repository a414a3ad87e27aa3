package connect_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/connect"
	"github.com/kubedyn/kubedyn/transport"
)

func TestLogs(t *testing.T) {
	t.Parallel()
	srv, c, tc := setup(t)
	createPod(t, tc, "web")
	createPod(t, tc, "two", "a", "b")
	base := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for i := range 5 {
		srv.AppendPodLog("default", "web", "main", base.Add(time.Duration(i)*time.Second), fmt.Sprintf("line %d", i))
	}
	read := func(t *testing.T, opts *connect.LogOptions) string {
		t.Helper()
		rc, err := c.Logs(ctx(t), "default", "web", opts)
		require.NoError(t, err)
		defer rc.Close()
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		return string(b)
	}
	all := "line 0\nline 1\nline 2\nline 3\nline 4\n"
	for _, tc := range []struct {
		name string
		opts *connect.LogOptions
		want string
	}{
		{"whole log", nil, all},
		{"container", &connect.LogOptions{Container: "main"}, all},
		{"tail", &connect.LogOptions{TailLines: new(int64(2))}, "line 3\nline 4\n"},
		{"tail 0", &connect.LogOptions{TailLines: new(int64(0))}, ""},
		{"since time", &connect.LogOptions{SinceTime: base.Add(3 * time.Second)}, "line 3\nline 4\n"},
		{"limit bytes", &connect.LogOptions{LimitBytes: 9}, "line 0\nli"},
		{"timestamps", &connect.LogOptions{TailLines: new(int64(1)), Timestamps: true}, "2026-12-04T10:00:04Z line 4\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, read(t, tc.opts))
		})
	}
	t.Run("lines", func(t *testing.T) {
		var got []connect.LogLine
		for l, err := range c.LogLines(ctx(t), "default", "web", &connect.LogOptions{Timestamps: true, TailLines: new(int64(2))}) {
			require.NoError(t, err)
			got = append(got, l)
		}
		assert.Equal(t, []connect.LogLine{
			{Time: base.Add(3 * time.Second), Text: "line 3"},
			{Time: base.Add(4 * time.Second), Text: "line 4"},
		}, got)
	})
	t.Run("errors", func(t *testing.T) {
		_, err := c.Logs(ctx(t), "default", "nope", nil)
		assert.ErrorIs(t, err, transport.ErrNotFound)
		_, err = c.Logs(ctx(t), "default", "two", nil)
		assert.ErrorIs(t, err, transport.ErrBadRequest)
		assert.ErrorContains(t, err, "a container name must be specified for pod two")
		_, err = c.Logs(ctx(t), "default", "web", &connect.LogOptions{Container: "nope"})
		assert.ErrorContains(t, err, "container nope is not valid for pod web")
		_, err = c.Logs(ctx(t), "default", "web", &connect.LogOptions{SinceSeconds: 1, SinceTime: base})
		assert.ErrorContains(t, err, "use one of SinceSeconds and SinceTime")
		for _, err := range c.LogLines(ctx(t), "", "web", nil) {
			assert.ErrorIs(t, err, transport.ErrInvalidName)
		}
	})
}

func TestLogsFollow(t *testing.T) {
	t.Parallel()
	srv, c, tc := setup(t)
	createPod(t, tc, "web")
	srv.AppendPodLog("default", "web", "main", time.Time{}, "first")
	cctx, cancel := context.WithCancel(ctx(t))
	next, stop := iterPull(c.LogLines(cctx, "default", "web", &connect.LogOptions{Follow: true}))
	defer stop()
	l, err, ok := next()
	require.True(t, ok)
	require.NoError(t, err)
	assert.Equal(t, "first", l.Text)
	assert.False(t, l.Time.IsZero(), "a resuming follow asks for timestamps")
	srv.AppendPodLog("default", "web", "main", time.Time{}, "second")
	l, err, ok = next()
	require.True(t, ok)
	require.NoError(t, err)
	assert.Equal(t, "second", l.Text)
	cancel()
	_, err, ok = next()
	assert.False(t, ok, "cancelling ends the follow cleanly")
	assert.NoError(t, err)
}

// TestLogsFollowResumes cuts a follow mid-stream several times; the lines
// come once each, in order, including lines written during the gaps and
// lines sharing a timestamp (the server keeps only whole seconds of
// sinceTime, so it sends the second's earlier lines again).
func TestLogsFollowResumes(t *testing.T) {
	t.Parallel()
	srv, c, tc := setup(t)
	createPod(t, tc, "web")
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	var want []string
	write := func(n int) {
		for range n {
			want = append(want, fmt.Sprintf("line %d", len(want)))
			// Three lines per timestamp, a new second every six lines.
			ts := at.Add(time.Duration(len(want)/6)*time.Second + time.Duration(len(want)/3)*time.Millisecond)
			srv.AppendPodLog("default", "web", "main", ts, want[len(want)-1])
		}
	}
	write(10)
	for _, ts := range []bool{false, true} {
		t.Run(fmt.Sprintf("timestamps %v", ts), func(t *testing.T) {
			rc, err := c.Logs(ctx(t), "default", "web", &connect.LogOptions{Follow: true, Timestamps: ts})
			require.NoError(t, err)
			defer rc.Close()
			lines := make(chan string)
			go func() {
				defer close(lines)
				buf := make([]byte, 0, 1024)
				one := make([]byte, 1)
				for {
					n, err := rc.Read(one)
					if n == 1 {
						if one[0] == '\n' {
							lines <- string(buf)
							buf = buf[:0]
						} else {
							buf = append(buf, one[0])
						}
					}
					if err != nil {
						return
					}
				}
			}()
			var got []string
			take := func(n int) {
				for range n {
					l, ok := <-lines
					require.True(t, ok, "the stream ended after %q", got)
					if ts {
						stamp, rest, _ := strings.Cut(l, " ")
						_, err := time.Parse(time.RFC3339Nano, stamp)
						require.NoError(t, err, l)
						l = rest
					}
					got = append(got, l)
				}
			}
			take(len(want))
			for range 3 {
				srv.CutPodLogFollowers("default", "web", "main")
				write(7)
				take(7)
			}
			assert.Equal(t, want, got)
		})
	}
}

func TestLogsCutWithoutResumeIsAnError(t *testing.T) {
	t.Parallel()
	srv, c, tc := setup(t)
	createPod(t, tc, "web")
	srv.AppendPodLog("default", "web", "main", time.Time{}, "first")
	var got []string
	var last error
	for l, err := range c.LogLines(ctx(t), "default", "web", &connect.LogOptions{Follow: true, NoResume: true}) {
		if err != nil {
			last = err
			break
		}
		got = append(got, l.Text)
		srv.CutPodLogFollowers("default", "web", "main")
	}
	assert.Equal(t, []string{"first"}, got)
	require.Error(t, last)
	assert.ErrorContains(t, last, "the stream was cut")
}
