package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/kubedyn/kubedyn/internal/testserver"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds cmd/kubedyn once per test binary.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "kubedyn-cli-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "kubedyn")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/kubedyn/kubedyn/cmd/kubedyn").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// cli runs the binary with a kubeconfig for the test server.
type cli struct {
	t          *testing.T
	kubeconfig string
	env        []string
}

func newCLI(t *testing.T) (*cli, *testserver.Server) {
	t.Helper()
	srv := testserver.New(t)
	kc := filepath.Join(t.TempDir(), "config")
	require.NoError(t, os.WriteFile(kc, srv.Kubeconfig(), 0o600))
	return &cli{t: t, kubeconfig: kc}, srv
}

type result struct {
	stdout, stderr string
	code           int
}

func (c *cli) run(stdin string, args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(c.t), append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="), c.env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(c.t, err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

func (c *cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	r := c.run(stdin, args...)
	require.Equal(c.t, 0, r.code, "kubedyn %v\nstdout:\n%s\nstderr:\n%s", args, r.stdout, r.stderr)
	return r.stdout
}

const configMaps = `apiVersion: v1
kind: ConfigMap
metadata:
  name: one
  labels: {app: web}
data: {k: v1}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: two
data: {k: v2}
`

func TestApplyGetDelete(t *testing.T) {
	c, _ := newCLI(t)

	out := c.ok(configMaps, "apply", "-f", "-")
	assert.Contains(t, out, "ConfigMap default/one created")
	assert.Contains(t, out, "<stdin>:2:8 ConfigMap default/two created")
	assert.Contains(t, out, "2 created")

	out = c.ok(configMaps, "apply", "-f", "-", "-o", "ndjson")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	for _, l := range lines {
		assert.Equal(t, "unchanged", gjson.Get(l, "action").String(), l)
	}

	t.Run("table", func(t *testing.T) {
		out := c.ok("", "get", "configmaps")
		assert.Regexp(t, `(?m)^NAME\s+DATA\s+AGE\n`, out)
		assert.Regexp(t, `(?m)^one\s+1\s+`, out)
		assert.Regexp(t, `(?m)^two\s+1\s+`, out)
	})
	t.Run("table by name and selector", func(t *testing.T) {
		out := c.ok("", "get", "cm", "two")
		assert.NotContains(t, out, "one")
		assert.Contains(t, out, "two")
		out = c.ok("", "get", "configmaps", "-l", "app=web")
		assert.Contains(t, out, "one")
		assert.NotContains(t, out, "two")
	})
	t.Run("json of one is the object", func(t *testing.T) {
		out := c.ok("", "get", "configmap/one", "-o", "json")
		assert.Equal(t, "ConfigMap", gjson.Get(out, "kind").String())
		assert.Equal(t, "v1", gjson.Get(out, "data.k").String())
	})
	t.Run("json of several is a List", func(t *testing.T) {
		out := c.ok("", "get", "configmaps", "-o", "json")
		assert.Equal(t, "List", gjson.Get(out, "kind").String())
		assert.Equal(t, `["one","two"]`, gjson.Get(out, "items.#.metadata.name").Raw)
	})
	t.Run("yaml", func(t *testing.T) {
		out := c.ok("", "get", "configmap", "one", "-o", "yaml")
		assert.Contains(t, out, "kind: ConfigMap\n")
		assert.Contains(t, out, "  k: v1\n")
	})
	t.Run("ndjson", func(t *testing.T) {
		out := c.ok("", "get", "configmaps", "-o", "ndjson")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 2)
		assert.Equal(t, "one", gjson.Get(lines[0], "metadata.name").String())
	})
	t.Run("path", func(t *testing.T) {
		assert.Equal(t, "v2\n", c.ok("", "get", "configmap", "two", "--path", "data.k"))
		assert.Equal(t, "one\ntwo\n", c.ok("", "get", "configmaps", "-o", "ndjson", "--path", "metadata.name"))
	})
	t.Run("jq", func(t *testing.T) {
		assert.Equal(t, "one\ntwo\n", c.ok("", "get", "configmaps", "--jq", ".items[].metadata.name"))
		assert.Equal(t, "{\"k\":\"v1\"}\n", c.ok("", "get", "configmap", "one", "--jq", ".data"))
	})
	t.Run("not found is exit 1", func(t *testing.T) {
		r := c.run("", "get", "configmaps", "one", "nope")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stdout, "one")
		assert.Contains(t, r.stderr, `configmaps "nope" not found`)
		r = c.run("", "get", "configmaps", "nope", "-o", "json")
		assert.Equal(t, 1, r.code)
	})
	t.Run("could not run is exit 2", func(t *testing.T) {
		for _, args := range [][]string{
			{"get", "nosuchresource"},
			{"get", "configmaps", "-o", "xml"},
			{"get", "configmaps", "--jq", ".["},
			{"get", "--no-such-flag", "configmaps"},
			{"apply"},
			{"apply", "-f", "/does/not/exist.yaml"},
			{"--kubeconfig", "/does/not/exist", "get", "configmaps"},
		} {
			r := c.run("", args...)
			assert.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
			assert.Contains(t, r.stderr, "error:", "%v", args)
		}
	})

	t.Run("diff", func(t *testing.T) {
		r := c.run(strings.Replace(configMaps, "k: v2", "k: v3", 1), "diff", "-f", "-")
		assert.Equal(t, 1, r.code, r.stderr)
		assert.Contains(t, r.stdout, "ConfigMap default/one unchanged")
		assert.Contains(t, r.stdout, `~ data.k: "v2" -> "v3"`)
		assert.Equal(t, "v2\n", c.ok("", "get", "configmap", "two", "--path", "data.k"), "diff wrote nothing")
		c.ok(configMaps, "diff", "-f", "-")
	})

	out = c.ok(configMaps, "delete", "-f", "-")
	assert.Contains(t, out, "ConfigMap default/one deleted")
	assert.Contains(t, out, "2 deleted")
	r := c.run("", "get", "configmaps")
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stderr, "No resources found in default namespace.")
}

