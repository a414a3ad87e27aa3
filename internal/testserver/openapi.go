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

// collectRefs adds the definitions v refers to, transitively.
func collectRefs(v any, schemas map[string]any) {
	switch t := v.(type) {
	case map[string]any:
		if r, ok := t["$ref"].(string); ok {
			name := strings.TrimPrefix(r, "#/components/schemas/")
			if _, done := schemas[name]; !done {
				if def, ok := builtinSchemas[name]; ok {
					schemas[name] = def
					collectRefs(def, schemas)
				} else if def, ok := metaSchemas[name]; ok {
					schemas[name] = def
					collectRefs(def, schemas)
				}
			}
		}
		for _, e := range t {
			collectRefs(e, schemas)
		}
	case []any:
		for _, e := range t {
			collectRefs(e, schemas)
		}
	}
}

// operationNames returns the group as operation IDs spell it (Core, Apps,
// RbacAuthorization, ExampleCom) and the tag (core_v1, apps_v1, ...).
func operationNames(d *resourceDef) (string, string) {
	g := strings.TrimSuffix(d.group, ".k8s.io")
	if g == "" {
		g = "core"
	}
	var b strings.Builder
	for _, part := range strings.FieldsFunc(g, func(r rune) bool { return r == '.' || r == '-' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	camel := b.String()
	return camel + strings.ToUpper(d.version[:1]) + d.version[1:], strings.ToLower(camel[:1]) + camel[1:] + "_" + d.version
}

func queryParam(name, typ, desc string) map[string]any {
	return map[string]any{"name": name, "in": "query", "description": desc, "schema": map[string]any{"type": typ, "uniqueItems": true}}
}

func pathParam(name, desc string) map[string]any {
	return map[string]any{"name": name, "in": "path", "required": true, "description": desc, "schema": map[string]any{"type": "string", "uniqueItems": true}}
}

var (
	paramDryRun          = queryParam("dryRun", "string", "All makes the request a dry run: everything but storing happens.")
	paramFieldManager    = queryParam("fieldManager", "string", "The name of the actor making the change; required for apply.")
	paramFieldValidation = queryParam("fieldValidation", "string", "Ignore, Warn (the default) or Strict handling of unknown and duplicate fields.")
	paramForce           = queryParam("force", "boolean", "Apply only: take over fields other managers own.")
	paramGrace           = queryParam("gracePeriodSeconds", "integer", "Seconds before the object is deleted; 0 deletes at once.")
	paramPropagation     = queryParam("propagationPolicy", "string", "Orphan, Background or Foreground handling of dependents.")
	listParams           = []any{
		queryParam("allowWatchBookmarks", "boolean", "Lets a watch send BOOKMARK events."),
		queryParam("continue", "string", "The continue token of the previous page."),
		queryParam("fieldSelector", "string", "Selects objects by fields."),
		queryParam("labelSelector", "string", "Selects objects by labels."),
		queryParam("limit", "integer", "The most objects one page holds."),
		queryParam("resourceVersion", "string", "The resourceVersion the list or watch starts from."),
		queryParam("resourceVersionMatch", "string", "How resourceVersion is read: Exact or NotOlderThan."),
		queryParam("sendInitialEvents", "boolean", "Lets a watch begin with the current objects."),
		queryParam("timeoutSeconds", "integer", "Ends a list or watch after this long."),
		queryParam("watch", "boolean", "Watch for changes instead of listing."),
	}
)

// responses are the answers of an operation returning schema, with the
// codes given.
func responses(schema string, codes ...string) map[string]any {
	content := map[string]any{}
	for _, mt := range []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"} {
		content[mt] = map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + schema}}
	}
	out := map[string]any{"401": map[string]any{"description": "Unauthorized"}}
	text := map[string]string{"200": "OK", "201": "Created", "202": "Accepted"}
	for _, c := range codes {
		out[c] = map[string]any{"description": text[c], "content": content}
	}
	return out
}

func requestBody(schema string, mediaTypes ...string) map[string]any {
	content := map[string]any{}
	for _, mt := range mediaTypes {
		content[mt] = map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + schema}}
	}
	return map[string]any{"required": true, "content": content}
}

// optionalBody is the body of a delete: DeleteOptions, not required.
func optionalBody(schema string) map[string]any {
	b := requestBody(schema, "*/*")
	delete(b, "required")
	return b
}

