package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/manifest"
	"github.com/kubedyn/kubedyn/unstructured"
)

func TestParseFor(t *testing.T) {
	t.Parallel()
	ar := discovery.APIResource{Group: "apps", Version: "v1", Kind: "Deployment"}
	for _, tc := range []struct {
		expr      string
		want      *manifest.Rule
		forDelete bool
		err       bool
	}{
		{expr: ""},
		{expr: "delete", forDelete: true},
		{expr: "condition=Available", want: &manifest.Rule{Group: "apps", Kind: "Deployment", Condition: "Available"}},
		{expr: "condition=Progressing=false", want: &manifest.Rule{Group: "apps", Kind: "Deployment",
			Current: `status.conditions.#(type=="Progressing").status`, CurrentValue: "False"}},
		{expr: "jsonpath={.status.readyReplicas}=2", want: &manifest.Rule{Group: "apps", Kind: "Deployment",
			Current: "status.readyReplicas", CurrentValue: "2"}},
		{expr: "jsonpath='{.spec.template.spec.containers[0].image}'=nginx", want: &manifest.Rule{Group: "apps", Kind: "Deployment",
			Current: "spec.template.spec.containers.0.image", CurrentValue: "nginx"}},
		{expr: "jsonpath={.status.observedGeneration}", want: &manifest.Rule{Group: "apps", Kind: "Deployment",
			Current: "status.observedGeneration"}},
		{expr: `gjson=status.conditions.#(type=="Available").status=True`, want: &manifest.Rule{Group: "apps", Kind: "Deployment",
			Current: `status.conditions.#(type=="Available").status`, CurrentValue: "True"}},
		{expr: "gjson=status.replicas", want: &manifest.Rule{Group: "apps", Kind: "Deployment", Current: "status.replicas"}},
		{expr: "ready", err: true},
		{expr: "condition=", err: true},
		{expr: "jsonpath=.status", err: true},
		{expr: "jsonpath={.items[*].name}=x", err: true},
		{expr: "gjson=", err: true},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			rule, del, err := parseFor(tc.expr, ar)
			if tc.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, rule)
			assert.Equal(t, tc.forDelete, del)
		})
	}
}

func TestParseTargets(t *testing.T) {
	t.Parallel()
	ts, err := parseTargets([]string{"pods", "a", "b"}, false)
	require.NoError(t, err)
	assert.Equal(t, []target{{resource: "pods", names: []string{"a", "b"}}}, ts)
	ts, err = parseTargets([]string{"pod/a", "pod/b", "cm/c"}, false)
	require.NoError(t, err)
	assert.Equal(t, []target{{resource: "pod", names: []string{"a", "b"}}, {resource: "cm", names: []string{"c"}}}, ts)
	_, err = parseTargets([]string{"pod/a", "b"}, false)
	assert.ErrorContains(t, err, `"b"`)
	_, err = parseTargets([]string{"pods,cm"}, false)
	assert.Error(t, err)
	ts, err = parseTargets([]string{"pods,cm", "x"}, true)
	require.NoError(t, err)
	assert.Equal(t, []target{{resource: "pods", names: []string{"x"}}, {resource: "cm", names: []string{"x"}}}, ts)
	_, err = parseTargets([]string{"pods,"}, true)
	assert.ErrorContains(t, err, "empty resource name")
}

