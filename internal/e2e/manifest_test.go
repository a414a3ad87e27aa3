package e2e_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/manifest"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// gizmoCRD is a namespaced Gizmo CRD in group with a status subresource and
// a schema that knows spec.size only.
func gizmoCRD(group string) string {
	return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gizmos.` + group + `
spec:
  group: ` + group + `
  scope: Namespaced
  names: {plural: gizmos, singular: gizmo, kind: Gizmo}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
`
}

// decodeSet decodes a manifest named name.
func decodeSet(t *testing.T, name, text string) []unstructured.Decoded {
	t.Helper()
	objs, err := unstructured.DecodeManifest([]byte(text), &unstructured.DecodeOptions{Source: name})
	require.NoError(t, err)
	return objs
}

// cleanupCluster deletes cluster-scoped objects when the test ends.
func cleanupCluster(t *testing.T, c *resource.Client, apiVersion, kind, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = c.Resource(apiVersion, kind).Delete(ctx, name, nil)
	})
}

// TestManifestApplyGetsTheServersVerdictPerObject applies one set with a
// Namespace, a CRD and its custom resources, RBAC and objects the server
// refuses for different reasons, then applies it again, then prunes.
func TestManifestApplyGetsTheServersVerdictPerObject(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := admin(t)
	e := manifest.New(c)
	ns := uniqueName("mf")
	missingNS := uniqueName("mf-missing")
	group := uniqueName("mf") + ".example.com"
	parentName := uniqueName("mf-set")
	cleanupCluster(t, c, "v1", "Namespace", ns)
	cleanupCluster(t, c, "apiextensions.k8s.io/v1", "CustomResourceDefinition", "gizmos."+group)
	cleanupCluster(t, c, "rbac.authorization.k8s.io/v1", "ClusterRole", ns+"-reader")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = c.Resource("v1", "Secret").Namespace("default").Delete(ctx, parentName, nil)
	})
	valid := `apiVersion: ` + group + `/v1
kind: Gizmo
metadata: {name: g1, namespace: ` + ns + `}
spec: {size: 1}
---
apiVersion: v1
kind: Namespace
metadata: {name: ` + ns + `}
---
` + gizmoCRD(group) + `---
apiVersion: ` + group + `/v1
kind: Gizmo
metadata: {name: g2, namespace: ` + ns + `}
spec: {size: 2}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ` + ns + `-reader}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: gizmo-editor, namespace: ` + ns + `}
rules: [{apiGroups: [` + group + `], resources: [gizmos], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: gizmo-editor, namespace: ` + ns + `}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: gizmo-editor}
subjects: [{kind: ServiceAccount, name: robot, namespace: ` + ns + `}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: robot, namespace: ` + ns + `}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: ` + ns + `}
data: {mode: fast}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: extra, namespace: ` + ns + `}
data: {x: "1"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: ` + ns + `}
stringData: {password: hunter2}
`
	invalid := `---
