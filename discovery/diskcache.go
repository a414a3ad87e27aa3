package discovery

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// diskCache keeps discovery documents as files, one per server and URL path,
// so a new process can revalidate with If-None-Match instead of downloading
// everything again. It is best effort: a file that cannot be read or
// written is logged and ignored. Safe for concurrent use (each write goes
// to a temporary file renamed into place).
type diskCache struct {
	dir  string
	host string
	log  *slog.Logger
	// ttl is Options.CacheDirTTL: how long a file is trusted without a
	// request after the server last sent or confirmed it (the file's
	// modification time). Zero trusts nothing.
	ttl time.Duration
	// removeFile deletes a file; nil means os.Remove. Tests replace it to
	// make a removal fail.
	removeFile func(name string) error
	// createTemp creates the temporary file a write goes to; nil means
	// os.CreateTemp. Tests replace it to make writes fail (a full disk).
	createTemp func(dir, pattern string) (tempFile, error)
	// sweep removes, once, the temporary files of writers that died.
	sweep sync.Once
}

// staleTempAge is how old a temporary file must be before a writer takes it
// for one left by a process that died between creating and renaming it (a
// live writer renames within moments).
const staleTempAge = time.Hour

// tempFile is what a write needs of an *os.File.
type tempFile interface {
	Name() string
	Write(b []byte) (int, error)
	Close() error
}

// diskHeader is the first line of a cache file; the document follows.
type diskHeader struct {
	Host string `json:"host"`
	Path string `json:"path"`
	ETag string `json:"etag"`
}

func (d *diskCache) file(path string) string {
	sum := sha256.Sum256([]byte(d.host + "\x00" + path))
	return filepath.Join(d.dir, hex.EncodeToString(sum[:16])+".json")
}

// load returns the stored ETag and body for path, if a well-formed file
// for this server and path exists, and whether the copy is fresh: younger
// than the TTL, so it may be used without asking the server.
func (d *diskCache) load(path string, now time.Time) (etag string, body []byte, fresh, ok bool) {
	f, err := os.Open(d.file(path))
	if err != nil {
		if !os.IsNotExist(err) {
			d.log.Debug("discovery: disk cache read failed", "path", path, "error", err)
		}
		return "", nil, false, false
	}
	defer f.Close()
	info, err := f.Stat()
	var data []byte
	if err == nil {
		data, err = io.ReadAll(f)
	}
	if err != nil {
		d.log.Debug("discovery: disk cache read failed", "path", path, "error", err)
		return "", nil, false, false
	}
	if age := now.Sub(info.ModTime()); d.ttl > 0 && age >= 0 && age < d.ttl {
		fresh = true
	}
	line, rest, found := bytes.Cut(data, []byte("\n"))
	var h diskHeader
	if !found || json.Unmarshal(line, &h) != nil || h.Host != d.host || h.Path != path || h.ETag == "" {
		d.log.Debug("discovery: disk cache entry ignored", "path", path)
		return "", nil, false, false
	}
	return h.ETag, rest, fresh, true
}

// confirmed records that the server confirmed the copy for path (a 304):
// its age, which CacheDirTTL is counted against, starts again. Only
// needed with a TTL; best effort.
func (d *diskCache) confirmed(path string, now time.Time) {
	if d.ttl <= 0 {
		return
	}
	if err := os.Chtimes(d.file(path), now, now); err != nil && !os.IsNotExist(err) {
		d.log.Debug("discovery: disk cache touch failed", "path", path, "error", err)
	}
}

// store writes body with its ETag for path.
func (d *diskCache) store(path, etag string, body []byte) {
	if err := d.write(path, etag, body); err != nil {
		d.log.Debug("discovery: disk cache write failed", "path", path, "error", err)
	}
}

func (d *diskCache) write(path, etag string, body []byte) error {
	line, err := json.Marshal(diskHeader{Host: d.host, Path: path, ETag: etag})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return err
	}
	d.sweep.Do(d.removeStaleTemps)
	create := d.createTemp
	if create == nil {
		create = func(dir, pattern string) (tempFile, error) { return os.CreateTemp(dir, pattern) }
	}
	tmp, err := create(d.dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(append(append(line, '\n'), body...)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), d.file(path)); err != nil {
		return fmt.Errorf("rename into place: %w", err)
	}
	return nil
}

// removeStaleTemps deletes temporary files older than staleTempAge: a
// process killed while writing leaves its file behind, and nothing else
// would ever remove it.
func (d *diskCache) removeStaleTemps() {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".tmp-") {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTempAge {
			d.removeName(filepath.Join(d.dir, e.Name()))
		}
	}
}

// remove deletes the file for path.
func (d *diskCache) remove(path string) { d.removeName(d.file(path)) }

// removeName deletes the named file, logging a failure.
func (d *diskCache) removeName(name string) {
	rm := d.removeFile
	if rm == nil {
		rm = os.Remove
	}
	if err := rm(name); err != nil && !os.IsNotExist(err) {
		d.log.Debug("discovery: disk cache remove failed", "file", name, "error", err)
	}
}
