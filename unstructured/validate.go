package unstructured

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Stage is the step of the API server's request handling that reports a
// field error. The server's stages hide each other: it answers with the
// first stage that fails only. Validate checks all three in one pass.
type Stage int

const (
	// StageDecode: the body is decoded. Unknown fields (with
	// fieldValidation=Strict) and, for built-in kinds, values of the wrong
	// JSON type fail here; the server answers 400 BadRequest with no causes.
	StageDecode Stage = iota + 1
	// StageSchema: the object is validated against its schema (custom
	// resources) or by the kind's Go validation (built-in kinds); the server
	// answers 422 Invalid with one cause per error.
	StageSchema
	// StageRules: the x-kubernetes-validations CEL rules, which the server
	// evaluates only once the schema stage passes; 422 Invalid.
	StageRules
)

// String returns "decode", "schema" or "rules".
func (s Stage) String() string {
	switch s {
	case StageDecode:
		return "decode"
	case StageSchema:
		return "schema"
	case StageRules:
		return "rules"
	}
	return "stage(" + strconv.Itoa(int(s)) + ")"
}

// Cause reasons, as the server's metav1.StatusCause reasons name them.
// ReasonUnknownField and ReasonNotChecked are the client's own.
const (
	// ReasonInvalid: a value breaks a rule (range, pattern, format, CEL).
	ReasonInvalid = "FieldValueInvalid"
	// ReasonTypeInvalid: a value of the wrong JSON type.
	ReasonTypeInvalid = "FieldValueTypeInvalid"
	// ReasonRequired: a required field is missing.
	ReasonRequired = "FieldValueRequired"
	// ReasonNotSupported: a value outside the enum.
	ReasonNotSupported = "FieldValueNotSupported"
	// ReasonDuplicate: a repeated element of a set or key of a map list.
	ReasonDuplicate = "FieldValueDuplicate"
	// ReasonTooLong: a string longer than maxLength.
	ReasonTooLong = "FieldValueTooLong"
	// ReasonTooMany: more items or properties than allowed.
	ReasonTooMany = "FieldValueTooMany"
	// ReasonForbidden: a CEL rule with reason FieldValueForbidden failed.
	ReasonForbidden = "FieldValueForbidden"
	// ReasonUnknownField: a field the schema does not declare (the server's
	// strict decoding error "unknown field").
	ReasonUnknownField = "FieldValueUnknown"
	// ReasonNotChecked: a CEL rule the client cannot evaluate.
	ReasonNotChecked = "RuleNotChecked"
)

// FieldError is one problem with one field, phrased as the API server
// phrases its causes. FieldError values are plain data, safe to share.
type FieldError struct {
	// Stage is the server stage that reports the error.
	Stage Stage
	// Reason is the cause reason, such as FieldValueRequired.
	Reason string
	// Field is the path of the field, as the server writes it:
	// "spec.template.spec.containers[0].ports[1].containerPort".
	Field string
	// Message is the server's wording without the field:
	// `Unsupported value: "Foo": supported values: "A", "B"`.
	Message string
}

// Error returns "<field>: <message>".
func (e *FieldError) Error() string {
	f := e.Field
	if f == "" {
		f = "<root>"
	}
	return f + ": " + e.Message
}

// ErrInvalidObject is matched (errors.Is) by the *ValidationError of an
// object that fails validation.
var ErrInvalidObject = errors.New("object is invalid")

// ValidationError lists every field error of an object. It wraps
// ErrInvalidObject. Safe to share once returned.
type ValidationError struct {
	// Object names the object: "Widget default/a" or "Deployment web".
	Object string
	// Errors are the field errors, in stage order.
	Errors []*FieldError
}

// Error returns `<object> is invalid: [<field>: <message>, ...]`.
func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.Object != "" {
		b.WriteString(e.Object)
		b.WriteString(" ")
	}
	b.WriteString("is invalid: [")
	for i, fe := range e.Errors {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(fe.Error())
	}
	b.WriteString("]")
	return b.String()
}

// Unwrap returns ErrInvalidObject.
func (e *ValidationError) Unwrap() error { return ErrInvalidObject }

// ErrRuleNotChecked is wrapped by a RuleEvaluator's error for a rule it
// cannot evaluate (one that needs Kubernetes' own CEL libraries, such as
// quantity() or isURL()).
var ErrRuleNotChecked = errors.New("rule not checked client-side")

