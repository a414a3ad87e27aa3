package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// kubedynCLI runs the cmd/kubedyn binary, built into the test's temporary
// folder, with the shared cluster's kubeconfig.
type kubedynCLI struct {
	t   *testing.T
	bin string
	kc  string
}

func newKubedynCLI(t *testing.T) *kubedynCLI {
	t.Helper()
	return buildKubedynCLI(t, cluster(t).Kubeconfig)
}

func buildKubedynCLI(t *testing.T, kubeconfig string) *kubedynCLI {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kubedyn")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/kubedyn/kubedyn/cmd/kubedyn").CombinedOutput()
	require.NoError(t, err, string(out))
	return &kubedynCLI{t: t, bin: bin, kc: kubeconfig}
}

// run returns standard output, standard error and the exit code.
func (c *kubedynCLI) run(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append([]string{"--kubeconfig", c.kc}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode()
	}
	require.NoError(c.t, err)
	return out.String(), errb.String(), 0
}

func (c *kubedynCLI) ok(stdin string, args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(stdin, args...)
	require.Equal(c.t, 0, code, "kubedyn %v\nstdout:\n%s\nstderr:\n%s", args, out, errOut)
	return out
}

// TestCLI runs the kubedyn binary against the real kube-apiserver: a set
// with a Namespace, a CRD and a custom resource of it applied in one run
// next to a ConfigMap the server refuses, the server's own table columns
// (the CRD's printer columns included), waits, watch, explain and
// api-resources, each with its exit code.
func TestCLI(t *testing.T) {
	c := newKubedynCLI(t)
	ns := uniqueName("cli")
	group := uniqueName("cli") + ".example.com"
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, []byte(`apiVersion: v1
kind: Namespace
metadata: {name: `+ns+`}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.`+group+`}
spec:
  group: `+group+`
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, description: How big the widget is.}
---
apiVersion: `+group+`/v1
kind: Widget
metadata: {name: w1, namespace: `+ns+`}
spec: {size: 3}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: `+ns+`}
data: {mode: fast}
`), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: bad, namespace: `+ns+`}
data: {"a/b": x}
`), 0o600))
	t.Cleanup(func() {
		_, _, _ = c.run("", "delete", "-f", good)
	})

	out, errOut, code := c.run("", "apply", "-f", dir)
	require.Equal(t, 1, code, "one object fails: exit 1\n%s\n%s", out, errOut)
	assert.Contains(t, out, good+":1:1 Namespace "+ns+" created")
	assert.Contains(t, out, good+":2:5 CustomResourceDefinition.apiextensions.k8s.io widgets."+group+" created")
	assert.Contains(t, out, good+":3:27 Widget."+group+" "+ns+"/w1 created", "the custom resource applies in the same run")
	assert.Contains(t, out, "ConfigMap "+ns+"/bad failed")
	assert.Contains(t, out, "    data[a/b]: Invalid value")
	assert.Contains(t, out, "4 created, 1 failed")

	out = c.ok("", "apply", "-f", good, "-o", "ndjson")
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		assert.Contains(t, []string{"unchanged", "configured"}, gjson.Get(l, "action").String(), l)
		assert.Equal(t, good, strings.Split(gjson.Get(l, "source").String(), ":")[0])
	}

	t.Run("a Namespace that names only itself", func(t *testing.T) {
		// The apply that creates it owns no field, so the server keeps no
		// managedFields; the next apply records the object's fields under
		// "before-first-apply" (a write: configured); then unchanged. The
		// test server does the same (TestApplyBeforeFirstApply).
		bare := "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + uniqueName("cli-bare") + "}\n"
		t.Cleanup(func() { _, _, _ = c.run(bare, "delete", "-f", "-") })
		for _, want := range []string{"created", "configured", "unchanged"} {
			out := c.ok(bare, "apply", "-f", "-", "-o", "ndjson")
			assert.Equal(t, want, gjson.Get(out, "action").String(), out)
		}
	})
	t.Run("get tables are the server's", func(t *testing.T) {
		out := c.ok("", "get", "widgets."+group, "-n", ns)
		assert.Regexp(t, `(?m)^NAME\s+SIZE\n`, out)
		assert.Regexp(t, `(?m)^w1\s+3\s+`, out)
		out = c.ok("", "get", "namespaces", ns)
		assert.Regexp(t, `(?m)^NAME\s+STATUS\s+AGE\n`+ns+`\s+Active\s+`, out)
		out = c.ok("", "get", "configmaps", "-A", "--field-selector", "metadata.name=settings")
		assert.Regexp(t, `(?m)^NAMESPACE\s+NAME\s+DATA\s+AGE\n`, out)
		assert.Regexp(t, `(?m)^`+ns+`\s+settings\s+1\s+`, out)
	})
	t.Run("get json, path and jq", func(t *testing.T) {
		assert.Equal(t, "3\n", c.ok("", "get", "widget", "w1", "-n", ns, "--path", "spec.size"))
		assert.Equal(t, "fast\n", c.ok("", "get", "cm", "settings", "-n", ns, "--jq", ".data.mode"))
		out := c.ok("", "get", "configmaps", "-n", ns, "-o", "json")
		assert.Equal(t, "List", gjson.Get(out, "kind").String())
		assert.Contains(t, gjson.Get(out, "items.#.metadata.name").Raw, `"settings"`)
		_, errOut, code := c.run("", "get", "cm", "bad", "-n", ns)
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, `configmaps "bad" not found`)
	})
	t.Run("wait", func(t *testing.T) {
		out := c.ok("", "wait", "crd/widgets."+group, "--for=condition=Established", "--timeout=30s")
		assert.Contains(t, out, "CustomResourceDefinition.apiextensions.k8s.io widgets."+group+" Current")
		c.ok("", "wait", "widget/w1", "-n", ns, "--for=jsonpath={.spec.size}=3", "--timeout=30s")
		_, errOut, code := c.run("", "wait", "widget/w1", "-n", ns, "--for=gjson=spec.size=4", "--timeout=2s")
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "did not meet")
	})
	t.Run("watch", func(t *testing.T) {
		out := c.ok("", "watch", "widgets."+group, "-n", ns, "--max-events", "1")
		assert.Equal(t, "ADDED", gjson.Get(out, "type").String())
		assert.Equal(t, "w1", gjson.Get(out, "object.metadata.name").String())
		// A user RBAC refuses: the watch ends at once, exit 2, no retries.
		_, errOut, code := c.run("", "--context", "nobody", "watch", "configmaps", "-n", ns)
		assert.Equal(t, 2, code)
		assert.Contains(t, errOut, "forbidden")
	})
	t.Run("explain and api-resources", func(t *testing.T) {
		out := c.ok("", "explain", "widgets."+group+".spec.size")
		assert.Contains(t, out, "How big the widget is.")
		out = c.ok("", "explain", "deployments.spec.replicas")
		assert.Contains(t, out, "replicas")
		out = c.ok("", "api-resources")
		assert.Regexp(t, `(?m)^deployments\s+deploy\s+apps/v1\s+true\s+Deployment$`, out)
		assert.Regexp(t, `(?m)^widgets\s+`+group+`/v1\s+true\s+Widget$`, out)
		out = c.ok("", "version", "-o", "json")
		assert.Equal(t, "v1.37.2", gjson.Get(out, "serverVersion.gitVersion").String())
	})
	t.Run("diff", func(t *testing.T) {
		changed := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: " + ns + "}\ndata: {mode: slow}\n"
		out, _, code := c.run(changed, "diff", "-f", "-")
		assert.Equal(t, 1, code)
		assert.Contains(t, out, `~ data.mode: "fast" -> "slow"`)
	})
	t.Run("delete and wait for delete", func(t *testing.T) {
		cr := "apiVersion: " + group + "/v1\nkind: Widget\nmetadata: {name: w1, namespace: " + ns + "}\n"
		out := c.ok(cr, "delete", "-f", "-", "--wait", "--timeout=30s")
		assert.Contains(t, out, "Widget."+group+" "+ns+"/w1 deleted")
		assert.Contains(t, out, "Widget."+group+" "+ns+"/w1 NotFound")
		out = c.ok(cr, "delete", "-f", "-")
		assert.Contains(t, out, "Widget."+group+" "+ns+"/w1 unchanged", "already gone")
	})
}

// TestCLIOnTheWholePlane: with controllers and a node agent, apply --wait
// reports a Deployment that rolls out and a Job that completes as Current
// and a Job that fails as Failed (exit 1); wait --for=condition=Available
// and the server's pod table with its wide columns.
func TestCLIOnTheWholePlane(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	c := buildKubedynCLI(t, plane(t).Kubeconfig)
	set := workloadSet(ns, 1)
	out, errOut, code := c.run(set, "apply", "-f", "-", "--wait", "--timeout=150s")
	require.Equal(t, 1, code, "the failed Job: exit 1\n%s\n%s", out, errOut)
	assert.Contains(t, out, "Deployment.apps "+ns+"/web Current")
	assert.Contains(t, out, "Job.batch "+ns+"/works Current")
	assert.Contains(t, out, "Job.batch "+ns+"/breaks Failed")
	assert.Contains(t, out, "3 created; 2 ready, 1 not ready")

	out = c.ok("", "wait", "deploy/web", "-n", ns, "--for=condition=Available", "--timeout=30s")
	assert.Contains(t, out, "Deployment.apps "+ns+"/web Current")
	out = c.ok("", "get", "pods", "-n", ns, "-l", "app=web")
	assert.Regexp(t, `(?m)^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n`, out)
	assert.Regexp(t, `(?m)^web-\S+\s+1/1\s+Running\s+0\s+`, out)
	out = c.ok("", "get", "pods", "-n", ns, "-l", "app=web", "-o", "wide")
	assert.Regexp(t, `(?m)^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+`, out)
	out = c.ok("", "get", "jobs", "-n", ns)
	assert.Regexp(t, `(?m)^works\s+Complete\s+1/1\s+`, out)
	assert.Regexp(t, `(?m)^breaks\s+Failed\s+0/1\s+`, out)
}