// openAPIPaths describes the operations on d's paths.
func openAPIPaths(d *resourceDef, schema string, paths map[string]any) {
	opGroup, tag := operationNames(d)
	scope := ""
	base := "/apis/" + d.group + "/" + d.version
	if d.group == "" {
		base = "/api/" + d.version
	}
	var common []any
	if d.namespaced {
		scope = "Namespaced"
		base += "/namespaces/{namespace}"
		common = append(common, pathParam("namespace", "The namespace of the objects."))
	}
	common = append(common, queryParam("pretty", "string", "true indents the answer."))
	gvk := map[string]any{"group": d.group, "version": d.version, "kind": d.kind}
	op := func(verb, action, desc string, resp map[string]any, params []any) map[string]any {
		o := map[string]any{
			"operationId": verb + opGroup + scope + d.kind, "description": desc, "tags": []any{tag},
			"responses": resp, "x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk,
		}
		if len(params) > 0 {
			o["parameters"] = params
		}
		return o
	}
	patchTypes := []string{"application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json"}
	if d.crd == "" {
		patchTypes = append(patchTypes, "application/strategic-merge-patch+json")
	}
	writeParams := []any{paramDryRun, paramFieldManager, paramFieldValidation}

	coll := map[string]any{
		"parameters": common,
		"get":        op("list", "list", "list or watch objects of kind "+d.kind, responses(schema+"List", "200"), listParams),
		"post":       op("create", "post", "create a "+d.kind, responses(schema, "200", "201", "202"), writeParams),
	}
	coll["post"].(map[string]any)["requestBody"] = requestBody(schema, "*/*")
	if !d.noDeleteCollection {
		dc := op("deleteCollection", "deletecollection", "delete a collection of "+d.kind, responses(metaV1+"Status", "200"), append([]any{paramDryRun, paramGrace, paramPropagation}, listParams...))
		dc["requestBody"] = optionalBody(metaV1 + "DeleteOptions")
		coll["delete"] = dc
	}
	paths[base+"/"+d.resource] = coll

	itemParams := append([]any{pathParam("name", "name of the "+d.kind)}, common...)
	item := map[string]any{
		"parameters": itemParams,
		"get":        op("read", "get", "read the specified "+d.kind, responses(schema, "200"), nil),
		"put":        op("replace", "put", "replace the specified "+d.kind, responses(schema, "200", "201"), writeParams),
		"patch":      op("patch", "patch", "partially update the specified "+d.kind, responses(schema, "200", "201"), append(writeParams, paramForce)),
		"delete":     op("delete", "delete", "delete a "+d.kind, responses(metaV1+"Status", "200", "202"), []any{paramDryRun, paramGrace, paramPropagation}),
	}
	item["put"].(map[string]any)["requestBody"] = requestBody(schema, "*/*")
	item["patch"].(map[string]any)["requestBody"] = requestBody(metaV1+"Patch", patchTypes...)
	item["delete"].(map[string]any)["requestBody"] = optionalBody(metaV1 + "DeleteOptions")
	paths[base+"/"+d.resource+"/{name}"] = item

	for _, sub := range []struct {
		on           bool
		name, schema string
	}{{d.status, "status", schema}, {d.scale, "scale", "io.k8s.api.autoscaling.v1.Scale"}} {
		if !sub.on {
			continue
		}
		suffix := strings.ToUpper(sub.name[:1]) + sub.name[1:]
		p := map[string]any{
			"parameters": itemParams,
			"get":        op("read", "get", "read "+sub.name+" of the specified "+d.kind, responses(sub.schema, "200"), nil),
			"put":        op("replace", "put", "replace "+sub.name+" of the specified "+d.kind, responses(sub.schema, "200", "201"), writeParams),
			"patch":      op("patch", "patch", "partially update "+sub.name+" of the specified "+d.kind, responses(sub.schema, "200", "201"), append(writeParams, paramForce)),
		}
		for _, verb := range []string{"get", "put", "patch"} {
			o := p[verb].(map[string]any)
			o["operationId"] = o["operationId"].(string) + suffix
		}
		p["put"].(map[string]any)["requestBody"] = requestBody(sub.schema, "*/*")
		p["patch"].(map[string]any)["requestBody"] = requestBody(metaV1+"Patch", patchTypes...)
		paths[base+"/"+d.resource+"/{name}/"+sub.name] = p
	}
}