func TestApplySomeFailed(t *testing.T) {
	c, _ := newCLI(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "set.yaml"), []byte(configMaps+`---
apiVersion: v1
kind: ConfigMap
metadata:
  name: bad
data: {"a/b": x}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: lost
  namespace: missing
`), 0o600))
	r := c.run("", "apply", "-f", dir)
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stdout, filepath.Join(dir, "set.yaml")+":1:1 ConfigMap default/one created")
	assert.Regexp(t, `set.yaml:3:\d+ ConfigMap default/bad failed: `, r.stdout)
	assert.Contains(t, r.stdout, "    data[a/b]:")
	assert.Contains(t, r.stdout, "ConfigMap missing/lost failed")
	assert.Contains(t, r.stdout, "2 created, 2 failed")

	r = c.run("", "create", "-f", dir, "-o", "ndjson")
	assert.Equal(t, 1, r.code)
	byName := map[string]gjson.Result{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		byName[gjson.Get(l, "name").String()] = gjson.Parse(l)
	}
	require.Len(t, byName, 4, r.stdout)
	assert.Equal(t, "failed", byName["one"].Get("action").String())
	assert.Contains(t, byName["one"].Get("error").String(), "already exists")
	assert.Equal(t, filepath.Join(dir, "set.yaml")+":1:1", byName["one"].Get("source").String())
	assert.Equal(t, "data[a/b]", byName["bad"].Get("causes.0.field").String())
	assert.Contains(t, r.stderr, "4 failed")

	t.Run("invalid set is exit 2 before anything is sent", func(t *testing.T) {
		r := c.run(configMaps+"---\n"+configMaps, "apply", "-f", "-")
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "ConfigMap default/one is already in the set at <stdin>:1:1")
	})
}

func TestWaitAndWatch(t *testing.T) {
	c, _ := newCLI(t)
	c.ok(configMaps, "apply", "-f", "-")

	t.Run("gjson and jsonpath", func(t *testing.T) {
		out := c.ok("", "wait", "configmap/one", "configmap/two", "--for=gjson=data.k", "--timeout=10s")
		assert.Contains(t, out, "ConfigMap default/one Current")
		assert.Contains(t, out, "ConfigMap default/two Current")
		c.ok("", "wait", "configmap", "one", "--for=jsonpath={.data.k}=v1", "--timeout=10s")
		r := c.run("", "wait", "configmap/one", "--for=jsonpath={.data.k}=other", "--timeout=1s")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "1 of 1 objects did not meet")
	})
	t.Run("bad for is exit 2", func(t *testing.T) {
		r := c.run("", "wait", "configmap/one", "--for=ready")
		assert.Equal(t, 2, r.code)
	})
	t.Run("watch", func(t *testing.T) {
		out := c.ok("", "watch", "configmaps", "--max-events", "2")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 2)
		var ev struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		require.NoError(t, json.Unmarshal([]byte(lines[0]), &ev))
		assert.Equal(t, "ADDED", ev.Type)
		assert.Equal(t, "ConfigMap", gjson.GetBytes(ev.Object, "kind").String())
	})
	t.Run("wait for delete", func(t *testing.T) {
		done := make(chan result, 1)
		go func() { done <- c.run("", "wait", "configmap/two", "--for=delete", "--timeout=30s") }()
		c.ok("", "watch", "configmaps", "two", "--max-events", "1") // the object is there
		c.ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: two}\n", "delete", "-f", "-")
		r := <-done
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, "ConfigMap default/two NotFound")
	})
}

