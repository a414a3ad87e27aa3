package manifest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// dnsSubdomain is the form of a custom resource's name (a lowercase RFC 1123
// subdomain), checked by the server's Go code rather than by the schema.
var dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

const dnsSubdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

// setCRDs indexes the CRDs of a set by the group and kind they define.
type setCRDs map[[2]string]Item

// crdsOf returns the CRDs among items.
func crdsOf(items []Item) setCRDs {
	m := setCRDs{}
	for _, it := range items {
		if isCRD(it.Ref) {
			m[[2]string{it.Object.Get("spec.group").String(), it.Object.Get("spec.names.kind").String()}] = it
		}
	}
	return m
}

// localCheck is a custom resource checked against a CRD of its set.
type localCheck struct {
	// object is the custom resource as it would be created: defaulted by
	// the CRD's schema, its namespace filled in.
	object unstructured.Object
	// note says how it was checked.
	note string
	// err is the *unstructured.ValidationError of an invalid object, or
	// why it could not be checked; causes are its field errors.
	err    error
	causes []transport.StatusCause
}

// checkLocally decides whether a dry run checks it client-side: when a CRD
// of the set defines its group and kind and the server does not serve that
// kind (the CRD is new, or its version is). It then validates the object
// against the CRD's schema. ok is false when the object goes to the server
// as usual.
func (e *Engine) checkLocally(ctx context.Context, crds setCRDs, it Item) (lc localCheck, ok bool) {
	if len(crds) == 0 || isCRD(it.Ref) {
		return localCheck{}, false
	}
	crd, found := crds[[2]string{it.Ref.Group(), it.Ref.Kind}]
	if !found {
		return localCheck{}, false
	}
	if _, err := e.handle(it).Resolve(ctx); !errors.Is(err, discovery.ErrUnknownResource) {
		return localCheck{}, false // served (or discovery failed: let the server say)
	}
	_, version, _ := strings.Cut(it.Ref.APIVersion, "/")
	lc.note = fmt.Sprintf("checked client-side against the CRD %s in this set, not by the server", crd.Ref.Name)
	served := false
	for _, v := range crd.Object.Get("spec.versions").Array() {
		if v.Get("name").String() == version && v.Get("served").Bool() {
			served = true
		}
	}
	if !served {
		lc.err = fmt.Errorf("dry run: the CRD %s in this set does not serve version %q of %s", crd.Ref.Name, version, it.Ref.Kind)
		return lc, true
	}
	schema, err := discovery.CompileCRDSchema(crd.Object, version)
	if err != nil {
		lc.err = fmt.Errorf("dry run: %w", err)
		return lc, true
	}
	obj := it.Object
	if it.Ref.Namespace != "" && obj.Namespace() != it.Ref.Namespace {
		if obj, err = obj.Set("metadata.namespace", it.Ref.Namespace); err != nil {
			lc.err = fmt.Errorf("dry run: %w", err)
			return lc, true
		}
	}
	var rules unstructured.RuleEvaluator
	if ev, err := celEval(); err == nil {
		rules = ev
	}
	hasStatus := false
	for _, v := range crd.Object.Get("spec.versions").Array() {
		if v.Get("name").String() == version {
			hasStatus = v.Get("subresources.status").Exists()
		}
	}
	res, err := unstructured.Validate(obj, schema, &unstructured.ValidateOptions{Rules: rules, ResetStatus: hasStatus})
	if err != nil {
		lc.err = fmt.Errorf("dry run: %w", err)
		return lc, true
	}
	if n := len(res.NotChecked); n > 0 {
		lc.note += fmt.Sprintf("; %d CEL rule(s) not checked client-side", n)
	}
	if n := obj.Name(); len(n) > 253 || !dnsSubdomain.MatchString(n) {
		// The server checks a custom resource's name by Go code, not by schema.
		res.Errors = append(res.Errors, &unstructured.FieldError{Stage: unstructured.StageSchema, Reason: unstructured.ReasonInvalid,
			Field: "metadata.name", Message: fmt.Sprintf("Invalid value: %q: %s", n, dnsSubdomainMsg)})
	}
	if verr := res.Err(); verr != nil {
		lc.err = fmt.Errorf("client-side validation: %w", verr)
		for _, fe := range res.Errors {
			lc.causes = append(lc.causes, transport.StatusCause{Type: fe.Reason, Field: fe.Field, Message: fe.Message})
		}
		return lc, true
	}
	if def, err := unstructured.Default(obj, schema); err == nil {
		obj = def
	}
	if hasStatus {
		// A create does not keep status when the kind has a status subresource.
		if o, err := obj.Delete("status"); err == nil {
			obj = o
		}
	}
	lc.object = obj
	return lc, true
}

// localResult turns a local check into a Result.
func (lc localCheck) result(r Result) Result {
	r.Note = lc.note
	if lc.err != nil {
		r.Action = Failed
		r.Err = lc.err
		r.Causes = lc.causes
		return r
	}
	r.Action = Created
	r.Object = lc.object
	return r
}
