// Package unstructured holds Kubernetes objects of any kind as raw JSON,
// read lazily with gjson and written with sjson, without generated types and
// without building maps.
//
// # Objects
//
// An Object is one validated JSON object held as an immutable string. Parse
// and ParseString validate once (well-formed JSON, a single object at the
// top, at most MaxDepth levels, at most MaxObjectBytes, no duplicate key in
// any object); after that every read is a gjson path on the text:
//
//	o, err := unstructured.Parse(body)
//	image := o.Get("spec.containers.0.image").String()
//
// Reading a scalar allocates nothing. Writes return a new Object and leave
// the old one untouched, so Objects can be shared between goroutines,
// caches and watchers without copying or locking:
//
//	o2, err := o.Set("metadata.labels.tier", "web")
//
// Many writes are cheaper through a Builder, which validates once at the end
// and collects every error instead of stopping at the first.
//
// # Paths
//
// Paths are gjson paths. Keys with dots, slashes, wildcards or other
// punctuation must be escaped; never concatenate user strings into a path,
// build it with Path, which escapes every segment:
//
//	o.Get(unstructured.Path("metadata", "annotations", "kubernetes.io/change-cause"))
//
// Path marks an all-digit key with a ':' prefix (sjson's object-key marker),
// so Set creates {"8080": ...} rather than an array; Object.Get removes the
// marker before asking gjson. Set, SetRaw and Delete refuse paths that sjson
// cannot write faithfully (empty segments, wildcards, queries, modifiers,
// pipes) with ErrInvalidPath.
//
// # Numbers and strings
//
// Numbers are never passed through float64 by this package: JSON keeps its
// digits, Set writes int64 and uint64 values exactly, and YAML integers keep
// every digit. Read large integers with Get(...).Int or Raw, not Float.
//
// Invalid UTF-8 inside JSON strings is kept byte for byte when objects are
// parsed and passed on (the API server decides what to do with it). Get
// returns gjson's Result with the bytes as they are; the typed accessors
// (Name, Labels, OwnerReferences...) return valid UTF-8, replacing each
// invalid sequence with U+FFFD as encoding/json does; Set encodes Go strings
// with the same replacement, and Path applies it to keys, so a key set
// through Path reads back through the same Path. ValidateJSON applies Parse's
// checks to a body that is then read some other way (discovery does so for
// every document the server sends).
//
// # Lists
//
// ParseList validates a list response and finds its items in the same pass;
// Items are sub-strings of the list, so nothing is copied. ParseListNoCopy
// also skips the copy of the input buffer, taking ownership of it. An item
// keeps its whole list in memory: Clone the items a cache keeps. The item
// index costs four bytes an item, so even a page of "{}" items holds little
// more than its own size, and four bytes more for each top-level key, so
// that Get on an item goes straight to the value of the path's first key
// (reading data after a large metadata costs what reading metadata does).
// Item and All allocate nothing, Items allocates a slice of 24 bytes an
// item.
//
// # Manifests
//
// Decode reads JSON objects (one, or several concatenated as a loop over
// `kubectl get -o json` writes them) or multi-document YAML (documents
// separated by "---"), expands List and *List kinds into their items (a
// List with null items yields nothing), and returns compact JSON objects in
// the document's key order. DecodeManifest does the same and returns each
// object with its Source (the name given in DecodeOptions, the document,
// the line it starts on, its position in a List), so later errors can say
// "deploy.yaml:3:14". YAML scalars follow YAML 1.2 (go.yaml.in/yaml/v3):
// "yes" and "on" stay strings, unlike kubectl's YAML 1.1 reading; integers
// keep every digit. Errors name the document and the line it starts on.
// Input is capped (MaxObjectBytes, MaxDepth, DefaultMaxDocuments non-empty
// documents); empty documents cost no parser; YAML alias expansion is
// counted before it happens (MaxYAMLExpansion), so "billion laughs"
// documents fail at once.
//
// # Values
//
// Kubernetes value types are read from gjson results, as the API server
// reads them:
//
//	q, err := unstructured.QuantityOf(o.Get("spec.containers.0.resources.limits.memory"))
//	q.Cmp(unstructured.MustParseQuantity("1Gi"))
//
// Quantity parses, compares, adds and formats resource quantities exactly
// as the server does: "2000m" is written back as "2", "1.5Gi" as "1536Mi",
// and values of a core/v1 ResourceList (requests, limits, quotas) are also
// rounded up to milli, which RoundUp(-3) reproduces. IntOrString reads
// int-or-string fields and scales percentages as the controllers do
// (ResolveFenceposts for a Deployment's rolling update); DurationOf,
// TimeOf and MicroTimeOf read metav1.Duration, Time and MicroTime, and
// FormatDuration, FormatTime and FormatMicroTime write them as the server
// does.
//
// # Errors
//
// Parse errors are *SyntaxError values carrying the byte offset; Decode
// errors are *DecodeError values carrying the document and line. Both wrap
// a sentinel (ErrMalformed, ErrDuplicateKey, ErrTooDeep, ErrTooLarge,
// ErrNotObject) for errors.Is; writes fail with ErrInvalidPath or
// ErrInvalidValue, and so do values that are not of their Kubernetes type.
package unstructured
