package discovery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/sjson"

	"github.com/kubedyn/kubedyn/transport"
)

// childEnv carries a diskChild to the test binary run as a child process.
const childEnv = "KUBEDYN_DISCOVERY_DISK_CHILD"

// diskChild is what a child process needs to reach the parent's fixture.
type diskChild struct {
	URL, CA, Dir string
	Rounds       int
}

// TestDiskCacheChildProcess is not a test of its own: run by
// TestDiskCacheSharedByTwoProcesses as a child process (childEnv set), it
// discovers through a fresh Client each round, all sharing one cache
// directory with another process doing the same.
func TestDiskCacheChildProcess(t *testing.T) {
	spec := os.Getenv(childEnv)
	if spec == "" {
		return // run as a child only
	}
	var c diskChild
	require.NoError(t, json.Unmarshal([]byte(spec), &c))
	tc, err := transport.New(&transport.Config{Host: c.URL, TLS: transport.TLSConfig{CAData: []byte(c.CA)}, MaxRetries: -1})
	require.NoError(t, err)
	for range c.Rounds {
		rs, err := New(tc, &Options{CacheDir: c.Dir}).Resources(context.Background())
		require.NoError(t, err)
		require.NotEmpty(t, rs)
		// Whatever the other process is doing, every file is whole.
		entries, err := os.ReadDir(c.Dir)
		require.NoError(t, err)
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".tmp-") {
				requireWhole(t, filepath.Join(c.Dir, e.Name()))
			}
		}
	}
}

// requireWhole checks that the cache file at name holds a header whose
// ETag is the one the fixture gives the document below it, and returns the
// document.
func requireWhole(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // renamed over between ReadDir and ReadFile
	}
	require.NoError(t, err)
	line, body, ok := bytes.Cut(b, []byte("\n"))
	require.True(t, ok, "%s: a header line", name)
	var h diskHeader
	require.NoError(t, json.Unmarshal(line, &h), "%s: header", name)
	sum := sha256.Sum256(body)
	require.Equal(t, `"`+hex.EncodeToString(sum[:8])+`"`, h.ETag, "%s: the ETag of the document below it", h.Path)
	return body
}

// Two processes sharing one cache directory, each writing every document
// again and again while the other reads and writes the same files, leave
// only whole files: each header's ETag belongs to the document below it.
func TestDiskCacheSharedByTwoProcesses(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	apis := f.body("/apis")
	withWidgets, err := sjson.SetRawBytes(apis, "items.-1", []byte(widgetGroup))
	require.NoError(t, err)
	api := f.body("/api")
	api2, err := sjson.SetBytes(api, "metadata.annotations.variant", "2")
	require.NoError(t, err)
	// Every request gets the next variant, so nearly every answer is a new
	// document that each process writes to the shared files.
	f.rotate("/apis", apis, withWidgets)
	f.rotate("/api", api, api2)
	served := map[string]bool{}
	for _, b := range [][]byte{apis, withWidgets, api, api2} {
		served[string(b)] = true
	}

	dir := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	spec, err := json.Marshal(diskChild{URL: f.srv.URL, CA: string(ca), Dir: dir, Rounds: 150})
	require.NoError(t, err)
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 2)
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDiskCacheChildProcess$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
		go func() {
			out, err := cmd.CombinedOutput()
			done <- result{out, err}
		}()
	}
	for range 2 {
		r := <-done
		require.NoError(t, r.err, "child:\n%s", r.out)
		require.Contains(t, string(r.out), "--- PASS: TestDiskCacheChildProcess", "the child ran")
	}
	assert.GreaterOrEqual(t, f.hitsFor("/apis"), 300)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 2, "one file per document, no temporary file left")
	for _, e := range entries {
		body := requireWhole(t, filepath.Join(dir, e.Name()))
		assert.True(t, served[string(body)], "%s: a document the server sent", e.Name())
	}
	rs, err := f.client(&Options{CacheDir: dir}).Resources(context.Background())
	require.NoError(t, err)
	assert.NotEmpty(t, rs)
}

// fullDisk is a temporary file on a disk that fills up after room bytes:
// the bytes that fit are written for real, then ENOSPC.
type fullDisk struct {
	*os.File
	room int
}

func (f *fullDisk) Write(b []byte) (int, error) {
	if len(b) <= f.room {
		f.room -= len(b)
		return f.File.Write(b)
	}
	n, _ := f.File.Write(b[:f.room])
	f.room = 0
	return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

// A full disk under the cache costs nothing but the cache: discovery works,
// the good files already there stay as they were, no partial file is left,
// and once there is room again the cache is written.
func TestDiskCacheOnAFullDisk(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	dir := t.TempDir()
	ctx := context.Background()
	_, err := f.client(&Options{CacheDir: dir}).Resources(ctx)
	require.NoError(t, err)
	before := snapshotDir(t, dir)
	require.Len(t, before, 2)

	// The documents change; the disk has room for 100 bytes.
	f.appendItem("/apis", "items", widgetGroup)
	var logs bytes.Buffer
	c := f.client(&Options{CacheDir: dir, Logger: debugLogger(&logs)})
	c.disk.createTemp = func(dir, pattern string) (tempFile, error) {
		tmp, err := os.CreateTemp(dir, pattern)
		if err != nil {
			return nil, err
		}
		return &fullDisk{File: tmp, room: 100}, nil
	}
	r, err := c.ResourceFor(ctx, "widgets")
	require.NoError(t, err, "discovery works without its disk cache")
	assert.Equal(t, "example.com", r.Group)
	assert.Equal(t, before, snapshotDir(t, dir), "the old files are untouched and nothing partial is left")
	assert.Contains(t, logs.String(), "no space left on device")

	// Room again: the next download is written.
	c.disk.createTemp = nil
	c.Invalidate()
	f.appendItem("/apis", "items", crdGroup(t, "gadgets.example.com", "gadgets", "gadget", "Gadget"))
	_, err = c.ResourceFor(ctx, "gadgets")
	require.NoError(t, err)
	after := snapshotDir(t, dir)
	require.Len(t, after, 2)
	assert.NotEqual(t, before, after)
	warm := f.client(&Options{CacheDir: dir})
	_, err = warm.ResourceFor(ctx, "gadgets")
	require.NoError(t, err)
	assert.Equal(t, warm.Stats().Requests, warm.Stats().NotModified, "a new client revalidates the new files")
}

// snapshotDir returns every file's content under dir by name.
func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		out[e.Name()] = string(b)
	}
	return out
}

// debugLogger logs at debug level and above to w.
func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
