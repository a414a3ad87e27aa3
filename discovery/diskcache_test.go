package discovery

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDiskCacheWarmStart(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"aggregated", "legacy"} {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, dir)
			cacheDir := filepath.Join(t.TempDir(), "discovery")
			ctx := context.Background()

			first := f.client(&Options{CacheDir: cacheDir})
			want, err := first.Resources(ctx)
			require.NoError(t, err)
			docs := f.totalHits()
			assert.Empty(t, f.ifNoneMatch("/apis"))
			files, err := os.ReadDir(cacheDir)
			require.NoError(t, err)
			assert.Len(t, files, docs, "one file per document")
			info, err := os.Stat(cacheDir)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())

			// A new client revalidates what is on disk: every answer is a 304.
			second := f.client(&Options{CacheDir: cacheDir})
			got, err := second.Resources(ctx)
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Equal(t, 2*docs, f.totalHits())
			assert.Equal(t, []string{f.etag("/apis")}, f.ifNoneMatch("/apis"))
			assert.Equal(t, []string{f.etag("/api")}, f.ifNoneMatch("/api"))
			assert.Equal(t, Stats{Requests: int64(docs), NotModified: int64(docs), Parses: int64(docs)}, second.Stats(),
				"every answer a 304; the disk copies were decoded")

			// Damaged files are ignored: a third client downloads afresh.
			for _, e := range files {
				require.NoError(t, os.WriteFile(filepath.Join(cacheDir, e.Name()), []byte("garbage"), 0o600))
			}
			third := f.client(&Options{CacheDir: cacheDir})
			got, err = third.Resources(ctx)
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Len(t, f.ifNoneMatch("/apis"), 1, "no If-None-Match from a damaged file")
		})
	}
}

func TestDiskCacheDamagedBodyRefetches(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	cacheDir := t.TempDir()
	ctx := context.Background()
	_, err := f.client(&Options{CacheDir: cacheDir}).Resources(ctx)
	require.NoError(t, err)

	damageBodies(t, cacheDir)
	c := f.client(&Options{CacheDir: cacheDir})
	rs, err := c.Resources(ctx)
	require.NoError(t, err)
	assert.Len(t, rs, 24)
	assert.Equal(t, 6, f.totalHits(), "one 304 and one full download per root")

	// The damaged files were replaced with good ones.
	again := f.client(&Options{CacheDir: cacheDir})
	_, err = again.Resources(ctx)
	require.NoError(t, err)
	assert.Equal(t, 8, f.totalHits())
	assert.Equal(t, int64(2), again.Stats().Parses)
}

// A damaged cache file that cannot be removed, whose ETag the server still
// answers 304, is read once: the document is fetched again without the
// ETag, not revalidated over and over (the file would come back each time).
func TestDiskCacheDamagedFileThatCannotBeRemoved(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	cacheDir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := f.client(&Options{CacheDir: cacheDir}).Resources(ctx)
	require.NoError(t, err)
	damageBodies(t, cacheDir)

	c := f.client(&Options{CacheDir: cacheDir})
	c.disk.removeFile = func(string) error { return os.ErrPermission }
	rs, err := c.Resources(ctx)
	require.NoError(t, err)
	assert.Len(t, rs, 24)
	assert.Equal(t, 3, f.hitsFor("/apis"), "one 304 for the damaged copy, one download without the ETag")
	assert.Equal(t, 3, f.hitsFor("/api"))
	assert.Equal(t, []string{f.etag("/apis")}, f.ifNoneMatch("/apis"), "the damaged copy's ETag was sent once")
}

// damageBodies keeps each cache file's header line (so its ETag is sent) but
// cuts the document short.
func damageBodies(t *testing.T, cacheDir string) {
	t.Helper()
	files, err := os.ReadDir(cacheDir)
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, e := range files {
		p := filepath.Join(cacheDir, e.Name())
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		line, _, ok := bytes.Cut(b, []byte("\n"))
		require.True(t, ok, "a header line")
		require.NoError(t, os.WriteFile(p, append(line, "\n{\"kind\":"...), 0o600))
	}
}

// A temporary file left by a process killed between writing and renaming
// it is removed by the next process that writes; one a live writer may
// still be writing is not.
func TestDiskCacheRemovesTempFilesOfDeadWriters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "aggregated")
	dir := t.TempDir()
	dead := filepath.Join(dir, ".tmp-123")
	live := filepath.Join(dir, ".tmp-456")
	other := filepath.Join(dir, "notes.txt")
	for _, p := range []string{dead, live, other} {
		require.NoError(t, os.WriteFile(p, []byte(`{"partial`), 0o600))
	}
	old := time.Now().Add(-2 * staleTempAge)
	require.NoError(t, os.Chtimes(dead, old, old))
	require.NoError(t, os.Chtimes(other, old, old))

	_, err := f.client(&Options{CacheDir: dir}).Resources(context.Background())
	require.NoError(t, err)
	assert.NoFileExists(t, dead)
	assert.FileExists(t, live)
	assert.FileExists(t, other, "only our temporary files are swept")
}

// With CacheDirTTL a new client takes copies younger than the TTL from disk
// without a request; older copies are revalidated and, once confirmed,
// trusted again for a whole TTL; a name that misses still asks the server.
func TestDiskCacheTTL(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"aggregated", "legacy"} {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, dir)
			cacheDir := t.TempDir()
			ctx := context.Background()
			opts := &Options{CacheDir: cacheDir, CacheDirTTL: time.Hour}
			want, err := f.client(opts).Resources(ctx)
			require.NoError(t, err)
			docs := f.totalHits()

			fresh := f.client(opts)
			got, err := fresh.Resources(ctx)
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Equal(t, docs, f.totalHits(), "no request within the TTL")
			assert.Equal(t, Stats{Parses: int64(docs), DiskHits: int64(docs)}, fresh.Stats())

			// A miss still goes to the server, revalidating what disk gave.
			_, err = fresh.ResourceFor(ctx, "nosuchthings")
			require.Error(t, err)
			assert.Greater(t, f.totalHits(), docs, "a miss refreshes from the server")
			assert.Equal(t, []string{f.etag("/apis")}, f.ifNoneMatch("/apis"))

			// Copies older than the TTL are revalidated, then trusted again.
			files, err := os.ReadDir(cacheDir)
			require.NoError(t, err)
			old := time.Now().Add(-2 * time.Hour)
			for _, e := range files {
				require.NoError(t, os.Chtimes(filepath.Join(cacheDir, e.Name()), old, old))
			}
			before := f.totalHits()
			stale := f.client(opts)
			_, err = stale.Resources(ctx)
			require.NoError(t, err)
			assert.Equal(t, before+docs, f.totalHits(), "one revalidation per document")
			assert.Equal(t, int64(docs), stale.Stats().NotModified)
			assert.Zero(t, stale.Stats().DiskHits)
			before = f.totalHits()
			_, err = f.client(opts).Resources(ctx)
			require.NoError(t, err)
			assert.Equal(t, before, f.totalHits(), "the 304s restarted the copies' age")

			// Without a TTL the same fresh files are revalidated.
			plain := f.client(&Options{CacheDir: cacheDir})
			_, err = plain.Resources(ctx)
			require.NoError(t, err)
			assert.Equal(t, before+docs, f.totalHits())

			// A damaged fresh copy is fetched again, not trusted.
			damageBodies(t, cacheDir)
			before = f.totalHits()
			got, err = f.client(opts).Resources(ctx)
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Equal(t, before+docs, f.totalHits())
		})
	}
}
