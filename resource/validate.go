package resource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kubedyn/kubedyn/celrules"
	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// ValidationMode is what a write does with client-side validation against
// the schema the server publishes (unstructured.Validate, CEL rules
// included). It is independent of the server's own fieldValidation, which
// the options' FieldValidation still sets.
type ValidationMode string

const (
	// ValidationDefault is the client's mode (WithValidation), which is
	// ValidationIgnore unless set.
	ValidationDefault ValidationMode = ""
	// ValidationIgnore sends the object unchecked.
	ValidationIgnore ValidationMode = "Ignore"
	// ValidationWarn checks the object, raises a warning (agent kubedyn)
	// per error, and sends it anyway.
	ValidationWarn ValidationMode = "Warn"
	// ValidationStrict refuses an invalid object before any write request:
	// the error wraps *unstructured.ValidationError (errors.Is
	// unstructured.ErrInvalidObject) listing every error of every server
	// stage at once. A kind the server publishes no schema for (after
	// waiting up to 3 s for the schema of a CRD just installed) is sent
	// unchecked, with a warning.
	ValidationStrict ValidationMode = "Strict"
)

func (m ValidationMode) valid() bool {
	switch m {
	case ValidationDefault, ValidationIgnore, ValidationWarn, ValidationStrict:
		return true
	}
	return false
}

// WithValidation sets the client's validation mode for Create, Update,
// Apply and Patch; each call's options may override it. Checking needs the
// kind's OpenAPI v3 document once per group version (cached by its hash).
func WithValidation(mode ValidationMode) Option {
	return func(o *clientOptions) error {
		if !mode.valid() {
			return fmt.Errorf("resource.WithValidation: unknown mode %q", string(mode))
		}
		o.validation = mode
		return nil
	}
}

// schemaWaitTries and schemaWaitInterval bound how long Strict waits for
// the schema of a kind the server serves but publishes no schema for yet.
const (
	schemaWaitTries    = 15
	schemaWaitInterval = 200 * time.Millisecond
)

// ruleEvaluator is shared by every client: compiled rules are kept by text.
var ruleEvaluator = sync.OnceValues(func() (*celrules.Evaluator, error) { return celrules.New() })

// validationMode is the call's mode, else the client's.
func (h Handle) validationMode(call ValidationMode) ValidationMode {
	if call != ValidationDefault {
		return call
	}
	if h.c == nil || h.c.validation == ValidationDefault {
		return ValidationIgnore
	}
	return h.c.validation
}

// validateKind says which checks apply to the object a write sends.
type validateKind int

const (
	// wholeObject: Create and Update send the whole object.
	wholeObject validateKind = iota
	// applyConfiguration: Apply sends only the fields its manager owns, so
	// missing required fields and rules over the whole object are not
	// errors of the configuration.
	applyConfiguration
)

// validate checks obj, bound to t, in mode. It returns the error a Strict
// call fails with; Warn raises the errors as warnings and returns nil.
func (t target) validate(ctx context.Context, mode ValidationMode, obj unstructured.Object, kind validateKind) error {
	if mode == ValidationIgnore || t.sub != "" {
		return nil
	}
	if !mode.valid() {
		return fmt.Errorf("unknown validation mode %q", string(mode))
	}
	c := t.h.c
	gvk := t.r.GroupVersionKind()
	schema, err := c.disc.Schema(ctx, gvk)
	// The server publishes a new CRD's schema a moment after it serves the
	// kind: Strict waits a little for it rather than let the object pass.
	for i := 0; mode == ValidationStrict && errors.Is(err, discovery.ErrNoSchema) && i < schemaWaitTries; i++ {
		timer := time.NewTimer(schemaWaitInterval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("client-side validation: %w", ctx.Err())
		case <-timer.C:
		}
		schema, err = c.disc.Schema(ctx, gvk)
	}
	if err != nil {
		if errors.Is(err, discovery.ErrNoSchema) {
			c.warn(ctx, fmt.Sprintf("%s: not validated client-side: the server publishes no schema for it", gvk))
			return nil
		}
		return fmt.Errorf("client-side validation: %w", err)
	}
	rules, err := ruleEvaluator()
	if err != nil {
		return fmt.Errorf("client-side validation: %w", err)
	}
	_, hasStatus := t.r.Subresource("status")
	res, err := unstructured.Validate(obj, schema, &unstructured.ValidateOptions{Rules: rules, ResetStatus: hasStatus})
	if err != nil {
		return fmt.Errorf("client-side validation: %w", err)
	}
	errs := res.Errors
	if kind == applyConfiguration {
		errs = errs[:0:0]
		for _, e := range res.Errors {
			if e.Reason != unstructured.ReasonRequired && e.Stage != unstructured.StageRules {
				errs = append(errs, e)
			}
		}
	}
	for _, nc := range res.NotChecked {
		if kind == wholeObject {
			c.warn(ctx, "client-side validation: "+nc.Error())
		}
	}
	if len(errs) == 0 {
		return nil
	}
	if mode == ValidationWarn {
		for _, e := range errs {
			c.warn(ctx, "client-side validation: "+e.Error())
		}
		return nil
	}
	verr := &unstructured.ValidationError{Object: obj.Kind() + " " + obj.Name(), Errors: errs}
	return fmt.Errorf("client-side validation: %w", verr)
}

