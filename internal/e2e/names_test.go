package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

// crdNames are the names a test CRD is installed with.
type crdNames struct {
	group, plural, singular, kind string
	shortNames                    []string
}

// installNamedCRD creates a namespaced CRD with the given names (served at
// v1, any fields kept), waits until it is established and in discovery, and
// deletes it when the test ends. A group under .k8s.io carries the approval
// annotation the server requires there.
func installNamedCRD(t testing.TB, c *resource.Client, n crdNames) {
	t.Helper()
	ctx := testContext(t)
	name := n.plural + "." + n.group
	crd := map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{
			"group": n.group,
			"scope": "Namespaced",
			"names": map[string]any{
				"plural": n.plural, "singular": n.singular, "kind": n.kind, "shortNames": n.shortNames,
			},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object", "x-kubernetes-preserve-unknown-fields": true,
				}},
			}},
		},
	}
	if strings.HasSuffix(n.group, ".k8s.io") {
		crd["metadata"].(map[string]any)["annotations"] = map[string]any{
			"api-approved.kubernetes.io": "unapproved, kubedyn test",
		}
	}
	b, err := json.Marshal(crd)
	require.NoError(t, err)
	crds := c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
	_, err = crds.Create(ctx, obj(t, string(b)), nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = crds.Delete(ctx, name, nil)
	})
	eventually(t, time.Minute, "CRD "+name+" to be established", func() bool {
		got, err := crds.Get(ctx, name, nil)
		require.NoError(t, err)
		for _, cond := range got.Get("status.conditions").Array() {
			if cond.Get("type").String() == "Established" && cond.Get("status").String() == "True" {
				return true
			}
		}
		return false
	})
	eventually(t, time.Minute, "group "+n.group+" in discovery", func() bool { return servedByDiscovery(t, n.group) })
}

// The built-in forms kubectl accepts beyond plain names resolve to
// resources the real server serves (each is listed to prove it).
func TestNameFormsLikeKubectl(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := admin(t)
	ns := newNamespace(t)
	for _, tc := range []struct{ name, want string }{
		{"storageclasses.storage", "storageclasses.v1.storage.k8s.io"},
		{"hpa.autosc", "horizontalpodautoscalers.v2.autoscaling"},
		{"deployments.ap", "deployments.v1.apps"},
		{"events.events", "events.v1.events.k8s.io"},
		{"deployments.", "deployments.v1.apps"},
		{"deployments.v1.", "deployments.v1.apps"},
		{"hpa.v1.", "horizontalpodautoscalers.v1.autoscaling"},
		{"cm.", "configmaps.v1"},
		{"leases.coord", "leases.v1.coordination.k8s.io"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := c.ResourceFor(tc.name)
			r, err := h.Resolve(ctx)
			require.NoError(t, err)
			assert.Equal(t, tc.want, r.QualifiedName())
			if r.Namespaced {
				h = h.Namespace(ns)
			}
			_, _, err = h.ListAll(ctx, nil)
			require.NoError(t, err)
		})
	}
}

// CRDs made to collide: a CRD group under .k8s.io is no built-in group
// (for the mapper and for strategic merge patch alike), plural and singular
// names outrank short names, which outrank kinds, and ambiguity names every
// candidate.
func TestNameCollisionsBetweenCRDs(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := admin(t)
	id := strings.ReplaceAll(uniqueName("n"), "-", "")
	gw := crdNames{plural: "gw" + id + "s", singular: "gw" + id, kind: "Gw" + id, shortNames: []string{"gw" + id + "x"}}
	k8sGW, otherGW := gw, gw
	k8sGW.group = "gw" + id + ".networking.k8s.io"
	otherGW.group = "gw" + id + ".example.net"
	blob := crdNames{group: "blob" + id + ".example.com", plural: "blob" + id + "s", singular: "blob" + id + "by", kind: "Blob" + id}
	thing := crdNames{group: "thing" + id + ".example.com", plural: "thing" + id + "s", singular: "thing" + id, kind: "Thing" + id,
		shortNames: []string{"blob" + id}}
	for _, n := range []crdNames{k8sGW, otherGW, blob, thing} {
		installNamedCRD(t, c, n)
	}
	d := c.Discovery()
	d.Invalidate()

	for _, tc := range []struct{ name, want string }{
		{"blob" + id, "thing" + id + "s.v1." + thing.group}, // a short name outranks a kind
		{"Blob" + id, "thing" + id + "s.v1." + thing.group},
		{"blob" + id + "by", "blob" + id + "s.v1." + blob.group},
		{"Blob" + id + "." + blob.group, "blob" + id + "s.v1." + blob.group},
		{"blob" + id + "s.", "blob" + id + "s.v1." + blob.group},
		{"blob" + id + "s.blob", "blob" + id + "s.v1." + blob.group},
		{gw.plural + ".gw" + id + ".e", gw.plural + ".v1." + otherGW.group},
		{gw.plural + ".gw" + id + ".n", gw.plural + ".v1." + k8sGW.group},
	} {
		r, err := d.ResourceFor(ctx, tc.name)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, r.QualifiedName(), tc.name)
	}

	for _, name := range []string{gw.plural, gw.singular, gw.kind, gw.shortNames[0], gw.plural + ".", gw.plural + ".v1.", gw.plural + ".gw" + id} {
		_, err := d.ResourceFor(ctx, name)
		require.ErrorIs(t, err, discovery.ErrAmbiguousResource, name)
		var ae *discovery.AmbiguousError
		require.ErrorAs(t, err, &ae)
		var got []string
		for _, cand := range ae.Candidates {
			got = append(got, cand.QualifiedName())
			assert.Contains(t, err.Error(), cand.QualifiedName())
			r, err := d.ResourceFor(ctx, cand.QualifiedName())
			require.NoError(t, err)
			assert.Equal(t, cand.QualifiedName(), r.QualifiedName())
		}
		assert.ElementsMatch(t, []string{gw.plural + ".v1." + k8sGW.group, gw.plural + ".v1." + otherGW.group}, got, name)
	}

	// Strategic merge patch: refused client side for the CRD under
	// .k8s.io, as the server itself refuses it.
	assert.False(t, discovery.IsBuiltinGroup(k8sGW.group))
	ns := newNamespace(t)
	h := c.ResourceFor(gw.plural + "." + k8sGW.group).Namespace(ns)
	_, err := h.Create(ctx, obj(t, `{"apiVersion":"`+k8sGW.group+`/v1","kind":"`+gw.kind+`","metadata":{"name":"g1"},"spec":{"a":1}}`), nil)
	require.NoError(t, err)
	_, err = h.Patch(ctx, "g1", resource.StrategicMergePatch, []byte(`{"spec":{"a":2}}`), nil)
	require.ErrorIs(t, err, resource.ErrPatchTypeUnsupported)
	resp, body := newRaw(t, cluster(t).AdminToken).do(http.MethodPatch,
		"/apis/"+k8sGW.group+"/v1/namespaces/"+ns+"/"+gw.plural+"/g1",
		http.Header{"Content-Type": {string(resource.StrategicMergePatch)}}, `{"spec":{"a":2}}`)
	assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode, string(body))
	_, err = h.Patch(ctx, "g1", resource.MergePatch, []byte(`{"spec":{"a":2}}`), nil)
	require.NoError(t, err)
}

