package manifest

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kubedyn/kubedyn/unstructured"
)

// DependsOnAnnotation names the objects an object must follow: a comma-
// separated list of references in the form kpt and cli-utils use for their
// config.kubernetes.io/depends-on, `<group>/namespaces/<namespace>/<kind>/<name>`
// for a namespaced object and `<group>/<kind>/<name>` for a cluster-scoped
// one, the group empty for the core group:
//
//	kubedyn.io/depends-on: /namespaces/shop/ConfigMap/settings, apps/namespaces/shop/Deployment/db
//
// Every object named must be in the same set (an error before anything is
// sent otherwise). The object is applied once they all succeeded, skipped when
// one failed, and deleted before them.
const DependsOnAnnotation = "kubedyn.io/depends-on"

// ErrInvalidSet is matched (errors.Is) by the *PlanError a set that cannot
// be applied gives, before anything is sent.
var ErrInvalidSet = errors.New("invalid manifest set")

// Ref names one object: apiVersion, kind, namespace (empty for a
// cluster-scoped object) and name. Two Refs of the same group, kind,
// namespace and name are the same object whatever the version. It is a plain
// value.
type Ref struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
}

// Group is the API group of the Ref's apiVersion ("" for core).
func (r Ref) Group() string {
	if g, _, ok := strings.Cut(r.APIVersion, "/"); ok {
		return g
	}
	return ""
}

// GroupKind is the kind qualified by its group, as kubectl writes it:
// `Deployment.apps`, or `ConfigMap` for the core group.
func (r Ref) GroupKind() string {
	if g := r.Group(); g != "" {
		return r.Kind + "." + g
	}
	return r.Kind
}

// String is `Kind.group namespace/name` (`ConfigMap shop/settings`,
// `CustomResourceDefinition.apiextensions.k8s.io widgets.example.com`).
func (r Ref) String() string {
	if r.Namespace != "" {
		return r.GroupKind() + " " + r.Namespace + "/" + r.Name
	}
	return r.GroupKind() + " " + r.Name
}

// key is a Ref without the version.
type key struct{ group, kind, namespace, name string }

func (r Ref) key() key { return key{r.Group(), r.Kind, r.Namespace, r.Name} }

// Item is one object of a Plan.
type Item struct {
	// Ref names the object, its namespace resolved (the object's own, or
	// the client's default for a namespaced kind).
	Ref Ref
	// Object is the object as read from the manifest.
	Object unstructured.Object
	// Source is where it came from.
	Source unstructured.Source
	// DependsOn are the positions in Plan.Items of the objects this one
	// needs first: its Namespace, the CRD of its kind, and those its
	// DependsOnAnnotation names.
	DependsOn []int
	// Rank is its kind's place in the kind order (KindRank).
	Rank int
}

// Plan is a validated set of objects in the order they are applied; delete
// goes in reverse. Build it with Engine.Plan. A Plan is not modified after
// it is built, so it may be used by several goroutines.
type Plan struct {
	// Items are in apply order: dependencies first, ties broken by the kind
	// order (KindRank) and then by the order of the input.
	Items []Item
}

// PlanError lists everything wrong with a set: duplicate objects, a cycle
// of depends-on annotations, a malformed or dangling reference, an object
// without apiVersion, kind or name. Nothing was sent. It matches
// ErrInvalidSet.
type PlanError struct {
	// Problems are the problems, each naming the objects and their sources.
	Problems []string
}

// Error lists the problems, one a line.
func (e *PlanError) Error() string {
	return fmt.Sprintf("%s: %s", ErrInvalidSet, strings.Join(e.Problems, "; "))
}

// Is matches ErrInvalidSet.
func (e *PlanError) Is(target error) bool { return target == ErrInvalidSet }

