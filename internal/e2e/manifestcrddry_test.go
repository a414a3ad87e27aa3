package e2e_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/manifest"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// dryCRD is a namespaced Doohickey CRD with a required field, a default, an
// enum and a CEL rule.
func dryCRD(group string) string {
	return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: doohickeys.` + group + `
spec:
  group: ` + group + `
  scope: Namespaced
  names: {plural: doohickeys, singular: doohickey, kind: Doohickey}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            x-kubernetes-validations:
            - rule: self.size <= 10
              message: size must be at most 10
            properties:
              size: {type: integer, minimum: 1}
              mode: {type: string, enum: [Fast, Slow], default: Slow}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
`
}

// dryCRs are a valid Doohickey, one with schema errors, one that breaks
// the CEL rule and one with a name that is not a DNS subdomain, in
// namespace ns.
func dryCRs(group, ns string) string {
	return `---
apiVersion: ` + group + `/v1
kind: Doohickey
metadata: {name: good, namespace: ` + ns + `}
spec: {size: 3}
---
apiVersion: ` + group + `/v1
kind: Doohickey
metadata: {name: bad, namespace: ` + ns + `}
spec: {size: 0, mode: Medium}
---
apiVersion: ` + group + `/v1
kind: Doohickey
metadata: {name: huge, namespace: ` + ns + `}
spec: {size: 20}
---
apiVersion: ` + group + `/v1
kind: Doohickey
metadata: {name: Bad_Name, namespace: ` + ns + `}
spec: {size: 2}
`
}

// sortedFields lists the causes' fields, without the server's "<nil>"
// cause that says rules were skipped because of schema errors (the client
// checks every stage at once and has no such cause).
func sortedFields(cs []transport.StatusCause) []string {
	var out []string
	for _, c := range cs {
		if c.Field != "<nil>" {
			out = append(out, c.Field)
		}
	}
	sort.Strings(out)
	return out
}

// TestManifestDryRunChecksCustomResourcesOfANewCRD dry-runs (Apply and
// Diff) a set holding a Namespace, a new CRD and three of its custom
// resources on the real server: the CRs are checked client-side against the
// CRD and reported with a note, nothing is created; then the CRD is
// installed and the server's own dry run of the same CRs gives the same
// verdicts (accepted, or rejected at the same field paths).
func TestManifestDryRunChecksCustomResourcesOfANewCRD(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := admin(t)
	e := manifest.New(c)
	ns := uniqueName("dry")
	group := uniqueName("dry") + ".example.com"
	crdName := "doohickeys." + group
	cleanupCluster(t, c, "v1", "Namespace", ns)
	cleanupCluster(t, c, "apiextensions.k8s.io/v1", "CustomResourceDefinition", crdName)
	set := "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + ns + "}\n---\n" + dryCRD(group) + dryCRs(group, ns)
	plan, err := e.Plan(ctx, decodeSet(t, "dry.yaml", set), nil)
	require.NoError(t, err)
	note := "checked client-side against the CRD " + crdName + " in this set, not by the server"
	ref := func(name string) string { return "Doohickey." + group + " " + ns + "/" + name }

	rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{DryRun: true})
	require.NoError(t, err)
	r := byResult(rep.Results)
	for _, name := range []string{"Namespace " + ns, "CustomResourceDefinition.apiextensions.k8s.io " + crdName} {
		assert.Equal(t, manifest.Created, r[name].Action, r[name].String())
		assert.Empty(t, r[name].Note)
	}
	good := r[ref("good")]
	assert.Equal(t, manifest.Created, good.Action, good.String())
	assert.Equal(t, note, good.Note)
	assert.Equal(t, "Slow", good.Object.Get("spec.mode").String())
	bad := r[ref("bad")]
	assert.Equal(t, manifest.Failed, bad.Action)
	assert.ErrorIs(t, bad.Err, unstructured.ErrInvalidObject)
	assert.Equal(t, []string{"spec.mode", "spec.size"}, sortedFields(bad.Causes))
	huge := r[ref("huge")]
	assert.Equal(t, manifest.Failed, huge.Action)
	assert.Equal(t, []string{"spec"}, sortedFields(huge.Causes))
	assert.Contains(t, huge.Err.Error(), "size must be at most 10")
	named := r[ref("Bad_Name")]
	assert.Equal(t, manifest.Failed, named.Action)
	assert.Equal(t, []string{"metadata.name"}, sortedFields(named.Causes))

	diffs := map[string]manifest.ObjectDiff{}
	for _, d := range e.Diff(ctx, plan, nil) {
		diffs[d.Ref.String()] = d
	}
	assert.NoError(t, diffs[ref("good")].Err)
	assert.False(t, diffs[ref("good")].Exists)
	assert.Equal(t, note, diffs[ref("good")].Note)
	assert.Contains(t, diffs[ref("good")].Changes, manifest.Change{Path: "spec", New: `{"mode":"Slow","size":3}`})
	assert.ErrorIs(t, diffs[ref("bad")].Err, unstructured.ErrInvalidObject)
	assert.Equal(t, note, diffs[ref("bad")].Note)

	// Nothing was created.
	_, err = c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition").Get(ctx, crdName, nil)
	assert.ErrorIs(t, err, transport.ErrNotFound)
	_, err = c.Resource("v1", "Namespace").Get(ctx, ns, nil)
	assert.ErrorIs(t, err, transport.ErrNotFound)

	// Install the Namespace and the CRD: the server's own dry run of the
	// CRs agrees with the client-side verdicts.
	infra, err := e.Plan(ctx, decodeSet(t, "infra.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n---\n"+dryCRD(group)), nil)
	require.NoError(t, err)
	irep, err := e.Apply(ctx, infra, nil)
	require.NoError(t, err)
	require.True(t, irep.OK(), irep.Summary())
	crs, err := e.Plan(ctx, decodeSet(t, "crs.yaml", dryCRs(group, ns)), nil)
	require.NoError(t, err)
	srep, err := e.Apply(ctx, crs, &manifest.ApplyOptions{DryRun: true})
	require.NoError(t, err)
	sr := byResult(srep.Results)
	for _, name := range []string{"good", "bad", "huge", "Bad_Name"} {
		server, local := sr[ref(name)], r[ref(name)]
		assert.Empty(t, server.Note, "the kind is served: the server answered")
		assert.Equal(t, local.Action, server.Action, "%s: server %s, client %s", name, server.String(), local.String())
		assert.Equal(t, sortedFields(local.Causes), sortedFields(server.Causes), "%s: %+v", name, server.Causes)
		serverSays := map[string]string{}
		for _, c := range server.Causes {
			serverSays[c.Field] = c.Message
		}
		for _, c := range local.Causes {
			if c.Field == "metadata.name" || c.Field == "spec.mode" {
				assert.Equal(t, serverSays[c.Field], c.Message, "the server's wording")
			}
		}
	}
	assert.Equal(t, sr[ref("good")].Object.Get("spec").Raw, good.Object.Get("spec").Raw, "defaulted the same way")
	_, err = c.Resource(group+"/v1", "Doohickey").Namespace(ns).Get(ctx, "good", nil)
	assert.ErrorIs(t, err, transport.ErrNotFound)
}

func byResult(results []manifest.Result) map[string]manifest.Result {
	m := map[string]manifest.Result{}
	for _, r := range results {
		m[r.Ref.String()] = r
	}
	return m
}

// TestCLIDryRunOfANewCRD runs `kubedyn apply --dry-run=server` and
// `kubedyn diff` on a set with a new CRD: the custom resources' lines carry
// the note, the invalid ones their field errors, and nothing is created.
func TestCLIDryRunOfANewCRD(t *testing.T) {
	t.Parallel()
	c := newKubedynCLI(t)
	ns := uniqueName("clidry")
	group := uniqueName("clidry") + ".example.com"
	file := filepath.Join(t.TempDir(), "set.yaml")
	require.NoError(t, os.WriteFile(file, []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n---\n"+dryCRD(group)+dryCRs(group, ns)), 0o600))
	note := "checked client-side against the CRD doohickeys." + group + " in this set, not by the server"

	out, errOut, code := c.run("", "apply", "--dry-run=server", "-f", file)
	require.Equal(t, 1, code, "two custom resources are invalid: exit 1\n%s\n%s", out, errOut)
	assert.Contains(t, out, "Doohickey."+group+" "+ns+"/good created (dry run; "+note+")")
	assert.Contains(t, out, "Doohickey."+group+" "+ns+"/bad failed (dry run; "+note+")")
	assert.Contains(t, out, "    spec.mode: Unsupported value")
	assert.Contains(t, out, "    spec.size: Invalid value: 0")
	assert.Contains(t, out, "    spec: Invalid value")
	assert.Contains(t, out, "size must be at most 10")
	assert.Contains(t, out, "CustomResourceDefinition.apiextensions.k8s.io doohickeys."+group+" created (dry run)\n")

	out, _, code = c.run("", "apply", "--dry-run=server", "-f", file, "-o", "ndjson")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, `"note":"`+note+`"`)

	out, errOut, code = c.run("", "diff", "-f", file)
	require.Equal(t, 1, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "Doohickey."+group+" "+ns+"/good created ("+note+")")
	assert.Contains(t, out, "Doohickey."+group+" "+ns+"/bad failed: ")
	assert.Contains(t, out, "spec.mode: Unsupported value")
	t.Log("\n" + out)

	_, _, code = c.run("", "get", "customresourcedefinitions", "doohickeys."+group)
	assert.NotEqual(t, 0, code, "the CRD was not created")
}
