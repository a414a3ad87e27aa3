package unstructured

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeYAMLWithSchema(t *testing.T) {
	widget := &Schema{Type: "object", Custom: true, Properties: map[string]*Schema{
		"spec": {Type: "object", Properties: map[string]*Schema{
			"enabled": {Type: "boolean"},
			"name":    {Type: "string"},
			"version": {Type: "string"},
			"size":    {Type: "integer"},
			"ratio":   {Type: "number"},
			"port":    {IntOrString: true},
			"memory":  {Format: "quantity"},
			"tags":    {Type: "array", Items: &Schema{Type: "string"}},
			"labels":  {Type: "object", AdditionalProperties: &Schema{Type: "string"}},
			"note":    {Type: "string", Nullable: true},
		}},
	}}
	lookup := func(gvk GroupVersionKind) (*Schema, error) {
		if gvk.Kind == "Widget" {
			return widget, nil
		}
		return nil, errors.New("no schema")
	}
	in := `
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  enabled: yes
  name: on
  version: 1.20
  size: 0x10
  ratio: 1_000.5
  port: "8080"
  memory: 1Gi
  tags: [yes, 1.0, 007]
  labels: {a: no, b: 2}
  note: ~
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: v}
spec:
  enabled: off
  port: 8080
  memory: 5
  name: "quoted"
  size: !!str 12
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data:
  x: 1.20
`
	objs, err := DecodeYAMLWithSchema([]byte(in), lookup)
	require.NoError(t, err)
	require.Len(t, objs, 3)
	assert.JSONEq(t, `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"enabled":true,"name":"on",
		"version":"1.20","size":16,"ratio":1000.5,"port":"8080","memory":"1Gi","tags":["yes","1.0","007"],"labels":{"a":"no","b":"2"},"note":null}}`,
		objs[0].String())
	assert.JSONEq(t, `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"v"},"spec":{"enabled":false,"port":8080,"memory":5,"name":"quoted","size":"12"}}`,
		objs[1].String())
	// No schema: YAML 1.2 as Decode reads it.
	assert.JSONEq(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"x":1.20}}`, objs[2].String())

	_, err = DecodeYAMLWithSchema([]byte("a: &x [*x]\n"), lookup)
	require.Error(t, err)
	_, err = DecodeYAMLWithSchema([]byte("a: 1\na: 2\n"), lookup)
	require.ErrorIs(t, err, ErrDuplicateKey)
}

func TestSchemaSet(t *testing.T) {
	s := &Schema{Type: "object", Properties: map[string]*Schema{
		"metadata": {Type: "object", Properties: map[string]*Schema{"labels": {Type: "object", AdditionalProperties: &Schema{Type: "string"}}}},
		"spec": {Type: "object", Properties: map[string]*Schema{
			"mode":  {Type: "string", Enum: []string{`"A"`, `"B"`}},
			"ports": {Type: "array", Items: &Schema{Type: "object", Required: []string{"n"}, Properties: map[string]*Schema{"n": {Type: "integer", Maximum: ptr(65535.0)}}}},
			"extra": {Type: "object", PreserveUnknownFields: true},
		}},
	}}
	obj := MustParse(`{"apiVersion":"example.com/v1","kind":"W","spec":{"ports":[{"n":1}]}}`)

	o, err := s.Set(obj, "spec.mode", "A")
	require.NoError(t, err)
	o, err = s.Set(o, "spec.ports.0.n", 80)
	require.NoError(t, err)
	o, err = s.Set(o, `metadata.labels.app\.kubernetes\.io/name`, "web")
	require.NoError(t, err)
	o, err = s.Set(o, "spec.extra.anything.goes", 1)
	require.NoError(t, err)
	o, err = s.Set(o, "spec.ports.1", map[string]any{"n": 443})
	require.NoError(t, err)
	assert.JSONEq(t, `{"apiVersion":"example.com/v1","kind":"W","metadata":{"labels":{"app.kubernetes.io/name":"web"}},
		"spec":{"mode":"A","ports":[{"n":80},{"n":443}],"extra":{"anything":{"goes":1}}}}`, o.String())

	_, err = s.Set(obj, "spec.mdoe", "A")
	require.ErrorIs(t, err, ErrNoField)
	assert.Contains(t, err.Error(), `"mdoe" is not a field of spec (it has extra, mode, ports)`)
	_, err = s.Set(obj, "spec.mode", "C")
	require.ErrorIs(t, err, ErrInvalidObject)
	assert.Contains(t, err.Error(), `spec.mode: Unsupported value: "C"`)
	_, err = s.Set(obj, "spec.ports.0.n", "80")
	require.ErrorIs(t, err, ErrInvalidObject)
	_, err = s.Set(obj, "spec.ports.0.n", 70000)
	require.ErrorIs(t, err, ErrInvalidObject)
	assert.Contains(t, err.Error(), "spec.ports[0].n: Invalid value: 70000")
	_, err = s.Set(obj, "spec.ports.name", "x")
	require.ErrorIs(t, err, ErrNoField)
}

func ptr[T any](v T) *T { return &v }
