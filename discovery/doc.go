// Package discovery finds out what an API server serves and maps the names
// people type (deploy, deployments.apps, Deployment) and the kinds objects
// carry (apps/v1 Deployment) to resources and their REST paths.
//
// # Two requests
//
// A Client asks for /api and /apis in the aggregated form
// (apidiscovery.k8s.io/v2, see AcceptAggregated), which describes every
// group, version and resource in one answer per root. A server that does not
// serve the aggregated form answers with the legacy APIVersions and
// APIGroupList; the Client then fetches /api/<version> and
// /apis/<group>/<version> for each listed version, a few at a time
// (Options.Concurrency). Discovery requests bypass the transport's
// client-side rate limiter, so they never queue behind user traffic.
//
// # Partial failures
//
// A group version that cannot be discovered (an aggregated API service that
// is down answers 503, or the aggregated document marks it "Stale") does not
// break the rest: Resources and the lookups answer from what was discovered,
// and the failures come back as a *PartialError whose Unwrap lists one
// *GroupVersionError per failed group version. A failure of /api or /apis
// itself fails the call.
//
// Every document is held to unstructured's rules for untrusted JSON
// (unstructured.ValidateJSON: well-formed, bounded depth and size, no duplicate
// keys). Names the server sends are used in URLs, so a group version whose
// group, version, resource or subresource name could change a URL ("..",
// "/", "%") is left out and reported the same way, wrapping
// transport.ErrInvalidName.
//
// # Caching and freshness
//
// Each document is cached in memory by URL (a bounded LRU) with its ETag and
// its parsed form. A view younger than Options.TTL (DefaultTTL, 10s, when
// zero) is used with no request at all; after that, or after Invalidate,
// every document is revalidated with If-None-Match, and a 304 reuses the
// parsed form without decoding. No goroutine runs in the background:
// freshness is checked when a call needs it, and concurrent callers that
// need a refresh share one.
//
// With Options.CacheDir the documents are also kept in files, so a new
// process revalidates instead of downloading everything again. The disk
// cache is best effort and safe to share between processes: each file is
// written to a temporary file and renamed into place, so readers only ever
// see whole files; a write that fails (a full disk) leaves the old files as
// they were and is logged at debug level; a damaged copy is dropped and its
// document fetched once more without the copy's ETag. With
// Options.CacheDirTTL a copy the server sent or confirmed within the TTL is
// used with no request at all (kubectl's trade: the fastest start, possibly
// stale until the TTL runs out; a name that misses still refreshes).
//
// Client.Stats reports how many requests the Client sent, how many were
// answered 304 Not Modified and how many documents it decoded, so that
// tests and metrics can see the cache at work.
//
// # Lookups
//
// ResourceFor reads names the way kubectl does: plural, singular, short
// name or kind, optionally qualified by group ("deployments.apps"), by a
// prefix naming one group ("deployments.ap", "hpa.autosc"), by version and
// group ("deployments.v1.apps"), or followed by a trailing dot for any
// group ("deployments.", "deployments.v1."). Plural and singular names
// outrank short names, which outrank kinds. Between groups, the core group
// wins, then the built-in groups (IsBuiltinGroup, the one rule for what is
// built in); where no rule decides, an *AmbiguousError lists every
// candidate by a name that resolves to it alone. ResourceForKind matches
// group, version and kind exactly.
//
// A lookup that misses refreshes discovery once before it fails with an
// *UnknownError (errors.Is(err, ErrUnknownResource)) whose hint suggests the
// likely fix: the kind's right case, the kind of a resource named instead,
// the apiVersions that serve the kind, or the nearest served name. So a
// CustomResourceDefinition is found as soon as the server serves it (once it
// is Established). A miss is then remembered for Options.MissTTL
// (DefaultMissTTL, 1s), so a mistyped kind in a loop does not cost two
// requests per call; Invalidate, or a revalidation that finds a changed
// document, forgets it at once.
//
// # OpenAPI v3
//
// OpenAPIV3 fetches a group version's OpenAPI v3 document through the index
// at /openapi/v3. The index is revalidated like the discovery documents;
// document URLs that carry a content hash never change, so each is
// downloaded once. OpenAPIV3Schema picks one kind's schema out of the
// document as raw JSON; OpenAPIV3Document parses the whole document with
// gnostic-models.
package discovery
