package testserver

import (
	"fmt"
	"strconv"
	"time"
)

// podRow is what a pod's Table row shows of its containers, worked out as
// the real printer does.
type podRow struct {
	ready, total int
	reason       string
	restarts     string
}

// isSidecar reports whether an init container restarts always (a sidecar
// that counts as one of the pod's containers).
func isSidecar(c map[string]any) bool { return getString(c, "restartPolicy") == "Always" }

func objects(v any) []map[string]any {
	var out []map[string]any
	for _, e := range asSlice(v) {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func hasCondition(status map[string]any, typ, reason string) bool {
	for _, c := range objects(status["conditions"]) {
		if getString(c, "type") == typ && (reason == "" && getString(c, "status") == "True" || reason != "" && getString(c, "reason") == reason) {
			return true
		}
	}
	return false
}

// terminatedReason names a terminated container state: its reason, else
// its signal, else its exit code.
func terminatedReason(t map[string]any) string {
	if r := getString(t, "reason"); r != "" {
		return r
	}
	if s := intField(t, "signal"); s != 0 {
		return fmt.Sprintf("Signal:%d", s)
	}
	return fmt.Sprintf("ExitCode:%d", intField(t, "exitCode"))
}

// laterFinish returns the later of last and the finishedAt of a
// container status's lastState.terminated.
func laterFinish(last time.Time, cs map[string]any) time.Time {
	if t, err := time.Parse(time.RFC3339, getString(cs, "lastState", "terminated", "finishedAt")); err == nil && t.After(last) {
		return t
	}
	return last
}

func summarizePod(o map[string]any) podRow {
	spec, status := getMap(o, "spec", true), getMap(o, "status", true)
	phase := getString(status, "phase")
	r := podRow{total: len(asSlice(spec["containers"])), reason: phase}
	if s := getString(status, "reason"); s != "" {
		r.reason = s
	}
	if hasCondition(status, "PodScheduled", "SchedulingGated") {
		r.reason = "SchedulingGated"
	}
	inits := map[string]map[string]any{}
	initSpecs := objects(spec["initContainers"])
	for _, c := range initSpecs {
		inits[getString(c, "name")] = c
		if isSidecar(c) {
			r.total++
		}
	}
	var restarts, sidecarRestarts int64
	var lastRestart, lastSidecarRestart time.Time
	initializing := false
	for i, cs := range objects(status["initContainerStatuses"]) {
		sidecar := isSidecar(inits[getString(cs, "name")])
		restarts += intField(cs, "restartCount")
		lastRestart = laterFinish(lastRestart, cs)
		if sidecar {
			sidecarRestarts += intField(cs, "restartCount")
			lastSidecarRestart = laterFinish(lastSidecarRestart, cs)
		}
		term := getMap(getMap(cs, "state", true), "terminated", false)
		waiting := getString(cs, "state", "waiting", "reason")
		switch {
		case term != nil && intField(term, "exitCode") == 0:
			continue
		case sidecar && cs["started"] == true:
			if cs["ready"] == true {
				r.ready++
			}
			continue
		case term != nil:
			r.reason = "Init:" + terminatedReason(term)
		case waiting != "" && waiting != "PodInitializing":
			r.reason = "Init:" + waiting
		default:
			r.reason = fmt.Sprintf("Init:%d/%d", i, len(initSpecs))
		}
		initializing = true
		break
	}
	if !initializing || hasCondition(status, "Initialized", "") {
		restarts, lastRestart = sidecarRestarts, lastSidecarRestart
		running, errorReason := false, ""
		statuses := objects(status["containerStatuses"])
		for i := len(statuses) - 1; i >= 0; i-- {
			cs := statuses[i]
			restarts += intField(cs, "restartCount")
			lastRestart = laterFinish(lastRestart, cs)
			state := getMap(cs, "state", true)
			term := getMap(state, "terminated", false)
			switch {
			case getString(state, "waiting", "reason") != "":
				r.reason = getString(state, "waiting", "reason")
			case term != nil:
				r.reason = terminatedReason(term)
				if intField(term, "exitCode") != 0 {
					errorReason = r.reason
				}
			case cs["ready"] == true && state["running"] != nil:
				running = true
				r.ready++
			}
		}
		if r.reason == "Completed" {
			switch {
			case running && hasCondition(status, "Ready", ""):
				r.reason = "Running"
			case errorReason != "":
				r.reason = errorReason
			case running:
				r.reason = "NotReady"
			}
		}
	}
	if getMap(o, "metadata", true)["deletionTimestamp"] != nil {
		switch {
		case getString(status, "reason") == "NodeLost":
			r.reason = "Unknown"
		case phase != "Succeeded" && phase != "Failed":
			r.reason = "Terminating"
		}
	}
	r.restarts = strconv.FormatInt(restarts, 10)
	if restarts != 0 && !lastRestart.IsZero() {
		r.restarts = fmt.Sprintf("%d (%s ago)", restarts, age(lastRestart.Format(time.RFC3339)))
	}
	return r
}

// podReadinessGates is "<true>/<gates>" for a pod with readiness gates,
// else "<none>".
func podReadinessGates(o map[string]any) string {
	gates := objects(getMap(o, "spec", true)["readinessGates"])
	if len(gates) == 0 {
		return "<none>"
	}
	conds := objects(getMap(o, "status", true)["conditions"])
	met := 0
	for _, g := range gates {
		for _, c := range conds {
			if getString(c, "type") == getString(g, "conditionType") {
				if getString(c, "status") == "True" {
					met++
				}
				break
			}
		}
	}
	return fmt.Sprintf("%d/%d", met, len(gates))
}

// podRowConditions marks the row of a finished pod as Completed, as the
// real printer does.
func podRowConditions(o map[string]any) []any {
	switch getString(o, "status", "phase") {
	case "Succeeded":
		return []any{map[string]any{"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}}
	case "Failed":
		return []any{map[string]any{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}}
	}
	return nil
}