// patchedObject computes the result of a merge or JSON patch on the current
// object (one GET) for validation; ok is false when the result cannot be
// computed client-side (strategic merge patches, apply patches).
func (t target) patchedObject(ctx context.Context, name string, pt PatchType, data []byte) (obj unstructured.Object, ok bool, err error) {
	if pt != MergePatch && pt != JSONPatch {
		return unstructured.Object{}, false, nil
	}
	resp, err := t.h.c.do(ctx, &transport.Request{Method: http.MethodGet, Path: t.objectPath(name), Header: jsonHeader(contentTypeJSON)})
	if err != nil {
		return unstructured.Object{}, false, fmt.Errorf("client-side validation: read the object to patch: %w", err)
	}
	var cur, patch any
	dec := json.NewDecoder(bytes.NewReader(resp.Body))
	dec.UseNumber()
	if err := dec.Decode(&cur); err != nil {
		return unstructured.Object{}, false, fmt.Errorf("client-side validation: %w", err)
	}
	dec = json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&patch); err != nil {
		return unstructured.Object{}, false, fmt.Errorf("client-side validation: the merge patch is not JSON: %w", err)
	}
	var result any
	if pt == MergePatch {
		result = mergePatch(cur, patch)
	} else if result, err = jsonPatch(cur, patch); err != nil {
		return unstructured.Object{}, false, fmt.Errorf("client-side validation: %w", err)
	}
	merged, err := json.Marshal(result)
	if err != nil {
		return unstructured.Object{}, false, fmt.Errorf("client-side validation: %w", err)
	}
	o, err := unstructured.Parse(merged)
	if err != nil {
		return unstructured.Object{}, false, fmt.Errorf("client-side validation: %w", err)
	}
	return o, true, nil
}

// mergePatch applies an RFC 7386 JSON merge patch.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// validatePatch checks what a patch would write: the patched object for a
// merge or JSON patch, the configuration for an apply patch; a strategic
// merge patch is not checked (a warning says so).
func (t target) validatePatch(ctx context.Context, mode ValidationMode, name string, pt PatchType, data []byte) error {
	if mode == ValidationIgnore || t.sub != "" {
		return nil
	}
	if pt == ApplyPatch {
		obj, err := unstructured.Parse(data)
		if err != nil {
			// Apply patches may be YAML: the server parses them; skip.
			t.h.c.warn(ctx, "client-side validation: the apply patch is not JSON, not validated")
			return nil
		}
		return t.validate(ctx, mode, obj, applyConfiguration)
	}
	obj, ok, err := t.patchedObject(ctx, name, pt, data)
	if err != nil {
		return err
	}
	if !ok {
		t.h.c.warn(ctx, fmt.Sprintf("client-side validation: a %s patch is not validated (its result is not computed client-side)", string(pt)))
		return nil
	}
	return t.validate(ctx, mode, obj, wholeObject)
}

// callValidation reads the Validation field of a call's options (nil is
// ValidationDefault).
func callValidation[O CreateOptions | UpdateOptions | PatchOptions](opts *O) ValidationMode {
	if opts == nil {
		return ValidationDefault
	}
	switch o := any(opts).(type) {
	case *CreateOptions:
		return o.Validation
	case *UpdateOptions:
		return o.Validation
	case *PatchOptions:
		return o.Validation
	}
	return ValidationDefault
}

