package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/tidwall/gjson"

	"github.com/kubedyn/kubedyn/celrules"
	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/unstructured"
)

// Status is how far an object is from ready, in kstatus's words.
type Status string

// The statuses.
const (
	// Current: the object is ready (rolled out, available, complete, bound,
	// established, ...).
	StatusCurrent Status = "Current"
	// InProgress: not ready yet.
	StatusInProgress Status = "InProgress"
	// Failed: it will not become ready without a change (a Job that failed,
	// a Deployment past its progress deadline, a condition that says so).
	StatusFailed Status = "Failed"
	// Terminating: it is being deleted.
	StatusTerminating Status = "Terminating"
	// NotFound: it does not exist.
	StatusNotFound Status = "NotFound"
	// Unknown: it could not be read (Err says why) or the wait ended first.
	StatusUnknown Status = "Unknown"
)

// Rule decides readiness for one kind, in place of the built-in rules: the
// object is Failed when Failed matches, else Current when Current matches,
// else InProgress. Paths are gjson paths on the object. A Rule is a plain
// value.
type Rule struct {
	// Group and Kind select the objects ("" is the core group).
	Group, Kind string
	// Condition, when set, is a condition type that must be True (with an
	// observedGeneration, if it has one, equal to the generation) for
	// Current; False with FailedReasons' reasons (any reason when
	// FailedReasons is empty and FailedOnFalse) is Failed.
	Condition string
	// FailedOnFalse makes Condition False mean Failed rather than InProgress.
	FailedOnFalse bool
	// Current is a gjson path that must yield CurrentValue (or, with
	// CurrentValue empty, a truthy value: true, a non-zero number, a
	// non-empty string other than "False" and "false").
	Current      string
	CurrentValue string
	// Failed is a gjson path that, when it yields FailedValue (or a truthy
	// value when FailedValue is empty), makes the object Failed.
	Failed      string
	FailedValue string
	// CurrentCEL and FailedCEL are CEL expressions (standard CEL, as
	// package celrules evaluates) over the whole object as self, such as
	// `self.status.phase == "Ready" && self.status.observedGeneration == self.metadata.generation`.
	// Each must give a bool. An expression that reads a field the object
	// does not have yet counts as false; one that does not compile fails the
	// wait for the objects of the kind.
	CurrentCEL string
	FailedCEL  string
}

func (r Rule) matches(group, kind string) bool { return r.Group == group && r.Kind == kind }

// verdict is the result of one evaluation.
type verdict struct {
	status  Status
	message string
	// noStatus: a custom resource without any status yet.
	noStatus bool
}

// Evaluate computes obj's status with the built-in rules, or with the first
// of rules that matches its group and kind. It is a pure function of the
// object: the time-based refinements of a wait (the grace period of a
// custom resource without status, how long Failed must last) are Wait's.
func Evaluate(obj unstructured.Object, rules []Rule) (Status, string) {
	v := evaluate(obj, rules)
	return v.status, v.message
}

func truthy(r gjson.Result, want string) bool {
	if !r.Exists() {
		return false
	}
	if want != "" {
		return r.String() == want
	}
	switch r.Type {
	case gjson.True:
		return true
	case gjson.Number:
		return r.Num != 0
	case gjson.String:
		return r.Str != "" && !strings.EqualFold(r.Str, "false")
	case gjson.JSON:
		return r.Raw != "{}" && r.Raw != "[]"
	}
	return false
}

// condition finds a condition by type.
func condition(obj unstructured.Object, typ string) (gjson.Result, bool) {
	var found gjson.Result
	ok := false
	obj.Get("status.conditions").ForEach(func(_, c gjson.Result) bool {
		if c.Get("type").String() == typ {
			found, ok = c, true
			return false
		}
		return true
	})
	return found, ok
}

// condStale reports whether a condition was written for an older generation.
func condStale(obj unstructured.Object, c gjson.Result) bool {
	og := c.Get("observedGeneration")
	return og.Exists() && og.Int() < obj.Generation()
}

func condMsg(c gjson.Result) string {
	s := c.Get("type").String() + "=" + c.Get("status").String()
	if r := c.Get("reason").String(); r != "" {
		s += " (" + r + ")"
	}
	if m := c.Get("message").String(); m != "" {
		s += ": " + m
	}
	return s
}

