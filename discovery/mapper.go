package discovery

import (
	"slices"
	"strings"
	"time"

	"github.com/kubedyn/kubedyn/unstructured"
)

// snapshot is one complete, immutable view of what the server serves, with
// the indexes the lookups need. Snapshots are replaced, never modified, so
// readers share them without locking.
type snapshot struct {
	// seq is the number of the refresh that built this snapshot.
	seq     uint64
	fetched time.Time
	// docGen is Client.docGen when the snapshot was built.
	docGen uint64
	// resources holds every resource of every discovered version, in
	// discovery order: the core group first, then the groups as the server
	// lists them, each group's versions by preference.
	resources []APIResource
	partial   *PartialError
	// names indexes resources by lower-case plural and singular; shorts by
	// short name; kindNames by lower-case kind; kinds by exact group,
	// version and kind.
	names     map[string][]int
	shorts    map[string][]int
	kindNames map[string][]int
	kinds     map[unstructured.GroupVersionKind][]int
}

// buildSnapshot assembles a snapshot from discovered groups. Versions marked
// stale or failed, or with an Err, are left out and must already be listed
// in partial.
func buildSnapshot(seq uint64, fetched time.Time, groups groupVersions, partial *PartialError) *snapshot {
	s := &snapshot{
		seq:       seq,
		fetched:   fetched,
		partial:   partial,
		names:     make(map[string][]int),
		shorts:    make(map[string][]int),
		kindNames: make(map[string][]int),
		kinds:     make(map[unstructured.GroupVersionKind][]int),
	}
	for _, g := range groups {
		preferred := g.Preferred
		if preferred == "" && len(g.Versions) > 0 {
			preferred = g.Versions[0].Version
		}
		for _, v := range g.Versions {
			if v.Stale || v.Err != nil {
				continue
			}
			for _, r := range v.Resources {
				r.Preferred = v.Version == preferred
				i := len(s.resources)
				s.resources = append(s.resources, r)
				addIndex(s.names, strings.ToLower(r.Resource), i)
				if r.SingularName != "" {
					addIndex(s.names, strings.ToLower(r.SingularName), i)
				}
				if r.Kind != "" {
					addIndex(s.kindNames, strings.ToLower(r.Kind), i)
					gvk := r.GroupVersionKind()
					s.kinds[gvk] = append(s.kinds[gvk], i)
				}
				for _, sn := range r.ShortNames {
					addIndex(s.shorts, strings.ToLower(sn), i)
				}
			}
		}
	}
	return s
}

// addIndex appends i to m[key] unless it is already the last entry (a
// resource whose plural and singular are equal is indexed once).
func addIndex(m map[string][]int, key string, i int) {
	l := m[key]
	if len(l) > 0 && l[len(l)-1] == i {
		return
	}
	m[key] = append(l, i)
}

// query restricts a name lookup to a group (exact, or by prefix) and a
// version.
type query struct {
	group   *string // nil: any group
	prefix  string  // when group is nil and prefix is set: groups starting with it
	version string  // "": any version
}

func (q query) accepts(r *APIResource) bool {
	switch {
	case q.group != nil && r.Group != *q.group:
		return false
	case q.group == nil && q.prefix != "" && !strings.HasPrefix(r.Group, q.prefix):
		return false
	}
	return q.version == "" || r.Version == q.version
}

