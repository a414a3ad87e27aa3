package manifest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// The labels and annotations of kubectl's ApplySet (KEP 3659), with the keys
// kubectl writes.
const (
	// PartOfLabel marks a member of an ApplySet; its value is the set's ID.
	PartOfLabel = "applyset.kubernetes.io/part-of"
	// IDLabel marks the parent; its value is the set's ID.
	IDLabel = "applyset.kubernetes.io/id"
	// ToolingAnnotation on the parent names the tool that manages the set,
	// `name/version`; tools refuse sets another tool manages.
	ToolingAnnotation = "applyset.kubernetes.io/tooling"
	// ContainsGroupKindsAnnotation on the parent lists the member kinds,
	// `Kind.group` (`Kind` for core), sorted, comma-separated.
	ContainsGroupKindsAnnotation = "applyset.kubernetes.io/contains-group-kinds"
	// ContainsGroupResourcesAnnotation is the older form kubectl 1.27 wrote
	// (`resource.group`); it is read, never written.
	ContainsGroupResourcesAnnotation = "applyset.kubernetes.io/contains-group-resources"
	// AdditionalNamespacesAnnotation on the parent lists the namespaces of
	// members other than the parent's own, sorted, comma-separated.
	AdditionalNamespacesAnnotation = "applyset.kubernetes.io/additional-namespaces"
)

// DefaultTooling is the tooling annotation ApplySets get when
// ApplySet.Tooling is empty.
const DefaultTooling = "kubedyn/v1"

// ApplySet names the parent object of a kubectl-compatible ApplySet: the
// members carry PartOfLabel with the set's ID, and the parent records their
// kinds and namespaces, so a later Apply with Prune finds and deletes what
// left the set. kubectl's `apply --prune --applyset=<name> -n <ns>` and this
// manage the same set when they share the parent and the tooling: kubectl
// refuses a set whose tooling is not kubectl's, so set Tooling to
// "kubectl/v1.37.2" (or the version in use) to share one with kubectl. It is
// a plain value.
type ApplySet struct {
	// Name and Namespace of the parent. A Secret parent needs a namespace.
	Name, Namespace string
	// APIVersion and Kind of the parent; empty means v1 Secret, as in
	// kubectl (a ConfigMap, or a cluster-scoped custom resource whose CRD
	// has the applyset.kubernetes.io/is-parent-type label, work too; a
	// custom resource parent must exist already).
	APIVersion, Kind string
	// Tooling is the parent's ToolingAnnotation, `name/version`; empty
	// means DefaultTooling.
	Tooling string
}

func (a ApplySet) parentRef() Ref {
	r := Ref{APIVersion: a.APIVersion, Kind: a.Kind, Namespace: a.Namespace, Name: a.Name}
	if r.Kind == "" {
		r.APIVersion, r.Kind = "v1", "Secret"
	}
	return r
}

func (a ApplySet) tooling() string {
	if a.Tooling == "" {
		return DefaultTooling
	}
	return a.Tooling
}

// toolingName is the tooling annotation without its version.
func toolingName(t string) string {
	if i := strings.LastIndex(t, "/"); i > 0 {
		return t[:i]
	}
	return t
}

// ID is the set's ID as kubectl computes it:
// `applyset-<base64url(sha256(<name>.<namespace>.<kind>.<group>))>-v1`,
// unpadded URL-safe base64.
func (a ApplySet) ID() string {
	r := a.parentRef()
	sum := sha256.Sum256([]byte(strings.Join([]string{r.Name, r.Namespace, r.Kind, r.Group()}, ".")))
	return "applyset-" + base64.RawURLEncoding.EncodeToString(sum[:]) + "-v1"
}

// applySetRun is the state of one apply with an ApplySet.
type applySetRun struct {
	set    ApplySet
	id     string
	parent resource.Handle
	// items are the plan's items with the PartOfLabel added.
	items []Item
	// current: kinds and namespaces the parent listed before this run.
	currentGKs, currentNSs []string
	// updated: those of this set.
	updatedGKs, updatedNSs []string
}