func TestKubeconfigFlags(t *testing.T) {
	c, srv := newCLI(t)
	c.ok("apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: other}\n", "apply", "-f", "-")

	t.Run("namespace flag", func(t *testing.T) {
		assert.Contains(t, c.ok("", "get", "configmaps", "-n", "other"), "x")
		out := c.ok("", "get", "configmaps", "-A")
		assert.Regexp(t, `(?m)^NAMESPACE\s+NAME\s+DATA\s+AGE\n`, out)
		assert.Regexp(t, `(?m)^other\s+x\s+0\s+`, out)
	})
	t.Run("KUBECONFIG", func(t *testing.T) {
		kc := filepath.Join(t.TempDir(), "env-config")
		require.NoError(t, os.WriteFile(kc, srv.Kubeconfig(), 0o600))
		cmd := exec.Command(binary(t), "get", "namespaces", "other", "-o", "name")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "missing")+string(os.PathListSeparator)+kc, "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		assert.Equal(t, "namespace/other\n", string(out))
	})
	t.Run("context", func(t *testing.T) {
		assert.Contains(t, c.ok("", "--context", "testserver-cert", "get", "ns", "other"), "other")
		r := c.run("", "--context", "nope", "get", "ns")
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "nope")
	})
	t.Run("api-resources", func(t *testing.T) {
		out := c.ok("", "api-resources")
		assert.Regexp(t, `(?m)^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND\n`, out)
		assert.Regexp(t, `(?m)^configmaps\s+cm\s+v1\s+true\s+ConfigMap$`, out)
		assert.Regexp(t, `(?m)^deployments\s+deploy\s+apps/v1\s+true\s+Deployment$`, out)
		out = c.ok("", "api-resources", "--namespaced=false", "-o", "name")
		assert.Contains(t, out, "namespaces\n")
		assert.NotContains(t, out, "configmaps")
	})
	t.Run("explain", func(t *testing.T) {
		out := c.ok("", "explain", "configmaps.data")
		assert.Contains(t, out, "KIND:")
		assert.Contains(t, out, "data")
		r := c.run("", "explain", "configmaps.nosuchfield")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "nosuchfield")
	})
	t.Run("version", func(t *testing.T) {
		out := c.ok("", "version", "-o", "json")
		assert.NotEmpty(t, gjson.Get(out, "serverVersion.gitVersion").String(), out)
		assert.NotEmpty(t, gjson.Get(out, "clientVersion.goVersion").String(), out)
	})
}

func TestApplyPrune(t *testing.T) {
	c, _ := newCLI(t)
	out := c.ok(configMaps, "apply", "-f", "-", "--applyset", "shop")
	assert.Contains(t, out, "2 created")
	assert.Equal(t, "applyset-", c.ok("", "get", "cm", "one", "--jq", `.metadata.labels["applyset.kubernetes.io/part-of"][:9]`)[:9])

	only := strings.SplitN(configMaps, "---\n", 2)[0]
	r := c.run(only, "apply", "-f", "-", "--applyset", "shop", "--prune", "--dry-run=server")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "ConfigMap default/two pruned (dry run)")
	c.ok("", "get", "cm", "two")

	out = c.ok(only, "apply", "-f", "-", "--applyset", "shop", "--prune")
	assert.Contains(t, out, "ConfigMap default/two pruned")
	assert.Contains(t, out, "1 unchanged, 1 pruned")
	assert.Equal(t, 1, c.run("", "get", "cm", "two").code)

	r = c.run(only, "apply", "-f", "-", "--prune")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--prune needs --applyset")
}

func TestDeleteByName(t *testing.T) {
	c, _ := newCLI(t)
	c.ok(configMaps, "apply", "-f", "-")
	out := c.ok("", "delete", "configmap/one", "cm/two", "--wait", "--timeout=10s")
	assert.Contains(t, out, "ConfigMap default/one deleted\n")
	assert.Contains(t, out, "ConfigMap default/two deleted\n")
	assert.Contains(t, out, "ConfigMap default/one NotFound")
	assert.Contains(t, out, "2 deleted")
	assert.Equal(t, 1, c.run("", "get", "cm", "one").code)

	out = c.ok("", "delete", "configmaps", "one", "-o", "ndjson")
	assert.Equal(t, "unchanged", gjson.Get(out, "action").String(), "already gone")
	for _, args := range [][]string{{"delete", "configmaps"}, {"delete", "cm", "one", "-f", "x.yaml"}, {"delete"}} {
		r := c.run("", args...)
		assert.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
	}
}
