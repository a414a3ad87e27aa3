package testserver

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"sort"
	"strings"
)

const aggregatedContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

// acceptsAs reports whether the Accept header asks for application/json with
// the parameters as=<as>, g=<g> and one of the versions.
func acceptsAs(r *http.Request, as, g string, versions ...string) (string, bool) {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mt != "application/json" {
			continue
		}
		if params["as"] != as || params["g"] != g {
			continue
		}
		for _, v := range versions {
			if params["v"] == v {
				return v, true
			}
		}
	}
	return "", false
}

// writeDiscovery writes a discovery document. The aggregated form (and
// only it, as with the real server) carries an ETag, is publicly cacheable
// and answers 304 when the client already holds it.
func writeDiscovery(w http.ResponseWriter, r *http.Request, contentType string, doc any) {
	if contentType != aggregatedContentType {
		writeJSON(w, http.StatusOK, doc)
		return
	}
	body, err := json.Marshal(doc)
	if err != nil {
		writeStatus(w, errForCode(http.StatusInternalServerError, 0))
		return
	}
	w.Header().Set("Cache-Control", "public")
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Vary", "Accept")
	if inm := r.Header.Get("If-None-Match"); inm != "" && inm == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (s *Server) serveDiscoveryRoot(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeStatus(w, errMethodNotAllowed())
		return
	}
	legacy := strings.HasPrefix(r.URL.Path, "/api") && !strings.HasPrefix(r.URL.Path, "/apis")
	reg := s.registrySnapshot()
	if _, ok := acceptsAs(r, "APIGroupDiscoveryList", "apidiscovery.k8s.io", "v2"); ok {
		writeDiscovery(w, r, aggregatedContentType, aggregated(&reg, legacy))
		return
	}
	if legacy {
		writeDiscovery(w, r, "application/json", map[string]any{
			"kind": "APIVersions", "versions": []string{"v1"},
			"serverAddressByClientCIDRs": []any{map[string]any{"clientCIDR": "0.0.0.0/0", "serverAddress": strings.TrimPrefix(s.hs.URL, "https://")}},
		})
		return
	}
	var groups []any
	for _, g := range reg.groups() {
		if g.name == "" {
			continue
		}
		groups = append(groups, apiGroup(g))
	}
	writeDiscovery(w, r, "application/json", map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": nonNil(groups)})
}

func apiGroup(g groupEntry) map[string]any {
	var vs []any
	for _, v := range g.versions {
		vs = append(vs, map[string]any{"groupVersion": g.name + "/" + v, "version": v})
	}
	return map[string]any{
		"name": g.name, "versions": vs,
		"preferredVersion": map[string]any{"groupVersion": g.name + "/" + g.versions[0], "version": g.versions[0]},
	}
}

// serveGroup answers /apis/<group>.
func (s *Server) serveGroup(w http.ResponseWriter, r *http.Request, group string) {
	reg := s.registrySnapshot()
	for _, g := range reg.groups() {
		if g.name == group && group != "" {
			doc := apiGroup(g)
			doc["kind"], doc["apiVersion"] = "APIGroup", "v1"
			writeDiscovery(w, r, "application/json", doc)
			return
		}
	}
	writeStatus(w, errNoResource())
}

// serveGroupVersion answers /api/v1 and /apis/<group>/<version>.
func (s *Server) serveGroupVersion(w http.ResponseWriter, r *http.Request, group, version string) {
	reg := s.registrySnapshot()
	defs := reg.inGroupVersion(group, version)
	if len(defs) == 0 {
		writeStatus(w, errNoResource())
		return
	}
	sortDefs(defs)
	var res []any
	for _, d := range defs {
		e := map[string]any{
			"name": d.resource, "singularName": d.singular, "namespaced": d.namespaced,
			"kind": d.kind, "verbs": d.verbs(), "storageVersionHash": storageVersionHash(d),
		}
		if len(d.shortNames) > 0 {
			e["shortNames"] = d.shortNames
		}
		if len(d.categories) > 0 {
			e["categories"] = d.categories
		}
		res = append(res, e)
		for _, sub := range d.subresources() {
			e := map[string]any{"name": d.resource + "/" + sub.name, "singularName": "", "namespaced": d.namespaced, "kind": sub.kind, "verbs": sub.verbs}
			if sub.group != d.group || sub.version != d.version {
				e["group"], e["version"] = sub.group, sub.version
			}
			res = append(res, e)
		}
	}
	doc := map[string]any{"kind": "APIResourceList", "groupVersion": defs[0].groupVersion(), "resources": res}
	if group != "" {
		doc["apiVersion"] = "v1"
	}
	writeDiscovery(w, r, "application/json", doc)
}

func sortDefs(defs []*resourceDef) {
	sort.Slice(defs, func(i, j int) bool { return defs[i].resource < defs[j].resource })
}

func storageVersionHash(d *resourceDef) string {
	sum := sha256.Sum256([]byte(d.group + "/" + d.version + "/" + d.kind))
	return base64.StdEncoding.EncodeToString(sum[:8])
}

// registrySnapshot copies the registry's table so that a discovery or
// OpenAPI answer is built and written without holding the server's lock
// (the definitions themselves are never modified).
func (s *Server) registrySnapshot() registry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return registry{defs: append([]*resourceDef(nil), s.reg.defs...)}
}

// aggregated builds the apidiscovery.k8s.io/v2 document for /api (legacy)
// or /apis.
func aggregated(reg *registry, legacy bool) map[string]any {
	var items []any
	for _, g := range reg.groups() {
		if (g.name == "") != legacy {
			continue
		}
		var versions []any
		for _, v := range g.versions {
			defs := reg.inGroupVersion(g.name, v)
			sortDefs(defs)
			var res []any
			for _, d := range defs {
				scope := "Cluster"
				if d.namespaced {
					scope = "Namespaced"
				}
				// Built-in kinds leave the group and version empty (the
				// enclosing group-version); the apiextensions server writes
				// them out for custom resources and their subresources.
				rk := map[string]any{"group": "", "version": "", "kind": d.kind}
				if d.crd != "" {
					rk["group"], rk["version"] = d.group, d.version
				}
				e := map[string]any{
					"resource":         d.resource,
					"responseKind":     rk,
					"scope":            scope,
					"singularResource": d.singular,
					"verbs":            d.verbs(),
				}
				if len(d.shortNames) > 0 {
					e["shortNames"] = d.shortNames
				}
				if len(d.categories) > 0 {
					e["categories"] = d.categories
				}
				var subs []any
				for _, sub := range d.subresources() {
					// The enclosing group-version is left out for built-ins,
					// as the real server does.
					rk := map[string]any{"group": "", "version": "", "kind": sub.kind}
					if d.crd != "" || sub.group != d.group || sub.version != d.version {
						rk["group"], rk["version"] = sub.group, sub.version
					}
					subs = append(subs, map[string]any{"subresource": sub.name, "responseKind": rk, "verbs": sub.verbs})
				}
				if len(subs) > 0 {
					e["subresources"] = subs
				}
				res = append(res, e)
			}
			versions = append(versions, map[string]any{"version": v, "resources": res, "freshness": "Current"})
		}
		md := map[string]any{}
		if g.name != "" {
			md["name"] = g.name
		}
		items = append(items, map[string]any{"metadata": md, "versions": versions})
	}
	return map[string]any{
		"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
		"metadata": map[string]any{}, "items": nonNil(items),
	}
}

func nonNil(v []any) []any {
	if v == nil {
		return []any{}
	}
	return v
}
