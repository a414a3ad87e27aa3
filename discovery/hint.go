package discovery

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kubedyn/kubedyn/unstructured"
)

// maxHints bounds the places a hint lists.
const maxHints = 3

// unknownName builds the error for a name nothing answers to, with a hint:
// where the resource is served when the group or version was wrong, else
// the nearest served name.
func (s *snapshot) unknownName(name, lname string) error {
	e := &UnknownError{Name: name}
	res := strings.TrimSuffix(lname, ".")
	qualified := false
	if before, _, found := strings.Cut(res, "."); found {
		res, qualified = before, true
	}
	switch {
	case res == "":
	case qualified && len(s.match(res, query{})) > 0:
		var where []string
		for _, i := range s.collapse(s.match(res, query{})) {
			where = append(where, s.resources[i].QualifiedName())
		}
		e.Hint = "served as " + quoteList(where)
	default:
		if near := s.nearestName(res); near != "" {
			e.Hint = fmt.Sprintf("did you mean %q?", near)
		}
	}
	return e
}

// unknownKind builds the error for a kind nothing serves in gv, with a hint:
// the kind's right case, the kind of a resource named instead of its kind,
// the apiVersions that serve the kind, or the nearest served kind.
func (s *snapshot) unknownKind(apiVersion string, gv unstructured.GroupVersion, kind string) error {
	e := &UnknownError{APIVersion: apiVersion, Kind: kind}
	e.Hint = s.kindHint(apiVersion, gv, kind)
	return e
}

func (s *snapshot) kindHint(apiVersion string, gv unstructured.GroupVersion, kind string) string {
	lkind := strings.ToLower(kind)
	inGV := func(r *APIResource) bool { return r.Group == gv.Group && r.Version == gv.Version }
	for i := range s.resources {
		if r := &s.resources[i]; inGV(r) && strings.EqualFold(r.Kind, kind) {
			return fmt.Sprintf("did you mean kind %q? Kinds are case-sensitive", r.Kind)
		}
	}
	for _, idx := range [...]map[string][]int{s.names, s.shorts} {
		for _, i := range idx[lkind] {
			if r := &s.resources[i]; inGV(r) {
				return fmt.Sprintf("%q names the resource %s; its kind is %q", kind, r.Resource, r.Kind)
			}
		}
	}
	// The kind is served, in another group or version.
	var where []string
	served, group := "", false
	for _, i := range s.collapse(s.kindNames[lkind]) {
		r := &s.resources[i]
		if served == "" {
			served = r.Kind
		}
		if r.Group == apiVersion && !strings.Contains(apiVersion, "/") {
			group = true
		}
		if v := r.GroupVersionKind().GroupVersion().String(); !slices.Contains(where, v) {
			where = append(where, v)
		}
	}
	if len(where) > 0 {
		if group {
			return fmt.Sprintf("apiVersion %q has no version: %s is served in %s", apiVersion, served, quoteList(where))
		}
		return fmt.Sprintf("%s is served in %s", served, quoteList(where))
	}
	// The nearest kind, in gv first, else anywhere.
	var inVersion, anywhere []string
	for i := range s.resources {
		r := &s.resources[i]
		if r.Kind == "" {
			continue
		}
		if inGV(r) {
			inVersion = append(inVersion, r.Kind)
		}
		anywhere = append(anywhere, r.Kind)
	}
	if near := nearest(kind, inVersion); near != "" {
		return fmt.Sprintf("did you mean kind %q?", near)
	}
	if near := nearest(kind, anywhere); near != "" {
		for i := range s.resources {
			if r := &s.resources[i]; r.Kind == near {
				return fmt.Sprintf("did you mean %s %s?", r.GroupVersionKind().GroupVersion(), near)
			}
		}
	}
	if len(inVersion) == 0 {
		if s.partial != nil && slices.Contains(s.partial.GroupVersions(), gv) {
			return fmt.Sprintf("apiVersion %q could not be discovered", apiVersion)
		}
		return fmt.Sprintf("apiVersion %q is not served", apiVersion)
	}
	return ""
}

// nearestName returns the served plural, singular or short name nearest to
// lname, or "" when none is near.
func (s *snapshot) nearestName(lname string) string {
	var names []string
	for _, idx := range [...]map[string][]int{s.names, s.shorts} {
		for n := range idx {
			names = append(names, n)
		}
	}
	slices.Sort(names) // deterministic among equal distances
	return nearest(lname, names)
}

// nearest returns the candidate closest to word (case-insensitively, by
// edit distance with transpositions), or "" when none is within a distance
// of 2 and of a third of word's length.
func nearest(word string, candidates []string) string {
	lw := strings.ToLower(word)
	best, bestD := "", 0
	limit := min(2, len(lw)/3)
	for _, c := range candidates {
		if len(c) > len(lw)+limit || len(c) < len(lw)-limit {
			continue // too far apart: skip the quadratic work (a hostile 1 MB name)
		}
		d := editDistance(lw, strings.ToLower(c))
		if d <= limit && (best == "" || d < bestD) {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b
// (insertions, deletions, substitutions and adjacent transpositions each
// cost one), over bytes.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// quoteList quotes up to maxHints items and joins them with "or".
func quoteList(items []string) string {
	more := len(items) - maxHints
	if more > 0 {
		items = items[:maxHints]
	}
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = fmt.Sprintf("%q", it)
	}
	out := strings.Join(q, " or ")
	if more > 0 {
		out += fmt.Sprintf(" (and %d more)", more)
	}
	return out
}