// kindRanks is the kind order ties are broken with.
var kindRanks = map[string]int{
	"Namespace":                        0,
	"CustomResourceDefinition":         1,
	"PriorityClass":                    2,
	"StorageClass":                     2,
	"ResourceQuota":                    2,
	"LimitRange":                       2,
	"PodSecurityPolicy":                2,
	"ClusterRole":                      2,
	"ClusterRoleBinding":               2,
	"Role":                             2,
	"RoleBinding":                      2,
	"ServiceAccount":                   3,
	"ConfigMap":                        4,
	"Secret":                           5,
	"PersistentVolume":                 6,
	"PersistentVolumeClaim":            6,
	"Service":                          6,
	"Deployment":                       7,
	"StatefulSet":                      7,
	"DaemonSet":                        7,
	"ReplicaSet":                       7,
	"ReplicationController":            7,
	"Pod":                              7,
	"Job":                              7,
	"CronJob":                          7,
	"MutatingWebhookConfiguration":     9,
	"ValidatingWebhookConfiguration":   9,
	"ValidatingAdmissionPolicy":        9,
	"ValidatingAdmissionPolicyBinding": 9,
	"MutatingAdmissionPolicy":          9,
	"MutatingAdmissionPolicyBinding":   9,
	"APIService":                       9,
}

// KindRank is a kind's place in the order objects without a dependency
// between them are applied in: Namespace 0; CustomResourceDefinition 1;
// RBAC, quotas, priority and storage classes 2; ServiceAccount 3; ConfigMap 4;
// Secret 5; Service, PersistentVolume(Claim) 6; workloads (Deployment,
// StatefulSet, DaemonSet, ReplicaSet, Pod, Job, CronJob, ...) 7; every other
// kind, custom resources included, 8; webhook and admission policy
// configurations and APIServices last, 9. Only built-in groups count: a
// custom resource called Deployment ranks 8.
func KindRank(group, kind string) int {
	if r, ok := kindRanks[kind]; ok && builtinish(group) {
		return r
	}
	return 8
}

// builtinish is true for the groups of the kinds in kindRanks.
func builtinish(group string) bool {
	switch group {
	case "", "apps", "batch", "rbac.authorization.k8s.io", "apiextensions.k8s.io", "scheduling.k8s.io",
		"storage.k8s.io", "policy", "admissionregistration.k8s.io", "apiregistration.k8s.io":
		return true
	}
	return false
}

// clusterScopedKinds are the built-in kinds known to be cluster-scoped, for
// planning when discovery cannot say.
var clusterScopedKinds = map[string]bool{
	"Namespace": true, "CustomResourceDefinition": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"PriorityClass": true, "StorageClass": true, "PersistentVolume": true, "Node": true,
	"MutatingWebhookConfiguration": true, "ValidatingWebhookConfiguration": true, "APIService": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true, "IngressClass": true,
	"RuntimeClass": true, "CSIDriver": true, "CSINode": true, "VolumeAttachment": true,
}

// PlanOptions tune Engine.Plan. Nil means defaults. Plan only reads them.
type PlanOptions struct {
	// ApplySetID, when set, is the label value every object gets as
	// `applyset.kubernetes.io/part-of` (ApplySet.ID); an object that already
	// carries that label is refused, as kubectl does.
	ApplySetID string
}

