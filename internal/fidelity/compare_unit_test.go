package fidelity

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func caseNamed(t *testing.T, name string) fcase {
	t.Helper()
	for _, c := range allCases() {
		if c.Name == name {
			return c
		}
	}
	require.FailNow(t, "no case "+name)
	return fcase{}
}

// findObj returns the element of the array at keys whose field is value.
func findObj(t *testing.T, v any, field, value string, keys ...string) map[string]any {
	t.Helper()
	for _, e := range list(v, keys...) {
		if str(e, field) == value {
			return e.(map[string]any)
		}
	}
	require.FailNow(t, "not found", "%s=%s", field, value)
	return nil
}

// TestCompareFindsDifferences mutates real captures and checks that the
// comparison reports exactly the mutation.
func TestCompareFindsDifferences(t *testing.T) {
	t.Parallel()
	appsV1 := func(t *testing.T, body any) map[string]any {
		for _, g := range list(body, "items") {
			if str(g, "metadata", "name") == "apps" {
				return findObj(t, g, "version", "v1", "versions")
			}
		}
		require.FailNow(t, "no apps group")
		return nil
	}
	tests := []struct {
		name   string
		cse    string
		mutate func(t *testing.T, c *capture)
		want   []string
	}{
		{"identical", "apis-aggregated", func(*testing.T, *capture) {}, nil},
		{"status code", "error-update-stale", func(_ *testing.T, c *capture) { c.Status = 422 }, []string{"status"}},
		{"media type", "error-update-stale", func(_ *testing.T, c *capture) { c.ContentType = "text/plain" }, []string{"content-type"}},
		{"media type parameter", "apis-aggregated", func(_ *testing.T, c *capture) {
			c.ContentType = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
		}, []string{"content-type parameters"}},
		{"etag", "api-aggregated", func(_ *testing.T, c *capture) { c.ETag = false }, []string{"etag"}},
		{"status reason", "error-update-stale", func(_ *testing.T, c *capture) {
			c.Body.(map[string]any)["reason"] = "AlreadyExists"
		}, []string{"value: reason"}},
		{"status message", "error-update-stale", func(_ *testing.T, c *capture) {
			c.Body.(map[string]any)["message"] = "something else"
		}, []string{"value: message"}},
		{"cause field dropped", "error-invalid-name", func(t *testing.T, c *capture) {
			delete(list(c.Body, "details", "causes")[0].(map[string]any), "field")
		}, []string{"key missing: $.details.causes[].field", "value: details.causes (reason field)", "value: details.causes (message)"}},
		{"table cell value", "object-table-configmaps", func(t *testing.T, c *capture) {
			list(c.Body, "rows")[0].(map[string]any)["cells"].([]any)[1] = "1"
		}, []string{"value: table cells"}},
		// Values, not only shapes: a changed default, an ignored limit,
		// another owner of a field, a different event.
		{"pod default restartPolicy", "object-create-pod", func(t *testing.T, c *capture) {
			path(c.Body, "spec").(map[string]any)["restartPolicy"] = "Never"
		}, []string{"value: $.spec.restartPolicy"}},
		{"pod default terminationGracePeriodSeconds", "object-create-pod", func(t *testing.T, c *capture) {
			path(c.Body, "spec").(map[string]any)["terminationGracePeriodSeconds"] = json.Number("0")
		}, []string{"value: $.spec.terminationGracePeriodSeconds"}},
		{"container default", "object-create-pod", func(t *testing.T, c *capture) {
			list(c.Body, "spec", "containers")[0].(map[string]any)["imagePullPolicy"] = "Always"
		}, []string{"value: $.spec.containers[0].imagePullPolicy"}},
		{"limit ignored", "object-list-page", func(t *testing.T, c *capture) {
			items := list(c.Body, "items")
			c.Body.(map[string]any)["items"] = append(items, items[0])
		}, []string{"length: $.items"}},
		{"toleration dropped", "object-create-pod", func(t *testing.T, c *capture) {
			spec := path(c.Body, "spec").(map[string]any)
			spec["tolerations"] = list(spec, "tolerations")[:1]
		}, []string{"length: $.spec.tolerations"}},
		{"managed field not owned", "object-create-pod", func(t *testing.T, c *capture) {
			delete(path(list(c.Body, "metadata", "managedFields")[0], "fieldsV1", "f:spec").(map[string]any), "f:restartPolicy")
		}, []string{"value: $.metadata.managedFields[0].fieldsV1"}},
		{"manager name", "object-create-pod", func(t *testing.T, c *capture) {
			list(c.Body, "metadata", "managedFields")[0].(map[string]any)["manager"] = "kubectl"
		}, []string{"value: $.metadata.managedFields[0].manager"}},
		{"watch event object", "watch-existing", func(t *testing.T, c *capture) {
			path(list(c.Body, "events")[0], "object", "data").(map[string]any)["a"] = "2"
		}, []string{"value: $.events[0].object.data.a"}},
		{"volatile values are placeholders", "object-create-pod", func(t *testing.T, c *capture) {
			// Both sides were scrubbed: a placeholder equals a placeholder.
			assert.Equal(t, "<uid>", path(c.Body, "metadata", "uid"))
			assert.Equal(t, "<generated>", path(c.Body, "metadata", "name"))
		}, nil},
		{"success status code", "status-delete-configmap", func(t *testing.T, c *capture) {
			c.Body.(map[string]any)["code"] = 200
		}, []string{"key extra: $.code", "value: code"}},
		{"precondition kind", "error-delete-precondition-uid", func(t *testing.T, c *capture) {
			c.Body.(map[string]any)["details"].(map[string]any)["kind"] = "configmaps"
		}, []string{"value: details.kind"}},
		{"extra key", "error-get-missing-pod", func(t *testing.T, c *capture) {
			c.Body.(map[string]any)["details"].(map[string]any)["uid"] = "x"
		}, []string{"key extra: $.details.uid"}},
		{"key type", "error-get-missing-pod", func(t *testing.T, c *capture) {
			c.Body.(map[string]any)["code"] = "404"
		}, []string{"key type: $.code", "value: code"}},
		{"legacy verbs", "api-v1", func(t *testing.T, c *capture) {
			pods := findObj(t, c.Body, "name", "pods", "resources")
			pods["verbs"] = []any{"get"}
		}, []string{"resource pods: verbs"}},
		{"legacy subresource missing", "api-v1", func(t *testing.T, c *capture) {
			var kept []any
			for _, r := range list(c.Body, "resources") {
				if str(r, "name") != "pods/status" {
					kept = append(kept, r)
				}
			}
			c.Body.(map[string]any)["resources"] = kept
		}, []string{"resource missing: pods/status"}},
		{"aggregated scope", "apis-aggregated", func(t *testing.T, c *capture) {
			findObj(t, appsV1(t, c.Body), "resource", "deployments", "resources")["scope"] = "Cluster"
		}, []string{"group apps v1 resource deployments: scope"}},
		{"aggregated scale kind", "apis-aggregated", func(t *testing.T, c *capture) {
			d := findObj(t, appsV1(t, c.Body), "resource", "deployments", "resources")
			findObj(t, d, "subresource", "scale", "subresources")["responseKind"] = map[string]any{"group": "autoscaling", "version": "v2", "kind": "Scale"}
		}, []string{"group apps v1 resource deployments subresource scale: responseKind"}},
		{"aggregated kind spelled out", "apis-aggregated", func(t *testing.T, c *capture) {
			d := findObj(t, appsV1(t, c.Body), "resource", "deployments", "resources")
			d["responseKind"] = map[string]any{"group": "apps", "version": "v1", "kind": "Deployment"}
		}, []string{"responseKind form"}},
		{"aggregated short name", "apis-aggregated", func(t *testing.T, c *capture) {
			findObj(t, appsV1(t, c.Body), "resource", "deployments", "resources")["shortNames"] = []any{"dp"}
		}, []string{"group apps v1 resource deployments: shortNames"}},
		{"openapi extra schema", "openapi-v3-apis-apps-v1", func(t *testing.T, c *capture) {
			m := c.Body.(map[string]any)
			m["schemaNames"] = append(list(m, "schemaNames"), "io.k8s.api.apps.v1.Nonsense")
		}, []string{"schemaNames extra: io.k8s.api.apps.v1.Nonsense"}},
		{"openapi full: invented property", "openapi-v3-full-apis-apps-v1", func(t *testing.T, c *capture) {
			props := path(c.Body, "components", "schemas", "io.k8s.api.apps.v1.DeploymentSpec", "properties").(map[string]any)
			props["bogus"] = map[string]any{"type": "string"}
		}, []string{
			// DeploymentSpec is reached from Deployment and DeploymentList too.
			"schema io.k8s.api.apps.v1.DeploymentSpec: property extra: $.bogus",
			"schema io.k8s.api.apps.v1.Deployment: property extra: $.spec.bogus",
			"schema io.k8s.api.apps.v1.DeploymentList: property extra: $.items[].spec.bogus",
		}},
		{"openapi full: wrong type", "openapi-v3-full-apis-apps-v1", func(t *testing.T, c *capture) {
			path(c.Body, "components", "schemas", "io.k8s.api.apps.v1.DeploymentSpec", "properties").(map[string]any)["replicas"] = map[string]any{"type": "string"}
		}, []string{
			"schema io.k8s.api.apps.v1.DeploymentSpec: type: $.replicas",
			"schema io.k8s.api.apps.v1.Deployment: type: $.spec.replicas",
			"schema io.k8s.api.apps.v1.DeploymentList: type: $.items[].spec.replicas",
		}},
		{"openapi full: dangling ref", "openapi-v3-full-apis-rbac-v1", func(t *testing.T, c *capture) {
			delete(path(c.Body, "components", "schemas").(map[string]any), "io.k8s.api.rbac.v1.PolicyRule")
		}, []string{"value: danglingRefs"}},
		{"openapi full: less detail is fine", "openapi-v3-full-apis-rbac-v1", func(t *testing.T, c *capture) {
			delete(path(c.Body, "components", "schemas", "io.k8s.api.rbac.v1.PolicyRule").(map[string]any), "required")
			delete(path(c.Body, "components", "schemas", "io.k8s.api.rbac.v1.PolicyRule").(map[string]any), "description")
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := caseNamed(t, tc.cse)
			want := readGolden(t, c)
			got := readGolden(t, c)
			tc.mutate(t, &got)
			var keys []string
			for _, d := range compare(c, want, got) {
				keys = append(keys, d.Key)
			}
			assert.ElementsMatch(t, tc.want, keys)
		})
	}
}

func TestKnownDifferenceMatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		k    knownDifference
		c    string
		d    diff
		want bool
	}{
		{knownDifference{Case: "a", Key: "status"}, "a", diff{Key: "status"}, true},
		{knownDifference{Case: "a", Key: "status"}, "b", diff{Key: "status"}, false},
		{knownDifference{Case: "a", Key: "status"}, "a", diff{Key: "status2"}, false},
		{knownDifference{Case: "a", Key: "key missing: $.x.*"}, "a", diff{Key: "key missing: $.x.y.z"}, true},
		{knownDifference{Case: "a", Key: "key missing: $.x.*"}, "a", diff{Key: "key missing: $.y"}, false},
		{knownDifference{Case: "*", Key: "k"}, "anything", diff{Key: "k"}, true},
		{knownDifference{Case: "*agg*", Key: "k"}, "apis-aggregated-revalidate", diff{Key: "k"}, true},
		{knownDifference{Case: "*agg*", Key: "k"}, "api-v1", diff{Key: "k"}, false},
		{knownDifference{Case: "a*b", Key: "k"}, "ab", diff{Key: "k"}, true},
		{knownDifference{Case: "a*ab", Key: "k"}, "ab", diff{Key: "k"}, false},
		{knownDifference{Case: "a", Key: "k", Detail: "x"}, "a", diff{Key: "k", Detail: "x"}, true},
		{knownDifference{Case: "a", Key: "k", Detail: "x"}, "a", diff{Key: "k", Detail: "y"}, false},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.k.matches(tc.c, tc.d), "%+v on %s %+v", tc.k, tc.c, tc.d)
	}
}

