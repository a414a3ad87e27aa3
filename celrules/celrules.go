// Package celrules evaluates the CEL rules of CustomResourceDefinition
// schemas (x-kubernetes-validations) client-side, with github.com/google/cel-go.
//
// Only standard CEL is evaluated, plus the cel-go extensions the API server
// also enables (strings version 2, sets, optional types). A rule that needs
// one of Kubernetes' own CEL libraries (quantity(), isURL(), ip(), cidr(),
// format, isSorted, sum, authz and the like) does not compile here: it is
// reported as not checked client-side (unstructured.ErrRuleNotChecked),
// never passed silently. Transition rules (those reading oldSelf) need the
// previous object, which the server has only on update: they are reported
// as not checked too.
//
// The package is separate from unstructured so that the leaf package does
// not carry cel-go and its dependencies (antlr, protobuf); resource wires it
// in (docs/architecture.md).
package celrules

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/kubedyn/kubedyn/unstructured"
)

// costLimit bounds one rule's evaluation, as the server bounds rule cost.
const costLimit = 10_000_000

// cacheSize is how many compiled rules an Evaluator keeps.
const cacheSize = 4096

// Evaluator compiles and evaluates rules, keeping compiled programs by rule
// text. It implements unstructured.RuleEvaluator. Safe for concurrent use.
type Evaluator struct {
	env   *cel.Env
	cache *lru.Cache[string, *compiled]
}

type compiled struct {
	prog cel.Program
	// notChecked is why the rule cannot be evaluated here; "" when it can.
	notChecked string
}

// New returns an Evaluator.
func New() (*Evaluator, error) {
	env, err := cel.NewEnv(
		cel.Variable("self", cel.DynType),
		cel.Variable("oldSelf", cel.DynType),
		ext.Strings(ext.StringsVersion(2)),
		ext.Sets(),
		cel.OptionalTypes(),
		cel.HomogeneousAggregateLiterals(),
		cel.DefaultUTCTimeZone(true),
	)
	if err != nil {
		return nil, fmt.Errorf("celrules: %w", err)
	}
	cache, err := lru.New[string, *compiled](cacheSize)
	if err != nil {
		return nil, fmt.Errorf("celrules: %w", err)
	}
	return &Evaluator{env: env, cache: cache}, nil
}

// compile returns the program of an expression, compiling it once.
func (e *Evaluator) compile(expr string) *compiled {
	if c, ok := e.cache.Get(expr); ok {
		return c
	}
	c := &compiled{}
	ast, iss := e.env.Compile(expr)
	if iss.Err() != nil {
		c.notChecked = notCheckedReason(iss.Err())
	} else {
		prog, err := e.env.Program(ast, cel.CostLimit(costLimit), cel.EvalOptions(cel.OptOptimize))
		if err != nil {
			c.notChecked = err.Error()
		} else {
			c.prog = prog
		}
	}
	e.cache.Add(expr, c)
	return c
}

// notCheckedReason words a compile error: an undeclared function or
// overload is one of Kubernetes' own libraries.
func notCheckedReason(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "undeclared reference") || strings.Contains(msg, "found no matching overload") {
		return "uses a CEL function of Kubernetes' own libraries: " + firstLine(msg)
	}
	return "does not compile client-side: " + firstLine(msg)
}

func firstLine(s string) string {
	s = strings.TrimPrefix(s, "ERROR: <input>:")
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// EvalRule evaluates rule with self bound to the value at s. It returns ""
// when the rule holds and the failure message when it does not (the
// messageExpression's value, else message, else "failed rule: <rule>").
func (e *Evaluator) EvalRule(rule *unstructured.ValidationRule, s *unstructured.Schema, self any) (string, error) {
	if strings.Contains(rule.Rule, "oldSelf") {
		return "", fmt.Errorf("%w: transition rule (reads oldSelf), checked by the server on update only: %s", unstructured.ErrRuleNotChecked, rule.Rule)
	}
	c := e.compile(rule.Rule)
	if c.prog == nil {
		return "", fmt.Errorf("%w: rule %s: %s", unstructured.ErrRuleNotChecked, rule.Rule, c.notChecked)
	}
	vars := map[string]any{"self": toCEL(self, s)}
	out, _, err := c.prog.Eval(vars)
	if err != nil {
		return "", fmt.Errorf("rule %s: %w", rule.Rule, err)
	}
	ok, isBool := out.Value().(bool)
	if !isBool {
		return "", fmt.Errorf("rule %s: evaluated to %v, not a bool", rule.Rule, out.Value())
	}
	if ok {
		return "", nil
	}
	if rule.MessageExpression != "" {
		if mc := e.compile(rule.MessageExpression); mc.prog != nil {
			if mv, _, err := mc.prog.Eval(vars); err == nil {
				if m, ok := mv.Value().(string); ok && strings.TrimSpace(m) != "" {
					return m, nil
				}
			}
		}
	}
	if rule.Message != "" {
		return rule.Message, nil
	}
	return "failed rule: " + rule.Rule, nil
}

// toCEL converts a decoded JSON value for CEL: numbers become int64 where
// the schema (or the literal) says integer, float64 otherwise.
func toCEL(x any, s *unstructured.Schema) any {
	switch t := x.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, v := range t {
			out[k] = toCEL(v, s.Property(k))
		}
		return out
	case []any:
		var items *unstructured.Schema
		if s != nil {
			items = s.Items
		}
		out := make([]any, len(t))
		for i, v := range t {
			out[i] = toCEL(v, items)
		}
		return out
	case json.Number:
		if s == nil || s.Type != "number" {
			if i, err := t.Int64(); err == nil {
				return i
			}
		}
		f, _ := t.Float64()
		if s != nil && s.Type == "integer" {
			// The server accepts 5.0 in an integer field but its CEL
			// values refuse it: a rule that reads it fails to evaluate.
			return types.NewErr("invalid data, expected int, got float64")
		}
		if s != nil && s.IntOrString && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f)
		}
		return f
	}
	return x
}

// Interface check.
var _ unstructured.RuleEvaluator = (*Evaluator)(nil)
