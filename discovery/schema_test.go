package discovery

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	openapi_v3 "github.com/google/gnostic-models/openapiv3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/unstructured"
)

// realDoc reads a captured OpenAPI v3 document, such as "apis_apps_v1".
func realDoc(t testing.TB, name string) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "openapi", "real", name+".json.gz"))
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	b, err := io.ReadAll(zr)
	require.NoError(t, err)
	return b
}

// realDocs reads every captured document, by name.
func realDocs(t testing.TB) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "openapi", "real", "*.json.gz"))
	require.NoError(t, err)
	require.NotEmpty(t, names)
	out := map[string][]byte{}
	for _, n := range names {
		base := strings.TrimSuffix(filepath.Base(n), ".json.gz")
		out[base] = realDoc(t, base)
	}
	return out
}

func realSchema(t testing.TB, doc, apiVersion, kind string) *unstructured.Schema {
	t.Helper()
	set, err := CompileOpenAPIV3(realDoc(t, doc))
	require.NoError(t, err)
	gv, err := unstructured.ParseGroupVersion(apiVersion)
	require.NoError(t, err)
	s := set.Kind(gv.WithKind(kind))
	require.NotNil(t, s, "no schema for %s %s", apiVersion, kind)
	return s
}

func TestCompileOpenAPIV3RealDocuments(t *testing.T) {
	kinds := 0
	for name, doc := range realDocs(t) {
		set, err := CompileOpenAPIV3(doc)
		require.NoError(t, err, name)
		assert.NotEmpty(t, set.Kinds(), name)
		kinds += len(set.Kinds())
	}
	t.Logf("%d kinds compiled", kinds)

	dep := realSchema(t, "apis_apps_v1", "apps/v1", "Deployment")
	assert.False(t, dep.Custom)
	ports := dep.Properties["spec"].Properties["template"].Properties["spec"].Properties["containers"].Items.Properties["ports"]
	require.NotNil(t, ports)
	assert.Equal(t, "map", ports.ListType)
	assert.Equal(t, []string{"containerPort", "protocol"}, ports.ListMapKeys)
	proto := ports.Items.Properties["protocol"]
	assert.Equal(t, []string{`"SCTP"`, `"TCP"`, `"UDP"`}, proto.Enum)
	assert.Equal(t, `"TCP"`, proto.Default)
	assert.Contains(t, dep.Properties["spec"].Properties["template"].Description, "Template describes the pods")
	assert.Equal(t, "io.k8s.api.core.v1.PodTemplateSpec", dep.Properties["spec"].Properties["template"].Name)
	res := dep.Properties["spec"].Properties["template"].Properties["spec"].Properties["containers"].Items.Properties["resources"]
	assert.Equal(t, "quantity", res.Properties["limits"].AdditionalProperties.Format)
	probe := dep.Properties["spec"].Properties["template"].Properties["spec"].Properties["containers"].Items.Properties["livenessProbe"]
	assert.True(t, probe.Properties["httpGet"].Properties["port"].IntOrString)
	assert.True(t, dep.Properties["metadata"].Properties["managedFields"].Items.Properties["fieldsV1"].Opaque)

	w := realSchema(t, "apis_schema.kubedyn.test_v1", "schema.kubedyn.test/v1", "Widget")
	assert.True(t, w.Custom)
	spec := w.Properties["spec"]
	assert.Len(t, spec.Validations, 3)
	assert.True(t, spec.Properties["port"].IntOrString)
	assert.True(t, spec.Properties["extra"].PreserveUnknownFields)
	assert.True(t, spec.Properties["template"].EmbeddedResource)
	assert.Equal(t, "1", spec.Properties["minReplicas"].Default)

	// The recursive JSONSchemaProps of CRDs compiles into a cycle.
	crd := realSchema(t, "apis_apiextensions.k8s.io_v1", "apiextensions.k8s.io/v1", "CustomResourceDefinition")
	props := crd.Properties["spec"].Properties["versions"].Items.Properties["schema"].Properties["openAPIV3Schema"]
	require.NotNil(t, props)
	inner := props.Properties["properties"].AdditionalProperties
	require.NotNil(t, inner)
	assert.Equal(t, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", inner.Name)
	assert.Same(t, inner, inner.Properties["properties"].AdditionalProperties)
}

func TestCompileOpenAPIV3BadDocuments(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"malformed", `{"components":`, "bad OpenAPI v3 schema"},
		{"dangling ref", `{"components":{"schemas":{"A":{"type":"object","properties":{"b":{"$ref":"#/components/schemas/B"}}}}}}`, `"B", which the document does not define`},
		{"ref cycle", `{"components":{"schemas":{"A":{"allOf":[{"$ref":"#/components/schemas/B"}]},"B":{"allOf":[{"$ref":"#/components/schemas/A"}]}}}}`, "refers only to itself"},
		{"self ref", `{"components":{"schemas":{"A":{"$ref":"#/components/schemas/A"}}}}`, "refers only to itself"},
		{"external ref", `{"components":{"schemas":{"A":{"properties":{"b":{"$ref":"other.json#/B"}}}}}}`, "unsupported $ref"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompileOpenAPIV3([]byte(tc.doc))
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrBadSchema), err.Error())
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func fields(errs []*unstructured.FieldError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Stage.String()+" "+e.Field)
	}
	sort.Strings(out)
	return out
}