// resourceFor resolves name; see Client.ResourceFor for the rules.
func (s *snapshot) resourceFor(name string) (APIResource, error) {
	lname := strings.ToLower(strings.TrimSpace(name))
	unknown := func() (APIResource, error) { return APIResource{}, s.unknownName(name, lname) }
	if lname == "" || lname[0] == '.' {
		return unknown()
	}
	if rest, ok := strings.CutSuffix(lname, "."); ok {
		// kubectl reads a trailing dot as an empty group, which matches
		// any group: "deployments." is "deployments", and
		// "deployments.v1." is deployments at version v1 in any group.
		res, version, _ := strings.Cut(rest, ".")
		if res == "" || strings.HasSuffix(rest, ".") {
			return unknown()
		}
		if !strings.Contains(version, ".") {
			if r, ok, err := s.pick(name, s.match(res, query{version: version})); ok || err != nil {
				return r, err
			}
			if version == "" {
				return unknown()
			}
		}
		// As in kubectl, "deployments.apps." may still be a group prefix.
	}
	if !strings.Contains(lname, ".") {
		if r, ok, err := s.pick(name, s.match(lname, query{})); ok || err != nil {
			return r, err
		}
		return unknown()
	}
	parts := strings.SplitN(lname, ".", 3)
	if len(parts) == 3 && parts[1] != "" && parts[2] != "" {
		// resource.version.group, such as deployments.v1.apps.
		if r, ok, err := s.pick(name, s.match(parts[0], query{group: &parts[2], version: parts[1]})); ok || err != nil {
			return r, err
		}
	}
	res, group, _ := strings.Cut(lname, ".")
	// resource.group, such as deployments.apps or deploy.apps.
	if r, ok, err := s.pick(name, s.match(res, query{group: &group})); ok || err != nil {
		return r, err
	}
	// resource.version in the core group, such as pods.v1: the form
	// unstructured.GroupVersionResource.String gives the core group.
	if len(parts) == 2 && looksLikeVersion(parts[1]) {
		core := ""
		if r, ok, err := s.pick(name, s.match(res, query{group: &core, version: parts[1]})); ok || err != nil {
			return r, err
		}
	}
	// resource.prefix, such as deployments.ap or hpa.autosc: the groups
	// whose names start with it, as kubectl allows; it must name one group.
	if r, ok, err := s.pickOneGroup(name, s.match(res, query{prefix: group})); ok || err != nil {
		return r, err
	}
	return unknown()
}

// looksLikeVersion reports whether s has the shape of a Kubernetes API
// version: "v" and a digit, such as v1, v2beta1.
func looksLikeVersion(s string) bool {
	return len(s) >= 2 && s[0] == 'v' && s[1] >= '0' && s[1] <= '9'
}

