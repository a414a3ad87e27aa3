package unstructured

import (
	"regexp"
	"sync"
)

// Schema is a compact structural model of one node of an OpenAPI v3 schema,
// with every $ref and allOf reference resolved: discovery builds it from the
// server's OpenAPI v3 documents (discovery.Client.Schema), and Validate,
// Default and Explain walk it. Nodes are shared: a named definition used in
// many places is one *Schema, and a recursive definition (a CRD's
// JSONSchemaProps) is a cycle of pointers, so walk a Schema guided by data or
// with a visited set.
//
// A Schema is read-only once built; it is safe for concurrent use by any
// number of goroutines.
type Schema struct {
	// Name is the definition's name in components.schemas
	// ("io.k8s.api.core.v1.Container") for a named definition, else "".
	Name string
	// Description is the field's documentation.
	Description string
	// Type is "object", "array", "string", "integer", "number", "boolean",
	// or "" when any JSON type is allowed.
	Type string
	// Format refines Type: "int32", "int64", "double", "date-time", "byte",
	// "duration", "int-or-string", "quantity" and so on.
	Format string
	// Nullable allows null in place of a value.
	Nullable bool

	// Properties are the declared fields of an object.
	Properties map[string]*Schema
	// AdditionalProperties is the schema of the values of an object used as
	// a map (keys not in Properties); nil when only declared fields are
	// allowed.
	AdditionalProperties *Schema
	// Items is the schema of an array's elements.
	Items *Schema
	// Required lists the fields an object must have.
	Required []string

	// Enum lists the allowed values as JSON text (`"TCP"`, `1`).
	Enum []string
	// Pattern is a regular expression (RE2 syntax) strings must match.
	Pattern string
	// MinLength and MaxLength limit a string's length; nil when absent.
	MinLength, MaxLength *int64
	// MinItems and MaxItems limit an array's length; nil when absent.
	MinItems, MaxItems *int64
	// MinProperties and MaxProperties limit an object's field count.
	MinProperties, MaxProperties *int64
	// Minimum, Maximum and MultipleOf limit a number; nil when absent.
	Minimum, Maximum, MultipleOf *float64
	// ExclusiveMinimum and ExclusiveMaximum make Minimum and Maximum strict.
	ExclusiveMinimum, ExclusiveMaximum bool
	// AllOf, AnyOf, OneOf and Not are value validations a CRD schema may
	// carry beside its structure (they add no fields).
	AllOf, AnyOf, OneOf []*Schema
	// Not is a schema the value must not match.
	Not *Schema
	// Default is the default value as JSON text, "" when none.
	Default string

	// IntOrString (x-kubernetes-int-or-string) accepts an integer or a
	// string.
	IntOrString bool
	// PreserveUnknownFields (x-kubernetes-preserve-unknown-fields) keeps
	// fields the schema does not declare.
	PreserveUnknownFields bool
	// EmbeddedResource (x-kubernetes-embedded-resource) marks an object that
	// is itself a Kubernetes object: apiVersion, kind and metadata are
	// implied.
	EmbeddedResource bool
	// Opaque marks a named built-in definition that declares no fields, such
	// as RawExtension or FieldsV1: the server stores whatever it holds.
	Opaque bool
	// ListType (x-kubernetes-list-type) is "atomic", "set" or "map".
	ListType string
	// ListMapKeys (x-kubernetes-list-map-keys) are the fields that identify
	// an element of a list of type map.
	ListMapKeys []string
	// MapType (x-kubernetes-map-type) is "atomic" or "granular".
	MapType string
	// PatchMergeKey and PatchStrategy are the strategic merge patch hints.
	PatchMergeKey, PatchStrategy string
	// Validations are the CEL rules (x-kubernetes-validations).
	Validations []ValidationRule
	// GroupVersionKinds lists the kinds this definition is the schema of
	// (x-kubernetes-group-version-kind), on a kind's top-level schema only.
	GroupVersionKinds []GroupVersionKind
	// Custom marks a kind's top-level schema published for a
	// CustomResourceDefinition: the server prunes, defaults and validates
	// custom resources by this schema itself, whereas built-in kinds are
	// decoded into Go types and validated by Go code the schema only
	// describes. Validate reports wrong JSON types of built-in kinds at the
	// decoding stage, as the server does, and applies defaults before it
	// checks a custom resource.
	Custom bool

	re     *regexp.Regexp
	reErr  error
	reOnce sync.Once
}

// ValidationRule is one x-kubernetes-validations entry: a CEL expression
// evaluated with self bound to the value at the schema's node.
type ValidationRule struct {
	// Rule is the CEL expression; it must evaluate to true.
	Rule string `json:"rule"`
	// Message is reported when the rule fails; MessageExpression, a CEL
	// expression giving a string, is preferred when set.
	Message string `json:"message,omitempty"`
	// MessageExpression computes the message.
	MessageExpression string `json:"messageExpression,omitempty"`
	// Reason is the cause reason reported (FieldValueInvalid by default).
	Reason string `json:"reason,omitempty"`
	// FieldPath (".spec.x") names the field the error is reported on,
	// relative to the rule's node.
	FieldPath string `json:"fieldPath,omitempty"`
	// OptionalOldSelf makes a transition rule run on create too.
	OptionalOldSelf bool `json:"optionalOldSelf,omitempty"`
}

// pattern compiles Pattern once.
func (s *Schema) pattern() (*regexp.Regexp, error) {
	s.reOnce.Do(func() { s.re, s.reErr = regexp.Compile(s.Pattern) })
	return s.re, s.reErr
}

// Property returns the schema of the field name of an object: a declared
// property, else the AdditionalProperties schema, else nil.
func (s *Schema) Property(name string) *Schema {
	if s == nil {
		return nil
	}
	if p, ok := s.Properties[name]; ok {
		return p
	}
	return s.AdditionalProperties
}

// allowsAnyField reports whether an object under s keeps fields the schema
// does not declare.
func (s *Schema) allowsAnyField() bool {
	return s.PreserveUnknownFields || s.Opaque || (s.Type == "" && len(s.Properties) == 0 && !s.IntOrString)
}

// embeddedProperties are the fields an embedded resource implies.
var embeddedProperties = map[string]*Schema{
	"apiVersion": {Type: "string"},
	"kind":       {Type: "string"},
	"metadata":   {Type: "object", Opaque: true},
}
