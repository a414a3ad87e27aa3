package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// podRef is what logs, exec and port-forward work on: a pod, and the
// object it was picked from when the argument named another kind.
type podRef struct {
	pod unstructured.Object
	// from is the object named by a TYPE/NAME argument other than a pod
	// (a Service for port-forward's port translation); zero for a pod.
	from     unstructured.Object
	fromKind string
}

// errNoPod reports an argument that names no pod (not found, or a
// workload none of whose pods exist); commands exit 1 for it.
var errNoPod = errors.New("no pod")

// resolvePod reads POD, pod/NAME or TYPE/NAME. For a Deployment,
// ReplicaSet, StatefulSet, DaemonSet, Job, ReplicationController or
// Service it lists the pods the object's selector selects and picks one as
// kubectl does: a pod on a node before one that is not, Running before
// Pending, ready before not ready, then the oldest.
func (g *globals) resolvePod(ctx context.Context, c *resource.Client, arg string) (podRef, error) {
	ns := c.DefaultNamespace()
	pods := c.Resource("v1", "Pod").Namespace(ns)
	kind, name, ok := strings.Cut(arg, "/")
	if !ok {
		kind, name = "pods", arg
	}
	if kind == "" || name == "" {
		return podRef{}, fmt.Errorf("%q: want POD or TYPE/NAME", arg)
	}
	ar, err := c.ResourceFor(kind).Resolve(ctx)
	if err != nil {
		return podRef{}, err
	}
	if ar.Group == "" && ar.Resource == "pods" {
		p, err := pods.Get(ctx, name, nil)
		if errors.Is(err, transport.ErrNotFound) {
			return podRef{}, fmt.Errorf("%w: pods %q not found in namespace %s", errNoPod, name, ns)
		}
		return podRef{pod: p}, err
	}
	if !ar.Namespaced {
		return podRef{}, fmt.Errorf("%s is not namespaced: it has no pods", groupResource(ar))
	}
	obj, err := c.ResourceFor(kind).Namespace(ns).Get(ctx, name, nil)
	if errors.Is(err, transport.ErrNotFound) {
		return podRef{}, fmt.Errorf("%w: %s %q not found in namespace %s", errNoPod, groupResource(ar), name, ns)
	}
	if err != nil {
		return podRef{}, err
	}
	sel, err := podSelector(obj)
	if err != nil {
		return podRef{}, fmt.Errorf("%s %s: %w", groupResource(ar), name, err)
	}
	var found []unstructured.Object
	for p, err := range pods.List(ctx, &resource.ListOptions{LabelSelector: sel}) {
		if err != nil {
			return podRef{}, err
		}
		found = append(found, p)
	}
	if len(found) == 0 {
		return podRef{}, fmt.Errorf("%w: %s %s selects no pod (selector %s)", errNoPod, groupResource(ar), name, sel)
	}
	sortPods(found)
	return podRef{pod: found[0], from: obj, fromKind: ar.Kind}, nil
}

// podSelector returns the label selector of the pods a workload or
// Service selects, as a selector string.
func podSelector(obj unstructured.Object) (string, error) {
	if obj.Kind() == "Service" {
		m := obj.Get("spec.selector").Map()
		if len(m) == 0 {
			return "", errors.New("the Service has no selector")
		}
		return formatLabels(m, "="), nil
	}
	s := obj.Get("spec.selector")
	if !s.IsObject() {
		return "", fmt.Errorf("a %s has no pod selector (spec.selector)", obj.Kind())
	}
	if !s.Get("matchLabels").Exists() && !s.Get("matchExpressions").Exists() {
		// ReplicationController: a plain map.
		return formatLabels(s.Map(), "="), nil
	}
	var parts []string
	if ml := s.Get("matchLabels").Map(); len(ml) > 0 {
		parts = append(parts, formatLabels(ml, "="))
	}
	for _, e := range s.Get("matchExpressions").Array() {
		key := e.Get("key").String()
		var vals []string
		for _, v := range e.Get("values").Array() {
			vals = append(vals, v.String())
		}
		switch op := e.Get("operator").String(); op {
		case "In":
			parts = append(parts, key+" in ("+strings.Join(vals, ",")+")")
		case "NotIn":
			parts = append(parts, key+" notin ("+strings.Join(vals, ",")+")")
		case "Exists":
			parts = append(parts, key)
		case "DoesNotExist":
			parts = append(parts, "!"+key)
		default:
			return "", fmt.Errorf("selector operator %q is not understood", op)
		}
	}
	if len(parts) == 0 {
		return "", errors.New("the selector is empty: it would select every pod")
	}
	return strings.Join(parts, ","), nil
}

// formatLabels joins a map as k1=v1,k2=v2 sorted by key.
func formatLabels(m map[string]gjson.Result, sep string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + sep + m[k].String()
	}
	return strings.Join(keys, ",")
}

// sortPods orders pods best first, as kubectl picks the pod of a
// workload: on a node, Running, then Pending, then the rest, ready, the
// oldest.
func sortPods(pods []unstructured.Object) {
	phase := func(p unstructured.Object) int {
		switch p.Get("status.phase").String() {
		case "Running":
			return 0
		case "Pending":
			return 2
		case "Unknown":
			return 1
		}
		return 3
	}
	ready := func(p unstructured.Object) bool {
		return p.Get(`status.conditions.#(type=="Ready").status`).String() == "True"
	}
	slices.SortStableFunc(pods, func(a, b unstructured.Object) int {
		if an, bn := a.Get("spec.nodeName").String() != "", b.Get("spec.nodeName").String() != ""; an != bn {
			if an {
				return -1
			}
			return 1
		}
		if d := phase(a) - phase(b); d != 0 {
			return d
		}
		if ar, br := ready(a), ready(b); ar != br {
			if ar {
				return -1
			}
			return 1
		}
		at, _ := a.CreationTimestamp()
		bt, _ := b.CreationTimestamp()
		return at.Compare(bt)
	})
}

// container returns the container to use: the flag's, else the pod's
// default-container annotation, else its only or first container (saying
// so on errOut when there are several, as kubectl does).
func container(pod unstructured.Object, flag string, errOut io.Writer) string {
	if flag != "" {
		return flag
	}
	var names []string
	for _, c := range pod.Get("spec.containers.#.name").Array() {
		names = append(names, c.String())
	}
	if def := pod.Annotations()["kubectl.kubernetes.io/default-container"]; def != "" && slices.Contains(names, def) {
		return def
	}
	if len(names) == 0 {
		return ""
	}
	if len(names) > 1 {
		fmt.Fprintf(errOut, "Defaulted container %q out of: %s\n", names[0], strings.Join(names, ", "))
	}
	return names[0]
}

// sinceSeconds turns --since into whole seconds, rounding up as the server
// keeps whole seconds.
func sinceSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}