// beginApplySet reads the parent (it may not exist), checks it, labels the
// members and records the superset of old and new kinds and namespaces on
// the parent before anything is applied, as kubectl does, so an interrupted
// run leaks nothing.
func (e *Engine) beginApplySet(ctx context.Context, set *ApplySet, plan *Plan, o *ApplyOptions) (*applySetRun, error) {
	pr := set.parentRef()
	if pr.Name == "" {
		return nil, errors.New("applyset: the parent needs a name")
	}
	run := &applySetRun{set: *set, id: set.ID()}
	h := e.c.Resource(pr.APIVersion, pr.Kind)
	if pr.Namespace != "" {
		h = h.Namespace(pr.Namespace)
	}
	run.parent = h
	live, err := h.Get(ctx, pr.Name, nil)
	switch {
	case errors.Is(err, transport.ErrNotFound):
		if pr.Kind != "Secret" && pr.Kind != "ConfigMap" || pr.Group() != "" {
			return nil, fmt.Errorf("applyset: parent %s does not exist (only a Secret or ConfigMap parent is created)", pr)
		}
	case err != nil:
		return nil, fmt.Errorf("applyset: read parent %s: %w", pr, err)
	default:
		ann := live.Annotations()
		tool, ok := ann[ToolingAnnotation]
		if !ok {
			return nil, fmt.Errorf("applyset: parent %s exists and has no %s annotation", pr, ToolingAnnotation)
		}
		if toolingName(tool) != toolingName(set.tooling()) {
			return nil, fmt.Errorf("applyset: parent %s is managed by tooling %q, not %q", pr, toolingName(tool), toolingName(set.tooling()))
		}
		if id := live.Labels()[IDLabel]; id != run.id {
			return nil, fmt.Errorf("applyset: parent %s has label %s=%q, want %q", pr, IDLabel, id, run.id)
		}
		run.currentGKs, err = e.parentGroupKinds(ctx, ann)
		if err != nil {
			return nil, fmt.Errorf("applyset: parent %s: %w", pr, err)
		}
		run.currentNSs = splitList(ann[AdditionalNamespacesAnnotation])
	}
	for _, it := range plan.Items {
		labelled, err := it.Object.Set("metadata.labels."+unstructured.Path(PartOfLabel), run.id)
		if err != nil {
			return nil, fmt.Errorf("applyset: label %s: %w", it.Ref, err)
		}
		if _, ok := it.Object.Labels()[PartOfLabel]; ok {
			return nil, fmt.Errorf("applyset: %s (%s) already carries the label %s", it.Ref, it.Source, PartOfLabel)
		}
		it.Object = labelled
		run.items = append(run.items, it)
		run.updatedGKs = addSorted(run.updatedGKs, it.Ref.GroupKind())
		if it.Ref.Namespace != "" && it.Ref.Namespace != pr.Namespace {
			run.updatedNSs = addSorted(run.updatedNSs, it.Ref.Namespace)
		}
	}
	if o.DryRun {
		return run, nil
	}
	gks := union(run.currentGKs, run.updatedGKs)
	nss := union(run.currentNSs, run.updatedNSs)
	if err := e.writeParent(ctx, run, gks, nss, false); err != nil {
		return nil, err
	}
	return run, nil
}

// writeParent applies the parent's labels and annotations with the
// `<tool>-applyset` field manager, as kubectl does (forcing after a conflict).
func (e *Engine) writeParent(ctx context.Context, run *applySetRun, gks, nss []string, dryRun bool) error {
	pr := run.set.parentRef()
	b := unstructured.New(pr.APIVersion, pr.Kind).Builder()
	b.Set("metadata.name", pr.Name)
	if pr.Namespace != "" {
		b.Set("metadata.namespace", pr.Namespace)
	}
	b.Set("metadata.labels."+unstructured.Path(IDLabel), run.id)
	b.Set("metadata.annotations."+unstructured.Path(ToolingAnnotation), run.set.tooling())
	b.Set("metadata.annotations."+unstructured.Path(ContainsGroupKindsAnnotation), strings.Join(gks, ","))
	b.Set("metadata.annotations."+unstructured.Path(AdditionalNamespacesAnnotation), strings.Join(nss, ","))
	obj, err := b.Object()
	if err != nil {
		return fmt.Errorf("applyset: build parent: %w", err)
	}
	fm := toolingName(run.set.tooling()) + "-applyset"
	_, err = run.parent.Apply(ctx, obj, &resource.ApplyOptions{FieldManager: fm, DryRun: dryRun})
	if errors.Is(err, transport.ErrConflict) {
		_, err = run.parent.Apply(ctx, obj, &resource.ApplyOptions{FieldManager: fm, DryRun: dryRun, Force: true})
	}
	if err != nil {
		return fmt.Errorf("applyset: write parent %s: %w", pr, err)
	}
	return nil
}