// RuleEvaluator evaluates x-kubernetes-validations rules. self is the value
// at the rule's schema node, decoded as by encoding/json with UseNumber
// (map[string]any, []any, string, json.Number, bool, nil). It returns ""
// and nil when the rule holds, the failure message when it does not, and an
// error wrapping ErrRuleNotChecked when it cannot evaluate the rule; any
// other error is reported as the server reports a rule that fails to
// evaluate. The package celrules provides one; implementations must be safe
// for concurrent use.
type RuleEvaluator interface {
	EvalRule(rule *ValidationRule, s *Schema, self any) (message string, err error)
}

// ValidateOptions tunes Validate. The zero value (or nil) checks everything
// but CEL rules, which are then all reported as not checked.
type ValidateOptions struct {
	// Rules evaluates CEL rules; nil reports every rule as not checked.
	Rules RuleEvaluator
	// ResetStatus says the request writes the main resource of a kind with
	// a status subresource (a create or update, not of /status): the
	// server then replaces status with the stored one before it validates,
	// so only what fails to decode in status counts (unknown fields, and
	// wrong types of built-in kinds).
	ResetStatus bool
	// NoDefaults skips the structural defaulting applied to custom
	// resources before they are checked (the server defaults them first, so
	// leave it false to agree with the server).
	NoDefaults bool
}

// ValidationResult is what Validate found. Plain data, safe to share.
type ValidationResult struct {
	// Errors are every field error, in stage order (decode, schema, rules),
	// each stage's errors in document order.
	Errors []*FieldError
	// NotChecked lists the CEL rules that could not be evaluated
	// client-side; the server may still reject the object for them.
	NotChecked []*FieldError
	object     string
}

// Err returns nil when there are no errors, else a *ValidationError.
func (r *ValidationResult) Err() error {
	if r == nil || len(r.Errors) == 0 {
		return nil
	}
	return &ValidationError{Object: r.object, Errors: r.Errors}
}

// ServerAnswer returns the errors the server's first answer would report:
// the decode stage's when there are any (400, which names unknown fields
// but only the first wrong type); else the schema stage's together with
// the rules' (422), unless a schema error is a wrong type or a value
// outside an enum, which make the server skip every rule of the object.
func (r *ValidationResult) ServerAnswer() []*FieldError {
	if d := r.Stage(StageDecode); len(d) > 0 {
		return d
	}
	schema := r.Stage(StageSchema)
	for _, e := range schema {
		if e.Reason == ReasonTypeInvalid || e.Reason == ReasonNotSupported {
			return schema
		}
	}
	return append(schema, r.Stage(StageRules)...)
}

// Stage returns the errors of one stage.
func (r *ValidationResult) Stage(st Stage) []*FieldError {
	var out []*FieldError
	for _, e := range r.Errors {
		if e.Stage == st {
			out = append(out, e)
		}
	}
	return out
}

// Validate checks obj against s, the schema of its kind, the way the API
// server does with fieldValidation=Strict, and returns every error of all
// three server stages at once (the server reports only the first stage
// that fails): unknown fields, wrong types, required fields, enum, pattern,
// length, item and property counts, ranges, the formats Kubernetes uses,
// nullable, x-kubernetes-int-or-string, -preserve-unknown-fields,
// -embedded-resource, list-type set and map uniqueness, and CEL rules when
// opts.Rules is set. Custom resources are defaulted (in a copy) first, as
// the server defaults before it validates.
//
// Kinds built into the server are validated by Go code the schema only
// partly describes (name formats, cross-field rules): the schema's share is
// checked, the rest is the server's. The error is non-nil only when s is nil.
func Validate(obj Object, s *Schema, opts *ValidateOptions) (*ValidationResult, error) {
	if s == nil {
		return nil, errors.New("validate: no schema")
	}
	var o ValidateOptions
	if opts != nil {
		o = *opts
	}
	root, err := decodeTree(obj.raw)
	if err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	if s.Custom && !o.NoDefaults {
		root = applyDefaults(root, s)
	}
	v := &validator{rules: o.Rules, custom: s.Custom, resetStatus: o.ResetStatus}
	v.value("", root, s, true)
	sort.SliceStable(v.errs, func(i, j int) bool { return v.errs[i].Stage < v.errs[j].Stage })
	return &ValidationResult{Errors: v.errs, NotChecked: v.notChecked, object: objectName(obj)}, nil
}

func objectName(obj Object) string {
	kind := obj.Get("kind").String()
	name := obj.Get("metadata.name").String()
	if ns := obj.Get("metadata.namespace").String(); ns != "" && name != "" {
		name = ns + "/" + name
	}
	return strings.TrimSpace(kind + " " + name)
}

