package e2e_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	clusterpkg "github.com/kubedyn/kubedyn/internal/cluster"
	"github.com/kubedyn/kubedyn/kubeconfig"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// The tests in this file run against the whole control plane (internal/
// cluster AllComponents: controller manager, scheduler and node agent),
// shared by the test binary next to the quiet one the other tests use
// (etcd and kube-apiserver alone, so nothing else writes to it). They wait
// for controllers with eventually, polling the API.

// plane returns the shared whole control plane.
func plane(t testing.TB) *clusterpkg.Cluster {
	t.Helper()
	return clusterpkg.ForTestWith(t, clusterpkg.AllComponents)
}

// planeConfig loads the whole plane's kubeconfig with the named context.
func planeConfig(t testing.TB, kubeContext string) *transport.Config {
	t.Helper()
	cfg, err := kubeconfig.Load(&kubeconfig.Options{Path: plane(t).Kubeconfig, Context: kubeContext})
	require.NoError(t, err)
	return cfg
}

// planeAdmin returns a resource client of the whole plane's admin.
func planeAdmin(t testing.TB) *resource.Client {
	t.Helper()
	return newClientFromConfig(t, planeConfig(t, "admin"))
}

// planeNamespace creates a namespace in the whole plane for one test and
// deletes it when the test ends (the namespace controller then removes it
// with its contents).
func planeNamespace(t testing.TB) string {
	t.Helper()
	name := uniqueName("e2e-plane")
	c := planeAdmin(t)
	_, err := c.Resource("v1", "Namespace").Create(testContext(t), obj(t, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"`+name+`"}}`), nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = c.Resource("v1", "Namespace").Delete(ctx, name, nil)
	})
	return name
}

// planeRaw is an HTTP client of the whole plane as its admin.
func planeRaw(t testing.TB) *raw {
	t.Helper()
	c := plane(t)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(c.CAPEM))
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return &raw{t: t, c: c, http: &http.Client{Transport: tr}, token: c.AdminToken}
}

// planeWait bounds every wait for a controller, the scheduler or the agent.
const planeWait = 90 * time.Second

// notFound reports whether err is the server's 404.
func notFound(err error) bool { return errors.Is(err, transport.ErrNotFound) }

// configMapOwnedBy is a ConfigMap named name whose owner is the ConfigMap
// owner.
func configMapOwnedBy(t *testing.T, name string, owner unstructured.Object) unstructured.Object {
	t.Helper()
	return obj(t, fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":%q,
		"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":%q,"uid":%q,"blockOwnerDeletion":true}]}}`,
		name, owner.Name(), owner.UID()))
}

func TestGarbageCollectorPropagation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		policy string
		// orphans: the dependents stay, without their owner reference.
		orphans bool
		// finalizer the delete answer shows while dependents are handled.
		finalizer string
	}{
		{policy: resource.PropagationForeground, finalizer: "foregroundDeletion"},
		{policy: resource.PropagationBackground},
		{policy: resource.PropagationOrphan, orphans: true, finalizer: "orphan"},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			ns := planeNamespace(t)
			cms := planeAdmin(t).Resource("v1", "ConfigMap").Namespace(ns)
			owner, err := cms.Create(ctx, obj(t, `{"metadata":{"name":"owner"}}`), nil)
			require.NoError(t, err)
			deps := []string{"dep-1", "dep-2"}
			for _, d := range deps {
				_, err := cms.Create(ctx, configMapOwnedBy(t, d, owner), nil)
				require.NoError(t, err)
			}

			answer, err := cms.Delete(ctx, "owner", &resource.DeleteOptions{PropagationPolicy: tc.policy})
			require.NoError(t, err)
			if tc.finalizer != "" {
				assert.Contains(t, answer.Finalizers(), tc.finalizer, "the delete answers the object, held by the finalizer")
				_, deleting := answer.DeletionTimestamp()
				assert.True(t, deleting)
			}
			eventually(t, planeWait, "the owner to go (its finalizer removed by the garbage collector)", func() bool {
				_, err := cms.Get(ctx, "owner", nil)
				return notFound(err)
			})
			if tc.orphans {
				for _, d := range deps {
					got, err := cms.Get(ctx, d, nil)
					require.NoError(t, err, "an orphaned dependent stays")
					assert.False(t, got.Get("metadata.ownerReferences").Exists(), "its owner reference is removed: %s", got.Get("metadata").Raw)
				}
				return
			}
			eventually(t, planeWait, "the dependents to be collected", func() bool {
				for _, d := range deps {
					if _, err := cms.Get(ctx, d, nil); !notFound(err) {
						return false
					}
				}
				return true
			})
		})
	}
}

