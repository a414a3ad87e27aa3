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