// decodeTree decodes JSON with numbers kept as json.Number.
func decodeTree(raw string) (any, error) {
	d := json.NewDecoder(strings.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

type validator struct {
	rules       RuleEvaluator
	custom      bool
	resetStatus bool
	errs        []*FieldError
	notChecked  []*FieldError
	// blocking counts the errors that keep CEL rules from running over a
	// value: wrong types and missing required fields, which would make a
	// rule fail to evaluate rather than check. Other schema errors (enum,
	// range, pattern) leave rules running, so one pass reports what the
	// server shows only once the schema passes.
	blocking int
}

func (v *validator) add(st Stage, reason, field, msg string) {
	v.errs = append(v.errs, &FieldError{Stage: st, Reason: reason, Field: field, Message: msg})
	if reason == ReasonTypeInvalid || reason == ReasonRequired && st != StageRules {
		v.blocking++
	}
}

func child(p, name string) string {
	if p == "" {
		return name
	}
	return p + "." + name
}

func index(p string, i int) string { return p + "[" + strconv.Itoa(i) + "]" }

// jsonType names the JSON type of a decoded value as the server does.
func jsonType(x any) string {
	switch n := x.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if isInteger(n) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

func isInteger(n json.Number) bool {
	if _, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return true
	}
	f, err := strconv.ParseFloat(string(n), 64)
	return err == nil && f == math.Trunc(f) && !strings.ContainsAny(string(n), ".eE")
}

// isIntegral reports whether n is a whole number however it is written.
func isIntegral(n json.Number) bool {
	f, err := strconv.ParseFloat(string(n), 64)
	return err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53
}

// show renders a value the way the server's "Invalid value: ..." does.
func show(x any) string {
	switch t := x.(type) {
	case string:
		return strconv.Quote(t)
	case json.Number:
		return string(t)
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(t)
	}
	return canonical(x)
}

// canonical is x as compact JSON with sorted keys.
func canonical(x any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return fmt.Sprint(x)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// typeStage is where a wrong JSON type is reported: built-in kinds fail to
// decode into their Go types.
func (v *validator) typeStage() Stage {
	if v.custom {
		return StageSchema
	}
	return StageDecode
}

// value checks x at path p against s and reports whether the subtree is
// fit for CEL rules (no type errors, no missing required fields).
func (v *validator) value(p string, x any, s *Schema, root bool) bool {
	if s == nil {
		return true
	}
	before := v.blocking
	if x == nil {
		if s.Nullable || !v.custom || s.allowsAnyField() && s.Type == "" {
			return true
		}
		want := s.Type
		if s.IntOrString {
			want = "integer"
		}
		v.add(StageSchema, ReasonTypeInvalid, p, fmt.Sprintf("Invalid value: \"null\": %s in body must be of type %s: \"null\"", bodyPath(p), want))
		return false
	}
	if !v.checkType(p, x, s) {
		if m, ok := x.(map[string]any); ok && v.custom && len(s.Properties) == 0 && !s.allowsAnyField() {
			// The server's pruning walks an object the schema does not
			// expect and reports each of its fields as unknown.
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				v.add(StageDecode, ReasonUnknownField, child(p, k), `unknown field "`+child(p, k)+`"`)
			}
		}
		return false
	}
	switch t := x.(type) {
	case map[string]any:
		v.object(p, t, s, root)
	case []any:
		v.array(p, t, s)
	case string:
		v.str(p, t, s)
	case json.Number:
		v.number(p, t, s)
	}
	if len(s.Enum) > 0 {
		c := canonical(x)
		found := false
		for _, e := range s.Enum {
			if e == c {
				found = true
				break
			}
		}
		if !found {
			v.add(StageSchema, ReasonNotSupported, p, "Unsupported value: "+show(x)+": supported values: "+strings.Join(s.Enum, ", "))
		}
	}
	v.combinators(p, x, s)
	ok := v.blocking == before
	if ok && len(s.Validations) > 0 {
		v.checkRules(p, x, s)
	}
	return ok
}

// checkType reports a value of the wrong JSON type.
func (v *validator) checkType(p string, x any, s *Schema) bool {
	got := jsonType(x)
	want := s.Type
	if n, ok := x.(json.Number); ok && got == "number" && v.custom && isIntegral(n) {
		// Custom resources are decoded into float64 first: 5.0 and 1e1
		// are integers to the server (built-in kinds refuse them).
		got = "integer"
	}
	if s.IntOrString || s.Format == "int-or-string" {
		if got == "integer" || got == "string" {
			return true
		}
		v.add(v.typeStage(), ReasonTypeInvalid, p, fmt.Sprintf("Invalid value: %q: %s in body must be of type integer,string: %s", got, bodyPath(p), show(x)))
		return false
	}
	if s.Format == "quantity" {
		switch t := x.(type) {
		case json.Number:
			return true
		case string:
			if _, err := ParseQuantity(t); err != nil {
				v.add(StageDecode, ReasonInvalid, p, fmt.Sprintf("Invalid value: %s: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'", show(x)))
				return false
			}
			return true
		}
		v.add(StageDecode, ReasonTypeInvalid, p, fmt.Sprintf("Invalid value: %q: %s in body must be of type quantity: %s", got, bodyPath(p), show(x)))
		return false
	}
	ok := false
	switch want {
	case "":
		return true
	case "number":
		ok = got == "number" || got == "integer"
	default:
		ok = got == want
	}
	if !ok {
		v.add(v.typeStage(), ReasonTypeInvalid, p, fmt.Sprintf("Invalid value: %q: %s in body must be of type %s: %s", got, bodyPath(p), want, show(x)))
	}
	return ok
}

// bodyPath is the path as it appears inside the server's messages.
func bodyPath(p string) string {
	if p == "" {
		return "body"
	}
	return p
}

func (v *validator) object(p string, m map[string]any, s *Schema, root bool) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cs, ok := s.Properties[k]
		if !ok && s.EmbeddedResource {
			cs, ok = embeddedProperties[k]
		}
		if !ok && s.AdditionalProperties != nil {
			cs, ok = s.AdditionalProperties, true
		}
		if !ok && root {
			cs, ok = embeddedProperties[k]
		}
		if !ok {
			if !s.allowsAnyField() {
				v.add(StageDecode, ReasonUnknownField, child(p, k), `unknown field "`+child(p, k)+`"`)
			}
			continue
		}
		if root && k == "status" && v.resetStatus {
			w := &validator{custom: v.custom}
			w.value(k, m[k], cs, false)
			for _, e := range w.errs {
				if e.Stage == StageDecode {
					v.add(e.Stage, e.Reason, e.Field, e.Message)
				}
			}
			continue
		}
		v.value(child(p, k), m[k], cs, false)
	}
	for _, r := range s.Required {
		if _, ok := m[r]; !ok {
			v.add(StageSchema, ReasonRequired, child(p, r), "Required value")
		}
	}
	if s.EmbeddedResource {
		for _, r := range []string{"apiVersion", "kind"} {
			switch str, present := m[r]; {
			case !present:
				v.add(StageSchema, ReasonRequired, child(p, r), "Required value: must not be empty")
			case str == "":
				v.add(StageSchema, ReasonInvalid, child(p, r), `Invalid value: "": must not be empty`)
			}
		}
	}
	n := int64(len(m))
	if s.MaxProperties != nil && n > *s.MaxProperties {
		v.add(StageSchema, ReasonTooMany, p, fmt.Sprintf("Too many: %d: must have at most %d items", n, *s.MaxProperties))
	}
	if s.MinProperties != nil && n < *s.MinProperties {
		v.add(StageSchema, ReasonInvalid, p, fmt.Sprintf("Invalid value: %d: %s in body should have at least %d properties", n, bodyPath(p), *s.MinProperties))
	}
}