func TestForegroundDeletionWaitsForBlockingDependents(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := planeNamespace(t)
	cms := planeAdmin(t).Resource("v1", "ConfigMap").Namespace(ns)
	owner, err := cms.Create(ctx, obj(t, `{"metadata":{"name":"owner"}}`), nil)
	require.NoError(t, err)
	held := configMapOwnedBy(t, "held", owner)
	held = set(t, held, "metadata.finalizers", []string{"e2e.example.com/hold"})
	_, err = cms.Create(ctx, held, nil)
	require.NoError(t, err)

	_, err = cms.Delete(ctx, "owner", &resource.DeleteOptions{PropagationPolicy: resource.PropagationForeground})
	require.NoError(t, err)
	eventually(t, planeWait, "the dependent to be deleted (it waits on its own finalizer)", func() bool {
		got, err := cms.Get(ctx, "held", nil)
		require.NoError(t, err)
		_, deleting := got.DeletionTimestamp()
		return deleting
	})
	got, err := cms.Get(ctx, "owner", nil)
	require.NoError(t, err, "the owner waits for its blocking dependent")
	assert.Contains(t, got.Finalizers(), "foregroundDeletion")

	_, err = cms.Patch(ctx, "held", resource.MergePatch, []byte(`{"metadata":{"finalizers":null}}`), nil)
	require.NoError(t, err)
	eventually(t, planeWait, "the owner to go once its dependent is gone", func() bool {
		_, err := cms.Get(ctx, "owner", nil)
		return notFound(err)
	})
}

func TestDeletedNamespaceDisappearsWithItsContents(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := planeAdmin(t)
	name := uniqueName("e2e-nsdel")
	nss := c.Resource("v1", "Namespace")
	_, err := nss.Create(ctx, obj(t, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"`+name+`"}}`), nil)
	require.NoError(t, err)
	_, err = c.Resource("v1", "ConfigMap").Namespace(name).Create(ctx, obj(t, `{"metadata":{"name":"content"}}`), nil)
	require.NoError(t, err)
	_, err = c.Resource("v1", "Secret").Namespace(name).Create(ctx, obj(t, `{"metadata":{"name":"content"},"stringData":{"k":"v"}}`), nil)
	require.NoError(t, err)

	_, err = nss.Delete(ctx, name, nil)
	require.NoError(t, err)
	eventually(t, planeWait, "the namespace controller to empty and remove the namespace", func() bool {
		_, err := nss.Get(ctx, name, nil)
		return notFound(err)
	})
	for _, kind := range []string{"ConfigMap", "Secret"} {
		items, _, err := c.Resource("v1", kind).Namespace(name).ListAll(ctx, nil)
		require.NoError(t, err)
		assert.Empty(t, items, "no %s is left in the deleted namespace", kind)
	}
}

func TestNewNamespaceGetsDefaultServiceAccountAndToken(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := planeNamespace(t)
	c := planeAdmin(t)
	sas := c.Resource("v1", "ServiceAccount").Namespace(ns)
	eventually(t, planeWait, "the service account controller to create the default service account", func() bool {
		_, err := sas.Get(ctx, "default", nil)
		return err == nil
	})
	eventually(t, planeWait, "the root CA publisher to create kube-root-ca.crt", func() bool {
		cm, err := c.Resource("v1", "ConfigMap").Namespace(ns).Get(ctx, "kube-root-ca.crt", nil)
		return err == nil && strings.Contains(cm.Get("data.ca\\.crt").String(), "BEGIN CERTIFICATE")
	})

	tr, err := sas.Subresource("token").Create(ctx,
		obj(t, `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","metadata":{"name":"default"},"spec":{"expirationSeconds":600}}`), nil)
	require.NoError(t, err)
	token := tr.Get("status.token").String()
	require.NotEmpty(t, token)
	cfg := planeConfig(t, "nobody")
	cfg.BearerToken = token
	user, _, err := whoAmI(t, ctx, newClientFromConfig(t, cfg))
	require.NoError(t, err)
	assert.Equal(t, "system:serviceaccount:"+ns+":default", user)
}

