package discovery

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// DefaultTTL is how long a discovered view is used without asking the server
// again when Options.TTL is zero.
const DefaultTTL = 10 * time.Second

// DefaultMissTTL is how long a lookup that missed is remembered when
// Options.MissTTL is zero.
const DefaultMissTTL = time.Second

// missCacheSize bounds the misses remembered.
const missCacheSize = 256

// DefaultCacheSize is the number of discovery documents kept when
// Options.CacheSize is zero.
const DefaultCacheSize = 4096

// DefaultOpenAPICacheSize is the number of OpenAPI v3 documents kept in
// memory.
const DefaultOpenAPICacheSize = 64

// DefaultConcurrency bounds the parallel legacy group-version requests when
// Options.Concurrency is zero.
const DefaultConcurrency = 4

// Options configure a Client; nil means defaults. Options is a plain value:
// New copies it, so later changes have no effect on the Client.
type Options struct {
	// TTL is how long a discovered view is trusted without any request.
	// Zero means DefaultTTL; a negative TTL revalidates (If-None-Match) on
	// every call. A lookup that misses refreshes regardless of the TTL.
	TTL time.Duration
	// MissTTL is how long a name or kind that missed, even after the
	// refresh the miss caused, is remembered: within it, another lookup of
	// the same name or kind fails at once instead of refreshing again (a
	// mistyped kind in a loop would otherwise cost two requests per call).
	// A miss is forgotten at once when discovery changes: on Invalidate,
	// and when a revalidation finds a changed document. Zero means
	// DefaultMissTTL; negative means every miss refreshes.
	MissTTL time.Duration
	// CacheSize bounds the number of documents (one per URL) kept with
	// their ETags. Zero means DefaultCacheSize.
	CacheSize int
	// Concurrency bounds the legacy per-group-version requests in flight
	// at once. Zero means DefaultConcurrency.
	Concurrency int
	// CacheDir, when set, also keeps every document with its ETag in files
	// under this directory (created with mode 0700 if missing), one per
	// server and URL path, so that a new Client, even in another process,
	// revalidates with If-None-Match instead of downloading everything
	// again. The disk cache is best effort: unreadable or damaged files are
	// ignored. Empty means memory only; there is no default directory.
	CacheDir string
	// CacheDirTTL is how long a document kept under CacheDir is used by a
	// new Client without asking the server, counted from the last time the
	// server sent or confirmed it. Zero means no such trust: every copy
	// found on disk is revalidated with If-None-Match (one request per
	// document, answered 304 when current), so a new process sees what the
	// server serves now. A positive TTL is kubectl's trade (it trusts its
	// disk cache for six hours, client-go's default ten minutes): a start
	// with no request at all, at the price of serving a removed resource
	// or changed verbs until the TTL runs out. Names and kinds that miss
	// still refresh from the server, so a new CRD is found either way.
	CacheDirTTL time.Duration
	// Logger receives debug logs of refreshes; nil discards them.
	Logger *slog.Logger
}

// Client discovers what a server serves and maps names and kinds to
// resources, caching what it learned. Clients are safe for concurrent use by
// multiple goroutines; concurrent callers that need a refresh share one.
type Client struct {
	tc          *transport.Client
	ttl         time.Duration
	missTTL     time.Duration
	concurrency int
	log         *slog.Logger
	now         func() time.Time

	// docs caches parsed discovery documents by URL path with their ETags.
	docs *lru.Cache[string, docEntry]
	// disk, when not nil, backs docs with files.
	disk *diskCache
	// misses remembers lookups that missed, by lookup key; nil when
	// Options.MissTTL is negative.
	misses *lru.Cache[string, miss]
	// specs caches OpenAPI v3 documents by their immutable hash URL.
	// The documents are strings, immutable, so gjson reads them in place.
	specs *lru.Cache[string, string]
	// schemaSets caches compiled OpenAPI v3 documents by the same URLs.
	schemaSets *lru.Cache[string, *SchemaSet]
	// stats holds the counters Stats reports.
	stats counters
	// docGen advances on every decoded document; a snapshot remembers the
	// value it was built at.
	docGen atomic.Uint64

	mu       sync.Mutex
	snap     *snapshot // nil before the first refresh
	stale    bool      // set by Invalidate
	seq      uint64    // refreshes started
	inflight *flight

	openapi      *openAPIIndex // nil before the first OpenAPI call
	openapiStale bool          // set by Invalidate

	// joinHook, when set by a test, runs each time a caller starts waiting
	// for a refresh another caller runs.
	joinHook func()
}

