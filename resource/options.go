package resource

import (
	"encoding/json"
	"net/url"
	"strconv"
)

// DefaultPageSize is the size of the first page of List and ListAll when
// ListOptions.Limit is 0, and the least any later page asks for.
const DefaultPageSize = 500

// Values for the FieldValidation option fields: how the server treats unknown
// or duplicate fields in a write.
const (
	FieldValidationStrict = "Strict" // refuse the write
	FieldValidationWarn   = "Warn"   // accept it and send a Warning header
	FieldValidationIgnore = "Ignore" // accept it silently
)

// Values for DeleteOptions.PropagationPolicy.
const (
	PropagationOrphan     = "Orphan"
	PropagationBackground = "Background"
	PropagationForeground = "Foreground"
)

// Values for ListOptions.ResourceVersionMatch.
const (
	ResourceVersionMatchExact        = "Exact"
	ResourceVersionMatchNotOlderThan = "NotOlderThan"
)

// GetOptions are the query parameters of a Get. Nil means the server's
// defaults. Calls only read options, so one value may be shared by
// concurrent calls.
type GetOptions struct {
	// ResourceVersion: "" reads the latest, "0" allows any cached version.
	ResourceVersion string
}

// ListOptions are the query parameters of List, ListPage, ListAll, Table and
// DeleteCollection. Nil means defaults. Calls only read options (List copies
// them when called), so one value may be shared by concurrent calls.
type ListOptions struct {
	// LabelSelector filters by labels, such as "app=web,tier!=db".
	LabelSelector string
	// FieldSelector filters by fields, such as "status.phase=Running".
	FieldSelector string
	// Limit is the page size. For List and ListAll 0 means DefaultPageSize
	// for the first page and then pages sized to a byte budget
	// (ListPageBytes, ListAllPageBytes), and a negative value asks for
	// everything in one response; for ListPage and Table 0 or negative
	// sends no limit.
	Limit int64
	// Continue is the token from a previous page's metadata.continue. List
	// and ListAll start from it and follow the following tokens themselves.
	Continue string
	// ResourceVersion chooses which state is listed: "" the latest, "0"
	// any cached state, otherwise as ResourceVersionMatch says. It is sent
	// with the first page only: the server ties continued pages to the
	// first page's snapshot.
	ResourceVersion string
	// ResourceVersionMatch is ResourceVersionMatchExact,
	// ResourceVersionMatchNotOlderThan or empty; it needs a ResourceVersion
	// and, like it, goes with the first page only.
	ResourceVersionMatch string
	// TimeoutSeconds bounds the server's work on the request; 0 sends none.
	TimeoutSeconds int64
}

// IncludeObjectPolicy says what each row of a Table carries in its object
// field. It is a plain string value, safe to share.
type IncludeObjectPolicy string

// The includeObject values the server accepts.
const (
	// IncludeNone leaves rows without an object.
	IncludeNone IncludeObjectPolicy = "None"
	// IncludeMetadata, the server's default, gives each row the object's
	// metadata only, as a PartialObjectMetadata.
	IncludeMetadata IncludeObjectPolicy = "Metadata"
	// IncludeObject gives each row the whole object.
	IncludeObject IncludeObjectPolicy = "Object"
)

// TableOptions are the query parameters of Table: those of a list and
// includeObject. Nil means defaults. Calls only read options, so one value
// may be shared by concurrent calls.
type TableOptions struct {
	ListOptions
	// IncludeObject chooses what rows[].object holds: empty or
	// IncludeMetadata for a PartialObjectMetadata (the server's default),
	// IncludeObject for the whole object, IncludeNone for nothing.
	IncludeObject IncludeObjectPolicy
}

// CreateOptions are the query parameters of Create. Nil means defaults.
// Calls only read options, so one value may be shared by concurrent calls.
type CreateOptions struct {
	// DryRun asks the server to validate and admit the write without
	// persisting it (dryRun=All).
	DryRun bool
	// FieldManager names the writer; empty means the client's
	// WithFieldManager, or the server's default.
	FieldManager string
	// FieldValidation is FieldValidationStrict, FieldValidationWarn,
	// FieldValidationIgnore, or empty for the server's default.
	FieldValidation string
	// Validation is the client-side validation mode of this call;
	// ValidationDefault means the client's (WithValidation).
	Validation ValidationMode
}

