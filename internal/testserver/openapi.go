package testserver

import (
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
)

// schemaPrefix is the prefix of the OpenAPI definition names of a group's
// built-in kinds, as the real server names them.
func schemaPrefix(d *resourceDef) string {
	switch d.group {
	case "":
		return "io.k8s.api.core." + d.version
	case "apiextensions.k8s.io":
		return "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions." + d.version
	case "rbac.authorization.k8s.io":
		return "io.k8s.api.rbac." + d.version
	}
	if d.crd != "" {
		parts := strings.Split(d.group, ".")
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
		return strings.Join(parts, ".") + "." + d.version
	}
	return "io.k8s.api." + d.group + "." + d.version
}

const (
	objectMetaRef = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
	listMetaRef   = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
)

func ref(name string) map[string]any {
	return map[string]any{"allOf": []any{map[string]any{"$ref": "#/components/schemas/" + name}}, "default": map[string]any{}}
}

// kindSchema is the OpenAPI schema of one kind: a CRD version's schema, or
// for built-ins the fields the server knows (see resourceDef.known) with
// their types left open.
func kindSchema(d *resourceDef) map[string]any {
	var sch map[string]any
	if d.schema != nil {
		sch = copyObj(d.schema)
	} else {
		props := map[string]any{}
		for f := range d.known[""] {
			if sub := d.known[f]; sub != nil {
				sp := map[string]any{}
				for g := range sub {
					sp[g] = map[string]any{}
				}
				props[f] = map[string]any{"type": "object", "properties": sp}
			} else {
				props[f] = map[string]any{}
			}
		}
		sch = map[string]any{"type": "object", "properties": props}
	}
	props := getMap(sch, "properties", true)
	props["apiVersion"] = map[string]any{"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."}
	props["kind"] = map[string]any{"type": "string", "description": "Kind is a string value representing the REST resource this object represents."}
	props["metadata"] = ref(objectMetaRef)
	sch["x-kubernetes-group-version-kind"] = []any{map[string]any{"group": d.group, "version": d.version, "kind": d.kind}}
	return sch
}

var metaSchemas = map[string]any{
	objectMetaRef: map[string]any{"type": "object", "properties": map[string]any{
		"name": map[string]any{"type": "string"}, "generateName": map[string]any{"type": "string"},
		"namespace": map[string]any{"type": "string"}, "uid": map[string]any{"type": "string"},
		"resourceVersion": map[string]any{"type": "string"}, "generation": map[string]any{"type": "integer", "format": "int64"},
		"creationTimestamp":          map[string]any{"type": "string", "format": "date-time"},
		"deletionTimestamp":          map[string]any{"type": "string", "format": "date-time"},
		"deletionGracePeriodSeconds": map[string]any{"type": "integer", "format": "int64"},
		"labels":                     map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string", "default": ""}},
		"annotations":                map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string", "default": ""}},
		"finalizers":                 map[string]any{"type": "array", "items": map[string]any{"type": "string", "default": ""}, "x-kubernetes-list-type": "set"},
		"ownerReferences": map[string]any{"type": "array", "items": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true},
			"x-kubernetes-list-map-keys": []any{"uid"}, "x-kubernetes-list-type": "map", "x-kubernetes-patch-merge-key": "uid", "x-kubernetes-patch-strategy": "merge"},
		"managedFields": map[string]any{"type": "array", "items": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
		"selfLink":      map[string]any{"type": "string"},
	}},
	listMetaRef: map[string]any{"type": "object", "properties": map[string]any{
		"continue": map[string]any{"type": "string"}, "remainingItemCount": map[string]any{"type": "integer", "format": "int64"},
		"resourceVersion": map[string]any{"type": "string"}, "selfLink": map[string]any{"type": "string"},
	}},
}

