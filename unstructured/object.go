package unstructured

import "github.com/tidwall/gjson"

// CONTRACT STUB: the unstructured helper replaces this file with the real
// implementation, keeping these signatures (adding more is fine).

// Object is one Kubernetes object held as immutable, validated JSON text.
// Objects are safe for concurrent use and may be shared without copying.
type Object struct{ raw string }

// Parse validates data as one JSON object and returns a copy of it as an Object.
func Parse(data []byte) (Object, error) { panic("stub") }

// ParseString is Parse for a string (no copy is made).
func ParseString(s string) (Object, error) { panic("stub") }

// String returns the object's JSON text.
func (o Object) String() string { return o.raw }

// Bytes returns a copy of the object's JSON text.
func (o Object) Bytes() []byte { return []byte(o.raw) }

// IsZero reports whether o holds no object.
func (o Object) IsZero() bool { return o.raw == "" }

// Get reads the value at a gjson path. It allocates nothing for scalar reads.
func (o Object) Get(path string) gjson.Result { return gjson.Get(o.raw, path) }

// Set returns a copy of o with value written at path.
func (o Object) Set(path string, value any) (Object, error) { panic("stub") }

// SetRaw returns a copy of o with the raw JSON value written at path.
func (o Object) SetRaw(path, rawJSON string) (Object, error) { panic("stub") }

// Delete returns a copy of o without the value at path.
func (o Object) Delete(path string) (Object, error) { panic("stub") }

// Path joins segments into a path whose every segment is taken literally.
func Path(segments ...string) string { panic("stub") }

// APIVersion returns the apiVersion field.
func (o Object) APIVersion() string { return o.Get("apiVersion").String() }

// Kind returns the kind field.
func (o Object) Kind() string { return o.Get("kind").String() }

// GroupVersionKind returns the object's apiVersion and kind parsed.
func (o Object) GroupVersionKind() (GroupVersionKind, error) { panic("stub") }

// Name returns metadata.name.
func (o Object) Name() string { return o.Get("metadata.name").String() }

// Namespace returns metadata.namespace.
func (o Object) Namespace() string { return o.Get("metadata.namespace").String() }

// ResourceVersion returns metadata.resourceVersion.
func (o Object) ResourceVersion() string { return o.Get("metadata.resourceVersion").String() }

// List is a decoded list response.
type List struct{ raw string }

// ParseList validates data as a list and finds its items in one pass. It
// copies data.
func ParseList(data []byte) (List, error) { panic("stub") }

// ParseListNoCopy is ParseList taking ownership of data: the caller must not
// modify data afterwards.
func ParseListNoCopy(data []byte) (List, error) { panic("stub") }

// Items returns the list's items, sharing the list's memory.
func (l List) Items() []Object { panic("stub") }

// Continue returns metadata.continue.
func (l List) Continue() string { panic("stub") }

// ResourceVersion returns metadata.resourceVersion.
func (l List) ResourceVersion() string { panic("stub") }

// Decode decodes JSON or multi-document YAML manifests into objects.
func Decode(data []byte) ([]Object, error) { panic("stub") }