// UpdateOptions are the query parameters of Update and UpdateStatus. Nil means
// defaults. The fields mean what they mean in CreateOptions. Calls only read
// options, so one value may be shared by concurrent calls.
type UpdateOptions struct {
	// DryRun validates without persisting (dryRun=All).
	DryRun bool
	// FieldManager names the writer; empty means the client's.
	FieldManager string
	// FieldValidation is as in CreateOptions.
	FieldValidation string
	// Validation is the client-side validation mode of this call;
	// ValidationDefault means the client's (WithValidation).
	Validation ValidationMode
}

// PatchOptions are the query parameters of Patch. Nil means defaults. Calls
// only read options, so one value may be shared by concurrent calls.
type PatchOptions struct {
	// DryRun validates without persisting (dryRun=All).
	DryRun bool
	// FieldManager names the writer; empty means the client's. ApplyPatch
	// needs one.
	FieldManager string
	// FieldValidation is as in CreateOptions.
	FieldValidation string
	// Force, for ApplyPatch only, takes over fields other managers own
	// instead of failing with an *ApplyConflictError (as ApplyOptions.Force).
	// A subresource is patched through Handle.Subresource.
	Force bool
	// Validation is the client-side validation mode of this call;
	// ValidationDefault means the client's (WithValidation).
	Validation ValidationMode
}

// ApplyOptions are the options of Apply (server-side apply). Nil means
// defaults, which then need a client field manager (WithFieldManager). Calls
// only read options, so one value may be shared by concurrent calls.
type ApplyOptions struct {
	// FieldManager names the applier. Required, unless the client has one
	// from WithFieldManager.
	FieldManager string
	// Force takes over fields other managers own instead of failing with an
	// *ApplyConflictError.
	Force bool
	// DryRun applies without persisting (dryRun=All).
	DryRun bool
	// FieldValidation is as in CreateOptions.
	FieldValidation string
	// KeepResourceVersion sends the object's metadata.resourceVersion, making
	// the apply fail with a conflict if the object changed since it was read.
	// By default Apply strips it along with the other server-owned fields.
	KeepResourceVersion bool
	// Validation is the client-side validation mode of this call;
	// ValidationDefault means the client's (WithValidation).
	Validation ValidationMode
}

// Preconditions make a delete conditional on the object's current state. It
// is a plain value, read and never modified by calls.
type Preconditions struct {
	// UID, when set, must be the object's metadata.uid.
	UID string `json:"uid,omitempty"`
	// ResourceVersion, when set, must be the object's
	// metadata.resourceVersion.
	ResourceVersion string `json:"resourceVersion,omitempty"`
}

// DeleteOptions are the options of Delete and DeleteCollection. Nil means
// defaults. They travel as a v1 DeleteOptions body, the only form that carries
// preconditions; DryRun is also put in the query. Calls only read options, so
// one value may be shared by concurrent calls.
type DeleteOptions struct {
	// PropagationPolicy is PropagationOrphan, PropagationBackground,
	// PropagationForeground, or empty for the resource's default.
	PropagationPolicy string
	// GracePeriodSeconds overrides the object's grace period; 0 deletes
	// immediately. Nil leaves the default.
	GracePeriodSeconds *int64
	// Preconditions, when set, make the delete fail with a conflict unless
	// the object still has this UID and/or resourceVersion.
	Preconditions *Preconditions
	// DryRun deletes nothing but reports what would happen (dryRun=All).
	DryRun bool
}

const dryRunAll = "All"

func (o *GetOptions) query() url.Values {
	q := url.Values{}
	if o != nil && o.ResourceVersion != "" {
		q.Set("resourceVersion", o.ResourceVersion)
	}
	return q
}