// parentGroupKinds reads the kinds a parent lists, in its current or older
// annotation.
func (e *Engine) parentGroupKinds(ctx context.Context, ann map[string]string) ([]string, error) {
	if v, ok := ann[ContainsGroupKindsAnnotation]; ok {
		return splitList(v), nil
	}
	v, ok := ann[ContainsGroupResourcesAnnotation]
	if !ok {
		return nil, fmt.Errorf("neither %s nor %s is set", ContainsGroupKindsAnnotation, ContainsGroupResourcesAnnotation)
	}
	var out []string
	for _, gr := range splitList(v) {
		res, err := e.c.ResourceFor(gr).Resolve(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s lists %q: %w", ContainsGroupResourcesAnnotation, gr, err)
		}
		gk := res.Kind
		if res.Group != "" {
			gk += "." + res.Group
		}
		out = addSorted(out, gk)
	}
	return out, nil
}

// prune deletes the members that left the set, then records the new set on
// the parent.
func (e *Engine) prune(ctx context.Context, run *applySetRun, o *ApplyOptions) ([]Result, error) {
	keep := map[key]bool{}
	for _, it := range run.items {
		keep[it.Ref.key()] = true
	}
	pr := run.set.parentRef()
	nss := union(run.currentNSs, run.updatedNSs)
	if pr.Namespace != "" {
		nss = addSorted(nss, pr.Namespace)
	}
	var out []Result
	var errs []error
	for _, gk := range union(run.currentGKs, run.updatedGKs) {
		h := e.c.ResourceFor(gk)
		res, err := h.Resolve(ctx)
		if err != nil {
			// A kind no longer served has no members left to prune.
			e.log.DebugContext(ctx, "manifest: prune: kind not served", "kind", gk, "err", err)
			continue
		}
		apiVersion := res.Version
		if res.Group != "" {
			apiVersion = res.Group + "/" + res.Version
		}
		scopes := []string{""}
		if res.Namespaced {
			scopes = nss
		}
		for _, ns := range scopes {
			hh := h
			if ns != "" {
				hh = h.Namespace(ns)
			}
			for obj, err := range hh.MetadataOnly().List(ctx, &resource.ListOptions{LabelSelector: PartOfLabel + "=" + run.id}) {
				if err != nil {
					errs = append(errs, fmt.Errorf("prune: list %s in %q: %w", gk, ns, err))
					break
				}
				ref := Ref{APIVersion: apiVersion, Kind: res.Kind, Namespace: ns, Name: obj.Name()}
				if keep[ref.key()] || obj.IsDeleting() {
					continue
				}
				start := time.Now()
				r := Result{Ref: ref, DryRun: o.PruneDryRun || o.DryRun}
				got, err := hh.Delete(ctx, obj.Name(), &resource.DeleteOptions{DryRun: r.DryRun, PropagationPolicy: resource.PropagationBackground})
				switch {
				case errors.Is(err, transport.ErrNotFound):
					r.Action = Pruned
				case err != nil:
					r.fail(err)
				default:
					r.Action = Pruned
					r.Object = got
				}
				r.Duration = time.Since(start)
				if o.OnResult != nil {
					o.OnResult(r)
				}
				out = append(out, r)
			}
		}
	}
	if len(errs) > 0 || slices.ContainsFunc(out, func(r Result) bool { return r.Action == Failed }) || o.PruneDryRun || o.DryRun {
		return out, errors.Join(errs...)
	}
	// Everything that left is gone: the parent now lists exactly this set.
	return out, e.writeParent(ctx, run, run.updatedGKs, run.updatedNSs, false)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = addSorted(out, p)
		}
	}
	return out
}

func addSorted(s []string, v string) []string {
	i := sort.SearchStrings(s, v)
	if i < len(s) && s[i] == v {
		return s
	}
	return slices.Insert(s, i, v)
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, v := range b {
		out = addSorted(out, v)
	}
	return out
}
