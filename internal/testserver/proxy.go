package testserver

import (
	"net/http"
	"strings"
)

// ProxyRequest names the target of a proxy subresource request. It is a
// plain value.
type ProxyRequest struct {
	// Resource is "pods", "services" or "nodes".
	Resource string
	// Namespace is empty for a node.
	Namespace, Name string
	// Scheme and Port are as the path gave them ([scheme:]name[:port]);
	// empty when absent.
	Scheme, Port string
}

// ProxyHandler answers a request sent through pods/proxy, services/proxy
// or nodes/proxy, as the target would. r.URL.Path is the path after
// .../proxy ("/" when there is none); the query is the caller's.
type ProxyHandler func(target ProxyRequest, w http.ResponseWriter, r *http.Request)

// SetProxyHandler sets the handler of the proxy subresources. Without one,
// a proxy request to an existing object answers 503 ServiceUnavailable (for
// a Service the real server's "no endpoints available"). A missing Service
// gets that answer too, as on the real server; a missing pod or node 404.
func (s *Server) SetProxyHandler(h ProxyHandler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.proxy = h
}

// serveProxy answers /api/v1/namespaces/NS/{pods,services}/NAME/proxy[/...]
// and /api/v1/nodes/NAME/proxy[/...] and reports whether the path was one.
func (s *Server) serveProxy(w http.ResponseWriter, r *http.Request) bool {
	p := r.URL.Path
	rest, ok := strings.CutPrefix(p, "/api/v1/")
	if !ok {
		return false
	}
	segs := strings.SplitN(rest, "/", 6)
	var pr ProxyRequest
	var tail string
	switch {
	case len(segs) >= 5 && segs[0] == "namespaces" && (segs[2] == "pods" || segs[2] == "services") && segs[4] == "proxy":
		pr.Resource, pr.Namespace = segs[2], segs[1]
		pr.Name = segs[3]
		if len(segs) == 6 {
			tail = segs[5]
		}
	case len(segs) >= 3 && segs[0] == "nodes" && segs[2] == "proxy":
		pr.Resource, pr.Name = "nodes", segs[1]
		tail = strings.Join(segs[3:], "/")
	default:
		return false
	}
	parts := strings.Split(pr.Name, ":")
	switch len(parts) {
	case 1:
	case 2:
		pr.Name, pr.Port = parts[0], parts[1]
	case 3:
		pr.Scheme, pr.Name, pr.Port = parts[0], parts[1], parts[2]
	default:
		writeStatus(w, errBadRequest("invalid request "+pr.Name))
		return true
	}
	s.mu.Lock()
	exists := false
	if d := s.reg.lookup("", "v1", pr.Resource); d != nil {
		_, exists = s.bucket(d)[objKey(pr.Namespace, pr.Name)]
	}
	h := s.proxy
	s.mu.Unlock()
	noEndpoints := newStatus(http.StatusServiceUnavailable, "ServiceUnavailable", "no endpoints available for service \""+pr.Name+"\"", nil)
	switch {
	case !exists && pr.Resource == "services":
		// The real server answers a missing Service as one without
		// endpoints.
		writeStatus(w, noEndpoints)
		return true
	case !exists:
		writeStatus(w, errNotFound("", pr.Resource, pr.Name))
		return true
	case h == nil && pr.Resource == "services":
		writeStatus(w, noEndpoints)
		return true
	case h == nil:
		writeStatus(w, newStatus(http.StatusServiceUnavailable, "ServiceUnavailable", "the test server has no proxy handler", nil))
		return true
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + tail
	r2.URL.RawPath = ""
	h(pr, w, r2)
	return true
}
