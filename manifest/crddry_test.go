package manifest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/manifest"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// gadgetCRD has a required field, a default, an enum and a CEL rule.
const gadgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.dry.example.com
spec:
  group: dry.example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
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
  - name: v2
    served: false
    storage: false
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

const gadgets = `---
apiVersion: dry.example.com/v1
kind: Gadget
metadata: {name: good}
spec: {size: 3}
---
apiVersion: dry.example.com/v1
kind: Gadget
metadata: {name: bad}
spec: {size: big, colour: red, mode: Medium}
---
apiVersion: dry.example.com/v1
kind: Gadget
metadata: {name: huge}
spec: {size: 20}
---
apiVersion: dry.example.com/v2
kind: Gadget
metadata: {name: later}
spec: {size: 1}
---
apiVersion: dry.example.com/v1
kind: Gadget
metadata: {name: Bad_Name}
spec: {size: 1}
`

const sprocket = `---
apiVersion: nowhere.example.com/v1
kind: Sprocket
metadata: {name: orphan, namespace: default}
spec: {teeth: 12}
`

func causeFields(cs []transport.StatusCause) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Field)
	}
	return out
}

func TestDryRunChecksCustomResourcesAgainstTheSetsCRD(t *testing.T) {
	t.Parallel()
	_, c, e := setup(t)
	ctx := t.Context()
	plan, err := e.Plan(ctx, decode(t, "gadgets.yaml", gadgetCRD+gadgets+sprocket), nil)
	require.NoError(t, err)
	const note = "checked client-side against the CRD gadgets.dry.example.com in this set, not by the server"

	t.Run("apply", func(t *testing.T) {
		rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{DryRun: true})
		require.NoError(t, err)
		r := byName(rep.Results)
		crd := r["CustomResourceDefinition.apiextensions.k8s.io gadgets.dry.example.com"]
		assert.Equal(t, manifest.Created, crd.Action, crd.String())
		assert.Empty(t, crd.Note, "the CRD itself went to the server")

		good := r["Gadget.dry.example.com default/good"]
		assert.Equal(t, manifest.Created, good.Action, good.String())
		assert.True(t, good.DryRun)
		assert.Equal(t, note, good.Note)
		assert.Equal(t, "default", good.Object.Namespace(), "a namespaced CR without a namespace gets the default one")
		assert.Equal(t, "Slow", good.Object.Get("spec.mode").String(), "defaulted as the server would")
		assert.Contains(t, good.String(), "created (dry run; "+note+")")

		bad := r["Gadget.dry.example.com default/bad"]
		assert.Equal(t, manifest.Failed, bad.Action)
		assert.Equal(t, note, bad.Note)
		assert.ErrorIs(t, bad.Err, unstructured.ErrInvalidObject)
		assert.ElementsMatch(t, []string{"spec.colour", "spec.size", "spec.mode"}, causeFields(bad.Causes))

		huge := r["Gadget.dry.example.com default/huge"]
		assert.Equal(t, manifest.Failed, huge.Action, "the CEL rule is evaluated")
		assert.Contains(t, huge.Err.Error(), "size must be at most 10")

		later := r["Gadget.dry.example.com default/later"]
		assert.Equal(t, manifest.Failed, later.Action)
		assert.ErrorContains(t, later.Err, `does not serve version "v2"`)

		named := r["Gadget.dry.example.com default/Bad_Name"]
		assert.Equal(t, manifest.Failed, named.Action, "the name is checked as the server checks it")
		assert.Equal(t, []string{"metadata.name"}, causeFields(named.Causes))

		orphan := r["Sprocket.nowhere.example.com default/orphan"]
		assert.Equal(t, manifest.Failed, orphan.Action, "no CRD defines it: fails as before")
		assert.ErrorIs(t, orphan.Err, discovery.ErrUnknownResource)
		assert.Empty(t, orphan.Note)
	})

	t.Run("diff", func(t *testing.T) {
		d := map[string]manifest.ObjectDiff{}
		for _, x := range e.Diff(ctx, plan, nil) {
			d[x.Ref.Name] = x
		}
		good := d["good"]
		require.NoError(t, good.Err)
		assert.False(t, good.Exists)
		assert.Equal(t, note, good.Note)
		assert.Contains(t, good.Changes, manifest.Change{Path: "spec", New: `{"mode":"Slow","size":3}`}, "defaulted")
		assert.Contains(t, good.Changes, manifest.Change{Path: "metadata", New: `{"name":"good","namespace":"default"}`})

		bad := d["bad"]
		assert.Equal(t, note, bad.Note)
		var verr *unstructured.ValidationError
		require.ErrorAs(t, bad.Err, &verr)
		assert.Len(t, verr.Errors, 3)
		assert.Empty(t, bad.Changes)

		assert.ErrorIs(t, d["orphan"].Err, discovery.ErrUnknownResource)
		assert.Empty(t, d["gadgets.dry.example.com"].Note)
	})

	// Nothing was created.
	_, err = c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition").Get(ctx, "gadgets.dry.example.com", nil)
	assert.ErrorIs(t, err, transport.ErrNotFound)
}

