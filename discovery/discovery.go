package discovery

import (
	"context"

	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// CONTRACT STUB: the discovery helper replaces this file, keeping these
// signatures (adding more is fine).

// Client discovers what a server serves and maps names and kinds to
// resources, caching what it learned. Clients are safe for concurrent use.
type Client struct{}

// Options configure a Client; nil means defaults.
type Options struct{}

// New returns a discovery Client that sends its requests through tc. It does
// no network I/O.
func New(tc *transport.Client, opts *Options) *Client { panic("stub") }

// APIResource describes one resource in one group version.
type APIResource struct {
	Group        string
	Version      string
	Resource     string // plural, e.g. "deployments"
	Kind         string
	SingularName string
	Namespaced   bool
	Verbs        []string
	ShortNames   []string
	Categories   []string
	Subresources []Subresource
	// Preferred reports whether Version is the group's preferred version.
	Preferred bool
}

// Subresource describes a subresource such as status or scale.
type Subresource struct {
	Name  string
	Kind  unstructured.GroupVersionKind
	Verbs []string
}

// GroupVersionResource returns the resource's group, version and plural.
func (r APIResource) GroupVersionResource() unstructured.GroupVersionResource {
	return unstructured.GroupVersionResource{Group: r.Group, Version: r.Version, Resource: r.Resource}
}

// GroupVersionKind returns the resource's group, version and kind.
func (r APIResource) GroupVersionKind() unstructured.GroupVersionKind {
	return unstructured.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// ResourceFor finds a resource by plural, singular, short name, kind, or
// "plural.group" / "plural.version.group". A miss refreshes discovery once.
func (c *Client) ResourceFor(ctx context.Context, name string) (APIResource, error) { panic("stub") }

// ResourceForKind finds the resource serving kind in apiVersion ("apps/v1").
// A miss refreshes discovery once.
func (c *Client) ResourceForKind(ctx context.Context, apiVersion, kind string) (APIResource, error) {
	panic("stub")
}

// Resources returns every served resource, refreshing stale documents.
func (c *Client) Resources(ctx context.Context) ([]APIResource, error) { panic("stub") }

// Invalidate marks the cache stale so the next call revalidates.
func (c *Client) Invalidate() {}
