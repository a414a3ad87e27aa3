package manifest_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/manifest"
	"github.com/kubedyn/kubedyn/unstructured"
)

func TestEvaluate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		obj  string
		want manifest.Status
	}{
		{"deployment rolled out", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","generation":2},"spec":{"replicas":2},
			"status":{"observedGeneration":2,"replicas":2,"updatedReplicas":2,"availableReplicas":2,"readyReplicas":2,"conditions":[{"type":"Available","status":"True"}]}}`, manifest.StatusCurrent},
		{"deployment old generation", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","generation":3},"spec":{"replicas":2},
			"status":{"observedGeneration":2,"replicas":2,"updatedReplicas":2,"availableReplicas":2}}`, manifest.StatusInProgress},
		{"deployment old replicas left", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","generation":1},"spec":{"replicas":2},
			"status":{"observedGeneration":1,"replicas":3,"updatedReplicas":2,"availableReplicas":2}}`, manifest.StatusInProgress},
		{"deployment past deadline", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","generation":1},
			"status":{"observedGeneration":1,"conditions":[{"type":"Progressing","status":"False","reason":"ProgressDeadlineExceeded"}]}}`, manifest.StatusFailed},
		{"statefulset updating", `{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"s","generation":1},"spec":{"replicas":1},
			"status":{"observedGeneration":1,"readyReplicas":1,"currentRevision":"a","updateRevision":"b"}}`, manifest.StatusInProgress},
		{"daemonset ready", `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"s","generation":1},
			"status":{"observedGeneration":1,"desiredNumberScheduled":2,"updatedNumberScheduled":2,"numberAvailable":2,"numberReady":2}}`, manifest.StatusCurrent},
		{"replicaset failure", `{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"r"},"status":{"conditions":[{"type":"ReplicaFailure","status":"True"}]}}`, manifest.StatusFailed},
		{"job complete", `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},"status":{"conditions":[{"type":"Complete","status":"True"}]}}`, manifest.StatusCurrent},
		{"job failed", `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},"status":{"conditions":[{"type":"Failed","status":"True","reason":"BackoffLimitExceeded"}]}}`, manifest.StatusFailed},
		{"job running", `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},"status":{"active":1}}`, manifest.StatusInProgress},
		{"pod ready", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}`, manifest.StatusCurrent},
		{"pod crash loop", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"status":{"phase":"Running","containerStatuses":[{"name":"c","state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}}`, manifest.StatusFailed},
		{"pod pending", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"status":{"phase":"Pending"}}`, manifest.StatusInProgress},
		{"pvc bound", `{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"p"},"status":{"phase":"Bound"}}`, manifest.StatusCurrent},
		{"pvc pending", `{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"p"},"status":{"phase":"Pending"}}`, manifest.StatusInProgress},
		{"load balancer without address", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"type":"LoadBalancer"},"status":{"loadBalancer":{}}}`, manifest.StatusInProgress},
		{"cluster IP service", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"type":"ClusterIP"}}`, manifest.StatusCurrent},
		{"crd established", `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"a.b"},"status":{"conditions":[{"type":"Established","status":"True"}]}}`, manifest.StatusCurrent},
		{"crd names refused", `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"a.b"},"status":{"conditions":[{"type":"NamesAccepted","status":"False"}]}}`, manifest.StatusFailed},
		{"namespace terminating", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"n"},"status":{"phase":"Terminating"}}`, manifest.StatusTerminating},
		{"configmap", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`, manifest.StatusCurrent},
		{"being deleted", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","deletionTimestamp":"2026-01-01T00:00:00Z"}}`, manifest.StatusTerminating},
		{"custom resource without status", `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}}`, manifest.StatusInProgress},
		{"custom resource ready", `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","generation":2},"status":{"conditions":[{"type":"Ready","status":"True","observedGeneration":2}]}}`, manifest.StatusCurrent},
		{"ready for an older generation", `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","generation":3},"status":{"conditions":[{"type":"Ready","status":"True","observedGeneration":2}]}}`, manifest.StatusInProgress},
		{"ready unknown", `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"status":{"conditions":[{"type":"Ready","status":"Unknown"}]}}`, manifest.StatusInProgress},
		{"ready false, still trying", `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"status":{"conditions":[{"type":"Ready","status":"False","reason":"Provisioning"}]}}`, manifest.StatusInProgress},
		{"ready false, failed", `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"status":{"conditions":[{"type":"Ready","status":"False","reason":"InstallFailed"}]}}`, manifest.StatusFailed},
		{"stalled", `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"status":{"conditions":[{"type":"Stalled","status":"True"}]}}`, manifest.StatusFailed},
		{"stalled for an older generation", `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","generation":2},"status":{"conditions":[{"type":"Stalled","status":"True","observedGeneration":1}]}}`, manifest.StatusCurrent},
		{"status observedGeneration behind", `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","generation":2},"status":{"observedGeneration":1}}`, manifest.StatusInProgress},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, msg := manifest.Evaluate(unstructured.MustParse(tc.obj), nil)
			assert.Equal(t, tc.want, got, msg)
		})
	}
	t.Run("user rules", func(t *testing.T) {
		t.Parallel()
		rules := []manifest.Rule{
			{Group: "example.com", Kind: "Widget", Current: "status.phase", CurrentValue: "Running", Failed: `status.errors.#`},
			{Group: "example.com", Kind: "Gadget", Condition: "Synced", FailedOnFalse: true},
			{Group: "example.com", Kind: "Doohickey", CurrentCEL: `self.status.ready == self.spec.replicas && self.status.observedGeneration == self.metadata.generation`,
				FailedCEL: `has(self.status.error) && self.status.error != ""`},
		}
		for _, tc := range []struct {
			obj  string
			want manifest.Status
		}{
			{`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"status":{"phase":"Running"}}`, manifest.StatusCurrent},
			{`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"status":{"phase":"Pending"}}`, manifest.StatusInProgress},
			{`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"status":{"phase":"Running","errors":["x"]}}`, manifest.StatusFailed},
			{`{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"g"},"status":{"conditions":[{"type":"Synced","status":"True"}]}}`, manifest.StatusCurrent},
			{`{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"g"},"status":{"conditions":[{"type":"Synced","status":"False"}]}}`, manifest.StatusFailed},
			{`{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"g"},"status":{}}`, manifest.StatusInProgress},
			{`{"apiVersion":"example.com/v1","kind":"Doohickey","metadata":{"name":"d","generation":2},"spec":{"replicas":3},"status":{"ready":3,"observedGeneration":2}}`, manifest.StatusCurrent},
			{`{"apiVersion":"example.com/v1","kind":"Doohickey","metadata":{"name":"d","generation":2},"spec":{"replicas":3},"status":{"ready":3,"observedGeneration":1}}`, manifest.StatusInProgress},
			{`{"apiVersion":"example.com/v1","kind":"Doohickey","metadata":{"name":"d","generation":2},"spec":{"replicas":3}}`, manifest.StatusInProgress},
			{`{"apiVersion":"example.com/v1","kind":"Doohickey","metadata":{"name":"d"},"spec":{"replicas":3},"status":{"error":"no quota"}}`, manifest.StatusFailed},
		} {
			got, msg := manifest.Evaluate(unstructured.MustParse(tc.obj), rules)
			assert.Equal(t, tc.want, got, "%s: %s", tc.obj, msg)
		}
	})
}