// Plan checks a set of decoded objects and orders them. It reads discovery
// (cached; a refresh for a kind it does not know yet) to learn which kinds
// are namespaced, the CRDs of the set standing in for kinds not served yet;
// it sends no write. Everything wrong with the set is reported at once in a
// *PlanError.
func (e *Engine) Plan(ctx context.Context, objs []unstructured.Decoded, opts *PlanOptions) (*Plan, error) {
	var o PlanOptions
	if opts != nil {
		o = *opts
	}
	var problems []string
	// CRDs of the set: group/kind -> position, and scope.
	type crdInfo struct {
		pos        int
		namespaced bool
	}
	crds := map[[2]string]crdInfo{}
	for i, d := range objs {
		obj := d.Object
		if obj.Kind() == "CustomResourceDefinition" && groupOf(obj.APIVersion()) == "apiextensions.k8s.io" {
			g := obj.Get("spec.group").String()
			k := obj.Get("spec.names.kind").String()
			crds[[2]string{g, k}] = crdInfo{pos: i, namespaced: obj.Get("spec.scope").String() != "Cluster"}
		}
	}
	items := make([]Item, len(objs))
	byKey := map[key]int{}
	defNS := e.c.DefaultNamespace()
	for i, d := range objs {
		obj := d.Object
		at := d.Source.String()
		if obj.APIVersion() == "" || obj.Kind() == "" {
			problems = append(problems, fmt.Sprintf("%s: object has no apiVersion or kind", at))
			continue
		}
		if obj.Name() == "" {
			problems = append(problems, fmt.Sprintf("%s: %s %s has no metadata.name", at, obj.APIVersion(), obj.Kind()))
			continue
		}
		ref := Ref{APIVersion: obj.APIVersion(), Kind: obj.Kind(), Namespace: obj.Namespace(), Name: obj.Name()}
		namespaced := true
		if ci, ok := crds[[2]string{ref.Group(), ref.Kind}]; ok {
			namespaced = ci.namespaced
		} else if clusterScopedKinds[ref.Kind] && builtinish(ref.Group()) {
			namespaced = false
		} else if res, err := e.c.ForObject(obj).Resolve(ctx); err == nil {
			namespaced = res.Namespaced
		} else if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// An unknown kind stays as written; applying it fails on its own.
		if !namespaced {
			ref.Namespace = ""
		} else if ref.Namespace == "" {
			ref.Namespace = defNS
		}
		if o.ApplySetID != "" {
			if _, ok := obj.Labels()[PartOfLabel]; ok {
				problems = append(problems, fmt.Sprintf("%s: %s already carries the label %s", at, ref, PartOfLabel))
			}
		}
		if j, dup := byKey[ref.key()]; dup {
			problems = append(problems, fmt.Sprintf("%s: %s is already in the set at %s", at, ref, items[j].Source))
			continue
		}
		byKey[ref.key()] = i
		items[i] = Item{Ref: ref, Object: obj, Source: d.Source, Rank: KindRank(ref.Group(), ref.Kind)}
	}
	if len(problems) > 0 {
		return nil, &PlanError{Problems: problems}
	}
	// Dependencies.
	for i := range items {
		it := &items[i]
		add := func(j int) {
			if j != i && !containsInt(it.DependsOn, j) {
				it.DependsOn = append(it.DependsOn, j)
			}
		}
		if it.Ref.Namespace != "" {
			if j, ok := byKey[key{"", "Namespace", "", it.Ref.Namespace}]; ok {
				add(j)
			}
		}
		if ci, ok := crds[[2]string{it.Ref.Group(), it.Ref.Kind}]; ok {
			add(ci.pos)
		}
		if v, ok := it.Object.Annotations()[DependsOnAnnotation]; ok {
			for _, s := range strings.Split(v, ",") {
				s = strings.TrimSpace(s)
				if s == "" {
					continue
				}
				k, err := parseDependency(s)
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s: %s: annotation %s: %v", it.Source, it.Ref, DependsOnAnnotation, err))
					continue
				}
				j, ok := byKey[k]
				if !ok {
					problems = append(problems, fmt.Sprintf("%s: %s depends on %q, which is not in the set", it.Source, it.Ref, s))
					continue
				}
				if j == i {
					problems = append(problems, fmt.Sprintf("%s: %s depends on itself", it.Source, it.Ref))
					continue
				}
				add(j)
			}
		}
	}
	if len(problems) > 0 {
		return nil, &PlanError{Problems: problems}
	}
	order, cycle := topoOrder(items)
	if cycle != nil {
		var names []string
		for _, j := range cycle {
			names = append(names, fmt.Sprintf("%s (%s)", items[j].Ref, items[j].Source))
		}
		return nil, &PlanError{Problems: []string{"depends-on cycle: " + strings.Join(names, " -> ")}}
	}
	// Renumber into apply order.
	pos := make([]int, len(items))
	for newPos, old := range order {
		pos[old] = newPos
	}
	plan := &Plan{Items: make([]Item, len(items))}
	for newPos, old := range order {
		it := items[old]
		deps := make([]int, len(it.DependsOn))
		for k, d := range it.DependsOn {
			deps[k] = pos[d]
		}
		it.DependsOn = deps
		plan.Items[newPos] = it
	}
	return plan, nil
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func groupOf(apiVersion string) string {
	if g, _, ok := strings.Cut(apiVersion, "/"); ok {
		return g
	}
	return ""
}

