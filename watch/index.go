package watch

import (
	"github.com/tidwall/gjson"

	"github.com/kubedyn/kubedyn/unstructured"
)

// IndexFunc returns the values under which an index files obj (none, one or
// several). It is called with the store's lock held, so it must be fast and
// must not call the store. It must be deterministic: the same object gives
// the same values.
type IndexFunc func(obj unstructured.Object) []string

// Names of the indexes DefaultIndexers returns.
const (
	// IndexOwnerUID files an object under the uid of each of its owner
	// references: ByIndex(IndexOwnerUID, owner.UID()) lists what an
	// owner owns.
	IndexOwnerUID = "ownerUID"
	// IndexControllerUID files an object under the uid of its controller
	// owner reference (controller: true), if any.
	IndexControllerUID = "controllerUID"
)

// DefaultIndexers returns the owner indexes (IndexOwnerUID and
// IndexControllerUID). Namespaces need no index (Store.ListNamespace).
func DefaultIndexers() map[string]IndexFunc {
	return map[string]IndexFunc{
		IndexOwnerUID:      OwnerUIDs,
		IndexControllerUID: ControllerUID,
	}
}

// OwnerUIDs is an IndexFunc: the uids of obj's owner references.
func OwnerUIDs(obj unstructured.Object) []string {
	refs := obj.Get("metadata.ownerReferences")
	if !refs.IsArray() {
		return nil
	}
	var out []string
	refs.ForEach(func(_, ref gjson.Result) bool {
		if uid := ref.Get("uid").String(); uid != "" {
			out = append(out, uid)
		}
		return true
	})
	return out
}

// ControllerUID is an IndexFunc: the uid of obj's controller owner
// reference, if it has one.
func ControllerUID(obj unstructured.Object) []string {
	var out []string
	obj.Get("metadata.ownerReferences").ForEach(func(_, ref gjson.Result) bool {
		if ref.Get("controller").Bool() {
			if uid := ref.Get("uid").String(); uid != "" {
				out = append(out, uid)
			}
			return false
		}
		return true
	})
	return out
}

// LabelIndex returns an IndexFunc that files an object under the value of
// its label key (objects without the label are not indexed):
// LabelIndex("app") puts an object labelled app=web under "web".
func LabelIndex(key string) IndexFunc {
	path := unstructured.Path("metadata", "labels", key)
	return func(obj unstructured.Object) []string {
		v := obj.Get(path)
		if v.Type != gjson.String {
			return nil
		}
		return []string{v.Str}
	}
}

// FieldIndex returns an IndexFunc that files an object under the string
// form of the value at a gjson path (built with unstructured.Path for keys
// with dots), or under each element's when the value is an array: for
// example FieldIndex(unstructured.Path("spec", "nodeName")).
func FieldIndex(path string) IndexFunc {
	return func(obj unstructured.Object) []string {
		v := obj.Get(path)
		switch {
		case !v.Exists() || v.Type == gjson.Null:
			return nil
		case v.IsArray():
			var out []string
			v.ForEach(func(_, e gjson.Result) bool {
				out = append(out, e.String())
				return true
			})
			return out
		}
		return []string{v.String()}
	}
}
