package discovery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kubedyn/kubedyn/unstructured"
)

// CompileCRDSchema compiles the structural schema of one version of a
// CustomResourceDefinition (apiextensions.k8s.io/v1) into the same
// *unstructured.Schema that SchemaSet.Kind gives for the kind once the
// server serves it, without asking the server: for a CRD that is not
// installed yet (a dry run of a set that holds it), or to check custom
// resources offline.
//
// The schema is spec.versions[name=version].schema.openAPIV3Schema, or the
// CRD-wide spec.validation.openAPIV3Schema when the version has none, with
// what the API server adds to the schema it publishes: apiVersion and kind
// (strings) and metadata (ObjectMeta's fields and their JSON types, so an
// unknown or mistyped metadata field fails; the CRD's own constraints on
// name and generateName are kept; the formats of names and labels are the
// server's Go code's and are not checked). An x-kubernetes-embedded-resource
// node gets apiVersion, kind and metadata the same way, apiVersion and kind
// required, as in the published schema. The x-kubernetes-*
// extensions (validations, list types, int-or-string, preserve-unknown-fields,
// embedded resources) are kept, the schema is marked Custom (so
// unstructured.Validate defaults and checks it as the server does a custom
// resource), and its GroupVersionKinds is the CRD's group, version and kind.
//
// The error wraps ErrNoSchema when the CRD has no such version or the
// version has no schema, ErrBadSchema when the object is not a CRD or its
// schema cannot be compiled. Whether the version is served is not checked
// (spec.versions[].served says it).
func CompileCRDSchema(crd unstructured.Object, version string) (*unstructured.Schema, error) {
	if crd.Kind() != "CustomResourceDefinition" || !strings.HasPrefix(crd.APIVersion(), "apiextensions.k8s.io/") {
		return nil, fmt.Errorf("compile CRD schema: %w: %s %s is not an apiextensions.k8s.io CustomResourceDefinition", ErrBadSchema, crd.APIVersion(), crd.Kind())
	}
	group, kind := crd.Get("spec.group").String(), crd.Get("spec.names.kind").String()
	if group == "" || kind == "" {
		return nil, fmt.Errorf("compile CRD schema: %w: CRD %s has no spec.group or spec.names.kind", ErrBadSchema, crd.Name())
	}
	var raw string
	found := false
	for _, v := range crd.Get("spec.versions").Array() {
		if v.Get("name").String() == version {
			found = true
			raw = v.Get("schema.openAPIV3Schema").Raw
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("compile CRD schema: CRD %s has no version %q: %w", crd.Name(), version, ErrNoSchema)
	}
	if raw == "" {
		raw = crd.Get("spec.validation.openAPIV3Schema").Raw
	}
	if raw == "" {
		return nil, fmt.Errorf("compile CRD schema: CRD %s version %s has no openAPIV3Schema: %w", crd.Name(), version, ErrNoSchema)
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil || root == nil {
		return nil, fmt.Errorf("compile CRD schema: %w: CRD %s version %s: openAPIV3Schema is not a JSON object", ErrBadSchema, crd.Name(), version)
	}
	props, _ := root["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	// What the API server adds to a custom resource's published schema.
	props["apiVersion"] = map[string]any{"type": "string",
		"description": "APIVersion defines the versioned schema of this representation of an object."}
	props["kind"] = map[string]any{"type": "string",
		"description": "Kind is a string value representing the REST resource this object represents."}
	meta := objectMeta()
	if m, ok := props["metadata"].(map[string]any); ok {
		// The CRD may constrain name and generateName (and nothing else).
		if mp, ok := m["properties"].(map[string]any); ok {
			mprops := meta["properties"].(map[string]any)
			for k, v := range mp {
				if c, ok := v.(map[string]any); ok {
					if _, typed := c["type"]; !typed {
						c["type"] = "string"
					}
				}
				mprops[k] = v
			}
		}
	}
	props["metadata"] = meta
	root["properties"] = props
	embedded(props)
	if _, ok := root["type"]; !ok {
		root["type"] = "object"
	}
	root["x-kubernetes-group-version-kind"] = []any{map[string]any{"group": group, "version": version, "kind": kind}}
	// The definition is named as the server names a CRD's
	// (test.kubedyn.schema.v1.Widget), which marks it Custom.
	labels := strings.Split(group, ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	name := strings.Join(labels, ".") + "." + version + "." + kind
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	doc := map[string]any{"openapi": "3.0.0", "components": map[string]any{"schemas": map[string]any{name: root}}}
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("compile CRD schema: %w: %w", ErrBadSchema, err)
	}
	set, err := CompileOpenAPIV3(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("compile CRD schema of %s version %s: %w", crd.Name(), version, err)
	}
	s := set.Kind(unstructured.GroupVersionKind{Group: group, Version: version, Kind: kind})
	if s == nil {
		return nil, fmt.Errorf("compile CRD schema: %w: CRD %s version %s compiled to no kind", ErrBadSchema, crd.Name(), version)
	}
	return s, nil
}

// objectMeta is the shape of ObjectMeta as the published schema gives it:
// its fields and their JSON types.
func objectMeta() map[string]any {
	str := func() map[string]any { return map[string]any{"type": "string"} }
	strMap := func() map[string]any {
		return map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}
	}
	anyObjects := func() map[string]any {
		return map[string]any{"type": "array", "items": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
	}
	return map[string]any{
		"type":        "object",
		"description": "Standard object's metadata.",
		"properties": map[string]any{
			"name": str(), "generateName": str(), "namespace": str(), "uid": str(), "resourceVersion": str(),
			"selfLink":                   str(),
			"creationTimestamp":          map[string]any{"type": "string", "format": "date-time"},
			"deletionTimestamp":          map[string]any{"type": "string", "format": "date-time"},
			"generation":                 map[string]any{"type": "integer", "format": "int64"},
			"deletionGracePeriodSeconds": map[string]any{"type": "integer", "format": "int64"},
			"labels":                     strMap(),
			"annotations":                strMap(),
			"finalizers":                 map[string]any{"type": "array", "items": str()},
			"ownerReferences":            anyObjects(),
			"managedFields":              anyObjects(),
		},
	}
}

// embedded adds to every x-kubernetes-embedded-resource node under props
// what the server adds to it in the published schema: apiVersion, kind
// (both required) and metadata.
func embedded(props map[string]any) {
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		if n == nil {
			return
		}
		if p, ok := n["properties"].(map[string]any); ok {
			for _, c := range p {
				m, _ := c.(map[string]any)
				walk(m)
			}
		}
		if m, ok := n["items"].(map[string]any); ok {
			walk(m)
		}
		if m, ok := n["additionalProperties"].(map[string]any); ok {
			walk(m)
		}
		if e, _ := n["x-kubernetes-embedded-resource"].(bool); !e {
			return
		}
		p, _ := n["properties"].(map[string]any)
		if p == nil {
			p = map[string]any{}
			n["properties"] = p
		}
		p["apiVersion"] = map[string]any{"type": "string"}
		p["kind"] = map[string]any{"type": "string"}
		if _, ok := p["metadata"]; !ok {
			p["metadata"] = objectMeta()
		}
		req, _ := n["required"].([]any)
		for _, f := range []string{"kind", "apiVersion"} {
			has := false
			for _, r := range req {
				has = has || r == f
			}
			if !has {
				req = append(req, f)
			}
		}
		n["required"] = req
	}
	for _, c := range props {
		m, _ := c.(map[string]any)
		walk(m)
	}
}
