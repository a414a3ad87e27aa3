package discovery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/kubedyn/kubedyn/unstructured"
)

// SchemaSet is the compiled schemas of one OpenAPI v3 document (one group
// version): every kind it describes, with $ref and allOf resolved into
// shared unstructured.Schema nodes. A SchemaSet is read-only once built;
// safe for concurrent use.
type SchemaSet struct {
	kinds map[unstructured.GroupVersionKind]*unstructured.Schema
	named map[string]*unstructured.Schema
}

// Kind returns the schema of gvk, or nil.
func (s *SchemaSet) Kind(gvk unstructured.GroupVersionKind) *unstructured.Schema {
	return s.kinds[gvk]
}

// Kinds returns the kinds the document describes, sorted by group, version
// and kind.
func (s *SchemaSet) Kinds() []unstructured.GroupVersionKind {
	out := make([]unstructured.GroupVersionKind, 0, len(s.kinds))
	for k := range s.kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Kind < b.Kind
	})
	return out
}

// Definition returns a named definition of components.schemas, or nil.
func (s *SchemaSet) Definition(name string) *unstructured.Schema { return s.named[name] }

// rawSchema is one OpenAPI v3 schema object as the API server writes it.
type rawSchema struct {
	Ref                  string                        `json:"$ref"`
	Description          string                        `json:"description"`
	Type                 string                        `json:"type"`
	Format               string                        `json:"format"`
	Nullable             bool                          `json:"nullable"`
	Properties           map[string]*rawSchema         `json:"properties"`
	AdditionalProperties json.RawMessage               `json:"additionalProperties"`
	Items                *rawSchema                    `json:"items"`
	AllOf                []*rawSchema                  `json:"allOf"`
	AnyOf                []*rawSchema                  `json:"anyOf"`
	OneOf                []*rawSchema                  `json:"oneOf"`
	Not                  *rawSchema                    `json:"not"`
	Required             []string                      `json:"required"`
	Enum                 []json.RawMessage             `json:"enum"`
	Pattern              string                        `json:"pattern"`
	MinLength            *int64                        `json:"minLength"`
	MaxLength            *int64                        `json:"maxLength"`
	MinItems             *int64                        `json:"minItems"`
	MaxItems             *int64                        `json:"maxItems"`
	MinProperties        *int64                        `json:"minProperties"`
	MaxProperties        *int64                        `json:"maxProperties"`
	Minimum              *float64                      `json:"minimum"`
	Maximum              *float64                      `json:"maximum"`
	MultipleOf           *float64                      `json:"multipleOf"`
	ExclusiveMinimum     bool                          `json:"exclusiveMinimum"`
	ExclusiveMaximum     bool                          `json:"exclusiveMaximum"`
	Default              json.RawMessage               `json:"default"`
	IntOrString          bool                          `json:"x-kubernetes-int-or-string"`
	Preserve             bool                          `json:"x-kubernetes-preserve-unknown-fields"`
	Embedded             bool                          `json:"x-kubernetes-embedded-resource"`
	ListType             string                        `json:"x-kubernetes-list-type"`
	ListMapKeys          []string                      `json:"x-kubernetes-list-map-keys"`
	MapType              string                        `json:"x-kubernetes-map-type"`
	PatchMergeKey        string                        `json:"x-kubernetes-patch-merge-key"`
	PatchStrategy        string                        `json:"x-kubernetes-patch-strategy"`
	Validations          []unstructured.ValidationRule `json:"x-kubernetes-validations"`
	GVK                  []struct {
		Group   string `json:"group"`
		Version string `json:"version"`
		Kind    string `json:"kind"`
	} `json:"x-kubernetes-group-version-kind"`
}

const refPrefix = "#/components/schemas/"

// ErrBadSchema is matched (errors.Is) by the error of a document whose
// schemas cannot be compiled: malformed, a dangling $ref, or a definition
// that refers only to itself.
var ErrBadSchema = errors.New("bad OpenAPI v3 schema")

