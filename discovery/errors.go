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

// AmbiguousError reports a name that several resources answer to with equal
// standing (see ResourceFor). errors.Is(err, ErrAmbiguousResource) holds.
// It is safe to share between goroutines.
type AmbiguousError struct {
	// Name is the name asked for.
	Name string
	// Candidates are the resources that matched, in discovery order.
	Candidates []APIResource
}

// Error names the candidates as resource.version.group.
func (e *AmbiguousError) Error() string {
	names := make([]string, len(e.Candidates))
	for i, c := range e.Candidates {
		names[i] = c.GroupVersionResource().String()
	}
	return fmt.Sprintf("discovery: %q is ambiguous: it matches %s; qualify it with a group, such as %q",
		e.Name, strings.Join(names, ", "), e.Candidates[0].Resource+"."+e.Candidates[0].Group)
}

// Is reports whether target is ErrAmbiguousResource.
func (e *AmbiguousError) Is(target error) bool { return target == ErrAmbiguousResource }
