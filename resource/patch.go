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
	// client side for groups that are not built in (see
	// discovery.IsBuiltinGroup).
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