apiVersion: v1
kind: ConfigMap
metadata: {name: bad-key, namespace: ` + ns + `}
data: {"a/b": "x"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: lost, namespace: ` + missingNS + `}
---
apiVersion: example.com/v1
kind: Nonexistent
metadata: {name: what, namespace: ` + ns + `}
---
apiVersion: ` + group + `/v1
kind: Gizmo
metadata: {name: colourful, namespace: ` + ns + `}
spec: {size: 3, color: red}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: "a/b", namespace: ` + ns + `}
`
	set := &manifest.ApplySet{Name: parentName, Namespace: "default"}
	plan, err := e.Plan(ctx, decodeSet(t, "set.yaml", valid+invalid), nil)
	require.NoError(t, err)
	rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{FieldManager: "e2e", ApplySet: set, Prune: true})
	require.NoError(t, err)
	require.Len(t, rep.Results, 16)
	got := map[string]manifest.Result{}   // by name
	byRef := map[string]manifest.Result{} // by Ref (a Role and its RoleBinding share a name)
	for _, r := range rep.Results {
		got[r.Ref.Name] = r
		byRef[r.Ref.String()] = r
		t.Logf("%s", r)
	}
	for _, name := range []string{ns, "gizmos." + group, "g1", "g2", ns + "-reader", "gizmo-editor", "robot", "settings", "extra", "creds"} {
		assert.Equal(t, manifest.Created, got[name].Action, "%s: %v", name, got[name].Err)
	}
	assert.Equal(t, manifest.Created, byRef["Role.rbac.authorization.k8s.io "+ns+"/gizmo-editor"].Action)
	assert.Equal(t, manifest.Created, byRef["RoleBinding.rbac.authorization.k8s.io "+ns+"/gizmo-editor"].Action)
	assert.Equal(t, "set.yaml", got["g1"].Source.Name)
	assert.Equal(t, 1, got["g1"].Source.Document)

	bad := got["bad-key"]
	assert.Equal(t, manifest.Failed, bad.Action)
	assert.ErrorIs(t, bad.Err, transport.ErrInvalid)
	require.NotEmpty(t, bad.Causes)
	assert.Equal(t, "data[a/b]", bad.Causes[0].Field)

	lost := got["lost"]
	assert.Equal(t, manifest.Failed, lost.Action)
	assert.ErrorIs(t, lost.Err, transport.ErrNotFound, "the namespace does not exist")
	assert.Contains(t, lost.Err.Error(), missingNS)

	assert.Equal(t, manifest.Failed, got["what"].Action)
	assert.ErrorIs(t, got["what"].Err, discovery.ErrUnknownResource)

	colourful := got["colourful"]
	assert.Equal(t, manifest.Failed, colourful.Action, "Strict field validation refuses a field the schema does not have")
	require.Error(t, colourful.Err)
	// The server's verdict on an applied configuration with a field the
	// schema does not have is a 500 naming the field.
	assert.Contains(t, colourful.Err.Error(), ".spec.color: field not declared in schema")

	assert.Equal(t, manifest.Failed, got["a/b"].Action)
	assert.ErrorIs(t, got["a/b"].Err, transport.ErrInvalidName)
	assert.Equal(t, "5 failed", strings.TrimPrefix(rep.Summary(), "11 created, "))

	g2, err := c.Resource(group+"/v1", "Gizmo").Namespace(ns).Get(ctx, "g2", nil)
	require.NoError(t, err)
	assert.Equal(t, int64(2), g2.Get("spec.size").Int())
	assert.Equal(t, set.ID(), g2.Labels()[manifest.PartOfLabel])

	t.Run("twice: all unchanged, no resourceVersion moved", func(t *testing.T) {
		rep2, err := e.Apply(ctx, plan, &manifest.ApplyOptions{FieldManager: "e2e", ApplySet: set, Prune: true})
		require.NoError(t, err)
		for _, r := range rep2.Results {
			first := byRef[r.Ref.String()]
			if first.Action == manifest.Failed {
				assert.Equal(t, manifest.Failed, r.Action, r.Ref.String())
				continue
			}
			assert.Equal(t, manifest.Unchanged, r.Action, "%s: %v", r.Ref, r.Err)
			assert.Equal(t, first.Object.ResourceVersion(), r.Object.ResourceVersion(), r.Ref.String())
		}
	})
	t.Run("prune removes what left the set", func(t *testing.T) {
		smaller := strings.Replace(valid, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: "+ns+"}\ndata: {x: \"1\"}\n", "", 1)
		smaller = strings.Replace(smaller, "---\napiVersion: "+group+"/v1\nkind: Gizmo\nmetadata: {name: g2, namespace: "+ns+"}\nspec: {size: 2}\n", "", 1)
		require.NotEqual(t, valid, smaller)
		plan3, err := e.Plan(ctx, decodeSet(t, "smaller.yaml", smaller), nil)
		require.NoError(t, err)
		require.Len(t, plan3.Items, len(plan.Items)-7)
		rep3, err := e.Apply(ctx, plan3, &manifest.ApplyOptions{FieldManager: "e2e", ApplySet: set, Prune: true})
		require.NoError(t, err)
		pruned := map[string]bool{}
		for _, r := range rep3.Results {
			if r.Action == manifest.Pruned {
				pruned[r.Ref.String()] = true
			} else {
				assert.Equal(t, manifest.Unchanged, r.Action, r.Ref.String())
			}
		}
		assert.Equal(t, map[string]bool{"ConfigMap " + ns + "/extra": true, "Gizmo." + group + " " + ns + "/g2": true}, pruned)
		_, err = c.Resource("v1", "ConfigMap").Namespace(ns).Get(ctx, "extra", nil)
		assert.ErrorIs(t, err, transport.ErrNotFound)
		_, err = c.Resource(group+"/v1", "Gizmo").Namespace(ns).Get(ctx, "g2", nil)
		assert.ErrorIs(t, err, transport.ErrNotFound)
		parent, err := c.Resource("v1", "Secret").Namespace("default").Get(ctx, parentName, nil)
		require.NoError(t, err)
		assert.Equal(t, map[string]string{
			manifest.ToolingAnnotation:              "kubedyn/v1",
			manifest.ContainsGroupKindsAnnotation:   "ClusterRole.rbac.authorization.k8s.io,ConfigMap,CustomResourceDefinition.apiextensions.k8s.io,Gizmo." + group + ",Namespace,Role.rbac.authorization.k8s.io,RoleBinding.rbac.authorization.k8s.io,Secret,ServiceAccount",
			manifest.AdditionalNamespacesAnnotation: ns,
		}, parent.Annotations())
	})
}

// TestManifestReadinessOnTheWholePlane applies a set and waits for it with
// the controllers running: a CRD, a Deployment rolling out, a Job that
// completes and one that fails, a custom resource whose status a test
// controller fills in later, and one that reports a failed condition.
func TestManifestReadinessOnTheWholePlane(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := planeNamespace(t)
	c := planeAdmin(t)
	e := manifest.New(c)
	group := uniqueName("ready") + ".example.com"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition").Delete(ctx, "gizmos."+group, nil)
	})
	text := gizmoCRD(group) + "---\n" + workloadSet(ns, 2) + `---