// kubeSchemeVersions are the group-versions of kube-apiserver v1.37's own
// scheme (served or not), in the order its OpenAPI documents list them.
// The apiextensions server names all of them, after the core group, as the
// kinds of DeleteOptions in a custom resource group's document.
var kubeSchemeVersions = []struct{ group, versions string }{
	{"admissionregistration.k8s.io", "v1 v1alpha1 v1beta1"},
	{"apps", "v1 v1beta1 v1beta2"},
	{"authentication.k8s.io", "v1 v1alpha1 v1beta1"},
	{"authorization.k8s.io", "v1 v1beta1"},
	{"autoscaling", "v1 v2"},
	{"batch", "v1 v1beta1"},
	{"certificates.k8s.io", "v1 v1alpha1 v1beta1"},
	{"coordination.k8s.io", "v1 v1alpha2 v1beta1"},
	{"discovery.k8s.io", "v1 v1beta1"},
	{"events.k8s.io", "v1 v1beta1"},
	{"extensions", "v1beta1"},
	{"flowcontrol.apiserver.k8s.io", "v1 v1beta1 v1beta2 v1beta3"},
	{"internal.apiserver.k8s.io", "v1alpha1"},
	{"lifecycle.k8s.io", "v1alpha1"},
	{"networking.k8s.io", "v1 v1beta1"},
	{"node.k8s.io", "v1 v1alpha1 v1beta1"},
	{"policy", "v1 v1beta1"},
	{"rbac.authorization.k8s.io", "v1 v1alpha1 v1beta1"},
	{"resource.k8s.io", "v1 v1alpha3 v1beta1 v1beta2"},
	{"scheduling.k8s.io", "v1 v1alpha3 v1beta1"},
	{"storage.k8s.io", "v1 v1alpha1 v1beta1"},
	{"storagemigration.k8s.io", "v1 v1beta1"},
}

// deleteOptionsKinds is x-kubernetes-group-version-kind of DeleteOptions in
// the document of group/version: core v1, then the document's own
// group-version for a built-in group, or every group-version of the kube
// scheme for a custom resource group.
func deleteOptionsKinds(group, version string, custom bool) []any {
	kind := func(g, v string) any { return map[string]any{"group": g, "version": v, "kind": "DeleteOptions"} }
	out := []any{kind("", "v1")}
	switch {
	case custom:
		for _, gv := range kubeSchemeVersions {
			for _, v := range strings.Fields(gv.versions) {
				out = append(out, kind(gv.group, v))
			}
		}
	case group != "":
		out = append(out, kind(group, version))
	}
	return out
}

// openAPIDoc builds the document of one group-version.
func openAPIDoc(reg *registry, group, version string) ([]byte, bool) {
	defs := reg.inGroupVersion(group, version)
	if len(defs) == 0 {
		return nil, false
	}
	sortDefs(defs)
	schemas := map[string]any{
		metaV1 + "Patch": map[string]any{"type": "object", "description": "Patch is the body of a PATCH request; its media type says how it applies."},
	}
	paths := map[string]any{}
	for _, d := range defs {
		name := schemaPrefix(d) + "." + d.kind
		var sch map[string]any
		if def, ok := builtinSchemas[name]; ok && d.crd == "" {
			sch = copyObj(def)
			sch["x-kubernetes-group-version-kind"] = []any{map[string]any{"group": d.group, "version": d.version, "kind": d.kind}}
		} else {
			sch = kindSchema(d)
		}
		schemas[name] = sch
		schemas[name+"List"] = map[string]any{"type": "object", "required": []any{"items"}, "description": d.kind + "List is a list of " + d.kind + " objects.",
			"properties": map[string]any{
				"apiVersion": map[string]any{"type": "string"}, "kind": map[string]any{"type": "string"},
				"items":    map[string]any{"type": "array", "items": ref(name)},
				"metadata": ref(listMetaRef),
			}, "x-kubernetes-group-version-kind": []any{map[string]any{"group": d.group, "version": d.version, "kind": d.kind + "List"}}}
		if d.scale {
			schemas["io.k8s.api.autoscaling.v1.Scale"] = builtinSchemas["io.k8s.api.autoscaling.v1.Scale"]
		}
		openAPIPaths(d, name, paths)
	}
	for _, extra := range []string{metaV1 + "Status", metaV1 + "DeleteOptions", objectMetaRef, listMetaRef} {
		if _, ok := schemas[extra]; !ok {
			if def, ok := builtinSchemas[extra]; ok {
				schemas[extra] = def
			} else {
				schemas[extra] = metaSchemas[extra]
			}
		}
	}
	// DeleteOptions is registered in every group-version; a document names
	// the core one and its own.
	delOpts := copyObj(schemas[metaV1+"DeleteOptions"].(map[string]any))
	delOpts["x-kubernetes-group-version-kind"] = deleteOptionsKinds(group, version, defs[0].crd != "")
	schemas[metaV1+"DeleteOptions"] = delOpts
	collectRefs(schemas, schemas)
	doc := map[string]any{
		"openapi": "3.0.0",
		"info":    map[string]any{"title": "Kubernetes", "version": "v1.37.2"},
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
	reg := s.registrySnapshot()
	p := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/openapi/v3"), "/")
	if p == "" {
		paths := map[string]any{}
		for _, g := range reg.groups() {
			for _, v := range g.versions {
				key := "apis/" + g.name + "/" + v
				if g.name == "" {
					key = "api/" + v
				}
				body, _ := openAPIDoc(&reg, g.name, v)
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
	body, ok := openAPIDoc(&reg, group, version)
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