// jsonPatch applies an RFC 6902 JSON patch to doc (decoded JSON, changed in
// place where it can be) and returns the result.
func jsonPatch(doc, patch any) (any, error) {
	ops, ok := patch.([]any)
	if !ok {
		return nil, errors.New("a JSON patch is an array of operations")
	}
	for i, raw := range ops {
		op, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("JSON patch operation %d is not an object", i)
		}
		name, _ := op["op"].(string)
		path, _ := op["path"].(string)
		var err error
		switch name {
		case "add":
			doc, err = pointerSet(doc, path, op["value"], true)
		case "replace":
			if _, err = pointerGet(doc, path); err == nil {
				doc, err = pointerSet(doc, path, op["value"], false)
			}
		case "remove":
			doc, _, err = pointerRemove(doc, path)
		case "test":
			var cur any
			if cur, err = pointerGet(doc, path); err == nil {
				a, _ := json.Marshal(cur)
				b, _ := json.Marshal(op["value"])
				if !bytes.Equal(a, b) {
					err = fmt.Errorf("test failed at %q", path)
				}
			}
		case "move", "copy":
			from, _ := op["from"].(string)
			var v any
			if name == "move" {
				doc, v, err = pointerRemove(doc, from)
			} else {
				v, err = pointerGet(doc, from)
				if err == nil {
					v = deepCopy(v)
				}
			}
			if err == nil {
				doc, err = pointerSet(doc, path, v, true)
			}
		default:
			err = fmt.Errorf("unknown operation %q", name)
		}
		if err != nil {
			return nil, fmt.Errorf("JSON patch operation %d (%s %s): %w", i, name, path, err)
		}
	}
	return doc, nil
}

func deepCopy(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if dec.Decode(&out) != nil {
		return v
	}
	return out
}

// pointerTokens splits an RFC 6901 pointer.
func pointerTokens(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("bad JSON pointer %q", p)
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

func arrayIndex(tok string, n int, appendOK bool) (int, error) {
	if appendOK && tok == "-" {
		return n, nil
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i < 0 || i > n || (!appendOK && i == n) {
		return 0, fmt.Errorf("array index %q out of range", tok)
	}
	return i, nil
}

func pointerGet(doc any, p string) (any, error) {
	toks, err := pointerTokens(p)
	if err != nil {
		return nil, err
	}
	cur := doc
	for _, t := range toks {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok {
				return nil, fmt.Errorf("no %q", p)
			}
			cur = v
		case []any:
			i, err := arrayIndex(t, len(c), false)
			if err != nil {
				return nil, err
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("no %q", p)
		}
	}
	return cur, nil
}

// pointerSet sets (insert: adds, inserting into arrays) the value at p.
func pointerSet(doc any, p string, v any, insert bool) (any, error) {
	toks, err := pointerTokens(p)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return v, nil
	}
	parent, err := pointerGet(doc, "/"+strings.Join(escapeTokens(toks[:len(toks)-1]), "/"))
	if len(toks) == 1 {
		parent, err = doc, nil
	}
	if err != nil {
		return nil, err
	}
	last := toks[len(toks)-1]
	switch c := parent.(type) {
	case map[string]any:
		c[last] = v
		return doc, nil
	case []any:
		i, err := arrayIndex(last, len(c), insert)
		if err != nil {
			return nil, err
		}
		if !insert {
			c[i] = v
			return doc, nil
		}
		grown := append(c[:i:i], append([]any{v}, c[i:]...)...)
		if len(toks) == 1 {
			return grown, nil
		}
		return pointerSet(doc, "/"+strings.Join(escapeTokens(toks[:len(toks)-1]), "/"), grown, false)
	}
	return nil, fmt.Errorf("no parent for %q", p)
}

func pointerRemove(doc any, p string) (any, any, error) {
	toks, err := pointerTokens(p)
	if err != nil || len(toks) == 0 {
		return nil, nil, fmt.Errorf("cannot remove %q", p)
	}
	parentPath := "/" + strings.Join(escapeTokens(toks[:len(toks)-1]), "/")
	parent := doc
	if len(toks) > 1 {
		if parent, err = pointerGet(doc, parentPath); err != nil {
			return nil, nil, err
		}
	}
	last := toks[len(toks)-1]
	switch c := parent.(type) {
	case map[string]any:
		v, ok := c[last]
		if !ok {
			return nil, nil, fmt.Errorf("no %q", p)
		}
		delete(c, last)
		return doc, v, nil
	case []any:
		i, err := arrayIndex(last, len(c), false)
		if err != nil {
			return nil, nil, err
		}
		v := c[i]
		shrunk := append(c[:i:i], c[i+1:]...)
		if len(toks) == 1 {
			return shrunk, v, nil
		}
		doc, err = pointerSet(doc, parentPath, shrunk, false)
		return doc, v, err
	}
	return nil, nil, fmt.Errorf("no %q", p)
}

func escapeTokens(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
	}
	return out
}
