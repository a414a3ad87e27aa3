package testserver

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const widgetCRD = `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
 "metadata":{"name":"widgets.example.com"},
 "spec":{"group":"example.com","scope":"Namespaced",
  "names":{"plural":"widgets","singular":"widget","kind":"Widget","shortNames":["wg"],"categories":["all"]},
  "versions":[
   {"name":"v1","served":true,"storage":true,"subresources":{"status":{}},
    "additionalPrinterColumns":[{"name":"Size","type":"integer","jsonPath":".spec.size"}],
    "schema":{"openAPIV3Schema":{"type":"object","properties":{
     "spec":{"type":"object","required":["size"],"properties":{"size":{"type":"integer"},"color":{"type":"string","enum":["red","blue"]},"extra":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}},
     "status":{"type":"object","properties":{"ready":{"type":"boolean"}}}}}}},
   {"name":"v1beta1","served":true,"storage":false,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}`

func TestCRDLifecycle(t *testing.T) {
	t.Parallel()
	c := setup(t)
	accept := "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
	before := c.do("GET", "/apis", "", "Accept", accept)
	require.Equal(t, http.StatusOK, before.code)
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/apis/example.com/v1/namespaces/default/widgets", "").code)

	r := c.do("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widgetCRD)
	require.Equal(t, http.StatusCreated, r.code, string(r.raw))
	assert.Equal(t, "True", path(findByField(r.get("status.conditions"), "type", "Established"), "status"))
	assert.Equal(t, "True", path(findByField(r.get("status.conditions"), "type", "NamesAccepted"), "status"))
	assert.Equal(t, "Widget", r.str("status.acceptedNames.kind"))
	assert.Equal(t, "WidgetList", r.str("status.acceptedNames.listKind"))
	assert.Equal(t, []any{"v1"}, r.get("status.storedVersions"))

	after := c.do("GET", "/apis", "", "Accept", accept, "If-None-Match", before.header.Get("ETag"))
	require.Equal(t, http.StatusOK, after.code, "the ETag changes when a CRD is added")
	g := findByField(after.get("items"), "metadata.name", "example.com")
	require.NotNil(t, g)
	assert.Equal(t, "v1", path(g, "versions.0.version"), "GA sorts before beta")
	assert.Equal(t, "v1beta1", path(g, "versions.1.version"))
	w := findByField(path(g, "versions.0.resources"), "resource", "widgets")
	require.NotNil(t, w)
	assert.Equal(t, []any{"wg"}, w["shortNames"])
	assert.Equal(t, "status", path(w, "subresources.0.subresource"))

	// Custom resources: create, prune, validate, status, versions.
	cr := c.do("POST", "/apis/example.com/v1/namespaces/default/widgets", `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"size":3,"junk":1,"extra":{"free":true}},"status":{"ready":true}}`)
	require.Equal(t, http.StatusCreated, cr.code, string(cr.raw))
	assert.Nil(t, cr.get("spec.junk"), "unknown fields are pruned")
	assert.Equal(t, true, cr.get("spec.extra.free"), "preserve-unknown-fields keeps them")
	assert.Nil(t, cr.get("status"))
	assert.EqualValues(t, 1, cr.get("metadata.generation"))
	assert.Contains(t, cr.header.Values("Warning"), `299 - "unknown field \"spec.junk\""`)

	for _, tc := range []struct{ name, body, field string }{
		{"wrong type", `{"metadata":{"name":"w2"},"spec":{"size":"big"}}`, "spec.size"},
		{"missing required", `{"metadata":{"name":"w2"},"spec":{}}`, "spec.size"},
		{"enum", `{"metadata":{"name":"w2"},"spec":{"size":1,"color":"green"}}`, "spec.color"},
	} {
		bad := c.do("POST", "/apis/example.com/v1/namespaces/default/widgets", tc.body)
		assert.Equal(t, http.StatusUnprocessableEntity, bad.code, tc.name)
		assert.Equal(t, tc.field, bad.str("details.causes.0.field"), tc.name)
	}

	cr.obj["status"] = map[string]any{"ready": true}
	st := c.do("PUT", "/apis/example.com/v1/namespaces/default/widgets/w1/status", mustJSON(t, cr.obj))
	require.Equal(t, http.StatusOK, st.code, string(st.raw))
	assert.Equal(t, true, st.get("status.ready"))

	noRV := c.do("PUT", "/apis/example.com/v1/namespaces/default/widgets/w1", `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"size":4}}`)
	assert.Equal(t, http.StatusUnprocessableEntity, noRV.code, "custom resources need a resourceVersion on update")
	assert.Contains(t, noRV.str("message"), "must be specified for an update")

	smp := c.do("PATCH", "/apis/example.com/v1/namespaces/default/widgets/w1", `{}`, "Content-Type", "application/strategic-merge-patch+json")
	assert.Equal(t, http.StatusUnsupportedMediaType, smp.code)

	beta := c.do("GET", "/apis/example.com/v1beta1/namespaces/default/widgets/w1", "")
	require.Equal(t, http.StatusOK, beta.code)
	assert.Equal(t, "example.com/v1beta1", beta.str("apiVersion"))

	list := c.do("GET", "/apis/example.com/v1/widgets", "")
	require.Equal(t, http.StatusOK, list.code)
	assert.Equal(t, "WidgetList", list.str("kind"))
	assert.Equal(t, "Widget", list.str("items.0.kind"), "custom resource list items keep their kind")

	tbl := c.do("GET", "/apis/example.com/v1/namespaces/default/widgets", "", "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	require.Equal(t, http.StatusOK, tbl.code)
	assert.Equal(t, "Size", tbl.str("columnDefinitions.1.name"))
	assert.EqualValues(t, 3, tbl.get("rows.0.cells.1"))
	crdTbl := c.do("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com", "", "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	require.Equal(t, http.StatusOK, crdTbl.code)
	cells := crdTbl.get("rows.0.cells").([]any)
	require.Len(t, cells, 8)
	assert.Equal(t, []any{"widgets.example.com", "Namespaced", "v1(storage),v1beta1"}, cells[:3])
	assert.Equal(t, []any{"example.com", "Widget", "wg", true}, cells[4:])

	require.Equal(t, http.StatusCreated, c.do("POST", "/apis/example.com/v1/namespaces/default/widgets", `{"metadata":{"name":"w3"},"spec":{"size":1}}`).code)
	dw := c.do("DELETE", "/apis/example.com/v1/namespaces/default/widgets/w3", "")
	require.Equal(t, http.StatusOK, dw.code)
	assert.Equal(t, "Status", dw.str("kind"), "custom resources answer a delete with a Status")
	assert.Equal(t, "widgets", dw.str("details.kind"))
	assert.Equal(t, "example.com", dw.str("details.group"))

	// Deleting the CRD removes the resources and the objects.
	d := c.do("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com", "")
	require.Equal(t, http.StatusOK, d.code)
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/apis/example.com/v1/namespaces/default/widgets/w1", "").code)
	gone := c.do("GET", "/apis", "", "Accept", accept)
	assert.Nil(t, findByField(gone.get("items"), "metadata.name", "example.com"))
	assert.Equal(t, before.header.Get("ETag"), gone.header.Get("ETag"))
}

func TestCRDValidation(t *testing.T) {
	t.Parallel()
	c := setup(t)
	for _, tc := range []struct{ name, body, field string }{
		{"name mismatch", `{"metadata":{"name":"gadgets.example.com"},"spec":{"group":"example.com","scope":"Namespaced","names":{"plural":"widgets","kind":"Widget"},"versions":[{"name":"v1","served":true,"storage":true}]}}`, "metadata.name"},
		{"no storage version", `{"metadata":{"name":"widgets.example.com"},"spec":{"group":"example.com","scope":"Namespaced","names":{"plural":"widgets","kind":"Widget"},"versions":[{"name":"v1","served":true,"storage":false}]}}`, "spec.versions"},
		{"bad scope", `{"metadata":{"name":"widgets.example.com"},"spec":{"group":"example.com","scope":"Global","names":{"plural":"widgets","kind":"Widget"},"versions":[{"name":"v1","served":true,"storage":true}]}}`, "spec.scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := c.do("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", tc.body)
			assert.Equal(t, http.StatusUnprocessableEntity, r.code, string(r.raw))
			assert.Equal(t, tc.field, r.str("details.causes.0.field"))
		})
	}
}

func TestClusterScopedCRD(t *testing.T) {
	t.Parallel()
	c := setup(t)
	r := c.do("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", `{"metadata":{"name":"clusters.infra.example.com"},"spec":{"group":"infra.example.com","scope":"Cluster","names":{"plural":"clusters","kind":"Cluster"},"versions":[{"name":"v1alpha1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}`)
	require.Equal(t, http.StatusCreated, r.code, string(r.raw))
	cr := c.do("POST", "/apis/infra.example.com/v1alpha1/clusters", `{"metadata":{"name":"one","namespace":"ignored"},"spec":{"anything":1}}`)
	require.Equal(t, http.StatusCreated, cr.code, string(cr.raw))
	assert.Nil(t, cr.get("metadata.namespace"))
	assert.EqualValues(t, 1, cr.get("spec.anything"))
	assert.Equal(t, http.StatusOK, c.do("GET", "/apis/infra.example.com/v1alpha1/clusters/one", "").code)
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/apis/infra.example.com/v1alpha1/namespaces/default/clusters/one", "").code)
}

func TestCustomResourceScale(t *testing.T) {
	t.Parallel()
	c := setup(t)
	crd := `{"metadata":{"name":"pools.example.com"},"spec":{"group":"example.com","scope":"Namespaced","names":{"plural":"pools","kind":"Pool"},
"versions":[{"name":"v1","served":true,"storage":true,"subresources":{"status":{},"scale":{"specReplicasPath":".spec.size","statusReplicasPath":".status.ready","labelSelectorPath":".status.selector"}},
"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","properties":{"size":{"type":"integer"}}},"status":{"type":"object","properties":{"ready":{"type":"integer"},"selector":{"type":"string"}}}}}}}]}}`
	require.Equal(t, http.StatusCreated, c.do("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd).code)
	require.Equal(t, http.StatusCreated, c.do("POST", "/apis/example.com/v1/namespaces/default/pools", `{"metadata":{"name":"p"},"spec":{"size":2}}`).code)
	st := c.do("PATCH", "/apis/example.com/v1/namespaces/default/pools/p/status", `{"status":{"ready":1,"selector":"app=p"}}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusOK, st.code, string(st.raw))

	s := c.do("GET", "/apis/example.com/v1/namespaces/default/pools/p/scale", "")
	require.Equal(t, http.StatusOK, s.code, string(s.raw))
	assert.Equal(t, "Scale", s.str("kind"))
	assert.EqualValues(t, 2, s.get("spec.replicas"))
	assert.EqualValues(t, 1, s.get("status.replicas"))
	assert.Equal(t, "app=p", s.str("status.selector"))

	up := c.do("PATCH", "/apis/example.com/v1/namespaces/default/pools/p/scale", `{"spec":{"replicas":5}}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusOK, up.code, string(up.raw))
	assert.EqualValues(t, 5, up.get("spec.replicas"))
	assert.EqualValues(t, 5, c.do("GET", "/apis/example.com/v1/namespaces/default/pools/p", "").get("spec.size"))

	agg := c.do("GET", "/apis", "", "Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
	g := findByField(agg.get("items"), "metadata.name", "example.com")
	pools := findByField(path(g, "versions.0.resources"), "resource", "pools")
	require.NotNil(t, pools)
	// Unlike built-ins, custom resources name their group-version in every
	// responseKind, as the apiextensions server does.
	assert.Equal(t, map[string]any{"group": "example.com", "version": "v1", "kind": "Pool"}, pools["responseKind"])
	assert.Equal(t, map[string]any{"group": "autoscaling", "version": "v1", "kind": "Scale"}, path(findByField(pools["subresources"], "subresource", "scale"), "responseKind"))
	assert.Equal(t, map[string]any{"group": "example.com", "version": "v1", "kind": "Pool"}, path(findByField(pools["subresources"], "subresource", "status"), "responseKind"))
}

// With CRDEstablishDelay a new CRD is answered pending, as the real server
// answers it, and is served only once a MODIFIED event has made it
// Established, no earlier than the delay.
func TestCRDEstablishDelay(t *testing.T) {
	t.Parallel()
	accept := "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
	gadgetCRD := strings.ReplaceAll(strings.ReplaceAll(widgetCRD, "widgets", "gadgets"), "Widget", "Gadget")

	// Pending: a delay no test outlives.
	c := setup(t)
	c.srv.SetCRDEstablishDelay(time.Hour)
	r := c.do("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widgetCRD)
	require.Equal(t, http.StatusCreated, r.code, string(r.raw))
	assert.Nil(t, r.get("status.conditions"), "no conditions in the create's answer")
	assert.Equal(t, map[string]any{"plural": "", "kind": ""}, r.get("status.acceptedNames"))
	assert.Equal(t, []any{"v1"}, r.get("status.storedVersions"))
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/apis/example.com/v1/namespaces/default/widgets", "").code, "not served yet")
	assert.Nil(t, findByField(c.do("GET", "/apis", "", "Accept", accept).get("items"), "metadata.name", "example.com"), "not in discovery yet")
	got := c.do("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com", "")
	assert.Nil(t, got.get("status.conditions"), "stored pending")

	// Established after a short delay, through a MODIFIED event.
	const delay = 100 * time.Millisecond
	c = setup(t)
	c.srv.SetCRDEstablishDelay(delay)
	w := c.watch(t, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions?watch=true&resourceVersion="+c.srv.ResourceVersion())
	start := time.Now()
	require.Equal(t, http.StatusCreated, c.do("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widgetCRD).code)
	w.expect("ADDED", "widgets.example.com")
	ev := w.expect("MODIFIED", "widgets.example.com")
	assert.GreaterOrEqual(t, time.Since(start), delay, "established no earlier than the delay")
	assert.Equal(t, "True", path(findByField(path(ev.Object, "status.conditions"), "type", "Established"), "status"))
	assert.Equal(t, "Widget", path(ev.Object, "status.acceptedNames.kind"))
	assert.Equal(t, "kube-apiserver", path(ev.Object, "metadata.managedFields.1.manager"), "the controller owns the status it set")
	assert.Equal(t, http.StatusOK, c.do("GET", "/apis/example.com/v1/namespaces/default/widgets", "").code, "served once established")
	assert.NotNil(t, findByField(c.do("GET", "/apis", "", "Accept", accept).get("items"), "metadata.name", "example.com"))

	// At once with no delay, the controller owning the same fields.
	c.srv.SetCRDEstablishDelay(0)
	now := c.do("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", gadgetCRD)
	require.Equal(t, http.StatusCreated, now.code, string(now.raw))
	assert.Equal(t, "True", path(findByField(now.get("status.conditions"), "type", "Established"), "status"), "zero establishes at once")
	assert.Equal(t, path(ev.Object, "metadata.managedFields.1.fieldsV1"), now.get("metadata.managedFields.1.fieldsV1"),
		"the controller owns the same fields either way")
	conds, _ := now.get("metadata.managedFields.1.fieldsV1.f:status.f:conditions").(map[string]any)
	require.NotEmpty(t, conds)
	assert.NotContains(t, conds, ".", "conditions were there as null: their presence is nobody's")
}

// A CRD schema's bounds, lengths, pattern and item counts are enforced
// with the real server's causes (checked by internal/fidelity for
// minimum, maximum, maxLength, pattern and maxItems).
func TestCRDSchemaBounds(t *testing.T) {
	t.Parallel()
	c := setup(t)
	crd := `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"gears.example.com"},
"spec":{"group":"example.com","scope":"Namespaced","names":{"plural":"gears","kind":"Gear"},"versions":[{"name":"v1","served":true,"storage":true,
"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","properties":{
"teeth":{"type":"integer","minimum":3,"maximum":100,"exclusiveMaximum":true},
"code":{"type":"string","minLength":2,"maxLength":4,"pattern":"^[A-Z]+$"},
"tags":{"type":"array","minItems":1,"maxItems":2,"items":{"type":"string"}}}}}}}}]}}`
	require.Equal(t, http.StatusCreated, c.do("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd).code)
	for _, tc := range []struct{ spec, field, reason, message string }{
		{`{"teeth":2}`, "spec.teeth", "FieldValueInvalid", "Invalid value: 2: spec.teeth in body should be greater than or equal to 3"},
		{`{"teeth":100}`, "spec.teeth", "FieldValueInvalid", "Invalid value: 100: spec.teeth in body should be less than 100"},
		{`{"code":"ABCDE"}`, "spec.code", "FieldValueTooLong", "Too long: may not be more than 4 bytes"},
		{`{"code":"A"}`, "spec.code", "FieldValueInvalid", `Invalid value: "A": spec.code in body should be at least 2 chars long`},
		{`{"code":"ab"}`, "spec.code", "FieldValueInvalid", `Invalid value: "ab": spec.code in body should match '^[A-Z]+$'`},
		{`{"tags":["a","b","c"]}`, "spec.tags", "FieldValueTooMany", "Too many: 3: must have at most 2 items"},
		{`{"tags":[]}`, "spec.tags", "FieldValueInvalid", "Invalid value: []: spec.tags in body should have at least 1 items"},
	} {
		r := c.do("POST", "/apis/example.com/v1/namespaces/default/gears", `{"apiVersion":"example.com/v1","kind":"Gear","metadata":{"name":"g"},"spec":`+tc.spec+`}`)
		require.Equal(t, http.StatusUnprocessableEntity, r.code, "%s: %s", tc.spec, r.raw)
		assert.Equal(t, tc.field, r.str("details.causes.0.field"), tc.spec)
		assert.Equal(t, tc.reason, r.str("details.causes.0.reason"), tc.spec)
		assert.Equal(t, tc.message, r.str("details.causes.0.message"), tc.spec)
	}
	ok := c.do("POST", "/apis/example.com/v1/namespaces/default/gears", `{"apiVersion":"example.com/v1","kind":"Gear","metadata":{"name":"g"},"spec":{"teeth":3,"code":"AB","tags":["x"]}}`)
	assert.Equal(t, http.StatusCreated, ok.code, string(ok.raw))
}