// applyWidgets applies the Widget CRD and the named widgets.
func applyWidgets(t *testing.T, e *manifest.Engine, names ...string) []manifest.Target {
	t.Helper()
	text := widgetCRD
	for _, n := range names {
		text += "---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: " + n + "}\nspec: {size: 1}\n"
	}
	plan, err := e.Plan(t.Context(), decode(t, "w.yaml", text), nil)
	require.NoError(t, err)
	rep, err := e.Apply(t.Context(), plan, nil)
	require.NoError(t, err)
	require.True(t, rep.OK(), rep.Summary())
	var out []manifest.Target
	for _, r := range rep.Results[1:] {
		out = append(out, manifest.Target{Ref: r.Ref, Source: r.Source})
	}
	return out
}

func TestWaitFollowsAControllerByWatch(t *testing.T) {
	t.Parallel()
	_, c, e := setup(t)
	ctx := t.Context()
	targets := applyWidgets(t, e, "slow", "broken", "silent")
	widgets := c.Resource("example.com/v1", "Widget").Namespace("default")
	setStatus := func(name, status string) {
		w, err := widgets.Get(ctx, name, nil)
		require.NoError(t, err)
		w, err = w.SetRaw("status", status)
		require.NoError(t, err)
		_, err = widgets.UpdateStatus(ctx, w, nil)
		require.NoError(t, err)
	}
	// The "controller" acts once the wait has seen each widget InProgress.
	var mu sync.Mutex
	seen := map[string][]manifest.Status{}
	acted := map[string]bool{}
	opts := &manifest.WaitOptions{Timeout: 30 * time.Second, NoStatusGrace: 3 * time.Second, FailedAfter: 300 * time.Millisecond,
		OnChange: func(r manifest.WaitResult) {
			mu.Lock()
			defer mu.Unlock()
			seen[r.Ref.Name] = append(seen[r.Ref.Name], r.Status)
			if r.Status != manifest.StatusInProgress {
				return
			}
			switch {
			case r.Ref.Name == "slow" && !acted["slow"]:
				acted["slow"] = true
				go setStatus("slow", `{"conditions":[{"type":"Ready","status":"Unknown","reason":"Starting","observedGeneration":1}]}`)
			case r.Ref.Name == "slow" && strings.Contains(r.Message, "Unknown") && !acted["slow-ready"]:
				acted["slow-ready"] = true
				go setStatus("slow", `{"conditions":[{"type":"Ready","status":"True","reason":"Done","observedGeneration":1}]}`)
			case r.Ref.Name == "broken" && !acted["broken"]:
				acted["broken"] = true
				go setStatus("broken", `{"conditions":[{"type":"Ready","status":"False","reason":"ReconcileFailed","message":"bad size"}]}`)
			}
		}}
	res := e.Wait(ctx, targets, opts)
	require.Len(t, res, 3)
	slow, broken, silent := res[0], res[1], res[2]
	assert.Equal(t, manifest.StatusCurrent, slow.Status, slow.Message)
	require.NoError(t, slow.Err)
	mu.Lock()
	assert.Equal(t, []manifest.Status{manifest.StatusInProgress, manifest.StatusInProgress, manifest.StatusCurrent}, seen["slow"], "no status, Unknown, then Ready")
	mu.Unlock()
	assert.Less(t, slow.Duration, 3*time.Second, "Ready before the grace period ended")
	assert.Equal(t, manifest.StatusFailed, broken.Status, broken.Message)
	require.Error(t, broken.Err)
	assert.Contains(t, broken.Err.Error(), "bad size")
	assert.GreaterOrEqual(t, broken.Duration, 300*time.Millisecond, "Failed must persist")
	assert.Equal(t, manifest.StatusCurrent, silent.Status, "no status after the grace period")
	assert.GreaterOrEqual(t, silent.Duration, 3*time.Second)
	assert.Contains(t, silent.Message, "no status")
}