// TestKnownDifferencesNameCases keeps the table from naming a case that
// does not exist, which no run would ever flag.
func TestKnownDifferencesNameCases(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, c := range allCases() {
		assert.False(t, names[c.Name], "duplicate case %s", c.Name)
		names[c.Name] = true
	}
	for _, k := range knownDifferences {
		matched := false
		for name := range names {
			matched = matched || glob(k.Case, name)
		}
		assert.True(t, matched, "known difference %q names no case %q", k.Key, k.Case)
		assert.NotEmpty(t, k.Reason, "known difference %s %q has no reason", k.Case, k.Key)
	}
}

func TestScrubMasksVolatileValuesInStrings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"the UID in record (6ee073bd-8899-4730-b62c-a4f2d9024bc0). The object", "the UID in record (<uid>). The object"},
		{"the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (200).",
			"the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (<resourceVersion>)."},
		{"must be no more than 63 characters", "must be no more than 63 characters"},
		{"/openapi/v3/apis/apps/v1?hash=ABC123", "/openapi/v3/apis/apps/v1?hash=<hash>"},
	} {
		assert.Equal(t, tc.want, scrub(tc.in), tc.in)
	}
}

func TestMaskAgesMasksOnlyAgeCells(t *testing.T) {
	t.Parallel()
	table := decode([]byte(`{"kind":"Table","columnDefinitions":[{"name":"Name"},{"name":"Data"},{"name":"Age"}],
		"rows":[{"cells":["a",1,"3s"]},{"cells":["b",2,"10m"]}]}`))
	got := maskAges(table)
	assert.Equal(t, decode([]byte(`[{"cells":["a",1,"<age>"]},{"cells":["b",2,"<age>"]}]`)), path(got, "rows"))
	assert.Equal(t, "3s", list(table, "rows")[0].(map[string]any)["cells"].([]any)[2], "the input is not changed")
	short := decode([]byte(`{"kind":"Table","columnDefinitions":[{"name":"Name"},{"name":"Cluster-IP"}],"rows":[{"cells":["a"]},{"cells":["b","<none>"]}]}`))
	assert.Equal(t, decode([]byte(`[{"cells":["a"]},{"cells":["b","<none>"]}]`)), path(maskAges(short), "rows"), "short rows and placeholders are kept")
	cm := decode([]byte(`{"kind":"ConfigMap","data":{"Age":"1s"}}`))
	assert.Equal(t, cm, maskAges(cm), "not a Table")
}