func (v *validator) array(p string, a []any, s *Schema) {
	n := int64(len(a))
	if s.MaxItems != nil && n > *s.MaxItems {
		v.add(StageSchema, ReasonTooMany, p, fmt.Sprintf("Too many: %d: must have at most %d items", n, *s.MaxItems))
	}
	if s.MinItems != nil && n < *s.MinItems {
		v.add(StageSchema, ReasonInvalid, p, fmt.Sprintf("Invalid value: %d: %s in body should have at least %d items", n, bodyPath(p), *s.MinItems))
	}
	for i, x := range a {
		v.value(index(p, i), x, s.Items, false)
	}
	if !v.custom {
		// Built-in kinds: the server's Go validation decides which lists
		// must be unique (Service ports are, container ports are not).
		return
	}
	switch s.ListType {
	case "set":
		seen := make(map[string]bool, len(a))
		for i, x := range a {
			c := canonical(x)
			if seen[c] {
				// The server reports the first duplicate of a set.
				v.add(StageSchema, ReasonDuplicate, index(p, i), "Duplicate value: "+show(x))
				return
			}
			seen[c] = true
		}
	case "map":
		if len(s.ListMapKeys) == 0 {
			return
		}
		seen := make(map[string]bool, len(a))
		for i, x := range a {
			m, ok := x.(map[string]any)
			if !ok {
				continue
			}
			key := make(map[string]any, len(s.ListMapKeys))
			for _, k := range s.ListMapKeys {
				if kv, ok := m[k]; ok {
					key[k] = kv
				} else if d := s.Items.Property(k); d != nil && d.Default != "" {
					dv, err := decodeTree(d.Default)
					if err == nil {
						key[k] = dv
					}
				}
			}
			c := canonical(key)
			if seen[c] {
				// The server reports the first duplicate of a map list.
				v.add(StageSchema, ReasonDuplicate, index(p, i), "Duplicate value: "+c)
				return
			}
			seen[c] = true
		}
	}
}