apiVersion: ` + group + `/v1
kind: Gizmo
metadata: {name: later, namespace: ` + ns + `}
spec: {size: 1}
---
apiVersion: ` + group + `/v1
kind: Gizmo
metadata: {name: doomed, namespace: ` + ns + `}
spec: {size: 1}
`
	plan, err := e.Plan(ctx, decodeSet(t, "ready.yaml", text), nil)
	require.NoError(t, err)
	gizmos := c.Resource(group+"/v1", "Gizmo").Namespace(ns)
	setStatus := func(name, status string) {
		g, err := gizmos.Get(ctx, name, nil)
		if !assert.NoError(t, err) {
			return
		}
		g, err = g.SetRaw("status", status)
		if !assert.NoError(t, err) {
			return
		}
		_, err = gizmos.UpdateStatus(ctx, g, nil)
		assert.NoError(t, err)
	}
	var mu sync.Mutex
	seen := map[string][]manifest.Status{}
	acted := map[string]bool{}
	var ctrl sync.WaitGroup
	rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{FieldManager: "e2e", Wait: &manifest.WaitOptions{
		Timeout:       100 * time.Second,
		NoStatusGrace: -1, // our gizmos must get a status
		FailedAfter:   time.Second,
		OnChange: func(r manifest.WaitResult) {
			mu.Lock()
			defer mu.Unlock()
			seen[r.Ref.Name] = append(seen[r.Ref.Name], r.Status)
			if r.Status != manifest.StatusInProgress || acted[r.Ref.Name] || r.Ref.Kind != "Gizmo" {
				return
			}
			acted[r.Ref.Name] = true
			// The test controller answers once the wait has seen the
			// custom resource without status, InProgress.
			switch r.Ref.Name {
			case "later":
				ctrl.Go(func() {
					setStatus("later", `{"conditions":[{"type":"Ready","status":"True","reason":"Reconciled","observedGeneration":1}]}`)
				})
			case "doomed":
				ctrl.Go(func() {
					setStatus("doomed", `{"conditions":[{"type":"Ready","status":"False","reason":"ProvisioningFailed","message":"size 1 is not available","observedGeneration":1}]}`)
				})
			}
		},
	}})
	ctrl.Wait()
	require.NoError(t, err)
	require.True(t, rep.OK(), rep.Summary())
	ready := map[string]manifest.WaitResult{}
	for _, r := range rep.Ready {
		ready[r.Ref.Name] = r
		t.Logf("%s: %s %s (%s) %v", r.Ref, r.Status, r.Message, r.Duration.Round(time.Millisecond), r.Err)
	}
	require.Len(t, ready, 6)
	assert.Equal(t, manifest.StatusCurrent, ready["gizmos."+group].Status)
	assert.Equal(t, manifest.StatusCurrent, ready["web"].Status, ready["web"].Message)
	assert.Equal(t, int64(2), ready["web"].Object.Get("status.availableReplicas").Int())
	assert.Equal(t, manifest.StatusCurrent, ready["works"].Status, ready["works"].Message)
	assert.Equal(t, manifest.StatusFailed, ready["breaks"].Status, ready["breaks"].Message)
	assert.Error(t, ready["breaks"].Err)
	assert.Equal(t, manifest.StatusCurrent, ready["later"].Status, ready["later"].Message)
	assert.Equal(t, manifest.StatusFailed, ready["doomed"].Status, ready["doomed"].Message)
	assert.Contains(t, ready["doomed"].Err.Error(), "size 1 is not available")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, manifest.StatusInProgress, seen["later"][0], "InProgress before its controller wrote a status")
	assert.Equal(t, manifest.StatusCurrent, seen["later"][len(seen["later"])-1])
}

// TestManifestApplyConcurrencyFigures logs how long 100 ConfigMaps take to
// apply one at a time and eight at a time on the real server (the figures
// in the report), and that every one is created either way.
func TestManifestApplyConcurrencyFigures(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := admin(t)
	e := manifest.New(c)
	for _, conc := range []int{1, 8} {
		ns := newNamespace(t)
		var text strings.Builder
		for i := range 100 {
			text.WriteString("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-" + strconv.Itoa(i) + ", namespace: " + ns + "}\ndata: {k: v}\n")
		}
		plan, err := e.Plan(ctx, decodeSet(t, "many.yaml", text.String()), nil)
		require.NoError(t, err)
		start := time.Now()
		rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{Concurrency: conc})
		require.NoError(t, err)
		took := time.Since(start)
		assert.Equal(t, 100, rep.Count(manifest.Created), rep.Summary())
		start = time.Now()
		rep, err = e.Apply(ctx, plan, &manifest.ApplyOptions{Concurrency: conc})
		require.NoError(t, err)
		assert.Equal(t, 100, rep.Count(manifest.Unchanged), rep.Summary())
		t.Logf("concurrency %d: 100 ConfigMaps created in %s, re-applied (unchanged) in %s", conc, took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	}
}

// TestManifestPrunesASetKubectlWrote writes a parent Secret and members as
// kubectl's `apply --server-side --applyset=<name> --prune` writes them
// (keys, id and annotation values from kubectl's own tests), then applies a
// smaller set with kubectl's tooling: the member that left is pruned and the
// parent keeps kubectl's format.
func TestManifestPrunesASetKubectlWrote(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := admin(t)
	e := manifest.New(c)
	ns := newNamespace(t)
	set := manifest.ApplySet{Name: "my-set", Namespace: ns, Tooling: "kubectl/v1.37.2"}
	id := set.ID()
	// kubectl writes the parent with server-side apply and its own field
	// manager, kubectl-applyset.
	parent := obj(t, `apiVersion: v1
