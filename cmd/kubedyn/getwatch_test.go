package main_test

import (
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/kubedyn/kubedyn/internal/testserver"
)

func TestGetSeveralResourcesAndLabels(t *testing.T) {
	c, _ := newCLI(t)
	c.ok(configMaps+"---\n"+webPod, "apply", "-f", "-")

	t.Run("several resources", func(t *testing.T) {
		out := c.ok("", "get", "configmaps,deployments,services")
		assert.Regexp(t, `(?s)^NAME\s+DATA\s+AGE\nconfigmap/one\s+1\s+\S+\nconfigmap/two\s+1\s+\S+\n\n`+
			`NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\ndeployment.apps/web\s+.*\n\n`+
			`NAME\s+TYPE\s+CLUSTER-IP\s+.*\nservice/web\s+`, out)
		r := c.run("", "get", "cm,svc", "web", "one")
		assert.Equal(t, 1, r.code)
		assert.Regexp(t, `^NAME\s+DATA\s+AGE\nconfigmap/one\s+1\s+\S+\n\nNAME\s+TYPE\s+.*\nservice/web\s+ClusterIP\s+`, r.stdout)
		assert.Contains(t, r.stderr, `configmaps "web" not found`)
		assert.Contains(t, r.stderr, `services "one" not found`)
		out = c.ok("", "get", "cm,deploy", "-o", "name")
		assert.Equal(t, "configmap/one\nconfigmap/two\ndeployment.apps/web\n", out)
		out = c.ok("", "get", "cm/one", "deploy/web")
		assert.Regexp(t, `(?m)^configmap/one\s+1\s+`, out)
		assert.Regexp(t, `(?m)^deployment.apps/web\s+`, out, "RESOURCE/NAME of two kinds: two tables")
	})
	t.Run("show labels", func(t *testing.T) {
		out := c.ok("", "get", "configmaps", "--show-labels")
		assert.Regexp(t, `(?m)^NAME\s+DATA\s+AGE\s+LABELS\n`, out)
		assert.Regexp(t, `(?m)^one\s+1\s+\S+\s+app=web$`, out)
		assert.Regexp(t, `(?m)^two\s+1\s+\S+\s+<none>$`, out)
	})
	t.Run("label columns", func(t *testing.T) {
		c.ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: two, labels: {app.kubernetes.io/tier: db}}\ndata: {k: v2}\n", "apply", "-f", "-")
		out := c.ok("", "get", "configmaps", "-L", "app", "-L", "app.kubernetes.io/tier")
		assert.Regexp(t, `(?m)^NAME\s+DATA\s+AGE\s+APP\s+TIER\n`, out)
		assert.Regexp(t, `(?m)^one\s+1\s+\S+\s+web\s*$`, out)
		assert.Regexp(t, `(?m)^two\s+1\s+\S+\s+db$`, out)
		assert.Equal(t, c.ok("", "get", "configmaps", "-L", "app,app.kubernetes.io/tier", "--show-labels"),
			c.ok("", "get", "configmaps", "-L", "app", "-L", "app.kubernetes.io/tier", "--show-labels"))
		r := c.run("", "get", "configmaps", "--show-labels", "-o", "json")
		assert.Equal(t, 2, r.code)
	})
}