func (v *validator) str(p, x string, s *Schema) {
	if s.MaxLength != nil && int64(utf8.RuneCountInString(x)) > *s.MaxLength {
		v.add(StageSchema, ReasonTooLong, p, fmt.Sprintf("Too long: may not be more than %d bytes", *s.MaxLength))
	}
	if s.MinLength != nil && int64(utf8.RuneCountInString(x)) < *s.MinLength {
		v.add(StageSchema, ReasonInvalid, p, fmt.Sprintf("Invalid value: %s: %s in body should be at least %d chars long", show(x), bodyPath(p), *s.MinLength))
	}
	if s.Pattern != "" {
		if re, err := s.pattern(); err == nil && !re.MatchString(x) {
			v.add(StageSchema, ReasonInvalid, p, fmt.Sprintf("Invalid value: %s: %s in body should match '%s'", show(x), bodyPath(p), s.Pattern))
		}
	}
	if !formatOK(s.Format, x) {
		st := StageSchema
		if !v.custom {
			st = StageDecode
		}
		v.add(st, ReasonTypeInvalid, p, fmt.Sprintf("Invalid value: %s: %s in body must be of type %s: %s", show(x), bodyPath(p), s.Format, show(x)))
	}
}

// formatOK checks the string formats Kubernetes uses.
func formatOK(format, x string) bool {
	switch format {
	case "date-time":
		_, err := time.Parse(time.RFC3339Nano, x)
		return err == nil
	case "date":
		_, err := time.Parse(time.DateOnly, x)
		return err == nil
	case "byte":
		_, err := base64.StdEncoding.DecodeString(x)
		return err == nil
	case "duration":
		return isDuration(x)
	case "quantity":
		_, err := ParseQuantity(x)
		return err == nil
	}
	return true
}

// durationUnits are the unit spellings the server's duration format takes
// besides Go's own (strfmt): a unit matches its listed forms exactly or,
// for the last form, as a prefix ("minutes", "hours").
var durationUnits = [][]string{
	{"ns", "nano"}, {"us", "µs", "micro"}, {"ms", "milli"}, {"s", "sec"},
	{"m", "min"}, {"h", "hr", "hour"}, {"d", "day"}, {"w", "wk", "week"},
}

var durationTerm = regexp.MustCompile(`((\d+)\s*([A-Za-zµ]+))`)

// isDuration accepts what the server's "duration" format accepts: a Go
// duration, or terms such as "5 minutes" or "1 day 2h".
func isDuration(x string) bool {
	if _, err := time.ParseDuration(x); err == nil {
		return true
	}
	for _, m := range durationTerm.FindAllStringSubmatch(x, -1) {
		unit := strings.ToLower(strings.TrimSpace(m[3]))
		for _, forms := range durationUnits {
			for i, f := range forms {
				if unit == f || i == len(forms)-1 && strings.HasPrefix(unit, f) {
					return true
				}
			}
		}
	}
	return false
}