func evaluate(obj unstructured.Object, rules []Rule) verdict {
	if obj.IsZero() {
		return verdict{status: StatusNotFound, message: "not found"}
	}
	if obj.IsDeleting() {
		return verdict{status: StatusTerminating, message: "being deleted"}
	}
	gvk, _ := obj.GroupVersionKind()
	for _, r := range rules {
		if r.matches(gvk.Group, gvk.Kind) {
			return evalRule(obj, r)
		}
	}
	// An observedGeneration behind the generation means the controller has
	// not seen the latest spec.
	if og := obj.Get("status.observedGeneration"); og.Exists() && og.Int() < obj.Generation() {
		return verdict{status: StatusInProgress, message: fmt.Sprintf("observedGeneration %d behind generation %d", og.Int(), obj.Generation())}
	}
	switch gvk.Group + "/" + gvk.Kind {
	case "apps/Deployment":
		return deploymentStatus(obj)
	case "apps/StatefulSet":
		return statefulSetStatus(obj)
	case "apps/DaemonSet":
		return daemonSetStatus(obj)
	case "apps/ReplicaSet", "/ReplicationController":
		return replicaSetStatus(obj)
	case "batch/Job":
		return jobStatus(obj)
	case "/Pod":
		return podStatus(obj)
	case "/PersistentVolumeClaim":
		if p := obj.Get("status.phase").String(); p != "Bound" {
			return verdict{status: StatusInProgress, message: "phase " + orNone(p)}
		}
		return verdict{status: StatusCurrent, message: "Bound"}
	case "/Service":
		if obj.Get("spec.type").String() == "LoadBalancer" && len(obj.Get("status.loadBalancer.ingress").Array()) == 0 {
			return verdict{status: StatusInProgress, message: "no load balancer address yet"}
		}
		return verdict{status: StatusCurrent, message: "Service ready"}
	case "apiextensions.k8s.io/CustomResourceDefinition":
		if c, ok := condition(obj, "NamesAccepted"); ok && c.Get("status").String() == "False" {
			return verdict{status: StatusFailed, message: condMsg(c)}
		}
		if c, ok := condition(obj, "Established"); ok && c.Get("status").String() == "True" {
			return verdict{status: StatusCurrent, message: "Established"}
		}
		return verdict{status: StatusInProgress, message: "not Established yet"}
	case "/Namespace":
		if p := obj.Get("status.phase").String(); p == "Terminating" {
			return verdict{status: StatusTerminating, message: "Terminating"}
		}
		return verdict{status: StatusCurrent, message: "Active"}
	}
	return genericStatus(obj, gvk)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// genericStatus is for every other kind: conditions if any; a custom
// resource without status is noStatus (InProgress for a grace period).
func genericStatus(obj unstructured.Object, gvk unstructured.GroupVersionKind) verdict {
	st := obj.Get("status")
	if !st.Exists() || st.Raw == "{}" {
		if discovery.IsBuiltinGroup(gvk.Group) {
			return verdict{status: StatusCurrent, message: "no status to wait for"}
		}
		return verdict{status: StatusInProgress, message: "no status yet", noStatus: true}
	}
	// Conditions written for an older generation say nothing about this one.
	for _, typ := range []string{"Stalled", "Failed"} {
		if c, ok := condition(obj, typ); ok && !condStale(obj, c) && c.Get("status").String() == "True" {
			return verdict{status: StatusFailed, message: condMsg(c)}
		}
	}
	if c, ok := condition(obj, "Reconciling"); ok && c.Get("status").String() == "True" {
		return verdict{status: StatusInProgress, message: condMsg(c)}
	}
	for _, typ := range []string{"Ready", "Available", "Succeeded"} {
		c, ok := condition(obj, typ)
		if !ok {
			continue
		}
		if condStale(obj, c) {
			return verdict{status: StatusInProgress, message: fmt.Sprintf("%s written for generation %d, object at %d", typ, c.Get("observedGeneration").Int(), obj.Generation())}
		}
		switch c.Get("status").String() {
		case "True":
			return verdict{status: StatusCurrent, message: condMsg(c)}
		case "False":
			if isFailureReason(c.Get("reason").String()) {
				return verdict{status: StatusFailed, message: condMsg(c)}
			}
			return verdict{status: StatusInProgress, message: condMsg(c)}
		default: // StatusUnknown is never ready
			return verdict{status: StatusInProgress, message: condMsg(c)}
		}
	}
	// Any condition with status Unknown means something is still undecided.
	unknown := ""
	obj.Get("status.conditions").ForEach(func(_, c gjson.Result) bool {
		if c.Get("status").String() == "Unknown" {
			unknown = condMsg(c)
			return false
		}
		return true
	})
	if unknown != "" {
		return verdict{status: StatusInProgress, message: unknown}
	}
	return verdict{status: StatusCurrent, message: "status has no condition against readiness"}
}

// isFailureReason tells reasons that mean a condition failed for good.
func isFailureReason(reason string) bool {
	r := strings.ToLower(reason)
	for _, w := range []string{"fail", "error", "invalid", "denied", "backoff", "deadlineexceeded"} {
		if strings.Contains(r, w) {
			return true
		}
	}
	return false
}

func evalRule(obj unstructured.Object, r Rule) verdict {
	if r.Failed != "" && truthy(obj.Get(r.Failed), r.FailedValue) {
		return verdict{status: StatusFailed, message: fmt.Sprintf("%s is %s", r.Failed, obj.Get(r.Failed).String())}
	}
	if r.FailedCEL != "" {
		if ok, _ := evalCEL(r.FailedCEL, obj); ok {
			return verdict{status: StatusFailed, message: "CEL " + r.FailedCEL}
		}
	}
	if r.CurrentCEL != "" {
		if ok, err := evalCEL(r.CurrentCEL, obj); !ok {
			msg := "CEL " + r.CurrentCEL + " is false"
			if err != nil {
				msg = "CEL " + r.CurrentCEL + ": " + err.Error()
			}
			return verdict{status: StatusInProgress, message: msg}
		}
	}
	if r.Condition != "" {
		c, ok := condition(obj, r.Condition)
		switch {
		case !ok:
			return verdict{status: StatusInProgress, message: "no " + r.Condition + " condition yet"}
		case condStale(obj, c):
			return verdict{status: StatusInProgress, message: r.Condition + " written for an older generation"}
		case c.Get("status").String() == "False" && r.FailedOnFalse:
			return verdict{status: StatusFailed, message: condMsg(c)}
		case c.Get("status").String() != "True":
			return verdict{status: StatusInProgress, message: condMsg(c)}
		}
	}
	if r.Current != "" && !truthy(obj.Get(r.Current), r.CurrentValue) {
		return verdict{status: StatusInProgress, message: fmt.Sprintf("%s is %q", r.Current, obj.Get(r.Current).String())}
	}
	return verdict{status: StatusCurrent, message: "rule satisfied"}
}

func specReplicas(obj unstructured.Object) int64 {
	if r := obj.Get("spec.replicas"); r.Exists() {
		return r.Int()
	}
	return 1
}

func deploymentStatus(obj unstructured.Object) verdict {
	if c, ok := condition(obj, "Progressing"); ok && c.Get("reason").String() == "ProgressDeadlineExceeded" {
		return verdict{status: StatusFailed, message: condMsg(c)}
	}
	if !obj.Get("status.observedGeneration").Exists() {
		return verdict{status: StatusInProgress, message: "not observed by the controller yet"}
	}
	want := specReplicas(obj)
	st := obj.Get("status")
	switch {
	case st.Get("updatedReplicas").Int() < want:
		return verdict{status: StatusInProgress, message: fmt.Sprintf("%d of %d replicas updated", st.Get("updatedReplicas").Int(), want)}
	case st.Get("replicas").Int() > st.Get("updatedReplicas").Int():
		return verdict{status: StatusInProgress, message: fmt.Sprintf("%d old replicas pending termination", st.Get("replicas").Int()-st.Get("updatedReplicas").Int())}
	case st.Get("availableReplicas").Int() < want:
		return verdict{status: StatusInProgress, message: fmt.Sprintf("%d of %d replicas available", st.Get("availableReplicas").Int(), want)}
	}
	if c, ok := condition(obj, "Available"); ok && c.Get("status").String() != "True" {
		return verdict{status: StatusInProgress, message: condMsg(c)}
	}
	return verdict{status: StatusCurrent, message: fmt.Sprintf("%d replicas available", want)}
}

func statefulSetStatus(obj unstructured.Object) verdict {
	if !obj.Get("status.observedGeneration").Exists() {
		return verdict{status: StatusInProgress, message: "not observed by the controller yet"}
	}
	want := specReplicas(obj)
	st := obj.Get("status")
	switch {
	case st.Get("readyReplicas").Int() < want:
		return verdict{status: StatusInProgress, message: fmt.Sprintf("%d of %d replicas ready", st.Get("readyReplicas").Int(), want)}
	case obj.Get("spec.updateStrategy.type").String() != "OnDelete" && st.Get("updateRevision").String() != st.Get("currentRevision").String():
		return verdict{status: StatusInProgress, message: fmt.Sprintf("%d of %d replicas updated", st.Get("updatedReplicas").Int(), want)}
	}
	return verdict{status: StatusCurrent, message: fmt.Sprintf("%d replicas ready", want)}
}

func daemonSetStatus(obj unstructured.Object) verdict {
	if !obj.Get("status.observedGeneration").Exists() {
		return verdict{status: StatusInProgress, message: "not observed by the controller yet"}
	}
	st := obj.Get("status")
	want := st.Get("desiredNumberScheduled").Int()
	for _, f := range []string{"updatedNumberScheduled", "numberAvailable", "numberReady"} {
		if st.Get(f).Int() < want {
			return verdict{status: StatusInProgress, message: fmt.Sprintf("%s %d of %d", f, st.Get(f).Int(), want)}
		}
	}
	return verdict{status: StatusCurrent, message: fmt.Sprintf("%d pods available", want)}
}

func replicaSetStatus(obj unstructured.Object) verdict {
	if c, ok := condition(obj, "ReplicaFailure"); ok && c.Get("status").String() == "True" {
		return verdict{status: StatusFailed, message: condMsg(c)}
	}
	if !obj.Get("status.observedGeneration").Exists() {
		return verdict{status: StatusInProgress, message: "not observed by the controller yet"}
	}
	want := specReplicas(obj)
	st := obj.Get("status")
	if st.Get("availableReplicas").Int() < want || st.Get("readyReplicas").Int() < want {
		return verdict{status: StatusInProgress, message: fmt.Sprintf("%d of %d replicas available", st.Get("availableReplicas").Int(), want)}
	}
	return verdict{status: StatusCurrent, message: fmt.Sprintf("%d replicas available", want)}
}

func jobStatus(obj unstructured.Object) verdict {
	if c, ok := condition(obj, "Failed"); ok && c.Get("status").String() == "True" {
		return verdict{status: StatusFailed, message: condMsg(c)}
	}
	if c, ok := condition(obj, "Complete"); ok && c.Get("status").String() == "True" {
		return verdict{status: StatusCurrent, message: "Complete"}
	}
	return verdict{status: StatusInProgress, message: fmt.Sprintf("%d succeeded, %d active, %d failed", obj.Get("status.succeeded").Int(), obj.Get("status.active").Int(), obj.Get("status.failed").Int())}
}

func podStatus(obj unstructured.Object) verdict {
	switch p := obj.Get("status.phase").String(); p {
	case "Succeeded":
		return verdict{status: StatusCurrent, message: "Succeeded"}
	case "Failed":
		return verdict{status: StatusFailed, message: "pod " + p + " " + obj.Get("status.reason").String()}
	case "Running":
		if c, ok := condition(obj, "Ready"); ok && c.Get("status").String() == "True" {
			return verdict{status: StatusCurrent, message: "Running and Ready"}
		}
		crash := ""
		obj.Get("status.containerStatuses").ForEach(func(_, cs gjson.Result) bool {
			if r := cs.Get("state.waiting.reason").String(); r == "CrashLoopBackOff" {
				crash = cs.Get("name").String() + ": " + r
				return false
			}
			return true
		})
		if crash != "" {
			return verdict{status: StatusFailed, message: crash}
		}
		return verdict{status: StatusInProgress, message: "Running, not Ready"}
	default:
		return verdict{status: StatusInProgress, message: "phase " + orNone(p)}
	}
}

// celEval is the one CEL evaluator of the package (it caches compiled
// expressions and is safe for concurrent use).
var celEval = sync.OnceValues(celrules.New)

// evalCEL evaluates a bool CEL expression over obj as self.
func evalCEL(expr string, obj unstructured.Object) (bool, error) {
	ev, err := celEval()
	if err != nil {
		return false, err
	}
	var self any
	d := json.NewDecoder(strings.NewReader(orEmpty(obj.String())))
	d.UseNumber()
	if err := d.Decode(&self); err != nil {
		return false, err
	}
	msg, err := ev.EvalRule(&unstructured.ValidationRule{Rule: expr}, nil, self)
	if err != nil {
		return false, err
	}
	return msg == "", nil
}

// checkRules compiles the CEL expressions of rules, so a broken one fails at
// once rather than when its wait times out.
func checkRules(rules []Rule) error {
	var errs []error
	for _, r := range rules {
		for _, expr := range []string{r.CurrentCEL, r.FailedCEL} {
			if expr == "" {
				continue
			}
			if _, err := evalCEL(expr, unstructured.Object{}); errors.Is(err, unstructured.ErrRuleNotChecked) {
				errs = append(errs, fmt.Errorf("rule for %s %s: %w", r.Group, r.Kind, err))
			}
		}
	}
	return errors.Join(errs...)
}