// parseDependency reads one reference of DependsOnAnnotation.
func parseDependency(s string) (key, error) {
	parts := strings.Split(s, "/")
	switch {
	case len(parts) == 3:
		if parts[1] == "" || parts[2] == "" {
			break
		}
		return key{group: parts[0], kind: parts[1], name: parts[2]}, nil
	case len(parts) == 5 && parts[1] == "namespaces":
		if parts[2] == "" || parts[3] == "" || parts[4] == "" {
			break
		}
		return key{group: parts[0], kind: parts[3], namespace: parts[2], name: parts[4]}, nil
	}
	return key{}, fmt.Errorf("%q is not <group>/namespaces/<namespace>/<kind>/<name> or <group>/<kind>/<name>", s)
}

// topoOrder orders items so that dependencies come first, ties by rank then
// input position. When there is a cycle it returns one.
func topoOrder(items []Item) (order, cycle []int) {
	n := len(items)
	indeg := make([]int, n)
	dependents := make([][]int, n)
	for i, it := range items {
		for _, d := range it.DependsOn {
			indeg[i]++
			dependents[d] = append(dependents[d], i)
		}
	}
	h := &readyHeap{items: items}
	for i := range items {
		if indeg[i] == 0 {
			heap.Push(h, i)
		}
	}
	for h.Len() > 0 {
		i := heap.Pop(h).(int)
		order = append(order, i)
		for _, j := range dependents[i] {
			indeg[j]--
			if indeg[j] == 0 {
				heap.Push(h, j)
			}
		}
	}
	if len(order) == n {
		return order, nil
	}
	// Walk dependencies among what is left until a node repeats.
	start := -1
	for i := range items {
		if indeg[i] > 0 {
			start = i
			break
		}
	}
	seen := map[int]int{}
	var path []int
	for cur := start; ; {
		if at, ok := seen[cur]; ok {
			c := append([]int(nil), path[at:]...)
			// Show it as "a -> b -> a": dependents after what they need.
			for l, r := 0, len(c)-1; l < r; l, r = l+1, r-1 {
				c[l], c[r] = c[r], c[l]
			}
			return nil, append(c, c[0])
		}
		seen[cur] = len(path)
		path = append(path, cur)
		next := -1
		for _, d := range items[cur].DependsOn {
			if indeg[d] > 0 {
				next = d
				break
			}
		}
		cur = next
	}
}

// readyHeap orders ready items by rank, then input position.
type readyHeap struct {
	items []Item
	idx   []int
}

func (h *readyHeap) Len() int { return len(h.idx) }
func (h *readyHeap) Less(a, b int) bool {
	ia, ib := h.idx[a], h.idx[b]
	if h.items[ia].Rank != h.items[ib].Rank {
		return h.items[ia].Rank < h.items[ib].Rank
	}
	return ia < ib
}
func (h *readyHeap) Swap(a, b int) { h.idx[a], h.idx[b] = h.idx[b], h.idx[a] }
func (h *readyHeap) Push(x any)    { h.idx = append(h.idx, x.(int)) }
func (h *readyHeap) Pop() any {
	x := h.idx[len(h.idx)-1]
	h.idx = h.idx[:len(h.idx)-1]
	return x
}
