package discovery

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kubedyn/kubedyn/unstructured"
)

// ErrUnknownResource is matched (errors.Is) by the error a lookup returns
// when no served resource answers to the name or kind asked for, even after
// discovery was refreshed once.
var ErrUnknownResource = errors.New("unknown resource")

// ErrAmbiguousResource is matched (errors.Is) by an *AmbiguousError.
var ErrAmbiguousResource = errors.New("ambiguous resource name")

// ErrStale is wrapped by the failure reported for a group version whose
// aggregated discovery entry has freshness "Stale": the server could not
// reach the API service behind it, so its resources are left out.
var ErrStale = errors.New("discovery information is stale")

// GroupVersionError is the failure to discover one group version.
// It is a plain value, safe to share once built.
type GroupVersionError struct {
	GroupVersion unstructured.GroupVersion // the group version that failed
	Err          error                     // why: a transport error, a decode error, or ErrStale
}

// Error returns "discover apps/v1: <cause>".
func (e *GroupVersionError) Error() string {
	return "discover " + e.GroupVersion.String() + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *GroupVersionError) Unwrap() error { return e.Err }

// PartialError reports that some group versions could not be discovered while
// the others were. Lookups and Resources still answer from what was
// discovered and return this error alongside. Unwrap returns one
// *GroupVersionError per failed group version, so errors.Is and errors.As see
// every cause. A PartialError is never modified after it is returned and is
// safe to share between goroutines.
type PartialError struct {
	// Failed lists the failures in discovery order.
	Failed []*GroupVersionError
}

// GroupVersions returns the group versions that failed, in discovery order.
func (e *PartialError) GroupVersions() []unstructured.GroupVersion {
	out := make([]unstructured.GroupVersion, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f.GroupVersion
	}
	return out
}

// Error lists every failed group version with its cause.
func (e *PartialError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "discovery incomplete: %d group version(s) failed: ", len(e.Failed))
	for i, f := range e.Failed {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.GroupVersion.String())
		b.WriteString(": ")
		b.WriteString(f.Err.Error())
	}
	return b.String()
}

// Unwrap returns each group version's failure.
func (e *PartialError) Unwrap() []error {
	out := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f
	}
	return out
}

// UnknownError reports a name or kind that no served resource answers to,
// even after discovery was refreshed. errors.Is(err, ErrUnknownResource)
// holds. It is a plain value, safe to share between goroutines.
type UnknownError struct {
	// Name is the name ResourceFor was asked for; empty for a kind.
	Name string
	// APIVersion and Kind are what ResourceForKind was asked for; empty
	// for a name.
	APIVersion, Kind string
	// Hint suggests the likely fix, such as `did you mean kind
	// "Deployment"? Kinds are case-sensitive`; empty when none is known.
	Hint string
}

// Error names what was asked for and adds the hint.
func (e *UnknownError) Error() string {
	var msg string
	if e.Kind != "" || e.APIVersion != "" {
		msg = fmt.Sprintf("discovery: no resource serves kind %q in %q", e.Kind, e.APIVersion)
	} else {
		msg = fmt.Sprintf("discovery: no resource named %q is served", e.Name)
	}
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Is reports whether target is ErrUnknownResource.
func (e *UnknownError) Is(target error) bool { return target == ErrUnknownResource }

// AmbiguousError reports a name that several resources answer to with equal
// standing (see ResourceFor). errors.Is(err, ErrAmbiguousResource) holds.
// It is safe to share between goroutines.
type AmbiguousError struct {
	// Name is the name asked for.
	Name string
	// Candidates are the resources that matched with equal standing, in
	// discovery order, one version of each.
	Candidates []APIResource
}

// Error lists every candidate by a name ResourceFor resolves to it alone:
// resource.version.group, or resource.version in the core group.
func (e *AmbiguousError) Error() string {
	names := make([]string, len(e.Candidates))
	for i, c := range e.Candidates {
		names[i] = c.QualifiedName() + " (kind " + c.Kind + ")"
	}
	return fmt.Sprintf("discovery: %q is ambiguous: it matches %s; use one of these names",
		e.Name, strings.Join(names, ", "))
}

// Is reports whether target is ErrAmbiguousResource.
func (e *AmbiguousError) Is(target error) bool { return target == ErrAmbiguousResource }