kind: Secret
metadata:
  name: my-set
  namespace: `+ns+`
  annotations:
    applyset.kubernetes.io/additional-namespaces: ""
    applyset.kubernetes.io/contains-group-kinds: ConfigMap,Deployment.apps
    applyset.kubernetes.io/tooling: kubectl/v1.37.2
  labels:
    applyset.kubernetes.io/id: `+id+`
`)
	_, err := c.Resource("v1", "Secret").Namespace(ns).Apply(ctx, parent, &resource.ApplyOptions{FieldManager: "kubectl-applyset"})
	require.NoError(t, err)
	for _, m := range []string{
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"stays","labels":{"applyset.kubernetes.io/part-of":"` + id + `"}}}`,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"leaves","labels":{"applyset.kubernetes.io/part-of":"` + id + `"}}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"applyset.kubernetes.io/part-of":"` + id + `"}},
			"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"busybox:1.36"}]}}}}`,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"not-a-member"}}`,
	} {
		o := obj(t, m)
		_, err := c.ForObject(o).Namespace(ns).Apply(ctx, o, &resource.ApplyOptions{FieldManager: "kubectl"})
		require.NoError(t, err)
	}
	plan, err := e.Plan(ctx, decodeSet(t, "kept.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stays, namespace: "+ns+"}\n"), nil)
	require.NoError(t, err)

	_, err = e.Apply(ctx, plan, &manifest.ApplyOptions{ApplySet: &manifest.ApplySet{Name: "my-set", Namespace: ns}, Prune: true})
	require.Error(t, err, "a set kubectl manages is refused under another tooling")
	assert.Contains(t, err.Error(), `managed by tooling "kubectl"`)

	rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{ApplySet: &set, Prune: true})
	require.NoError(t, err)
	pruned := map[string]bool{}
	for _, r := range rep.Results {
		t.Logf("%s", r)
		if r.Action == manifest.Pruned {
			pruned[r.Ref.String()] = true
		}
	}
	assert.Equal(t, map[string]bool{"ConfigMap " + ns + "/leaves": true, "Deployment.apps " + ns + "/web": true}, pruned)
	_, err = c.Resource("v1", "ConfigMap").Namespace(ns).Get(ctx, "not-a-member", nil)
	require.NoError(t, err, "objects outside the set are never pruned")
	_, err = c.Resource("v1", "ConfigMap").Namespace(ns).Get(ctx, "leaves", nil)
	assert.ErrorIs(t, err, transport.ErrNotFound)
	got, err := c.Resource("v1", "Secret").Namespace(ns).Get(ctx, "my-set", nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		manifest.AdditionalNamespacesAnnotation: "",
		manifest.ContainsGroupKindsAnnotation:   "ConfigMap",
		manifest.ToolingAnnotation:              "kubectl/v1.37.2",
	}, got.Annotations())
	assert.Equal(t, map[string]string{manifest.IDLabel: id}, got.Labels())
	// The same manager as kubectl's owns the parent's set fields.
	assert.Contains(t, got.Get("metadata.managedFields.#.manager").String(), "kubectl-applyset")
}

