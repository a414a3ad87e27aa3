package connect

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/kubedyn/kubedyn/transport"
)

// ProxyKind is a resource with a proxy subresource.
type ProxyKind string

// The resources with a proxy subresource.
const (
	ProxyPod     ProxyKind = "pods"
	ProxyService ProxyKind = "services"
	ProxyNode    ProxyKind = "nodes"
)

// ProxyTarget names what a proxy reaches: a pod's, service's or node's
// port through the API server. It is a plain value.
type ProxyTarget struct {
	// Kind is ProxyPod, ProxyService or ProxyNode.
	Kind ProxyKind
	// Namespace is the pod's or service's namespace; empty for a node.
	Namespace string
	// Name is the pod, service or node.
	Name string
	// Port is a port number or name; empty means the default (the
	// service's first port, the pod's 80, the node's kubelet port).
	Port string
	// Scheme is "https" to reach the target over TLS; empty means http.
	Scheme string
}

// segment is the target as the proxy path writes it: [scheme:]name[:port].
func (t ProxyTarget) segment() (string, error) {
	switch t.Kind {
	case ProxyPod, ProxyService:
		if err := transport.ValidatePathSegment("namespace", t.Namespace); err != nil {
			return "", err
		}
	case ProxyNode:
		if t.Namespace != "" {
			return "", fmt.Errorf("nodes have no namespace (got %q)", t.Namespace)
		}
	default:
		return "", fmt.Errorf("kind %q has no proxy subresource (use pods, services or nodes)", t.Kind)
	}
	if err := transport.ValidatePathSegment("name", t.Name); err != nil {
		return "", err
	}
	if strings.Contains(t.Name, ":") {
		return "", fmt.Errorf("name %q: %w: it holds a ':'", t.Name, transport.ErrInvalidName)
	}
	seg := t.Name
	if t.Port != "" {
		if strings.ContainsAny(t.Port, ":/%") {
			return "", fmt.Errorf("port %q: %w", t.Port, transport.ErrInvalidName)
		}
		seg += ":" + t.Port
	}
	switch t.Scheme {
	case "", "http":
	case "https":
		seg = "https:" + seg
		if t.Port == "" {
			seg += ":"
		}
	default:
		return "", fmt.Errorf("scheme %q is neither http nor https", t.Scheme)
	}
	return seg, nil
}

func (t ProxyTarget) String() string {
	if t.Namespace == "" {
		return string(t.Kind) + "/" + t.Name
	}
	return string(t.Kind) + " " + t.Namespace + "/" + t.Name
}

// ProxyTransport returns an http.RoundTripper that sends each request to
// the target through the API server's proxy subresource
// (/api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH and the like). Only the
// request URL's path and query are used; its scheme and host are ignored,
// so http://web/healthz and /healthz reach the same place. Requests carry
// the transport's credentials and user agent (and, being sent to the API
// server, nothing goes to another origin); they bypass the client-side rate
// limit and retries, and responses come back as the target sent them (a
// 404 from the target is a response, not an error). A path the API server
// already rewrote to its proxy form (a redirect's Location) is sent as it
// is. It is safe for concurrent use.
func (c *Client) ProxyTransport(target ProxyTarget) (http.RoundTripper, error) {
	seg, err := target.segment()
	if err != nil {
		return nil, fmt.Errorf("proxy to %s: %w", target, err)
	}
	var p string
	if target.Kind == ProxyNode {
		p = transport.JoinPath("api", "v1", "nodes", seg, "proxy")
	} else {
		p = transport.JoinPath("api", "v1", "namespaces", target.Namespace, string(target.Kind), seg, "proxy")
	}
	base, err := url.Parse(c.t.Host())
	if err != nil {
		return nil, fmt.Errorf("proxy to %s: %w", target, err)
	}
	return &proxyRoundTripper{base: base, prefix: base.EscapedPath() + p, next: c.t.HTTPClient().Transport, ua: c.t.UserAgent()}, nil
}

// ProxyClient is ProxyTransport in a ready *http.Client, which follows
// redirects the target sends (the API server rewrites their Location into
// its proxy path) and has no overall timeout: use request contexts.
func (c *Client) ProxyClient(target ProxyTarget) (*http.Client, error) {
	rt, err := c.ProxyTransport(target)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: rt}, nil
}

type proxyRoundTripper struct {
	base   *url.URL
	prefix string // escaped: base path + the proxy subresource's path
	next   http.RoundTripper
	ua     string
}

func (rt *proxyRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	u := *rt.base
	path := req.URL.EscapedPath()
	if !strings.HasPrefix(path, rt.prefix+"/") && path != rt.prefix {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		path = rt.prefix + path
	}
	u.RawPath = path
	unesc, err := url.PathUnescape(path)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("proxy: request path: %w", err)
	}
	u.Path = unesc
	u.RawQuery = req.URL.RawQuery
	r.URL = &u
	r.Host = ""
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", rt.ua)
	}
	return rt.next.RoundTrip(r)
}