func TestWaitTimeoutsAndDeletion(t *testing.T) {
	t.Parallel()
	_, c, e := setup(t)
	ctx := t.Context()
	targets := applyWidgets(t, e, "stays", "goes")
	missing := manifest.Target{Ref: manifest.Ref{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "never"}}
	unknown := manifest.Target{Ref: manifest.Ref{APIVersion: "example.com/v1", Kind: "Nope", Namespace: "default", Name: "x"}}
	start := time.Now()
	res := e.Wait(ctx, []manifest.Target{targets[0], missing, unknown}, &manifest.WaitOptions{Timeout: 10 * time.Second, ObjectTimeout: 400 * time.Millisecond, NoStatusGrace: -1})
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.ErrorIs(t, res[0].Err, manifest.ErrWaitTimeout)
	assert.Equal(t, manifest.StatusInProgress, res[0].Status, "no status and no grace: never ready")
	assert.ErrorIs(t, res[1].Err, manifest.ErrWaitTimeout)
	assert.Equal(t, manifest.StatusNotFound, res[1].Status)
	require.Error(t, res[2].Err)
	assert.Contains(t, res[2].Err.Error(), "Nope")

	done := make(chan []manifest.WaitResult, 1)
	go func() {
		done <- e.Wait(ctx, targets[1:], &manifest.WaitOptions{For: manifest.ForDeletion, Timeout: 10 * time.Second})
	}()
	_, err := c.Resource("example.com/v1", "Widget").Namespace("default").Delete(ctx, "goes", nil)
	require.NoError(t, err)
	del := <-done
	assert.True(t, del[0].Ready(), del[0].Err)
	assert.Equal(t, manifest.StatusNotFound, del[0].Status)
}

func TestWaitRefusesARuleThatDoesNotCompile(t *testing.T) {
	t.Parallel()
	_, _, e := setup(t)
	res := e.Wait(t.Context(), []manifest.Target{{Ref: manifest.Ref{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "x"}}},
		&manifest.WaitOptions{Rules: []manifest.Rule{{Kind: "ConfigMap", CurrentCEL: "self.data.(("}}})
	require.Error(t, res[0].Err)
	assert.Contains(t, res[0].Err.Error(), "rule for  ConfigMap")
	assert.Less(t, res[0].Duration, time.Second)
}
