package resource

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kubedyn/kubedyn/transport"
)

// Errors that resource returns before sending a request. They are matched with
// errors.Is; the error returned by a call wraps them with the operation and
// the resource it was about. Errors from the server are *transport.APIError
// values matched against transport's sentinels (transport.ErrNotFound, ...).
var (
	// ErrNamespaceRequired means a namespaced resource was used without a
	// namespace: for Get, Create, Update, Patch, Apply and Delete the handle
	// needs Namespace(ns); for List and Table it needs Namespace(ns) or
	// AllNamespaces(). kubedyn never falls back to the cluster-wide URL.
	ErrNamespaceRequired = errors.New("namespace required for a namespaced resource")
	// ErrClusterScoped means the handle was given a namespace
	// (Namespace(ns)) for a cluster-scoped resource. A metadata.namespace
	// in a cluster-scoped object is not an error: it is dropped, with a
	// warning (see WithWarningHandler).
	ErrClusterScoped = errors.New("resource is cluster-scoped")
	// ErrNamespaceMismatch means the object's metadata.namespace differs from
	// the handle's namespace.
	ErrNamespaceMismatch = errors.New("object namespace differs from the handle's")
	// ErrKindMismatch means the object's apiVersion or kind differs from the
	// resource the handle is bound to.
	ErrKindMismatch = errors.New("object apiVersion/kind differs from the handle's")
	// ErrNameRequired means the call needs a name (an argument, or
	// metadata.name of the object) and none was given.
	ErrNameRequired = errors.New("name required")
	// ErrNoSubresource means discovery does not list the subresource for the
	// resource (for example UpdateStatus on a kind without a status
	// subresource).
	ErrNoSubresource = errors.New("subresource not served")
	// ErrPatchTypeUnsupported means the patch type cannot be used for the
	// resource; strategic merge patch is refused for custom resources (see
	// discovery.IsBuiltinGroup), and unknown patch types are refused.
	ErrPatchTypeUnsupported = errors.New("patch type not supported for this resource")
	// ErrFieldManagerRequired means Apply was called with no field manager in
	// its options and none configured with WithFieldManager.
	ErrFieldManagerRequired = errors.New("field manager required for server-side apply")
	// ErrSubresourceNotAllowed means the call cannot be made on a
	// Subresource handle: List, ListPage, ListAll, Table, Watch and
	// DeleteCollection always (a subresource belongs to one object and has
	// no collection), and any other call whose verb discovery does not list
	// for the subresource (Delete on "status", Get on "eviction"). It is
	// returned before the call's request is sent.
	ErrSubresourceNotAllowed = errors.New("call not allowed on a subresource handle")
	// ErrContinueRepeated means a server answered a list page with a
	// continue token the list had already followed, which would make List
	// and ListAll request the same page forever. The list stops with this
	// error (and, for ListAll, no objects).
	ErrContinueRepeated = errors.New("server repeated a list continue token")
	// ErrInvalidHandle means the Handle is the zero value, not made by a
	// Client.
	ErrInvalidHandle = errors.New("handle not made by a resource.Client")
)

// FieldConflict is one field another manager owns, from a server-side apply
// conflict. It is a plain value, safe to copy and share.
type FieldConflict struct {
	// Manager is the field manager that owns Field, such as "kubectl-edit".
	// It is empty when the server's message names no manager.
	Manager string
	// Field is the conflicting field path as the server reports it, such as
	// ".spec.replicas".
	Field string
	// Message is the server's message for this conflict.
	Message string
}

// ApplyConflictError is returned by Apply (and by Patch with ApplyPatch) when
// the server refuses the apply with 409 Conflict because other field managers
// own some of the fields. It lists each conflicting field and its owner.
// Retry with Force to take the fields over.
//
// errors.Is(err, transport.ErrConflict) holds for it, and errors.As reaches
// the underlying *transport.APIError. It is not modified after it is returned,
// so it may be read from several goroutines.
type ApplyConflictError struct {
	// Conflicts lists each field another manager owns.
	Conflicts []FieldConflict
	// Err is the server's 409 response.
	Err *transport.APIError
}

// Error lists the conflicts.
func (e *ApplyConflictError) Error() string {
	var b strings.Builder
	b.WriteString("apply conflict")
	for i, c := range e.Conflicts {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if c.Manager != "" {
			fmt.Fprintf(&b, "%s owned by %q", c.Field, c.Manager)
		} else {
			b.WriteString(c.Message)
		}
	}
	if len(e.Conflicts) == 0 && e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Message)
	}
	return b.String()
}

// Unwrap returns the server's error.
func (e *ApplyConflictError) Unwrap() error { return e.Err }

// causeFieldManagerConflict is the StatusCause type the API server uses for
// apply conflicts.
const causeFieldManagerConflict = "FieldManagerConflict"

// applyConflict turns a 409 from an apply patch that names field-manager
// conflicts into an *ApplyConflictError. Any other error, a 409 for a stale
// resourceVersion included, is returned as is.
func applyConflict(err error) error {
	var ae *transport.APIError
	if !errors.As(err, &ae) || !errors.Is(err, transport.ErrConflict) || ae.Details == nil {
		return err
	}
	var conflicts []FieldConflict
	for _, c := range ae.Details.Causes {
		if c.Type != causeFieldManagerConflict {
			continue
		}
		conflicts = append(conflicts, FieldConflict{
			Manager: conflictManager(c.Message),
			Field:   c.Field,
			Message: c.Message,
		})
	}
	if len(conflicts) == 0 {
		return err
	}
	return &ApplyConflictError{Conflicts: conflicts, Err: ae}
}

// conflictManager extracts the manager from a cause message such as
// `conflict with "kubectl" using apps/v1: .spec.replicas`.
func conflictManager(msg string) string {
	_, rest, ok := strings.Cut(msg, `conflict with "`)
	if !ok {
		return ""
	}
	manager, _, ok := strings.Cut(rest, `"`)
	if !ok {
		return ""
	}
	return manager
}