// query encodes o for one list request. cont is the continue token to send;
// defLimit is the page size used when o.Limit is 0 (0 for none).
func (o *ListOptions) query(cont string, defLimit int64) url.Values {
	var v ListOptions
	if o != nil {
		v = *o
	}
	q := url.Values{}
	if v.LabelSelector != "" {
		q.Set("labelSelector", v.LabelSelector)
	}
	if v.FieldSelector != "" {
		q.Set("fieldSelector", v.FieldSelector)
	}
	limit := v.Limit
	if limit == 0 {
		limit = defLimit
	}
	if limit > 0 {
		q.Set("limit", strconv.FormatInt(limit, 10))
	}
	if cont != "" {
		q.Set("continue", cont)
	} else {
		if v.ResourceVersion != "" {
			q.Set("resourceVersion", v.ResourceVersion)
		}
		if v.ResourceVersionMatch != "" {
			q.Set("resourceVersionMatch", v.ResourceVersionMatch)
		}
	}
	if v.TimeoutSeconds > 0 {
		q.Set("timeoutSeconds", strconv.FormatInt(v.TimeoutSeconds, 10))
	}
	return q
}

// writeQuery encodes the parameters every write shares.
func writeQuery(dryRun bool, fieldManager, defaultManager, fieldValidation string) url.Values {
	q := url.Values{}
	if dryRun {
		q.Set("dryRun", dryRunAll)
	}
	if fieldManager == "" {
		fieldManager = defaultManager
	}
	if fieldManager != "" {
		q.Set("fieldManager", fieldManager)
	}
	if fieldValidation != "" {
		q.Set("fieldValidation", fieldValidation)
	}
	return q
}

func (o *CreateOptions) query(defaultManager string) url.Values {
	if o == nil {
		return writeQuery(false, "", defaultManager, "")
	}
	return writeQuery(o.DryRun, o.FieldManager, defaultManager, o.FieldValidation)
}

func (o *UpdateOptions) query(defaultManager string) url.Values {
	if o == nil {
		return writeQuery(false, "", defaultManager, "")
	}
	return writeQuery(o.DryRun, o.FieldManager, defaultManager, o.FieldValidation)
}

func (o *PatchOptions) query(defaultManager string) url.Values {
	if o == nil {
		return writeQuery(false, "", defaultManager, "")
	}
	q := writeQuery(o.DryRun, o.FieldManager, defaultManager, o.FieldValidation)
	if o.Force {
		q.Set("force", "true")
	}
	return q
}

func (o *ApplyOptions) query(defaultManager string) url.Values {
	if o == nil {
		return writeQuery(false, "", defaultManager, "")
	}
	q := writeQuery(o.DryRun, o.FieldManager, defaultManager, o.FieldValidation)
	if o.Force {
		q.Set("force", "true")
	}
	return q
}

// deleteBody is the wire form of meta/v1 DeleteOptions.
type deleteBody struct {
	Kind               string         `json:"kind"`
	APIVersion         string         `json:"apiVersion"`
	GracePeriodSeconds *int64         `json:"gracePeriodSeconds,omitempty"`
	Preconditions      *Preconditions `json:"preconditions,omitempty"`
	PropagationPolicy  string         `json:"propagationPolicy,omitempty"`
	DryRun             []string       `json:"dryRun,omitempty"`
}

// request encodes o as a DeleteOptions body, or nil when o asks for nothing.
// The dry-run flag also goes into the query, where the server and proxies
// that log requests can see it.
func (o *DeleteOptions) request() (url.Values, []byte, error) {
	q := url.Values{}
	if o == nil {
		return q, nil, nil
	}
	b := deleteBody{
		Kind:               "DeleteOptions",
		APIVersion:         "v1",
		GracePeriodSeconds: o.GracePeriodSeconds,
		PropagationPolicy:  o.PropagationPolicy,
	}
	if o.Preconditions != nil && (o.Preconditions.UID != "" || o.Preconditions.ResourceVersion != "") {
		p := *o.Preconditions
		b.Preconditions = &p
	}
	if o.DryRun {
		b.DryRun = []string{dryRunAll}
		q.Set("dryRun", dryRunAll)
	}
	if b.GracePeriodSeconds == nil && b.Preconditions == nil && b.PropagationPolicy == "" && b.DryRun == nil {
		return q, nil, nil
	}
	body, err := json.Marshal(b)
	return q, body, err
}