// match returns the indexes of the resources that answer to lname and q in
// the best tier that has any, in kubectl's order: plural and singular names
// first, short names second, kinds last.
func (s *snapshot) match(lname string, q query) []int {
	for _, idx := range [...]map[string][]int{s.names, s.shorts, s.kindNames} {
		var out []int
		for _, i := range idx[lname] {
			if q.accepts(&s.resources[i]) {
				out = append(out, i)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

// collapse keeps one version per group and resource: the preferred one when
// it is among cand, otherwise the first in discovery order (the most
// preferred version that serves it). The order of first appearance is kept.
func (s *snapshot) collapse(cand []int) []int {
	type key struct{ group, resource string }
	pos := make(map[key]int, len(cand))
	var out []int
	for _, i := range cand {
		r := &s.resources[i]
		k := key{r.Group, r.Resource}
		j, seen := pos[k]
		if !seen {
			pos[k] = len(out)
			out = append(out, i)
			continue
		}
		if r.Preferred && !s.resources[out[j]].Preferred {
			out[j] = i
		}
	}
	return out
}

// pick chooses among the candidates of one tier. It reports ok=false when
// there are none, and an *AmbiguousError when several have equal standing.
//
// The rule: after collapsing versions, one candidate wins outright. Among
// several, the core group wins; otherwise the built-in groups
// (IsBuiltinGroup) win over the others, the first of them in discovery
// order (the server's priority order, as kubectl does). Several candidates
// that are all outside the built-in groups, or several in one group, are
// ambiguous.
func (s *snapshot) pick(name string, cand []int) (APIResource, bool, error) {
	cand = s.collapse(cand)
	switch len(cand) {
	case 0:
		return APIResource{}, false, nil
	case 1:
		return s.resources[cand[0]].clone(), true, nil
	}
	groups := make(map[string]int, len(cand))
	for _, i := range cand {
		groups[s.resources[i].Group]++
	}
	if len(groups) == 1 {
		return s.ambiguous(name, cand)
	}
	if n := groups[""]; n > 0 {
		core := filter(cand, func(i int) bool { return s.resources[i].Group == "" })
		if n > 1 {
			return s.ambiguous(name, core)
		}
		return s.resources[core[0]].clone(), true, nil
	}
	builtin := filter(cand, func(i int) bool { return IsBuiltinGroup(s.resources[i].Group) })
	if len(builtin) > 0 {
		first := s.resources[builtin[0]].Group
		same := filter(builtin, func(i int) bool { return s.resources[i].Group == first })
		if len(same) > 1 {
			return s.ambiguous(name, same)
		}
		return s.resources[same[0]].clone(), true, nil
	}
	return s.ambiguous(name, cand)
}

// pickOneGroup is pick for a group given by prefix: candidates in several
// groups are ambiguous whatever the groups, since the prefix was meant to
// name one.
func (s *snapshot) pickOneGroup(name string, cand []int) (APIResource, bool, error) {
	cand = s.collapse(cand)
	for _, i := range cand {
		if s.resources[i].Group != s.resources[cand[0]].Group {
			return s.ambiguous(name, cand)
		}
	}
	return s.pick(name, cand)
}

// ambiguous returns an *AmbiguousError listing the resources at idx.
func (s *snapshot) ambiguous(name string, idx []int) (APIResource, bool, error) {
	return APIResource{}, true, &AmbiguousError{Name: name, Candidates: s.clones(idx)}
}

func filter(in []int, keep func(int) bool) []int {
	var out []int
	for _, i := range in {
		if keep(i) {
			out = append(out, i)
		}
	}
	return out
}

// resourceForKind finds the resource serving exactly gvk. Where several
// resources of one version share the kind, the one whose singular name is
// the lower-case kind wins, otherwise the first listed.
func (s *snapshot) resourceForKind(gvk unstructured.GroupVersionKind) (APIResource, bool) {
	cand := s.kinds[gvk]
	if len(cand) == 0 {
		return APIResource{}, false
	}
	for _, i := range cand {
		if s.resources[i].SingularName == strings.ToLower(gvk.Kind) {
			return s.resources[i].clone(), true
		}
	}
	return s.resources[cand[0]].clone(), true
}

// inCategory returns one version (preferred, else the first served) of each
// resource in category, in discovery order.
func (s *snapshot) inCategory(category string) []APIResource {
	var cand []int
	for i := range s.resources {
		if slices.Contains(s.resources[i].Categories, category) {
			cand = append(cand, i)
		}
	}
	return s.clones(s.collapse(cand))
}

// preferred returns one version (preferred, else the first served) of each
// resource, in discovery order.
func (s *snapshot) preferred() []APIResource {
	cand := make([]int, len(s.resources))
	for i := range cand {
		cand[i] = i
	}
	return s.clones(s.collapse(cand))
}

// all returns a deep copy of every resource.
func (s *snapshot) all() []APIResource {
	out := make([]APIResource, len(s.resources))
	for i := range s.resources {
		out[i] = s.resources[i].clone()
	}
	return out
}

// clones returns deep copies of the resources at the indexes idx, in order.
func (s *snapshot) clones(idx []int) []APIResource {
	out := make([]APIResource, len(idx))
	for j, i := range idx {
		out[j] = s.resources[i].clone()
	}
	return out
}

// clone returns r with its slices copied, so a caller may modify the result
// without touching the cache.
func (r APIResource) clone() APIResource {
	r.Verbs = slices.Clone(r.Verbs)
	r.ShortNames = slices.Clone(r.ShortNames)
	r.Categories = slices.Clone(r.Categories)
	if r.Subresources != nil {
		subs := make([]Subresource, len(r.Subresources))
		for i, sr := range r.Subresources {
			sr.Verbs = slices.Clone(sr.Verbs)
			subs[i] = sr
		}
		r.Subresources = subs
	}
	return r
}