// Every group the real server serves from its own types is built in, and no
// group a CRD serves is: the fixed list matches the server.
func TestBuiltinGroupsMatchTheServer(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := admin(t)
	installCRD(t, c) // at least one CRD group, whatever runs in parallel

	// The server registers an APIService for each of its own group
	// versions at start (label automanaged=onstart) and one per CRD group
	// version (automanaged=true).
	services, _, err := c.Resource("apiregistration.k8s.io/v1", "APIService").ListAll(ctx, nil)
	require.NoError(t, err)
	own, fromCRDs := map[string]bool{}, map[string]bool{}
	for _, s := range services {
		group := s.Get("spec.group").String()
		switch s.Get(`metadata.labels.kube-aggregator\.kubernetes\.io/automanaged`).String() {
		case "onstart":
			own[group] = true
		case "true":
			fromCRDs[group] = true
		}
	}
	require.Contains(t, own, "apps")
	require.NotEmpty(t, fromCRDs)
	for group := range own {
		assert.True(t, discovery.IsBuiltinGroup(group), "the server serves %q from its own types", group)
	}
	for group := range fromCRDs {
		assert.False(t, discovery.IsBuiltinGroup(group), "a CRD serves %q", group)
	}
}

// A mistyped kind gets a hint, said once, and after the first miss costs
// no discovery request until discovery changes.
func TestMistypedKindAgainstTheRealServer(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	tc, err := transport.New(config(t, "admin"))
	require.NoError(t, err)
	d := discovery.New(tc, &discovery.Options{TTL: time.Hour})
	c := newClientFromConfig(t, nil, resource.WithTransport(tc), resource.WithDiscovery(d))
	ns := newNamespace(t)
	_, _, err = c.Resource("v1", "ConfigMap").Namespace(ns).ListAll(ctx, nil)
	require.NoError(t, err)

	for _, tc := range []struct{ apiVersion, kind, hint string }{
		{"apps/v1", "deployment", `did you mean kind "Deployment"? Kinds are case-sensitive`},
		{"apps/v1", "Deployments", `"Deployments" names the resource deployments; its kind is "Deployment"`},
		{"apps", "Deployment", `apiVersion "apps" has no version: Deployment is served in "apps/v1"`},
		{"v1", "Deployment", `Deployment is served in "apps/v1"`},
		{"apps/v1", "Deploymnet", `did you mean kind "Deployment"?`},
	} {
		before := d.Stats().Requests
		h := c.Resource(tc.apiVersion, tc.kind).Namespace(ns)
		for range 5 {
			_, err := h.Get(ctx, "x", nil)
			require.ErrorIs(t, err, discovery.ErrUnknownResource)
			msg := err.Error()
			assert.True(t, strings.HasSuffix(msg, "; "+tc.hint), msg)
			assert.Equal(t, 1, strings.Count(msg, tc.apiVersion+" "+tc.kind), "the handle named once: %s", msg)
		}
		assert.Equal(t, int64(2), d.Stats().Requests-before, "%s %s: one refresh for five misses", tc.apiVersion, tc.kind)
	}

	// Invalidate forgets the misses: the next one revalidates once more.
	d.Invalidate()
	before := d.Stats().Requests
	for range 3 {
		_, err := c.Resource("apps/v1", "Deploymnet").Namespace(ns).Get(ctx, "x", nil)
		require.ErrorIs(t, err, discovery.ErrUnknownResource)
	}
	assert.Equal(t, int64(2), d.Stats().Requests-before)
}
