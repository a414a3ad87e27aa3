package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// AcceptAggregated is the Accept header sent for /api and /apis: the
// aggregated apidiscovery.k8s.io/v2 form, or plain JSON from servers that do
// not serve it (they answer the legacy APIVersions and APIGroupList).
const AcceptAggregated = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"

const acceptJSON = "application/json"

// docEntry is one cached document: the ETag the server sent with it and the
// parsed value, which is immutable once stored.
type docEntry struct {
	etag  string
	value any
}

// fetch GETs path, revalidating a cached copy with If-None-Match. A 304
// returns the cached parsed value without decoding anything; a 304 for a
// copy found only on disk decodes that copy. Every decode advances
// c.docGen.
func (c *Client) fetch(ctx context.Context, path, accept string, parse func([]byte) (any, error)) (any, error) {
	return c.fetchFrom(ctx, path, accept, parse, true)
}

// fetchFrom is fetch; useDisk=false ignores the disk cache for this request
// (its copy turned out damaged).
func (c *Client) fetchFrom(ctx context.Context, path, accept string, parse func([]byte) (any, error), useDisk bool) (any, error) {
	prev, cached := c.docs.Get(path)
	if cached && prev.etag == "" {
		cached = false
	}
	var diskETag string
	var diskBody []byte
	if !cached && useDisk && c.disk != nil {
		var fresh bool
		diskETag, diskBody, fresh, _ = c.disk.load(path, time.Now())
		if fresh {
			// Younger than CacheDirTTL: used without a request.
			c.stats.parses.Add(1)
			c.docGen.Add(1)
			v, err := parse(diskBody)
			if err == nil {
				c.stats.diskHits.Add(1)
				c.docs.Add(path, docEntry{etag: diskETag, value: v})
				return v, nil
			}
			c.log.DebugContext(ctx, "discovery: disk cache copy damaged, fetching again", "path", path, "error", err)
			c.disk.remove(path)
			diskETag, diskBody = "", nil
		}
	}
	h := http.Header{"Accept": {accept}}
	switch {
	case cached:
		h.Set("If-None-Match", prev.etag)
	case diskETag != "":
		h.Set("If-None-Match", diskETag)
	}
	c.stats.requests.Add(1)
	resp, err := c.tc.Do(ctx, &transport.Request{Method: http.MethodGet, Path: path, Header: h, NoRateLimit: true})
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode == http.StatusNotModified {
		c.stats.notModified.Add(1)
		switch {
		case cached:
			return prev.value, nil
		case diskETag != "":
			c.stats.parses.Add(1)
			c.docGen.Add(1)
			c.disk.confirmed(path, time.Now())
			v, err := parse(diskBody)
			if err != nil {
				// A damaged file: drop it and ask once more without its
				// ETag. The removal may fail (a read-only directory), so
				// the second request must not read the file again.
				c.log.DebugContext(ctx, "discovery: disk cache copy damaged, fetching again", "path", path, "error", err)
				c.disk.remove(path)
				return c.fetchFrom(ctx, path, accept, parse, false)
			}
			c.docs.Add(path, docEntry{etag: diskETag, value: v})
			return v, nil
		}
		return nil, fmt.Errorf("GET %s: 304 Not Modified for a document not asked to be revalidated", path)
	}
	c.stats.parses.Add(1)
	c.docGen.Add(1)
	v, err := parse(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	etag := resp.Header.Get("ETag")
	c.docs.Add(path, docEntry{etag: etag, value: v})
	if c.disk != nil && etag != "" {
		c.disk.store(path, etag, resp.Body)
	}
	return v, nil
}

func (c *Client) fetchRoot(ctx context.Context, path string) (*rootResult, error) {
	v, err := c.fetch(ctx, path, AcceptAggregated, func(b []byte) (any, error) { return parseRoot(b) })
	if err != nil {
		return nil, err
	}
	return v.(*rootResult), nil
}

func (c *Client) fetchGroupVersion(ctx context.Context, group, version string) ([]APIResource, error) {
	// The names come from the server: one that could change the URL is
	// refused, as a user's name would be (refresh does not even ask).
	if err := checkPathNames(group, version, nil); err != nil {
		return nil, err
	}
	path := groupVersionPath(group, version)
	v, err := c.fetch(ctx, path, acceptJSON, func(b []byte) (any, error) { return parseResourceList(group, version, b) })
	if err != nil {
		return nil, err
	}
	return v.([]APIResource), nil
}

// groupVersionPath is /api/v1 for the core group, else /apis/<group>/<version>,
// each segment escaped.
func groupVersionPath(group, version string) string {
	return transport.JoinPath(groupVersionSegments(group, version)...)
}

// groupVersionSegments are the path segments of a group version's documents
// below a root: api, v1 for the core group, else apis, <group>, <version>.
// Discovery serves them at /api/v1, OpenAPI v3 indexes them as "api/v1".
func groupVersionSegments(group, version string) []string {
	if group == "" {
		return []string{"api", version}
	}
	return []string{"apis", group, version}
}

// rootPaths are the two discovery roots: the core group, the named groups.
var rootPaths = [2]string{"/api", "/apis"}

// refresh fetches both roots and, for a root that answered in the legacy
// form, every group version it lists, and builds snapshot number seq.
// A root that fails fails the refresh; a group version that fails, or whose
// aggregated entry is stale, is reported in the snapshot's PartialError.
func (c *Client) refresh(ctx context.Context, seq uint64) (*snapshot, error) {
	started := c.now()
	var (
		roots [2]*rootResult
		errs  [2]error
		wg    sync.WaitGroup
	)
	for i, path := range rootPaths {
		wg.Go(func() { roots[i], errs[i] = c.fetchRoot(ctx, path) })
	}
	wg.Wait()
	if err := errors.Join(errs[0], errs[1]); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}

	// Copy the cached structure before filling in legacy resources: cached
	// values are shared and never modified.
	var groups groupVersions
	type job struct{ g, v int }
	var jobs []job
	for ri, root := range roots {
		for _, g := range root.Groups {
			g.Versions = append([]parsedVersion(nil), g.Versions...)
			// /api serves the core group alone and /apis only named
			// groups: a stray group would pass for, or shadow, another.
			if (ri == 0) != (g.Name == "") {
				for vi := range g.Versions {
					g.Versions[vi].Err = fmt.Errorf("%w: group %q listed under %s", transport.ErrInvalidName, g.Name, rootPaths[ri])
				}
			}
			gi := len(groups)
			groups = append(groups, g)
			if !root.Aggregated {
				for vi, v := range g.Versions {
					if v.Err == nil {
						jobs = append(jobs, job{gi, vi})
					}
				}
			}
		}
	}

	failures := make(map[job]error)
	if len(jobs) > 0 {
		var mu sync.Mutex
		sem := make(chan struct{}, c.concurrency)
		for _, j := range jobs {
			g := &groups[j.g]
			v := &g.Versions[j.v]
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				res, err := c.fetchGroupVersion(ctx, g.Name, v.Version)
				if err != nil {
					mu.Lock()
					failures[j] = err
					mu.Unlock()
					return
				}
				v.Resources = res
			})
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("discovery: %w", err)
		}
	}

	// No document was decoded since the current snapshot was built and
	// nothing failed: its indexes still hold; only its age and number change.
	gen := c.docGen.Load()
	c.mu.Lock()
	prev := c.snap
	c.mu.Unlock()
	if prev != nil && prev.docGen == gen && prev.partial == nil && len(failures) == 0 && !anyStale(groups) {
		s := *prev
		s.seq, s.fetched = seq, started
		c.log.DebugContext(ctx, "discovery revalidated, unchanged", "seq", seq)
		return &s, nil
	}

	var partial *PartialError
	for gi := range groups {
		g := &groups[gi]
		for vi := range g.Versions {
			v := &g.Versions[vi]
			err := failures[job{gi, vi}]
			if err == nil {
				err = v.Err
			}
			if err != nil {
				v.Stale = true // leave it out of the snapshot
			} else if v.Stale {
				err = ErrStale
			}
			if err == nil {
				continue
			}
			if partial == nil {
				partial = &PartialError{}
			}
			partial.Failed = append(partial.Failed, &GroupVersionError{
				GroupVersion: unstructured.GroupVersion{Group: g.Name, Version: v.Version},
				Err:          err,
			})
		}
	}
	if partial != nil {
		c.log.WarnContext(ctx, "discovery incomplete", "failed", len(partial.Failed), "error", partial)
	}
	c.log.DebugContext(ctx, "discovery refreshed", "seq", seq, "groups", len(groups))
	s := buildSnapshot(seq, started, groups, partial)
	s.docGen = gen
	return s, nil
}

func anyStale(groups groupVersions) bool {
	for _, g := range groups {
		for _, v := range g.Versions {
			if v.Stale || v.Err != nil {
				return true
			}
		}
	}
	return false
}