// TestProgress: on a terminal the state lines are rewritten in place
// (cursor up, clear line) and cleared before the final lines; elsewhere
// nothing is drawn.
func TestProgress(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := newProgress(&b, true)
	p.set("a", "a InProgress")
	p.set("b", "b InProgress")
	p.set("a", "a Current")
	p.clear()
	assert.Equal(t, "\x1b[2Ka InProgress\n"+
		"\x1b[1A\x1b[2Ka InProgress\n\x1b[2Kb InProgress\n"+
		"\x1b[2A\x1b[2Ka Current\n\x1b[2Kb InProgress\n"+
		"\x1b[2A\x1b[J", b.String())

	b.Reset()
	p = newProgress(&b, true)
	p.println("first")
	p.set("n", "1 of 2 objects done")
	p.println("second")
	assert.Equal(t, "first\n"+
		"\x1b[2K1 of 2 objects done\n"+
		"\x1b[1A\x1b[Jsecond\n\x1b[2K1 of 2 objects done\n", b.String(), "final lines go above the state lines")

	b.Reset()
	p = newProgress(&b, false)
	p.set("a", "a InProgress")
	p.println("done")
	p.clear()
	assert.Equal(t, "done\n", b.String())
	assert.False(t, isTerminal(&b))
}

func TestParsePortSpecs(t *testing.T) {
	t.Parallel()
	specs, err := parsePortSpecs([]string{"8080", "9000:80", ":81", "0:82", "http", "7000:web"})
	require.NoError(t, err)
	assert.Equal(t, []portSpec{
		{local: 8080, remote: "8080"}, {local: 9000, remote: "80"}, {local: 0, remote: "81"},
		{local: 0, remote: "82"}, {local: -1, remote: "http"}, {local: 7000, remote: "web"},
	}, specs)
	for _, bad := range []string{"8080:", "x:80", "70000:80", "-1:80"} {
		_, err := parsePortSpecs([]string{bad})
		assert.Error(t, err, bad)
	}
}

func TestPodSelector(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		obj, want, err string
	}{
		{obj: `{"kind":"Service","spec":{"selector":{"b":"2","a":"1"}}}`, want: "a=1,b=2"},
		{obj: `{"kind":"Service","spec":{}}`, err: "no selector"},
		{obj: `{"kind":"ReplicationController","spec":{"selector":{"app":"web"}}}`, want: "app=web"},
		{obj: `{"kind":"Deployment","spec":{"selector":{"matchLabels":{"app":"web"},"matchExpressions":[
			{"key":"tier","operator":"In","values":["a","b"]},{"key":"x","operator":"NotIn","values":["c"]},
			{"key":"y","operator":"Exists"},{"key":"z","operator":"DoesNotExist"}]}}}`,
			want: "app=web,tier in (a,b),x notin (c),y,!z"},
		{obj: `{"kind":"Deployment","spec":{"selector":{"matchLabels":{}}}}`, err: "empty"},
		{obj: `{"kind":"ConfigMap","data":{}}`, err: "no pod selector"},
	} {
		obj, err := unstructured.Parse([]byte(tc.obj))
		require.NoError(t, err)
		got, err := podSelector(obj)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.obj)
			continue
		}
		require.NoError(t, err, tc.obj)
		assert.Equal(t, tc.want, got)
	}
}

func TestSortPods(t *testing.T) {
	t.Parallel()
	mk := func(name, node, phase, ready, created string) unstructured.Object {
		o, err := unstructured.Parse([]byte(`{"metadata":{"name":"` + name + `","creationTimestamp":"` + created + `"},"spec":{"nodeName":"` + node +
			`"},"status":{"phase":"` + phase + `","conditions":[{"type":"Ready","status":"` + ready + `"}]}}`))
		require.NoError(t, err)
		return o
	}
	pods := []unstructured.Object{
		mk("unbound", "", "Pending", "False", "2026-01-01T00:00:00Z"),
		mk("pending", "n", "Pending", "False", "2026-01-01T00:00:00Z"),
		mk("running-new", "n", "Running", "True", "2026-01-03T00:00:00Z"),
		mk("running-unready", "n", "Running", "False", "2026-01-01T00:00:00Z"),
		mk("running-old", "n", "Running", "True", "2026-01-02T00:00:00Z"),
	}
	sortPods(pods)
	var names []string
	for _, p := range pods {
		names = append(names, p.Name())
	}
	assert.Equal(t, []string{"running-old", "running-new", "running-unready", "pending", "unbound"}, names)
}
