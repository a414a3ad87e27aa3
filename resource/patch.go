package resource

// PatchType names a patch format; it is sent as the request's Content-Type.
// It is a plain string value, safe to share.
type PatchType string

// The patch types the API server accepts.
const (
	// JSONPatch is an RFC 6902 list of operations.
	JSONPatch PatchType = "application/json-patch+json"
	// MergePatch is an RFC 7386 JSON merge patch: lists are replaced whole.
	MergePatch PatchType = "application/merge-patch+json"
	// StrategicMergePatch merges lists by key using the built-in types'
	// patch strategies. Custom resources do not support it: Patch refuses it
	// client side for groups that are not built in (see IsBuiltinGroup).
	StrategicMergePatch PatchType = "application/strategic-merge-patch+json"
	// ApplyPatch is a server-side apply configuration (JSON is valid YAML).
	// It needs a field manager; Apply is the convenient form.
	ApplyPatch PatchType = "application/apply-patch+yaml"
)

// valid reports whether p is one of the known patch types.
func (p PatchType) valid() bool {
	switch p {
	case JSONPatch, MergePatch, StrategicMergePatch, ApplyPatch:
		return true
	}
	return false
}

// builtinGroups are the API groups kube-apiserver serves from compiled-in Go
// types, which carry the patch strategies strategic merge patch needs.
var builtinGroups = map[string]bool{
	"":                             true, // core
	"admissionregistration.k8s.io": true,
	"apiextensions.k8s.io":         true,
	"apiregistration.k8s.io":       true,
	"apps":                         true,
	"authentication.k8s.io":        true,
	"authorization.k8s.io":         true,
	"autoscaling":                  true,
	"batch":                        true,
	"certificates.k8s.io":          true,
	"coordination.k8s.io":          true,
	"discovery.k8s.io":             true,
	"events.k8s.io":                true,
	"extensions":                   true,
	"flowcontrol.apiserver.k8s.io": true,
	"internal.apiserver.k8s.io":    true,
	"networking.k8s.io":            true,
	"node.k8s.io":                  true,
	"policy":                       true,
	"rbac.authorization.k8s.io":    true,
	"resource.k8s.io":              true,
	"scheduling.k8s.io":            true,
	"storage.k8s.io":               true,
	"storagemigration.k8s.io":      true,
}

// IsBuiltinGroup reports whether group is one kube-apiserver serves from
// compiled-in types (the core group "", apps, batch, networking.k8s.io, ...).
// Other groups are treated as custom resources, for which strategic merge
// patch is refused client side: the server would answer 415 Unsupported Media
// Type. Discovery cannot tell a CRD from a built-in type, so this is a fixed
// list; a group that is new in a later Kubernetes release and missing here
// can still be patched with MergePatch, JSONPatch or ApplyPatch.
func IsBuiltinGroup(group string) bool { return builtinGroups[group] }