func (v *validator) number(p string, n json.Number, s *Schema) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return
	}
	if s.Format == "int32" && isInteger(n) && (f > math.MaxInt32 || f < math.MinInt32) && !v.custom {
		v.add(StageDecode, ReasonTypeInvalid, p, fmt.Sprintf("Invalid value: %s: %s in body must be of type int32", n, bodyPath(p)))
	}
	if s.Maximum != nil {
		if s.ExclusiveMaximum && f >= *s.Maximum {
			v.add(StageSchema, ReasonInvalid, p, fmt.Sprintf("Invalid value: %s: %s in body should be less than %s", n, bodyPath(p), fnum(*s.Maximum)))
		} else if f > *s.Maximum {
			v.add(StageSchema, ReasonInvalid, p, fmt.Sprintf("Invalid value: %s: %s in body should be less than or equal to %s", n, bodyPath(p), fnum(*s.Maximum)))
		}
	}
	if s.Minimum != nil {
		if s.ExclusiveMinimum && f <= *s.Minimum {
			v.add(StageSchema, ReasonInvalid, p, fmt.Sprintf("Invalid value: %s: %s in body should be greater than %s", n, bodyPath(p), fnum(*s.Minimum)))
		} else if f < *s.Minimum {
			v.add(StageSchema, ReasonInvalid, p, fmt.Sprintf("Invalid value: %s: %s in body should be greater than or equal to %s", n, bodyPath(p), fnum(*s.Minimum)))
		}
	}
	if s.MultipleOf != nil && *s.MultipleOf != 0 {
		if q := f / *s.MultipleOf; q != math.Trunc(q) {
			v.add(StageSchema, ReasonInvalid, p, fmt.Sprintf("Invalid value: %s: %s in body should be a multiple of %s", n, bodyPath(p), fnum(*s.MultipleOf)))
		}
	}
}

func fnum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// combinators applies allOf, anyOf, oneOf and not as value validations.
func (v *validator) combinators(p string, x any, s *Schema) {
	sub := func(cs *Schema) bool {
		w := &validator{custom: v.custom}
		return w.value(p, x, cs, false) && len(w.errs) == 0
	}
	for _, cs := range s.AllOf {
		w := &validator{custom: v.custom}
		w.value(p, x, cs, false)
		for _, e := range w.errs {
			if e.Reason != ReasonUnknownField {
				v.add(e.Stage, e.Reason, e.Field, e.Message)
			}
		}
	}
	if len(s.AnyOf) > 0 {
		ok := false
		for _, cs := range s.AnyOf {
			if sub(cs) {
				ok = true
				break
			}
		}
		if !ok {
			v.add(StageSchema, ReasonInvalid, p, fmt.Sprintf("Invalid value: %s: %s in body must validate at least one schema (anyOf)", show(x), bodyPath(p)))
		}
	}
	if len(s.OneOf) > 0 {
		n := 0
		for _, cs := range s.OneOf {
			if sub(cs) {
				n++
			}
		}
		if n != 1 {
			v.add(StageSchema, ReasonInvalid, p, fmt.Sprintf("Invalid value: %s: %s in body must validate one and only one schema (oneOf)", show(x), bodyPath(p)))
		}
	}
	if s.Not != nil && sub(s.Not) {
		v.add(StageSchema, ReasonInvalid, p, fmt.Sprintf("Invalid value: %s: %s in body must not validate the schema (not)", show(x), bodyPath(p)))
	}
}

func (v *validator) checkRules(p string, x any, s *Schema) {
	for i := range s.Validations {
		r := &s.Validations[i]
		field := p
		if r.FieldPath != "" {
			field = strings.TrimPrefix(p+r.FieldPath, ".")
		}
		if v.rules == nil {
			v.notChecked = append(v.notChecked, &FieldError{Stage: StageRules, Reason: ReasonNotChecked, Field: field,
				Message: "rule not checked client-side (no CEL evaluator): " + r.Rule})
			continue
		}
		msg, err := v.rules.EvalRule(r, s, x)
		if errors.Is(err, ErrRuleNotChecked) {
			v.notChecked = append(v.notChecked, &FieldError{Stage: StageRules, Reason: ReasonNotChecked, Field: field, Message: err.Error()})
			continue
		}
		if err != nil {
			v.add(StageRules, ReasonInvalid, field, "Invalid value: "+show(x)+": "+err.Error())
			continue
		}
		if msg == "" {
			continue
		}
		reason := r.Reason
		if reason == "" {
			reason = ReasonInvalid
		}
		v.add(StageRules, reason, field, ruleMessage(reason, x, msg))
	}
}

// ruleMessage words a failed rule as the server does for its reason.
func ruleMessage(reason string, x any, msg string) string {
	switch reason {
	case ReasonRequired:
		return "Required value: " + msg
	case ReasonForbidden:
		return "Forbidden: " + msg
	case ReasonDuplicate:
		return "Duplicate value: " + msg
	}
	switch x.(type) {
	case map[string]any, []any:
		return "Invalid value: " + msg
	}
	return "Invalid value: " + show(x) + ": " + msg
}