func TestValidateRealSchemas(t *testing.T) {
	dep := realSchema(t, "apis_apps_v1", "apps/v1", "Deployment")
	widget := realSchema(t, "apis_schema.kubedyn.test_v1", "schema.kubedyn.test/v1", "Widget")
	for _, tc := range []struct {
		name   string
		schema *unstructured.Schema
		obj    string
		want   []string
	}{
		{"valid deployment", dep, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","labels":{"x":"y"}},
			"spec":{"replicas":2,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},
			"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80}],"resources":{"limits":{"cpu":"100m","memory":1e9}},
			"livenessProbe":{"httpGet":{"port":"http"}}}]}}}}`, nil},
		{"deployment with every kind of mistake", dep, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","bogus":1},
			"spec":{"replicas":"2","selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},
			"spec":{"containers":[{"image":"i","imagePullPolicy":"Sometimes","ports":[{"containerPort":80},{"containerPort":80,"protocol":"TCP"}],
			"resources":{"limits":{"cpu":"lots"}},"livenessProbe":{"httpGet":{"port":1.5}}}]}}}}`, []string{
			"decode metadata.bogus",
			"decode spec.replicas",
			"decode spec.template.spec.containers[0].livenessProbe.httpGet.port",
			"decode spec.template.spec.containers[0].resources.limits.cpu",
			"schema spec.template.spec.containers[0].imagePullPolicy",
			"schema spec.template.spec.containers[0].name",
			// No duplicate for ports[1]: the server leaves the uniqueness
			// of built-in lists to Go validation, which allows it here.
		}},
		{"valid widget", widget, `{"apiVersion":"schema.kubedyn.test/v1","kind":"Widget","metadata":{"name":"a"},
			"spec":{"size":3,"mode":"Steady","port":"http","memory":"1Gi","extra":{"any":{"thing":1}},
			"template":{"apiVersion":"v1","kind":"ConfigMap","data":{"a":"b"}},"ports":[{"name":"a","number":22}],"note":null}}`, nil},
		{"widget schema errors", widget, `{"apiVersion":"schema.kubedyn.test/v1","kind":"Widget","metadata":{"name":"a"},
			"spec":{"size":"x","mode":"Foo","ports":[{"name":"a","number":1},{"name":"a","number":70000}],"tags":["a","a"],"labels":{"a":"12345678901"}}}`, []string{
			"schema spec.labels.a", "schema spec.mode", "schema spec.ports[1]", "schema spec.ports[1].number", "schema spec.size", "schema spec.tags[1]",
		}},
		{"widget unknown fields", widget, `{"apiVersion":"schema.kubedyn.test/v1","kind":"Widget","metadata":{"name":"a"},
			"spec":{"size":1,"mode":"Off","bogus":1,"ports":[{"name":"a","number":1,"zzz":2}]}}`, []string{"decode spec.bogus", "decode spec.ports[0].zzz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := unstructured.Validate(unstructured.MustParse(tc.obj), tc.schema, nil)
			require.NoError(t, err)
			assert.Equal(t, tc.want, fields(res.Errors), "%v", res.Err())
			if tc.want == nil {
				assert.NoError(t, res.Err())
			} else {
				assert.ErrorIs(t, res.Err(), unstructured.ErrInvalidObject)
			}
		})
	}
}