// podNetworkUp tells from a pod's IP whether the node agent runs it on
// its pod network (an address of its own) or in its loopback fallback
// (127.0.0.1). Where the agent can make a pod network (root, with
// iproute2's ip) the test requires it, so it cannot pass silently in the
// fallback.
func podNetworkUp(t *testing.T, podIP string) bool {
	t.Helper()
	ip := net.ParseIP(podIP)
	require.NotNil(t, ip, "the pod's IP %q", podIP)
	_, err := exec.LookPath("ip")
	if os.Geteuid() == 0 && err == nil {
		require.False(t, ip.IsLoopback(), "running as root with ip, the node agent should have made its pod network; the pod's IP is %s", ip)
	}
	return !ip.IsLoopback()
}

// shellPod is a Pod that runs command (a shell script) on the node agent.
func shellPod(t *testing.T, name, restartPolicy, script string) unstructured.Object {
	t.Helper()
	p := obj(t, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"`+name+`"},"spec":{"restartPolicy":"`+restartPolicy+`",
		"terminationGracePeriodSeconds":5,"containers":[{"name":"main","image":"busybox:1.36","command":["sh","-c"]}]}}`)
	return set(t, p, "spec.containers.0.args", []string{script})
}

// waitPod polls the pod until cond holds, and returns it.
func waitPod(t *testing.T, pods resource.Handle, name, what string, cond func(unstructured.Object) bool) unstructured.Object {
	t.Helper()
	var last unstructured.Object
	eventually(t, planeWait, what, func() bool {
		p, err := pods.Get(testContext(t), name, nil)
		if err != nil {
			return false
		}
		last = p
		return cond(p)
	})
	return last
}

func podReady(p unstructured.Object) bool {
	for _, c := range p.Get("status.conditions").Array() {
		if c.Get("type").String() == "Ready" {
			return c.Get("status").String() == "True"
		}
	}
	return false
}

func TestPodRunsOnTheNodeAgent(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := planeNamespace(t)
	pods := planeAdmin(t).Resource("v1", "Pod").Namespace(ns)
	_, err := pods.Create(ctx, shellPod(t, "runner", "Never", `echo "hello from $HOSTNAME"; exec sleep 3600`), nil)
	require.NoError(t, err)
	p := waitPod(t, pods, "runner", "the pod to be Running and Ready", func(p unstructured.Object) bool {
		return p.Get("status.phase").String() == "Running" && podReady(p)
	})
	assert.Equal(t, plane(t).Nodes[0], p.Get("spec.nodeName").String(), "the scheduler bound it to the agent's node")
	if podNetworkUp(t, p.Get("status.podIP").String()) {
		ip := net.ParseIP(p.Get("status.podIP").String())
		require.NotNil(t, ip, "status.podIP %q", p.Get("status.podIP").String())
		assert.True(t, ip.To4() != nil && ip.To4()[0] == 10, "a pod network address in 10.0.0.0/8: %s", ip)
	}
	assert.Equal(t, p.Get("status.podIP").String(), p.Get("status.podIPs.0.ip").String())
	node, err := planeAdmin(t).Resource("v1", "Node").Get(ctx, plane(t).Nodes[0], nil)
	require.NoError(t, err)
	assert.Equal(t, node.Get(`status.addresses.#(type=="InternalIP").address`).String(), p.Get("status.hostIP").String(),
		"the pod's hostIP is its node's InternalIP")
	cs := p.Get("status.containerStatuses.0")
	assert.Equal(t, "busybox:1.36", cs.Get("image").String())
	assert.True(t, cs.Get("ready").Bool())
	assert.True(t, cs.Get("state.running.startedAt").Exists(), cs.Raw)
	assert.Equal(t, int64(0), cs.Get("restartCount").Int())

	// The API server proxies pods/log to the agent's kubelet API.
	r := planeRaw(t)
	path := "/api/v1/namespaces/" + ns + "/pods/runner/log"
	eventually(t, planeWait, "the container's first line in its log", func() bool {
		resp, body := r.do(http.MethodGet, path, nil, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		return string(body) == "hello from runner\n"
	})
	resp, body := r.do(http.MethodGet, path+"?timestamps=true", nil, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	stamp, line, ok := strings.Cut(strings.TrimSuffix(string(body), "\n"), " ")
	require.True(t, ok, string(body))
	_, err = time.Parse(time.RFC3339Nano, stamp)
	assert.NoError(t, err)
	assert.Equal(t, "hello from runner", line)
	resp, body = r.do(http.MethodGet, "/api/v1/namespaces/"+ns+"/pods/runner/log?container=nope", nil, "")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, string(body))

	// The agent records the kubelet's events.
	eventually(t, planeWait, "the kubelet's Started event", func() bool {
		evs, _, err := planeAdmin(t).Resource("v1", "Event").Namespace(ns).ListAll(ctx,
			&resource.ListOptions{FieldSelector: "involvedObject.name=runner,reason=Started"})
		require.NoError(t, err)
		return len(evs) == 1 && evs[0].Get("source.component").String() == "kubelet" &&
			evs[0].Get("source.host").String() == plane(t).Nodes[0]
	})

	// Deletion: SIGTERM ends sleep at once, the agent removes the pod.
	_, err = pods.Delete(ctx, "runner", nil)
	require.NoError(t, err)
	eventually(t, planeWait, "the agent to finish the deletion", func() bool {
		_, err := pods.Get(ctx, "runner", nil)
		return notFound(err)
	})
}