// miss is a lookup that missed in the view built from the documents of
// generation docGen, at time at.
type miss struct {
	docGen uint64
	at     time.Time
}

// flight is one refresh in progress; done closes when snap and err are set.
type flight struct {
	seq  uint64
	done chan struct{}
	snap *snapshot
	err  error
}

// New returns a discovery Client that sends its requests through tc. It does
// no network I/O.
func New(tc *transport.Client, opts *Options) *Client {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.MissTTL == 0 {
		o.MissTTL = DefaultMissTTL
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	docs, err := lru.New[string, docEntry](o.CacheSize)
	if err != nil {
		// lru.New fails only for a non-positive size, excluded above.
		panic(err)
	}
	specs, err := lru.New[string, string](DefaultOpenAPICacheSize)
	if err != nil {
		panic(err)
	}
	schemaSets, err := lru.New[string, *SchemaSet](DefaultOpenAPICacheSize)
	if err != nil {
		panic(err)
	}
	c := &Client{
		specs:       specs,
		schemaSets:  schemaSets,
		tc:          tc,
		ttl:         o.TTL,
		missTTL:     o.MissTTL,
		concurrency: o.Concurrency,
		log:         o.Logger,
		now:         time.Now,
		docs:        docs,
	}
	if o.MissTTL > 0 {
		c.misses, err = lru.New[string, miss](missCacheSize)
		if err != nil {
			panic(err)
		}
	}
	if o.CacheDir != "" {
		c.disk = &diskCache{dir: o.CacheDir, host: tc.Host(), log: o.Logger, ttl: o.CacheDirTTL}
	}
	return c
}

// APIResource describes one resource in one group version. It is a plain
// value, safe to copy and to share between goroutines while nobody modifies
// it; the slices of a value returned by a Client are the caller's own.
type APIResource struct {
	Group        string        // "" for the core group
	Version      string        // such as "v1"
	Resource     string        // plural, e.g. "deployments"
	Kind         string        // such as "Deployment"
	SingularName string        // such as "deployment"; may be empty on old servers
	Namespaced   bool          // true when objects live in a namespace
	Verbs        []string      // such as "get", "list", "watch", "create", "patch"
	ShortNames   []string      // such as "deploy"
	Categories   []string      // such as "all"
	Subresources []Subresource // such as status and scale, in discovery order
	// Preferred reports whether Version is the group's preferred version.
	Preferred bool
}

// Subresource describes a subresource such as status or scale. It is a plain
// value, safe to copy and to share between goroutines while nobody modifies
// it.
type Subresource struct {
	Name  string                        // such as "status", "scale", "log"
	Kind  unstructured.GroupVersionKind // the kind it sends and accepts, such as autoscaling/v1 Scale
	Verbs []string                      // such as "get", "patch", "update"
}

// GroupVersionResource returns the resource's group, version and plural.
func (r APIResource) GroupVersionResource() unstructured.GroupVersionResource {
	return unstructured.GroupVersionResource{Group: r.Group, Version: r.Version, Resource: r.Resource}
}

// GroupVersionKind returns the resource's group, version and kind.
func (r APIResource) GroupVersionKind() unstructured.GroupVersionKind {
	return unstructured.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// QualifiedName returns the name that resolves to r alone through
// ResourceFor: resource.version.group ("deployments.v1.apps"), or
// resource.version for the core group ("pods.v1").
func (r APIResource) QualifiedName() string {
	return r.GroupVersionResource().String()
}

// Subresource returns the named subresource and whether r has it.
func (r APIResource) Subresource(name string) (Subresource, bool) {
	for _, s := range r.Subresources {
		if s.Name == name {
			return s, true
		}
	}
	return Subresource{}, false
}

// HasVerb reports whether r supports verb, such as "list" or "patch".
func (r APIResource) HasVerb(verb string) bool {
	for _, v := range r.Verbs {
		if v == verb {
			return true
		}
	}
	return false
}

// ResourceFor finds a resource by name, the way kubectl reads the names
// people type. It accepts, case-insensitively, the plural ("deployments"),
// the singular ("deployment"), a short name ("deploy"), the kind
// ("Deployment"), and any of these qualified by group ("deployments.apps",
// "deploy.apps"), by a prefix that names one group ("deployments.ap",
// "hpa.autosc", "storageclasses.storage"), by version and group
// ("deployments.v1.apps"), by version alone for the core group ("pods.v1"),
// or followed by kubectl's empty group, a trailing dot, meaning any group
// ("deployments.", or "deployments.v1." for version v1 in any group).
//
// Plurals and singulars outrank short names, which outrank kinds. Of the
// versions of one resource the group's preferred version is returned, or
// else the most preferred version that serves it. When several groups serve
// the name, the core group wins, then the first built-in group
// (IsBuiltinGroup) in the server's priority order. Several matches outside
// the built-in groups, several in one group, or a group prefix that several
// serving groups share give an *AmbiguousError listing every candidate by
// a name that resolves to it alone (where kubectl would take the first).
//
// A miss refreshes discovery once, unless a view newer than the one current
// when the call began is already at hand; concurrent misses share one
// refresh. If the name is still unknown the error is an *UnknownError
// (wrapping ErrUnknownResource) that suggests the nearest served name or
// where the resource is served and, when some groups could not be
// discovered, the error wraps the *PartialError too.
func (c *Client) ResourceFor(ctx context.Context, name string) (APIResource, error) {
	if strings.TrimSpace(name) == "" {
		return APIResource{}, &UnknownError{Name: name}
	}
	return c.lookup(ctx, "name\x00"+name, func(s *snapshot) (APIResource, error) { return s.resourceFor(name) })
}

// ResourceForKind finds the resource serving kind in apiVersion ("apps/v1",
// "v1"), matching group, version and kind exactly. A miss refreshes discovery
// once, as ResourceFor does, before an *UnknownError (wrapping
// ErrUnknownResource) whose hint names the likely fix: the kind's right case
// ("deployment"), the kind of a resource named instead ("Deployments"), the
// apiVersions that serve the kind (a missing or wrong group or version), or
// the nearest served kind ("Deploymnet").
func (c *Client) ResourceForKind(ctx context.Context, apiVersion, kind string) (APIResource, error) {
	gv, err := unstructured.ParseGroupVersion(apiVersion)
	if err != nil {
		return APIResource{}, fmt.Errorf("discovery: resource for kind %q: %w", kind, err)
	}
	gvk := gv.WithKind(kind)
	if kind == "" {
		return APIResource{}, &UnknownError{APIVersion: apiVersion, Hint: "the kind is empty"}
	}
	return c.lookup(ctx, "kind\x00"+apiVersion+"\x00"+kind, func(s *snapshot) (APIResource, error) {
		if r, ok := s.resourceForKind(gvk); ok {
			return r, nil
		}
		return APIResource{}, s.unknownKind(apiVersion, gv, kind)
	})
}

// ResourcesInCategory returns one version of every resource in category
// (such as "all"): the preferred version, or else the most preferred version
// that serves it, in discovery order. It returns what was discovered together
// with a *PartialError when some group versions failed.
func (c *Client) ResourcesInCategory(ctx context.Context, category string) ([]APIResource, error) {
	s, err := c.load(ctx)
	if s == nil {
		return nil, err
	}
	return s.inCategory(category), partialErr(s)
}

// PreferredResources returns one version of every served resource, as
// kubectl api-resources lists them: the group's preferred version, or else
// the most preferred version that serves the resource, in discovery order.
// Partial failures are reported as by Resources.
func (c *Client) PreferredResources(ctx context.Context) ([]APIResource, error) {
	s, err := c.load(ctx)
	if s == nil {
		return nil, err
	}
	return s.preferred(), partialErr(s)
}

// Resources returns every served resource of every discovered group version,
// in discovery order (the core group first, then the groups by the server's
// priority, each group's versions by preference). When some group versions
// could not be discovered it returns the rest together with a *PartialError.
// Any other error returns no resources.
func (c *Client) Resources(ctx context.Context) ([]APIResource, error) {
	s, err := c.load(ctx)
	if s == nil {
		return nil, err
	}
	return s.all(), partialErr(s)
}

// Stats counts a Client's traffic since New, to observe its caching: after
// Invalidate, a revalidation of unchanged documents adds as much to
// NotModified as to Requests and nothing to Parses. It is a plain value.
type Stats struct {
	// Requests is the number of requests the Client has sent: discovery
	// documents (/api, /apis, legacy group versions), the OpenAPI v3 index
	// and documents, and /version. A request counts once however often the
	// transport retried it, and whatever its outcome.
	Requests int64
	// NotModified is the number of those requests answered 304 Not
	// Modified, that is, revalidations that found the cached copy current.
	NotModified int64
	// Parses is the number of documents decoded: every discovery document
	// or OpenAPI v3 index that came with a body, every copy from
	// Options.CacheDir confirmed by a 304 or trusted within
	// Options.CacheDirTTL, and every OpenAPI v3 document
	// downloaded (checked as JSON). A document that turns out malformed
	// counts too. A 304 for a document held in memory adds nothing.
	Parses int64
	// DiskHits is the number of documents taken from Options.CacheDir
	// without any request, because they were younger than
	// Options.CacheDirTTL.
	DiskHits int64
}

// counters are the atomic counters behind Stats.
type counters struct {
	requests, notModified, parses, diskHits atomic.Int64
}

// Stats returns the Client's counters. It is safe to call at any time,
// concurrently with other calls. Taken while calls run, it may miss answers
// still in progress, but every 304 and parse it counts has its request
// counted too.
func (c *Client) Stats() Stats {
	// Answers are counted after their requests, so they are read first.
	nm := c.stats.notModified.Load()
	parses := c.stats.parses.Load()
	hits := c.stats.diskHits.Load()
	return Stats{Requests: c.stats.requests.Load(), NotModified: nm, Parses: parses, DiskHits: hits}
}

// Invalidate marks the cached view and the OpenAPI v3 index stale and
// forgets the lookups that missed: the next call revalidates every document
// it needs with the server (If-None-Match, so unchanged documents cost a 304
// and no decoding). It does no I/O itself.
func (c *Client) Invalidate() {
	c.mu.Lock()
	c.stale = true
	c.openapiStale = true
	c.mu.Unlock()
	if c.misses != nil {
		c.misses.Purge()
	}
}

func partialErr(s *snapshot) error {
	if s.partial == nil {
		return nil
	}
	return s.partial
}

// lookup runs find over the current view and, on ErrUnknownResource,
// once more over a view fetched after this call began, unless key missed
// in this same view less than missTTL ago.
func (c *Client) lookup(ctx context.Context, key string, find func(*snapshot) (APIResource, error)) (APIResource, error) {
	// A miss is answered by any view completed after the one current now,
	// including one whose refresh is already under way.
	var start uint64
	c.mu.Lock()
	if c.snap != nil {
		start = c.snap.seq
	}
	c.mu.Unlock()

	s, err := c.load(ctx)
	if s == nil {
		return APIResource{}, err
	}
	r, err := find(s)
	if err == nil || !errors.Is(err, ErrUnknownResource) {
		return r, err
	}
	if s.seq <= start && !c.missedRecently(key, s) {
		c.log.DebugContext(ctx, "discovery: lookup missed, refreshing", "error", err)
		fresh, lerr := c.loadAfter(ctx, start)
		if fresh == nil {
			return APIResource{}, errors.Join(err, lerr)
		}
		s = fresh
		if r, err = find(s); err == nil || !errors.Is(err, ErrUnknownResource) {
			return r, err
		}
	}
	c.rememberMiss(key, s)
	if s.partial != nil {
		return APIResource{}, fmt.Errorf("%w (%w)", err, s.partial)
	}
	return APIResource{}, err
}

// maxMissKey is the longest lookup key remembered as it is; a longer one
// (a hostile name) is remembered by its hash, so the misses remembered stay
// small whatever the names.
const maxMissKey = 128

// missKey returns key, or its hash when key is longer than maxMissKey.
func missKey(key string) string {
	if len(key) <= maxMissKey {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256\x00" + string(sum[:])
}

// missedRecently reports whether key missed in a view with the same
// documents as s less than missTTL ago, with no Invalidate since.
func (c *Client) missedRecently(key string, s *snapshot) bool {
	if c.misses == nil {
		return false
	}
	m, ok := c.misses.Get(missKey(key))
	return ok && m.docGen == s.docGen && c.now().Sub(m.at) < c.missTTL
}

// rememberMiss records that key missed in view s. A miss already recorded
// for the same documents keeps its time, so repeated misses do not extend
// it.
func (c *Client) rememberMiss(key string, s *snapshot) {
	if c.misses == nil {
		return
	}
	if c.missedRecently(key, s) {
		return
	}
	c.misses.Add(missKey(key), miss{docGen: s.docGen, at: c.now()})
}

// load returns a view that is fresh by the TTL, refreshing if needed.
// It returns a nil snapshot only with an error.
func (c *Client) load(ctx context.Context) (*snapshot, error) {
	return c.await(ctx, func(s *snapshot) bool {
		if c.stale {
			return false
		}
		return c.ttl > 0 && c.now().Sub(s.fetched) < c.ttl
	})
}

// loadAfter returns a view newer than view number seq, joining a refresh
// already under way when there is one.
func (c *Client) loadAfter(ctx context.Context, seq uint64) (*snapshot, error) {
	return c.await(ctx, func(s *snapshot) bool { return s.seq > seq })
}

// await returns the current snapshot when good accepts it (called with c.mu
// held), else joins the refresh in flight or runs one in this goroutine.
// A refresh that fails because its caller's context ended is retried by a
// waiter whose own context is still live.
func (c *Client) await(ctx context.Context, good func(*snapshot) bool) (*snapshot, error) {
	c.mu.Lock()
	entry := c.seq
	c.mu.Unlock()
	for {
		c.mu.Lock()
		if c.snap != nil && good(c.snap) {
			s := c.snap
			c.mu.Unlock()
			return s, nil
		}
		if f := c.inflight; f != nil {
			c.mu.Unlock()
			if c.joinHook != nil {
				c.joinHook()
			}
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, fmt.Errorf("discovery: %w", ctx.Err())
			}
			if f.err != nil {
				if isContextErr(f.err) && ctx.Err() == nil {
					continue // the leader gave up; try again on our own
				}
				return nil, f.err
			}
			// A refresh that started after this call began is fresh enough
			// for it, whatever the TTL says.
			c.mu.Lock()
			ok := f.seq > entry || good(f.snap)
			c.mu.Unlock()
			if ok {
				return f.snap, nil
			}
			continue
		}
		c.seq++
		f := &flight{seq: c.seq, done: make(chan struct{})}
		c.inflight = f
		c.stale = false
		c.mu.Unlock()

		c.lead(ctx, f)
		if f.err != nil {
			return nil, f.err
		}
		return f.snap, nil
	}
}

// lead runs the refresh of flight f and publishes its outcome to the
// waiters, even if the refresh panics.
func (c *Client) lead(ctx context.Context, f *flight) {
	f.err = errors.New("discovery: refresh did not complete")
	defer func() {
		c.mu.Lock()
		if f.err == nil {
			c.snap = f.snap
		} else {
			c.stale = true
		}
		c.inflight = nil
		c.mu.Unlock()
		close(f.done)
	}()
	f.snap, f.err = c.refresh(ctx, f.seq)
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