func BenchmarkCompileBuiltinSchemas(b *testing.B) {
	docs := realDocs(b)
	delete(docs, "apis_schema.kubedyn.test_v1")
	size := 0
	for _, d := range docs {
		size += len(d)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range docs {
			if _, err := CompileOpenAPIV3(d); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkValidateDeployment(b *testing.B) {
	dep := realSchema(b, "apis_apps_v1", "apps/v1", "Deployment")
	obj := unstructured.MustParse(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","labels":{"x":"y"}},
		"spec":{"replicas":2,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},
		"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80}],"resources":{"limits":{"cpu":"100m","memory":"1Gi"}},
		"livenessProbe":{"httpGet":{"port":"http"}}}]}}}}`)
	b.ReportAllocs()
	for b.Loop() {
		res, err := unstructured.Validate(obj, dep, nil)
		if err != nil || len(res.Errors) > 0 {
			b.Fatal(err, res.Errors)
		}
	}
}

// BenchmarkParseGnosticBuiltinSchemas is the same documents parsed by
// gnostic-models, for comparison: CompileOpenAPIV3 decodes the JSON itself.
func BenchmarkParseGnosticBuiltinSchemas(b *testing.B) {
	docs := realDocs(b)
	delete(docs, "apis_schema.kubedyn.test_v1")
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range docs {
			if _, err := openapi_v3.ParseDocument(d); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func TestExplainRealSchemas(t *testing.T) {
	dep := realSchema(t, "apis_apps_v1", "apps/v1", "Deployment")
	gvk := unstructured.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}

	out, err := unstructured.Explain(dep, gvk, "spec.template.spec.containers", nil)
	require.NoError(t, err)
	for _, want := range []string{
		"GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n",
		"FIELD: containers <[]Container>",
		"List of containers belonging to the pod.",
		"  name\t<string> -required-\n",
		"  imagePullPolicy\t<string>\n  enum: Always, IfNotPresent, Never\n",
		"  ports\t<[]ContainerPort>\n",
		"  resources\t<ResourceRequirements>\n",
	} {
		assert.Contains(t, out, want)
	}

	out, err = unstructured.Explain(dep, gvk, "spec.template.spec.containers.ports.protocol", nil)
	require.NoError(t, err)
	assert.Contains(t, out, "FIELD: protocol <string>\nENUM:\n    SCTP\n    TCP\n    UDP\n")
	assert.Contains(t, out, `DEFAULT: "TCP"`)

	out, err = unstructured.Explain(dep, gvk, "spec.template.spec.containers.resources.limits", nil)
	require.NoError(t, err)
	assert.Contains(t, out, "FIELD: limits <map[string]Quantity>")

	out, err = unstructured.Explain(dep, gvk, "spec.strategy", &unstructured.ExplainOptions{Recursive: true})
	require.NoError(t, err)
	assert.Contains(t, out, "  rollingUpdate\t<RollingUpdateDeployment>\n    maxSurge\t<IntOrString>\n    maxUnavailable\t<IntOrString>\n  type\t<string>\n")

	_, err = unstructured.Explain(dep, gvk, "spec.template.spec.containers.bogus", nil)
	require.ErrorIs(t, err, unstructured.ErrNoField)
	assert.Contains(t, err.Error(), `"bogus" is not a field of spec.template.spec.containers`)
	assert.Contains(t, err.Error(), "imagePullPolicy")

	// A recursive definition ends each branch once it repeats.
	crd := realSchema(t, "apis_apiextensions.k8s.io_v1", "apiextensions.k8s.io/v1", "CustomResourceDefinition")
	out, err = unstructured.Explain(crd, unstructured.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"},
		"spec.versions.schema", &unstructured.ExplainOptions{Recursive: true})
	require.NoError(t, err)
	assert.Contains(t, out, "(recursive: JSONSchemaProps)")
	assert.Less(t, len(out), 200_000)

	w := realSchema(t, "apis_schema.kubedyn.test_v1", "schema.kubedyn.test/v1", "Widget")
	wgvk := unstructured.GroupVersionKind{Group: "schema.kubedyn.test", Version: "v1", Kind: "Widget"}
	out, err = unstructured.Explain(w, wgvk, "spec", nil)
	require.NoError(t, err)
	for _, want := range []string{
		"  mode\t<string> -required-\n  enum: Steady, Burst, Off\n",
		"  port\t<IntOrString>\n",
		"  ports\t<[]Object>\n",
		"  labels\t<map[string]string>\n",
		"RULE: self.minReplicas <= self.maxReplicas (minReplicas must not exceed maxReplicas)",
	} {
		assert.Contains(t, out, want)
	}
}

func BenchmarkExplainRecursive(b *testing.B) {
	dep := realSchema(b, "apis_apps_v1", "apps/v1", "Deployment")
	gvk := unstructured.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := unstructured.Explain(dep, gvk, "spec.template.spec", &unstructured.ExplainOptions{Recursive: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateCustomResource200Fields validates a custom resource with
// 200 fields of mixed kinds (patterns, ranges, enums, nested objects, a map
// list) with its CEL-free schema.
func BenchmarkValidateCustomResource200Fields(b *testing.B) {
	var props, values []string
	for i := range 200 {
		name := fmt.Sprintf("f%03d", i)
		switch i % 5 {
		case 0:
			props = append(props, fmt.Sprintf(`%q:{"type":"string","pattern":"^[a-z]+$","maxLength":20}`, name))
			values = append(values, fmt.Sprintf(`%q:"abc"`, name))
		case 1:
			props = append(props, fmt.Sprintf(`%q:{"type":"integer","minimum":0,"maximum":1000}`, name))
			values = append(values, fmt.Sprintf(`%q:%d`, name, i))
		case 2:
			props = append(props, fmt.Sprintf(`%q:{"type":"string","enum":["A","B","C"]}`, name))
			values = append(values, fmt.Sprintf(`%q:"B"`, name))
		case 3:
			props = append(props, fmt.Sprintf(`%q:{"type":"object","required":["x"],"properties":{"x":{"type":"boolean"},"y":{"x-kubernetes-int-or-string":true}}}`, name))
			values = append(values, fmt.Sprintf(`%q:{"x":true,"y":"10%%"}`, name))
		case 4:
			props = append(props, fmt.Sprintf(`%q:{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["k"],"items":{"type":"object","properties":{"k":{"type":"string"},"v":{"type":"integer"}}}}`, name))
			values = append(values, fmt.Sprintf(`%q:[{"k":"a","v":1},{"k":"b","v":2}]`, name))
		}
	}
	doc := `{"components":{"schemas":{"com.example.v1.Big":{"type":"object","x-kubernetes-group-version-kind":[{"group":"example.com","version":"v1","kind":"Big"}],
		"properties":{"apiVersion":{"type":"string"},"kind":{"type":"string"},"metadata":{"type":"object","x-kubernetes-preserve-unknown-fields":true},"spec":{"type":"object","properties":{` + strings.Join(props, ",") + `}}}}}}}`
	set, err := CompileOpenAPIV3([]byte(doc))
	require.NoError(b, err)
	s := set.Kind(unstructured.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Big"})
	require.True(b, s.Custom)
	obj := unstructured.MustParse(`{"apiVersion":"example.com/v1","kind":"Big","metadata":{"name":"b"},"spec":{` + strings.Join(values, ",") + `}}`)
	res, err := unstructured.Validate(obj, s, nil)
	require.NoError(b, err)
	require.Empty(b, res.Errors)
	b.SetBytes(int64(len(obj.String())))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := unstructured.Validate(obj, s, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestValidateConcurrently shares one compiled schema (and its lazily
// compiled patterns) between goroutines.
func TestValidateConcurrently(t *testing.T) {
	w := realSchema(t, "apis_schema.kubedyn.test_v1", "schema.kubedyn.test/v1", "Widget")
	obj := unstructured.MustParse(`{"apiVersion":"schema.kubedyn.test/v1","kind":"Widget","metadata":{"name":"a"},
		"spec":{"size":3,"mode":"Steady","name":"Bad_Name","memory":"lots","ports":[{"name":"a","number":1}]}}`)
	var wg sync.WaitGroup
	errs := make([][]string, 8)
	for i := range errs {
		wg.Go(func() {
			res, err := unstructured.Validate(obj, w, nil)
			if err == nil {
				errs[i] = fields(res.Errors)
			}
		})
	}
	wg.Wait()
	for _, e := range errs {
		assert.Equal(t, []string{"schema spec.memory", "schema spec.name"}, e)
	}
}