// TestManifestCreateDiffDelete runs the other verbs against the real server:
// create mode reports AlreadyExists per object, Diff lists the fields a
// change would make (from the server's dry run, Secret values masked), and
// Delete removes the set in reverse order, custom resources before their CRD.
func TestManifestCreateDiffDelete(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := admin(t)
	e := manifest.New(c)
	ns := newNamespace(t)
	group := uniqueName("mfd") + ".example.com"
	cleanupCluster(t, c, "apiextensions.k8s.io/v1", "CustomResourceDefinition", "gizmos."+group)
	text := gizmoCRD(group) + `---
apiVersion: ` + group + `/v1
kind: Gizmo
metadata: {name: g, namespace: ` + ns + `}
spec: {size: 1}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: ` + ns + `}
data: {a: "1", b: "2"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: ` + ns + `}
stringData: {password: hunter2}
`
	plan, err := e.Plan(ctx, decodeSet(t, "v1.yaml", text), nil)
	require.NoError(t, err)
	rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{Mode: manifest.CreateOnly})
	require.NoError(t, err)
	assert.Equal(t, 4, rep.Count(manifest.Created), rep.Summary())

	again, err := e.Apply(ctx, plan, &manifest.ApplyOptions{Mode: manifest.CreateOnly})
	require.NoError(t, err)
	for _, r := range again.Results {
		assert.Equal(t, manifest.Failed, r.Action, r.Ref.String())
		assert.ErrorIs(t, r.Err, transport.ErrAlreadyExists, r.Ref.String())
	}

	changed := strings.NewReplacer(`data: {a: "1", b: "2"}`, `data: {a: "1", b: "3"}`, "password: hunter2", "password: correct-horse", "size: 1}", "size: 2}").Replace(text)
	plan2, err := e.Plan(ctx, decodeSet(t, "v2.yaml", changed), nil)
	require.NoError(t, err)
	diffs := e.Diff(ctx, plan2, &manifest.DiffOptions{Force: true})
	d := map[string]manifest.ObjectDiff{}
	for _, x := range diffs {
		require.NoError(t, x.Err, x.Ref.String())
		assert.True(t, x.Exists)
		d[x.Ref.Name] = x
	}
	assert.Empty(t, d["gizmos."+group].Changes)
	assert.Equal(t, []manifest.Change{{Path: "spec.size", Old: "1", New: "2"}}, d["g"].Changes)
	assert.Equal(t, []manifest.Change{{Path: "data.b", Old: `"2"`, New: `"3"`}}, d["settings"].Changes)
	assert.Equal(t, []manifest.Change{{Path: "data.password", Old: `"*** (before)"`, New: `"*** (after)"`}}, d["creds"].Changes)
	cm, err := c.Resource("v1", "ConfigMap").Namespace(ns).Get(ctx, "settings", nil)
	require.NoError(t, err)
	assert.Equal(t, "2", cm.Get("data.b").String(), "the diff wrote nothing")

	var order []string
	var mu sync.Mutex
	del, err := e.Delete(ctx, plan, &manifest.DeleteOptions{OnResult: func(r manifest.Result) {
		mu.Lock()
		order = append(order, r.Ref.Name)
		mu.Unlock()
	}})
	require.NoError(t, err)
	assert.Equal(t, 4, del.Count(manifest.Deleted), del.Summary())
	assert.Equal(t, "gizmos."+group, order[len(order)-1], "the CRD goes last: %v", order)
	gone := e.Wait(ctx, []manifest.Target{{Ref: del.Results[0].Ref}}, &manifest.WaitOptions{For: manifest.ForDeletion, Timeout: time.Minute})
	assert.True(t, gone[0].Ready(), gone[0].Err)
}

// workloadSet is a Deployment of the given replicas that runs until
// stopped, a Job that completes and a Job whose pod exits 3, in namespace
// ns: the readiness cases of the whole plane.
func workloadSet(ns string, replicas int) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %[1]s}
spec:
  replicas: %[2]d
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: busybox:1.36, command: [sh, -c, "exec sleep 3600"]}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: works, namespace: %[1]s}
spec:
  backoffLimit: 0
  template: {spec: {restartPolicy: Never, containers: [{name: w, image: busybox:1.36, command: [sh, -c, "exit 0"]}]}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: breaks, namespace: %[1]s}
spec:
  backoffLimit: 0
  template: {spec: {restartPolicy: Never, containers: [{name: w, image: busybox:1.36, command: [sh, -c, "exit 3"]}]}}
`, ns, replicas)
}