func TestDryRunOfAServedKindGoesToTheServer(t *testing.T) {
	t.Parallel()
	_, _, e := setup(t)
	ctx := t.Context()
	first := strings.Split(gadgets, "---\napiVersion: dry.example.com/v1\nkind: Gadget\nmetadata: {name: bad}")[0]
	plan, err := e.Plan(ctx, decode(t, "gadgets.yaml", gadgetCRD+first), nil)
	require.NoError(t, err)
	rep, err := e.Apply(ctx, plan, nil)
	require.NoError(t, err)
	require.True(t, rep.OK(), rep.Summary())
	for _, r := range rep.Results {
		assert.Empty(t, r.Note, "not a dry run: nothing changes")
	}

	// The CRD is installed now: its kind is served, so the server answers.
	rep, err = e.Apply(ctx, plan, &manifest.ApplyOptions{DryRun: true})
	require.NoError(t, err)
	require.True(t, rep.OK(), rep.Summary())
	for _, r := range rep.Results {
		assert.Empty(t, r.Note, r.String())
		assert.True(t, r.DryRun)
	}
	for _, d := range e.Diff(ctx, plan, nil) {
		require.NoError(t, d.Err)
		assert.Empty(t, d.Note)
		assert.True(t, d.Exists)
	}
}

func TestDryRunSaysWhichRulesWereNotChecked(t *testing.T) {
	t.Parallel()
	_, _, e := setup(t)
	ctx := t.Context()
	crd := strings.Replace(gadgetCRD, "            - rule: self.size <= 10\n", "            - rule: isURL(self.mode)\n            - rule: self.size <= 10\n", 1)
	plan, err := e.Plan(ctx, decode(t, "gadgets.yaml", crd+`---
apiVersion: dry.example.com/v1
kind: Gadget
metadata: {name: good}
spec: {size: 3}
`), nil)
	require.NoError(t, err)
	rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{DryRun: true})
	require.NoError(t, err)
	good := byName(rep.Results)["Gadget.dry.example.com default/good"]
	assert.Equal(t, manifest.Created, good.Action, good.String())
	assert.Equal(t, "checked client-side against the CRD gadgets.dry.example.com in this set, not by the server; 1 CEL rule(s) not checked client-side", good.Note)
}

func TestDryRunLooksUpEachNewKindOnce(t *testing.T) {
	t.Parallel()
	_, c, e := setup(t)
	ctx := t.Context()
	var b strings.Builder
	b.WriteString(gadgetCRD)
	for i := range 40 {
		fmt.Fprintf(&b, "---\napiVersion: dry.example.com/v1\nkind: Gadget\nmetadata: {name: g%d}\nspec: {size: 2}\n", i)
	}
	plan, err := e.Plan(ctx, decode(t, "many.yaml", b.String()), nil)
	require.NoError(t, err)
	before := c.Discovery().Stats().Requests
	rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{DryRun: true})
	require.NoError(t, err)
	require.True(t, rep.OK(), rep.Summary())
	assert.Equal(t, 41, rep.Count(manifest.Created))
	applyRequests := c.Discovery().Stats().Requests - before
	before = c.Discovery().Stats().Requests
	for _, d := range e.Diff(ctx, plan, nil) {
		require.NoError(t, d.Err)
	}
	diffRequests := c.Discovery().Stats().Requests - before
	t.Logf("discovery requests for 40 custom resources of a new CRD: apply dry run %d, diff %d", applyRequests, diffRequests)
	assert.LessOrEqual(t, applyRequests, int64(10), "one refresh for the kind, not one per object")
	assert.LessOrEqual(t, diffRequests, int64(10))
}