func TestPodLogsStreamsAndOptions(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := planeNamespace(t)
	pods := planeAdmin(t).Resource("v1", "Pod").Namespace(ns)
	_, err := pods.Create(ctx, shellPod(t, "talker", "Never", `for i in 1 2 3; do echo "out $i"; done; echo "err 1" >&2`), nil)
	require.NoError(t, err)
	waitPod(t, pods, "talker", "the pod to succeed", func(p unstructured.Object) bool {
		return p.Get("status.phase").String() == "Succeeded"
	})
	r := planeRaw(t)
	logs := func(query string) string {
		t.Helper()
		resp, body := r.do(http.MethodGet, "/api/v1/namespaces/"+ns+"/pods/talker/log"+query, nil, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		return string(body)
	}
	all := logs("")
	// stdout and stderr are separate pipes: their relative order is not
	// fixed, the order within each is.
	var out []string
	for l := range strings.SplitSeq(strings.TrimSuffix(all, "\n"), "\n") {
		if strings.HasPrefix(l, "out") {
			out = append(out, l)
		}
	}
	assert.Equal(t, []string{"out 1", "out 2", "out 3"}, out)
	assert.Contains(t, all, "err 1\n")
	assert.Len(t, strings.Split(strings.TrimSpace(all), "\n"), 4)
	assert.Equal(t, strings.SplitAfter(all, "\n")[3], logs("?tailLines=1"))
	assert.Equal(t, all[:3], logs("?limitBytes=3"))
	assert.Equal(t, all, logs("?follow=true"), "following a finished container ends with its log")
}

func TestPodExitCodesAndRestartPolicy(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := planeNamespace(t)
	pods := planeAdmin(t).Resource("v1", "Pod").Namespace(ns)

	t.Run("Never: the pod fails with the exit code", func(t *testing.T) {
		_, err := pods.Create(ctx, shellPod(t, "three", "Never", "exit 3"), nil)
		require.NoError(t, err)
		p := waitPod(t, pods, "three", "the pod to fail", func(p unstructured.Object) bool {
			return p.Get("status.phase").String() == "Failed"
		})
		term := p.Get("status.containerStatuses.0.state.terminated")
		assert.Equal(t, int64(3), term.Get("exitCode").Int(), p.Get("status").Raw)
		assert.Equal(t, "Error", term.Get("reason").String())
		assert.Equal(t, int64(0), p.Get("status.containerStatuses.0.restartCount").Int())
		assert.False(t, podReady(p))
	})
	t.Run("OnFailure: restarted, the last exit code kept", func(t *testing.T) {
		_, err := pods.Create(ctx, shellPod(t, "again", "OnFailure", "exit 3"), nil)
		require.NoError(t, err)
		p := waitPod(t, pods, "again", "a restart", func(p unstructured.Object) bool {
			return p.Get("status.containerStatuses.0.restartCount").Int() >= 1
		})
		assert.Equal(t, int64(3), p.Get("status.containerStatuses.0.lastState.terminated.exitCode").Int(), p.Get("status").Raw)
		assert.NotEqual(t, "Failed", p.Get("status.phase").String(), "a pod that restarts is not terminal")
	})
	t.Run("a command that is not found", func(t *testing.T) {
		bad := set(t, shellPod(t, "missing", "Never", ""), "spec.containers.0.command", []string{"/no/such/program"})
		_, err := pods.Create(ctx, bad, nil)
		require.NoError(t, err)
		p := waitPod(t, pods, "missing", "the pod to fail", func(p unstructured.Object) bool {
			return p.Get("status.phase").String() == "Failed"
		})
		term := p.Get("status.containerStatuses.0.state.terminated")
		assert.Equal(t, int64(128), term.Get("exitCode").Int())
		assert.Equal(t, "StartError", term.Get("reason").String())
	})
}

func TestPodDeletionHonoursTheGracePeriod(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := planeNamespace(t)
	pods := planeAdmin(t).Resource("v1", "Pod").Namespace(ns)
	// The shell and its sleep ignore SIGTERM: only SIGKILL, after the grace
	// period, ends them.
	_, err := pods.Create(ctx, shellPod(t, "stubborn", "Always", `trap "" TERM; echo up; sleep 3600`), nil)
	require.NoError(t, err)
	waitPod(t, pods, "stubborn", "the pod to run", func(p unstructured.Object) bool {
		return p.Get("status.phase").String() == "Running"
	})
	r := planeRaw(t)
	eventually(t, planeWait, "the trap to be set (the script says so after it)", func() bool {
		resp, body := r.do(http.MethodGet, "/api/v1/namespaces/"+ns+"/pods/stubborn/log", nil, "")
		return resp.StatusCode == http.StatusOK && string(body) == "up\n"
	})
	grace := int64(2)
	start := time.Now()
	_, err = pods.Delete(ctx, "stubborn", &resource.DeleteOptions{GracePeriodSeconds: &grace})
	require.NoError(t, err)
	eventually(t, planeWait, "the pod to be gone", func() bool {
		_, err := pods.Get(ctx, "stubborn", nil)
		return notFound(err)
	})
	assert.GreaterOrEqual(t, time.Since(start), 2*time.Second, "SIGKILL waits for the grace period")
}

func TestJobCompletes(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := planeNamespace(t)
	c := planeAdmin(t)
	jobs := c.Resource("batch/v1", "Job").Namespace(ns)
	_, err := jobs.Create(ctx, obj(t, `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"once"},"spec":{"backoffLimit":0,
		"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"work","image":"busybox:1.36","command":["sh","-c","echo working; exit 0"]}]}}}}`), nil)
	require.NoError(t, err)
	var job unstructured.Object
	eventually(t, planeWait, "the Job to complete", func() bool {
		job, err = jobs.Get(ctx, "once", nil)
		require.NoError(t, err)
		for _, cond := range job.Get("status.conditions").Array() {
			if cond.Get("type").String() == "Complete" && cond.Get("status").String() == "True" {
				return true
			}
		}
		return false
	})
	assert.Equal(t, int64(1), job.Get("status.succeeded").Int(), job.Get("status").Raw)

	items, _, err := c.Resource("v1", "Pod").Namespace(ns).ListAll(ctx, &resource.ListOptions{LabelSelector: "job-name=once"})
	require.NoError(t, err)
	require.Len(t, items, 1)
	pod := items[0]
	assert.Equal(t, "Succeeded", pod.Get("status.phase").String())
	assert.Equal(t, int64(0), pod.Get("status.containerStatuses.0.state.terminated.exitCode").Int())
	assert.Equal(t, "Completed", pod.Get("status.containerStatuses.0.state.terminated.reason").String())
}

// deploymentStatus reports whether the Deployment has rolled out want
// replicas of its current generation, all available.
func deploymentRolledOut(d unstructured.Object, want int64) bool {
	st := d.Get("status")
	if st.Get("observedGeneration").Int() != d.Generation() ||
		st.Get("replicas").Int() != want || st.Get("updatedReplicas").Int() != want ||
		st.Get("availableReplicas").Int() != want || st.Get("readyReplicas").Int() != want {
		return false
	}
	for _, c := range st.Get("conditions").Array() {
		if c.Get("type").String() == "Available" {
			return c.Get("status").String() == "True"
		}
	}
	return false
}

func TestDeploymentRollsOutScalesAndUpdates(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := planeNamespace(t)
	c := planeAdmin(t)
	deploys := c.Resource("apps/v1", "Deployment").Namespace(ns)
	pods := c.Resource("v1", "Pod").Namespace(ns)
	d := deployment(t, "web")
	d = set(t, d, "spec.template.spec.containers.0.command", []string{"sh", "-c", "echo serving $A; exec sleep 3600"})
	_, err := deploys.Create(ctx, d, nil)
	require.NoError(t, err)

	waitRollout := func(want int64) unstructured.Object {
		t.Helper()
		var got unstructured.Object
		eventually(t, planeWait, fmt.Sprintf("the Deployment to roll out %d replicas", want), func() bool {
			got, err = deploys.Get(ctx, "web", nil)
			require.NoError(t, err)
			return deploymentRolledOut(got, want)
		})
		return got
	}
	running := func() []unstructured.Object {
		t.Helper()
		items, _, err := pods.ListAll(ctx, &resource.ListOptions{LabelSelector: "app=web"})
		require.NoError(t, err)
		var out []unstructured.Object
		for _, p := range items {
			if _, deleting := p.DeletionTimestamp(); !deleting {
				out = append(out, p)
			}
		}
		return out
	}

	dep := waitRollout(2)
	rss, _, err := c.Resource("apps/v1", "ReplicaSet").Namespace(ns).ListAll(ctx, nil)
	require.NoError(t, err)
	require.Len(t, rss, 1)
	assert.Equal(t, dep.UID(), rss[0].Get("metadata.ownerReferences.0.uid").String(), "the ReplicaSet is owned by the Deployment")
	ps := running()
	require.Len(t, ps, 2)
	for _, p := range ps {
		assert.Equal(t, "Running", p.Get("status.phase").String())
		assert.True(t, podReady(p))
		assert.Equal(t, plane(t).Nodes[0], p.Get("spec.nodeName").String())
		assert.Equal(t, rss[0].UID(), p.Get("metadata.ownerReferences.0.uid").String())
	}

	// Scale through the scale subresource.
	_, err = deploys.Subresource("scale").Patch(ctx, "web", resource.MergePatch, []byte(`{"spec":{"replicas":3}}`), nil)
	require.NoError(t, err)
	waitRollout(3)
	assert.Len(t, running(), 3)

	// A rolling update: a new ReplicaSet takes over, the old one goes to 0.
	_, err = deploys.Patch(ctx, "web", resource.StrategicMergePatch,
		[]byte(`{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"A","value":"2"}]}]}}}}`), nil)
	require.NoError(t, err)
	dep = waitRollout(3)
	rss, _, err = c.Resource("apps/v1", "ReplicaSet").Namespace(ns).ListAll(ctx, nil)
	require.NoError(t, err)
	require.Len(t, rss, 2)
	var current string
	for _, rs := range rss {
		if rs.Get("spec.replicas").Int() == 3 {
			current = rs.Get("metadata.labels.pod-template-hash").String()
		} else {
			assert.Equal(t, int64(0), rs.Get("spec.replicas").Int(), "the old ReplicaSet is scaled down")
		}
	}
	require.NotEmpty(t, current)
	eventually(t, planeWait, "the old pods to be gone", func() bool {
		ps := running()
		if len(ps) != 3 {
			return false
		}
		for _, p := range ps {
			if p.Get("metadata.labels.pod-template-hash").String() != current || !podReady(p) {
				return false
			}
		}
		return true
	})
	assert.Equal(t, "2", dep.Get("metadata.annotations.deployment\\.kubernetes\\.io/revision").String())
	r := planeRaw(t)
	name := running()[0].Name()
	eventually(t, planeWait, "the new pods to run the new template", func() bool {
		resp, body := r.do(http.MethodGet, "/api/v1/namespaces/"+ns+"/pods/"+name+"/log", nil, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		return string(body) == "serving 2\n"
	})
}