// openAPIDoc builds the document of one group-version; callers hold s.mu.
func (s *Server) openAPIDoc(group, version string) ([]byte, bool) {
	defs := s.reg.inGroupVersion(group, version)
	if len(defs) == 0 {
		return nil, false
	}
	sortDefs(defs)
	schemas := map[string]any{}
	for k, v := range metaSchemas {
		schemas[k] = v
	}
	paths := map[string]any{}
	for _, d := range defs {
		name := schemaPrefix(d) + "." + d.kind
		schemas[name] = kindSchema(d)
		schemas[name+"List"] = map[string]any{"type": "object", "required": []any{"items"}, "properties": map[string]any{
			"apiVersion": map[string]any{"type": "string"}, "kind": map[string]any{"type": "string"},
			"items":    map[string]any{"type": "array", "items": ref(name)},
			"metadata": ref(listMetaRef),
		}, "x-kubernetes-group-version-kind": []any{map[string]any{"group": d.group, "version": d.version, "kind": d.kind + "List"}}}
		base := "/apis/" + d.group + "/" + d.version
		if d.group == "" {
			base = "/api/" + d.version
		}
		coll := base + "/" + d.resource
		if d.namespaced {
			coll = base + "/namespaces/{namespace}/" + d.resource
		}
		ok := func(schema string) map[string]any {
			return map[string]any{"200": map[string]any{"description": "OK", "content": map[string]any{
				"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + schema}}}}}
		}
		paths[coll] = map[string]any{"get": map[string]any{"operationId": "list" + d.kind, "responses": ok(name + "List"),
			"x-kubernetes-action": "list", "x-kubernetes-group-version-kind": map[string]any{"group": d.group, "version": d.version, "kind": d.kind}}}
		paths[coll+"/{name}"] = map[string]any{"get": map[string]any{"operationId": "read" + d.kind, "responses": ok(name),
			"x-kubernetes-action": "get", "x-kubernetes-group-version-kind": map[string]any{"group": d.group, "version": d.version, "kind": d.kind}}}
	}
	doc := map[string]any{
		"openapi": "3.0.0",
		"info":    map[string]any{"title": "Kubernetes", "version": versionInfo["gitVersion"]},
		"paths":   paths,
		"components": map[string]any{"schemas": schemas, "securitySchemes": map[string]any{
			"BearerToken": map[string]any{"type": "apiKey", "name": "authorization", "in": "header", "description": "Bearer Token authentication"}}},
	}
	body, err := json.Marshal(doc)
	return body, err == nil
}

func docHash(body []byte) string {
	sum := sha512.Sum512(body)
	return strings.ToUpper(hex.EncodeToString(sum[:]))[:128]
}

// serveOpenAPI answers /openapi/v3 (the index of group-version documents,
// each with a ?hash= URL) and /openapi/v3/<api|apis/group>/<version>. A
// request with the current hash is cacheable forever; one with an old hash
// is redirected to the current URL, as the real server does.
func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/openapi/v3"), "/")
	if p == "" {
		paths := map[string]any{}
		for _, g := range s.reg.groups() {
			for _, v := range g.versions {
				key := "apis/" + g.name + "/" + v
				if g.name == "" {
					key = "api/" + v
				}
				body, _ := s.openAPIDoc(g.name, v)
				paths[key] = map[string]any{"serverRelativeURL": "/openapi/v3/" + key + "?hash=" + docHash(body)}
			}
		}
		// The real server labels the index text/plain though it is JSON.
		body, _ := json.Marshal(map[string]any{"paths": paths})
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		return
	}
	var group, version string
	segs := strings.Split(p, "/")
	switch {
	case len(segs) == 2 && segs[0] == "api":
		version = segs[1]
	case len(segs) == 3 && segs[0] == "apis":
		group, version = segs[1], segs[2]
	default:
		writeStatus(w, errNoResource())
		return
	}
	body, ok := s.openAPIDoc(group, version)
	if !ok {
		writeStatus(w, errNoResource())
		return
	}
	h := docHash(body)
	switch q := r.URL.Query().Get("hash"); {
	case q == h:
		w.Header().Set("Cache-Control", "public, immutable")
		w.Header().Set("Expires", "Thu, 01 Jan 2099 00:00:00 GMT")
	case q != "":
		http.Redirect(w, r, "/openapi/v3/"+p+"?hash="+h, http.StatusMovedPermanently)
		return
	default:
		w.Header().Set("Cache-Control", "no-cache, private")
	}
	w.Header().Set("ETag", `"`+h+`"`)
	if r.Header.Get("If-None-Match") == `"`+h+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
