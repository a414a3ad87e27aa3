package resource

import (
	"errors"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// Client reads and writes any resource a server serves, resolving names and
// kinds through discovery. Clients are safe for concurrent use by multiple
// goroutines; so are the Handles they make.
type Client struct {
	tc           *transport.Client
	disc         *discovery.Client
	fieldManager string
	namespace    string // default namespace, from the Config
	validation   ValidationMode
}

// Option configures a Client in NewClient. An Option may fail; NewClient then
// returns its error. Options are applied once, in order, by the goroutine
// calling NewClient.
type Option func(*clientOptions) error

type clientOptions struct {
	transport    *transport.Client
	discovery    *discovery.Client
	fieldManager string
	validation   ValidationMode
}

// WithTransport makes the Client send its requests through tc instead of a
// transport.Client built from the Config, so several clients can share one
// connection pool and rate limiter.
func WithTransport(tc *transport.Client) Option {
	return func(o *clientOptions) error {
		if tc == nil {
			return errors.New("resource.WithTransport: nil transport client")
		}
		o.transport = tc
		return nil
	}
}

// WithDiscovery makes the Client resolve resources through d instead of a
// discovery.Client of its own, so several clients share one discovery cache.
// d sends its requests through its own transport.
func WithDiscovery(d *discovery.Client) Option {
	return func(o *clientOptions) error {
		if d == nil {
			return errors.New("resource.WithDiscovery: nil discovery client")
		}
		o.discovery = d
		return nil
	}
}

// WithFieldManager sets the field manager used by writes whose options leave
// FieldManager empty, Apply included. Without it the server derives a manager
// from the user agent for ordinary writes, and Apply requires one per call.
func WithFieldManager(name string) Option {
	return func(o *clientOptions) error {
		if name == "" {
			return errors.New("resource.WithFieldManager: empty name")
		}
		o.fieldManager = name
		return nil
	}
}

// NewClient builds a Client for the server cfg describes. It does no network
// I/O: the first call with a context runs discovery. cfg is copied (by
// transport.New); later changes to it have no effect. cfg may be nil only
// when WithTransport is given.
func NewClient(cfg *transport.Config, opts ...Option) (*Client, error) {
	var o clientOptions
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	tc := o.transport
	if tc == nil {
		if cfg == nil {
			return nil, errors.New("resource.NewClient: nil config")
		}
		var err error
		tc, err = transport.New(cfg)
		if err != nil {
			return nil, err
		}
	}
	d := o.discovery
	if d == nil {
		d = discovery.New(tc, nil)
	}
	ns := "default"
	if cfg != nil && cfg.Namespace != "" {
		ns = cfg.Namespace
	}
	return &Client{tc: tc, disc: d, fieldManager: o.fieldManager, namespace: ns, validation: o.validation}, nil
}

// DefaultNamespace returns the namespace of the Config the client was built
// from (the kubeconfig context's namespace, or the service account's in a
// pod), or "default" when it names none. Handles do not use it on their own:
// pass it to Namespace.
func (c *Client) DefaultNamespace() string { return c.namespace }

// Transport returns the transport client the Client sends requests through.
func (c *Client) Transport() *transport.Client { return c.tc }

// Discovery returns the discovery client the Client resolves resources with.
func (c *Client) Discovery() *discovery.Client { return c.disc }

// Resource returns a Handle for kind in apiVersion, such as ("apps/v1",
// "Deployment") or ("v1", "Pod"). It does no I/O and does not check that the
// kind exists: the first call with a context resolves it through discovery,
// which refreshes once on a miss. A custom resource's kind is served only
// once its CRD is Established, 0.2-0.4 s after the CRD was created: call
// WaitEstablished between creating a CRD and using its kind.
func (c *Client) Resource(apiVersion, kind string) Handle {
	return Handle{c: c, apiVersion: apiVersion, kind: kind}
}

// ForObject returns a Handle for obj's apiVersion and kind whose scope comes
// from the object, the way kubectl treats a manifest: when discovery says the
// kind is namespaced, the handle is bound to obj's metadata.namespace, or to
// the client's DefaultNamespace when obj names none; when the kind is
// cluster-scoped, to no namespace (a metadata.namespace in obj is then
// dropped from writes, with a warning). Errors name the object as a manifest
// does, such as `apply apps/v1 Deployment default/web: ...`.
//
// It does no I/O and keeps nothing of obj but apiVersion, kind and
// namespace: pass obj (or its name) to the calls. An object without
// apiVersion or kind gives a handle whose calls fail saying so. Namespace
// and AllNamespaces on the returned handle replace the scope it chose.
//
// It replaces the dozen lines every manifest tool writes: Resolve, check
// Namespaced, pick a namespace, then act.
func (c *Client) ForObject(obj unstructured.Object) Handle {
	ns := obj.Namespace()
	if ns == "" {
		ns = c.namespace
	}
	return Handle{c: c, apiVersion: obj.APIVersion(), kind: obj.Kind(), namespace: ns, byObject: true}
}

// ResourceFor returns a Handle for a resource named the way kubectl accepts:
// plural ("deployments"), singular, short name ("deploy"), kind, or
// "plural.group" ("deployments.apps") / "plural.version.group". It does no I/O;
// the first call with a context resolves it through discovery.
func (c *Client) ResourceFor(name string) Handle {
	return Handle{c: c, lookup: name}
}
