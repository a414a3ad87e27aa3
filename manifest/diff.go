package manifest

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"sync"

	"github.com/tidwall/gjson"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// Masked stands for a Secret value in a Change: values of a Secret's data
// and stringData never leave Diff. A changed value reads "*** (before)" and
// "*** (after)", as in kubectl diff.
const Masked = "***"

// Change is one field that differs between the live object and what the
// apply would make of it. Old and New are JSON (empty when the field is
// absent on that side). It is a plain value.
type Change struct {
	// Path is the field's gjson path, such as `spec.replicas` or
	// `spec.template.spec.containers.0.image`.
	Path string
	Old  string
	New  string
}

// ObjectDiff is the diff of one object. It is a plain value.
type ObjectDiff struct {
	Ref    Ref
	Source unstructured.Source
	// Exists is false when the object would be created.
	Exists bool
	// Changes are the fields that differ, sorted by path (every field of
	// the dry-run result for a new object). Empty means no change.
	Changes []Change
	// Err is why the object could not be diffed (the dry run failed: the
	// server's verdict, with its causes in *transport.APIError; for an
	// object checked client-side, a wrapped *unstructured.ValidationError).
	Err error
	// Note, when set, says the diff is not the server's answer: a custom
	// resource whose CRD is new in the same set was "checked client-side
	// against the CRD ... in this set, not by the server".
	Note string
}

// DiffOptions tune Diff. Nil means defaults.
type DiffOptions struct {
	// FieldManager, Force and FieldValidation are as in ApplyOptions.
	FieldManager    string
	Force           bool
	FieldValidation string
	// Concurrency is as in ApplyOptions.
	Concurrency int
}

// Diff compares each object of the plan with what a server-side apply would
// make of it, asking the server itself (a dry-run apply: defaults, admission
// and other managers' fields included), and lists the fields that change.
// Fields the server keeps for itself (managedFields, resourceVersion,
// generation, uid, creationTimestamp) are left out; Secret data is masked.
// A custom resource whose kind only a CRD of the same set defines (the
// server does not serve it yet, so it cannot dry-run it) is validated
// client-side against that CRD's schema, CEL rules included: it would be
// created, its Changes are the fields of the defaulted object, or Err is
// its *unstructured.ValidationError; Note says so.
func (e *Engine) Diff(ctx context.Context, plan *Plan, opts *DiffOptions) []ObjectDiff {
	var o DiffOptions
	if opts != nil {
		o = *opts
	}
	if o.FieldManager == "" {
		o.FieldManager = DefaultFieldManager
	}
	if o.FieldValidation == "" {
		o.FieldValidation = resource.FieldValidationStrict
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	crds := crdsOf(plan.Items)
	out := make([]ObjectDiff, len(plan.Items))
	sem := make(chan struct{}, o.Concurrency)
	var wg sync.WaitGroup
	for i, it := range plan.Items {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			d := ObjectDiff{Ref: it.Ref, Source: it.Source}
			if lc, ok := e.checkLocally(ctx, crds, it); ok {
				d.Note, d.Err = lc.note, lc.err
				if lc.err == nil {
					d.Changes = changes(unstructured.Object{}, lc.object, false)
				}
				out[i] = d
				return
			}
			h := e.handle(it)
			live, err := h.Get(ctx, it.Ref.Name, nil)
			switch {
			case err == nil:
				d.Exists = true
			case !errors.Is(err, transport.ErrNotFound):
				d.Err = err
				out[i] = d
				return
			}
			merged, err := h.Apply(ctx, it.Object, &resource.ApplyOptions{FieldManager: o.FieldManager, Force: o.Force, DryRun: true, FieldValidation: o.FieldValidation})
			if err != nil {
				d.Err = err
				out[i] = d
				return
			}
			d.Changes = changes(live, merged, isSecret(it.Ref))
			out[i] = d
		})
	}
	wg.Wait()
	return out
}

func isSecret(r Ref) bool { return r.Kind == "Secret" && r.Group() == "" }

// volatile are the fields left out of a diff.
var volatile = []string{"metadata.managedFields", "metadata.resourceVersion", "metadata.generation",
	"metadata.uid", "metadata.creationTimestamp", "metadata.selfLink"}

// changes lists the fields that differ between two objects.
func changes(before, after unstructured.Object, secret bool) []Change {
	var out []Change
	var walk func(path string, a, b gjson.Result)
	walk = func(path string, a, b gjson.Result) {
		for _, v := range volatile {
			if path == v {
				return
			}
		}
		if a.IsObject() && b.IsObject() {
			keys := map[string]bool{}
			a.ForEach(func(k, _ gjson.Result) bool { keys[k.String()] = true; return true })
			b.ForEach(func(k, _ gjson.Result) bool { keys[k.String()] = true; return true })
			sorted := make([]string, 0, len(keys))
			for k := range keys {
				sorted = append(sorted, k)
			}
			sort.Strings(sorted)
			for _, k := range sorted {
				p := unstructured.Path(k)
				if path != "" {
					p = path + "." + p
				}
				walk(p, a.Get(unstructured.Path(k)), b.Get(unstructured.Path(k)))
			}
			return
		}
		if a.IsArray() && b.IsArray() {
			aa, bb := a.Array(), b.Array()
			n := max(len(aa), len(bb))
			for i := 0; i < n; i++ {
				var x, y gjson.Result
				if i < len(aa) {
					x = aa[i]
				}
				if i < len(bb) {
					y = bb[i]
				}
				walk(path+"."+strconv.Itoa(i), x, y)
			}
			return
		}
		if a.Raw == b.Raw && a.Exists() == b.Exists() {
			return
		}
		if a.Exists() && b.Exists() && compactEqual(a.Raw, b.Raw) {
			return
		}
		c := Change{Path: path}
		if a.Exists() {
			c.Old = a.Raw
		}
		if b.Exists() {
			c.New = b.Raw
		}
		out = append(out, c)
	}
	walk("", gjson.Parse(orEmpty(before.String())), gjson.Parse(orEmpty(after.String())))
	if secret {
		for i := range out {
			if isSecretValue(out[i].Path) {
				if out[i].Old != "" {
					out[i].Old = strconv.Quote(Masked + " (before)")
				}
				if out[i].New != "" {
					out[i].New = strconv.Quote(Masked + " (after)")
				}
			}
		}
	}
	return out
}

func isSecretValue(path string) bool {
	for _, p := range []string{"data", "stringData"} {
		if path == p || len(path) > len(p) && path[:len(p)+1] == p+"." {
			return true
		}
	}
	return false
}

func orEmpty(s string) string {
	if s == "" {
		return "{}"
	}
	return s
}

// compactEqual compares two JSON scalars or values ignoring whitespace.
func compactEqual(a, b string) bool {
	return gjson.Parse(a).String() == gjson.Parse(b).String() && gjson.Parse(a).Type == gjson.Parse(b).Type
}