// TestGetWatch: -w prints the table, then a row per change, and ends with
// exit 0 on a signal.
func TestGetWatch(t *testing.T) {
	c, _ := newCLI(t)
	c.ok(configMaps, "apply", "-f", "-")
	row := func(event, name, data string) *regexp.Regexp {
		return regexp.MustCompile(`^` + event + `\s+` + name + `\s+` + data + `\s+\S+$`)
	}

	t.Run("table", func(t *testing.T) {
		r := c.start(nil, "get", "configmaps", "-w", "--output-watch-events")
		assert.Regexp(t, `^EVENT\s+NAME\s+DATA\s+AGE$`, r.Line())
		assert.Regexp(t, row("ADDED", "one", "1"), r.Line())
		assert.Regexp(t, row("ADDED", "two", "1"), r.Line())
		c.ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: two}\ndata: {k: v2, l: x}\n", "apply", "-f", "-")
		assert.Regexp(t, row("MODIFIED", "two", "2"), r.Line())
		c.ok("", "delete", "cm/two")
		assert.Regexp(t, row("DELETED", "two", "2"), r.Line())
		assert.Equal(t, 0, r.Stop(os.Interrupt), r.Stderr())
	})
	t.Run("watch only, one name", func(t *testing.T) {
		r := c.start(nil, "get", "configmaps", "one", "--watch-only", "-L", "app")
		c.ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: three}\n", "apply", "-f", "-")
		c.ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one, labels: {app: api}}\ndata: {k: v1}\n", "apply", "-f", "-")
		assert.Regexp(t, `^NAME\s+DATA\s+AGE\s+APP$`, r.Line())
		assert.Regexp(t, `^one\s+1\s+\S+\s+api$`, r.Line(), "the first change, not the list, and not three")
		assert.Equal(t, 0, r.Stop(syscall.SIGTERM), r.Stderr())
	})
	t.Run("ndjson", func(t *testing.T) {
		r := c.start(nil, "get", "configmaps", "-w", "-o", "ndjson", "--output-watch-events")
		names := map[string]bool{}
		for range 2 {
			l := r.Line()
			assert.Equal(t, "ADDED", gjson.Get(l, "type").String())
			names[gjson.Get(l, "object.metadata.name").String()] = true
		}
		assert.Equal(t, map[string]bool{"one": true, "three": true}, names)
		c.ok("", "delete", "cm/three")
		l := r.Line()
		assert.Equal(t, "DELETED", gjson.Get(l, "type").String())
		assert.Equal(t, "three", gjson.Get(l, "object.metadata.name").String())
		assert.Equal(t, 0, r.Stop(os.Interrupt), r.Stderr())
	})
	t.Run("bad combinations", func(t *testing.T) {
		for _, args := range [][]string{
			{"get", "cm,svc", "-w"}, {"get", "cm", "a", "b", "-w"}, {"get", "cm", "--output-watch-events"},
		} {
			r := c.run("", args...)
			assert.Equal(t, 2, r.code, "%v", args)
			assert.True(t, strings.HasPrefix(r.stderr, "error: "), r.stderr)
		}
	})
	require.NotNil(t, c)
}

// TestGetWatchResumes: a watch the server ends or drops is opened again
// from the last resourceVersion, so a change made meanwhile prints once;
// one whose history is gone (410) lists again.
func TestGetWatchResumes(t *testing.T) {
	c, srv := newCLI(t)
	c.ok(configMaps, "apply", "-f", "-")
	r := c.start(nil, "get", "configmaps", "-w", "--output-watch-events")
	assert.Regexp(t, `^EVENT\s+NAME`, r.Line())
	assert.Regexp(t, `^ADDED\s+one\s`, r.Line())
	assert.Regexp(t, `^ADDED\s+two\s`, r.Line())
	open := func() bool { return srv.OpenWatches() == 1 }
	require.Eventually(t, open, time.Minute, 10*time.Millisecond)

	srv.EndWatches()
	c.ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: two}\ndata: {k: v2, a: b}\n", "apply", "-f", "-")
	assert.Regexp(t, `^MODIFIED\s+two\s+2\s`, r.Line())
	require.Eventually(t, open, time.Minute, 10*time.Millisecond)

	srv.DropWatches()
	c.ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: two}\ndata: {k: v2, a: b, c: d}\n", "apply", "-f", "-")
	assert.Regexp(t, `^MODIFIED\s+two\s+3\s`, r.Line(), "once, after the drop")
	require.Eventually(t, open, time.Minute, 10*time.Millisecond)

	// The next watch is answered 410, as when the history it asks for is
	// compacted away.
	srv.Inject(testserver.Fault{Query: "watch=true", Status: 410, Times: 1})
	srv.EndWatches()
	lines := []string{r.Line(), r.Line()}
	assert.Regexp(t, `^ADDED\s+one\s`, lines[0], "listed again after 410")
	assert.Regexp(t, `^ADDED\s+two\s+3\s`, lines[1])
	c.ok("", "delete", "cm/one")
	assert.Regexp(t, `^DELETED\s+one\s`, r.Line())
	assert.Equal(t, 0, r.Stop(os.Interrupt), r.Stderr())
	assert.Contains(t, r.Stderr(), "watching again in 1s", "the drop is reported")
}
