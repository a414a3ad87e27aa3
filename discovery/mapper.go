package discovery

import (
	"fmt"
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
	// names indexes resources by lower-case plural, singular and kind;
	// shorts by short name; kinds by exact group, version and kind.
	names  map[string][]int
	shorts map[string][]int
	kinds  map[unstructured.GroupVersionKind][]int
}

// buildSnapshot assembles a snapshot from discovered groups. Versions marked
// stale or failed, or with an Err, are left out and must already be listed
// in partial.
func buildSnapshot(seq uint64, fetched time.Time, groups groupVersions, partial *PartialError) *snapshot {
	s := &snapshot{
		seq:     seq,
		fetched: fetched,
		partial: partial,
		names:   make(map[string][]int),
		shorts:  make(map[string][]int),
		kinds:   make(map[unstructured.GroupVersionKind][]int),
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
					addIndex(s.names, strings.ToLower(r.Kind), i)
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

// resourceFor resolves name; see Client.ResourceFor for the rules.
func (s *snapshot) resourceFor(name string) (APIResource, error) {
	lname := strings.ToLower(strings.TrimSpace(name))
	if lname == "" {
		return APIResource{}, unknownName(name)
	}
	if !strings.Contains(lname, ".") {
		if r, ok, err := s.pick(name, s.match(lname, nil, "")); ok || err != nil {
			return r, err
		}
		return APIResource{}, unknownName(name)
	}
	parts := strings.SplitN(lname, ".", 3)
	if len(parts) == 3 && parts[0] != "" {
		// resource.version.group, such as deployments.v1.apps.
		group := parts[2]
		if r, ok, err := s.pick(name, s.match(parts[0], &group, parts[1])); ok || err != nil {
			return r, err
		}
	}
	res, group, _ := strings.Cut(lname, ".")
	if res != "" && group != "" {
		// resource.group, such as deployments.apps or deploy.apps.
		if r, ok, err := s.pick(name, s.match(res, &group, "")); ok || err != nil {
			return r, err
		}
		// resource.version in the core group, such as pods.v1: the form
		// unstructured.GroupVersionResource.String gives the core group.
		if len(parts) == 2 && looksLikeVersion(parts[1]) {
			core := ""
			if r, ok, err := s.pick(name, s.match(res, &core, parts[1])); ok || err != nil {
				return r, err
			}
		}
	}
	return APIResource{}, unknownName(name)
}

func unknownName(name string) error {
	return fmt.Errorf("discovery: no resource named %q is served: %w", name, ErrUnknownResource)
}

// looksLikeVersion reports whether s has the shape of a Kubernetes API
// version: "v" and a digit, such as v1, v2beta1.
func looksLikeVersion(s string) bool {
	return len(s) >= 2 && s[0] == 'v' && s[1] >= '0' && s[1] <= '9'
}

// match returns the indexes of the resources that answer to lname in the
// best tier that has any: plural, singular and kind first, short names
// second. A non-nil group and a non-empty version restrict the search.
func (s *snapshot) match(lname string, group *string, version string) []int {
	for _, idx := range []map[string][]int{s.names, s.shorts} {
		var out []int
		for _, i := range idx[lname] {
			r := &s.resources[i]
			if group != nil && r.Group != *group {
				continue
			}
			if version != "" && r.Version != version {
				continue
			}
			out = append(out, i)
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
// several, the core group wins; otherwise built-in groups (a name without a
// dot, or ending in .k8s.io) win over the others, the first of them in
// discovery order (the server's priority order, as kubectl does). Several
// candidates that are all outside the built-in groups, or several in one
// group, are ambiguous.
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
	ambiguous := func(list []int) (APIResource, bool, error) {
		e := &AmbiguousError{Name: name}
		for _, i := range list {
			e.Candidates = append(e.Candidates, s.resources[i].clone())
		}
		return APIResource{}, true, e
	}
	if len(groups) == 1 {
		return ambiguous(cand)
	}
	if n := groups[""]; n > 0 {
		if n > 1 {
			return ambiguous(filter(cand, func(i int) bool { return s.resources[i].Group == "" }))
		}
		for _, i := range cand {
			if s.resources[i].Group == "" {
				return s.resources[i].clone(), true, nil
			}
		}
	}
	builtin := filter(cand, func(i int) bool { return isBuiltinGroup(s.resources[i].Group) })
	if len(builtin) > 0 {
		first := s.resources[builtin[0]].Group
		same := filter(builtin, func(i int) bool { return s.resources[i].Group == first })
		if len(same) > 1 {
			return ambiguous(same)
		}
		return s.resources[same[0]].clone(), true, nil
	}
	return ambiguous(cand)
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

// isBuiltinGroup reports whether group is one of Kubernetes' own: the core
// group, a name without a dot (apps, batch, ...) or a name under k8s.io.
func isBuiltinGroup(group string) bool {
	return !strings.Contains(group, ".") || strings.HasSuffix(group, ".k8s.io")
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