// CompileOpenAPIV3 compiles an OpenAPI v3 document (JSON, one group
// version, as the server publishes under /openapi/v3) into a SchemaSet.
// Client.Schema does this lazily per group version and caches the result;
// CompileOpenAPIV3 is for documents at hand (captured, or read from disk).
func CompileOpenAPIV3(doc []byte) (*SchemaSet, error) {
	var d struct {
		Components struct {
			Schemas map[string]*rawSchema `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("compile OpenAPI v3: %w: %w", ErrBadSchema, err)
	}
	c := &compiler{
		raw:   d.Components.Schemas,
		named: make(map[string]*unstructured.Schema, len(d.Components.Schemas)),
		state: make(map[string]int, len(d.Components.Schemas)),
	}
	set := &SchemaSet{kinds: map[unstructured.GroupVersionKind]*unstructured.Schema{}, named: c.named}
	names := make([]string, 0, len(c.raw))
	for n := range c.raw {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s, err := c.definition(n)
		if err != nil {
			return nil, fmt.Errorf("compile OpenAPI v3: %w", err)
		}
		for _, g := range c.raw[n].GVK {
			gvk := unstructured.GroupVersionKind{Group: g.Group, Version: g.Version, Kind: g.Kind}
			if _, dup := set.kinds[gvk]; !dup {
				set.kinds[gvk] = s
			}
			s.GroupVersionKinds = append(s.GroupVersionKinds, gvk)
		}
		if isCRDName(n, c.raw[n]) {
			s.Custom = true
		}
	}
	return set, nil
}

// isCRDName reports whether a kind's definition is named the way the
// apiextensions server names a CRD's: the group's labels reversed, the
// version and the kind ("test.kubedyn.schema.v1.Widget" for
// schema.kubedyn.test/v1 Widget). Built-in kinds are named after their Go
// package ("io.k8s.api.apps.v1.Deployment"), aggregated APIs too.
func isCRDName(name string, r *rawSchema) bool {
	for _, g := range r.GVK {
		if g.Group == "" {
			continue
		}
		labels := strings.Split(g.Group, ".")
		for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
			labels[i], labels[j] = labels[j], labels[i]
		}
		if name == strings.Join(labels, ".")+"."+g.Version+"."+g.Kind {
			return true
		}
	}
	return false
}

type compiler struct {
	raw   map[string]*rawSchema
	named map[string]*unstructured.Schema
	// state: 1 while a definition is being filled in, 2 once done.
	state map[string]int
}

// definition returns the named definition, compiling it on first use. A
// definition in progress (a recursive type) is returned as its node, which
// is filled in once its compilation finishes.
func (c *compiler) definition(name string) (*unstructured.Schema, error) {
	if s, ok := c.named[name]; ok {
		if c.state[name] == 1 && c.onlyRefs(name) {
			return nil, fmt.Errorf("%w: %s refers only to itself", ErrBadSchema, name)
		}
		return s, nil
	}
	r, ok := c.raw[name]
	if !ok || r == nil {
		return nil, fmt.Errorf("%w: $ref to %q, which the document does not define", ErrBadSchema, name)
	}
	s := &unstructured.Schema{Name: name}
	c.named[name] = s
	c.state[name] = 1
	if err := c.fill(s, r); err != nil {
		return nil, err
	}
	c.state[name] = 2
	if (s.Type == "object" || s.Type == "") && len(s.Properties) == 0 && s.AdditionalProperties == nil && !s.IntOrString && s.Format != "quantity" {
		s.Opaque = true
	}
	return s, nil
}

// onlyRefs reports whether a definition is nothing but a reference (a $ref
// or allOf of $refs without structure of its own): such a definition in a
// cycle has no meaning.
func (c *compiler) onlyRefs(name string) bool {
	r := c.raw[name]
	if r.Ref != "" {
		return true
	}
	return r.Type == "" && len(r.Properties) == 0 && r.Items == nil && len(r.AllOf) > 0 && len(r.AdditionalProperties) == 0
}

func refName(ref string) (string, error) {
	if !strings.HasPrefix(ref, refPrefix) {
		return "", fmt.Errorf("%w: unsupported $ref %q", ErrBadSchema, ref)
	}
	return strings.TrimPrefix(ref, refPrefix), nil
}

// node compiles an inline schema. A bare $ref is the shared definition; a
// schema that adds only documentation or a default to one reference (the
// server's {"allOf":[{"$ref":...}],"description":...}) is a shallow copy of
// the definition with those overridden.
func (c *compiler) node(r *rawSchema) (*unstructured.Schema, error) {
	if r == nil {
		return nil, nil
	}
	if r.Ref != "" {
		n, err := refName(r.Ref)
		if err != nil {
			return nil, err
		}
		return c.definition(n)
	}
	if len(r.AllOf) == 1 && r.AllOf[0].Ref != "" && r.Type == "" && len(r.Properties) == 0 && r.Items == nil {
		n, err := refName(r.AllOf[0].Ref)
		if err != nil {
			return nil, err
		}
		d, err := c.definition(n)
		if err != nil {
			return nil, err
		}
		if c.state[n] == 1 {
			// Recursive: the definition is not complete yet, share it.
			return d, nil
		}
		cp := copySchema(d)
		if r.Description != "" {
			cp.Description = r.Description
		}
		if len(r.Default) > 0 {
			cp.Default = compact(r.Default)
		}
		if r.Nullable {
			cp.Nullable = true
		}
		cp.ListType, cp.ListMapKeys, cp.MapType = first(r.ListType, cp.ListType), firstSlice(r.ListMapKeys, cp.ListMapKeys), first(r.MapType, cp.MapType)
		cp.Validations = append(cp.Validations[:len(cp.Validations):len(cp.Validations)], r.Validations...)
		return cp, nil
	}
	s := &unstructured.Schema{}
	return s, c.fill(s, r)
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func firstSlice(a, b []string) []string {
	if len(a) > 0 {
		return a
	}
	return b
}

// copySchema copies the exported fields of d (its compiled pattern is not
// shared: the copy compiles its own).
func copySchema(d *unstructured.Schema) *unstructured.Schema {
	return &unstructured.Schema{
		Name: d.Name, Description: d.Description, Type: d.Type, Format: d.Format, Nullable: d.Nullable,
		Properties: d.Properties, AdditionalProperties: d.AdditionalProperties, Items: d.Items, Required: d.Required,
		Enum: d.Enum, Pattern: d.Pattern, MinLength: d.MinLength, MaxLength: d.MaxLength, MinItems: d.MinItems,
		MaxItems: d.MaxItems, MinProperties: d.MinProperties, MaxProperties: d.MaxProperties, Minimum: d.Minimum,
		Maximum: d.Maximum, MultipleOf: d.MultipleOf, ExclusiveMinimum: d.ExclusiveMinimum,
		ExclusiveMaximum: d.ExclusiveMaximum, AllOf: d.AllOf, AnyOf: d.AnyOf, OneOf: d.OneOf, Not: d.Not,
		Default: d.Default, IntOrString: d.IntOrString, PreserveUnknownFields: d.PreserveUnknownFields,
		EmbeddedResource: d.EmbeddedResource, Opaque: d.Opaque, ListType: d.ListType, ListMapKeys: d.ListMapKeys,
		MapType: d.MapType, PatchMergeKey: d.PatchMergeKey, PatchStrategy: d.PatchStrategy,
		Validations: d.Validations,
	}
}

func compact(b json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(b)
	}
	return buf.String()
}

// isIntOrString recognises anyOf/oneOf [integer, string].
func isIntOrString(l []*rawSchema) bool {
	if len(l) != 2 {
		return false
	}
	a, b := l[0].Type, l[1].Type
	return (a == "integer" && b == "string") || (a == "string" && b == "integer")
}

// isQuantity recognises the built-in Quantity's oneOf [string, number].
func isQuantity(l []*rawSchema) bool {
	if len(l) != 2 {
		return false
	}
	a, b := l[0].Type, l[1].Type
	return (a == "number" && b == "string") || (a == "string" && b == "number")
}

func (c *compiler) fill(s *unstructured.Schema, r *rawSchema) error {
	s.Description, s.Type, s.Format, s.Nullable = r.Description, r.Type, r.Format, r.Nullable
	s.Required, s.Pattern = r.Required, r.Pattern
	s.MinLength, s.MaxLength, s.MinItems, s.MaxItems = r.MinLength, r.MaxLength, r.MinItems, r.MaxItems
	s.MinProperties, s.MaxProperties = r.MinProperties, r.MaxProperties
	s.Minimum, s.Maximum, s.MultipleOf = r.Minimum, r.Maximum, r.MultipleOf
	s.ExclusiveMinimum, s.ExclusiveMaximum = r.ExclusiveMinimum, r.ExclusiveMaximum
	s.IntOrString, s.PreserveUnknownFields, s.EmbeddedResource = r.IntOrString, r.Preserve, r.Embedded
	s.ListType, s.ListMapKeys, s.MapType = r.ListType, r.ListMapKeys, r.MapType
	s.PatchMergeKey, s.PatchStrategy, s.Validations = r.PatchMergeKey, r.PatchStrategy, r.Validations
	if len(r.Default) > 0 {
		s.Default = compact(r.Default)
	}
	if s.Format == "int-or-string" {
		s.IntOrString = true
	}
	for _, e := range r.Enum {
		s.Enum = append(s.Enum, canonicalJSON(e))
	}
	var err error
	if len(r.Properties) > 0 {
		s.Properties = make(map[string]*unstructured.Schema, len(r.Properties))
		for k, p := range r.Properties {
			if s.Properties[k], err = c.node(p); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
	}
	if s.Items, err = c.node(r.Items); err != nil {
		return fmt.Errorf("items: %w", err)
	}
	if ap := bytes.TrimSpace(r.AdditionalProperties); len(ap) > 0 {
		switch string(ap) {
		case "false":
		case "true":
			s.AdditionalProperties = &unstructured.Schema{}
		default:
			var sub rawSchema
			if err := json.Unmarshal(ap, &sub); err != nil {
				return fmt.Errorf("%w: additionalProperties: %w", ErrBadSchema, err)
			}
			if s.AdditionalProperties, err = c.node(&sub); err != nil {
				return fmt.Errorf("additionalProperties: %w", err)
			}
		}
	}
	switch {
	case isIntOrString(r.AnyOf) || isIntOrString(r.OneOf):
		s.IntOrString = true
	case isQuantity(r.OneOf) || isQuantity(r.AnyOf):
		s.Format = "quantity"
	default:
		if s.AnyOf, err = c.nodes(r.AnyOf); err != nil {
			return err
		}
		if s.OneOf, err = c.nodes(r.OneOf); err != nil {
			return err
		}
	}
	if s.Not, err = c.node(r.Not); err != nil {
		return err
	}
	// allOf: references merge their structure into s; other entries are
	// value validations. A definition that is a bare $ref merges the same way.
	allOf := r.AllOf
	if r.Ref != "" {
		allOf = append([]*rawSchema{{Ref: r.Ref}}, allOf...)
	}
	for _, a := range allOf {
		if a.Ref == "" {
			n, err := c.node(a)
			if err != nil {
				return err
			}
			s.AllOf = append(s.AllOf, n)
			continue
		}
		name, err := refName(a.Ref)
		if err != nil {
			return err
		}
		d, err := c.definition(name)
		if err != nil {
			return err
		}
		if c.state[name] == 1 {
			return fmt.Errorf("%w: %s is part of an allOf cycle", ErrBadSchema, name)
		}
		mergeInto(s, d)
	}
	return nil
}

func (c *compiler) nodes(l []*rawSchema) ([]*unstructured.Schema, error) {
	var out []*unstructured.Schema
	for _, r := range l {
		n, err := c.node(r)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// mergeInto fills s's empty structure from d.
func mergeInto(s, d *unstructured.Schema) {
	if s.Type == "" {
		s.Type = d.Type
	}
	if s.Format == "" {
		s.Format = d.Format
	}
	if s.Description == "" {
		s.Description = d.Description
	}
	if s.Name == "" {
		s.Name = d.Name
	}
	if s.Properties == nil {
		s.Properties = d.Properties
	}
	if s.AdditionalProperties == nil {
		s.AdditionalProperties = d.AdditionalProperties
	}
	if s.Items == nil {
		s.Items = d.Items
	}
	if s.Required == nil {
		s.Required = d.Required
	}
	if s.Enum == nil {
		s.Enum = d.Enum
	}
	s.IntOrString = s.IntOrString || d.IntOrString
	s.PreserveUnknownFields = s.PreserveUnknownFields || d.PreserveUnknownFields
	s.EmbeddedResource = s.EmbeddedResource || d.EmbeddedResource
	s.Opaque = s.Opaque || d.Opaque
	if s.ListType == "" {
		s.ListType, s.ListMapKeys = d.ListType, d.ListMapKeys
	}
	if s.MapType == "" {
		s.MapType = d.MapType
	}
	s.Validations = append(s.Validations[:len(s.Validations):len(s.Validations)], d.Validations...)
}

// canonicalJSON re-encodes a JSON value compactly with sorted keys, the form
// Validate compares enum values in.
func canonicalJSON(b json.RawMessage) string {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return string(b)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return string(b)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// Schema returns the compiled schema of gvk, from its group version's
// OpenAPI v3 document. Documents are compiled lazily, once per content
// hash (the ?hash= URL names immutable content), and kept in memory; a
// CRD's schema is there as soon as the server publishes the CRD's group
// version (the index is revalidated like discovery). The error wraps
// ErrNoSchema when the server publishes no schema for gvk, ErrBadSchema
// when the document cannot be compiled.
func (c *Client) Schema(ctx context.Context, gvk unstructured.GroupVersionKind) (*unstructured.Schema, error) {
	set, err := c.SchemaSet(ctx, gvk.GroupVersion())
	if err != nil {
		return nil, err
	}
	s := set.Kind(gvk)
	if s == nil {
		return nil, fmt.Errorf("discovery: OpenAPI v3 has no schema for %s: %w", gvk, ErrNoSchema)
	}
	return s, nil
}

// SchemaSet returns the compiled schemas of gv's OpenAPI v3 document,
// cached as Schema describes.
func (c *Client) SchemaSet(ctx context.Context, gv unstructured.GroupVersion) (*SchemaSet, error) {
	paths, err := c.openAPIPaths(ctx)
	if err != nil {
		return nil, err
	}
	ref, ok := paths[openAPIKey(gv)]
	if !ok {
		// A CRD installed a moment ago: revalidate the index once.
		c.mu.Lock()
		c.openapiStale = true
		c.mu.Unlock()
		if paths, err = c.openAPIPaths(ctx); err != nil {
			return nil, err
		}
		if ref, ok = paths[openAPIKey(gv)]; !ok {
			return nil, fmt.Errorf("discovery: OpenAPI v3 for %s: the server publishes none: %w", gv, ErrNoSchema)
		}
	}
	if set, ok := c.schemaSets.Get(ref); ok {
		return set, nil
	}
	doc, err := c.openAPIDocument(ctx, gv)
	if err != nil {
		return nil, err
	}
	set, err := CompileOpenAPIV3([]byte(doc))
	if err != nil {
		return nil, fmt.Errorf("discovery: OpenAPI v3 for %s: %w", gv, err)
	}
	if strings.Contains(ref, "hash=") {
		c.schemaSets.Add(ref, set)
	}
	return set, nil
}

// Explain documents the field at path of gvk like kubectl explain (see
// unstructured.Explain), from the schema the server publishes. The error
// wraps ErrNoSchema for a kind without a schema and unstructured.ErrNoField
// for a path that does not exist.
func (c *Client) Explain(ctx context.Context, gvk unstructured.GroupVersionKind, path string, opts *unstructured.ExplainOptions) (string, error) {
	s, err := c.Schema(ctx, gvk)
	if err != nil {
		return "", err
	}
	return unstructured.Explain(s, gvk, path, opts)
}
