package resource_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/unstructured"
)

// withManaged returns body (a JSON object without metadata.managedFields)
// with one managedFields entry of manager "m", operation op, subresource sub
// and fieldsV1 fields.
func withManaged(t *testing.T, body, op, sub, fields string) unstructured.Object {
	t.Helper()
	o := obj(t, body)
	entry := `{"manager":"m","operation":"` + op + `","apiVersion":"` + o.APIVersion() + `","fieldsType":"FieldsV1","fieldsV1":` + fields
	if sub != "" {
		entry += `,"subresource":"` + sub + `"`
	}
	entry += "}"
	o, err := o.SetRaw("metadata.managedFields", `[{"manager":"other","operation":"Apply","apiVersion":"apps/v1","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:paused":{}}}},`+entry+`]`)
	require.NoError(t, err)
	return o
}

const deploymentBody = `{"apiVersion":"apps/v1","kind":"Deployment",
"metadata":{"name":"web","namespace":"ns","uid":"u1","resourceVersion":"9","labels":{"app":"web","team":"x"},
  "finalizers":["a.example.com/f","b.example.com/f"],"annotations":{"note":"n"}},
"spec":{"replicas":3,"paused":false,"revisionHistoryLimit":10,
  "selector":{"matchLabels":{"app":"web"}},
  "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
  "template":{"metadata":{"labels":{"app":"web"}},"spec":{
    "containers":[
      {"name":"web","image":"nginx:1","imagePullPolicy":"IfNotPresent","args":["-a","-b"],
       "ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":9007199254740993,"protocol":"UDP","name":"big"}]},
      {"name":"side","image":"busybox","terminationMessagePath":"/dev/termination-log"}],
    "tolerations":[{"key":"k1","effect":"NoSchedule"},{"key":"k2"}],
    "nodeSelector":{"disk":"ssd"}}}},
"status":{"replicas":3,"conditions":[{"type":"Available","status":"True"}]}}`

func TestExtractFieldsV1(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		op     string
		sub    string
		fields string
		want   string
	}{
		{
			name:   "leaf fields and nested maps",
			fields: `{"f:spec":{"f:replicas":{},"f:selector":{},"f:strategy":{"f:type":{}}}}`,
			want: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"ns"},
"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"strategy":{"type":"RollingUpdate"}}}`,
		},
		{
			name:   "a map owned as a member and some of its keys",
			fields: `{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:template":{"f:spec":{"f:nodeSelector":{".":{}}}}}}`,
			want: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"ns","labels":{"app":"web"}},
"spec":{"template":{"spec":{"nodeSelector":{}}}}}`,
		},
		{
			name: "associative list by one key and by two, big integers kept",
			fields: `{"f:spec":{"f:template":{"f:spec":{"f:containers":{
  "k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:ports":{
    "k:{\"containerPort\":9007199254740993,\"protocol\":\"UDP\"}":{".":{},"f:name":{}}}}}}}}}`,
			want: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"ns"},
"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1",
  "ports":[{"containerPort":9007199254740993,"protocol":"UDP","name":"big"}]}]}}}}`,
		},
		{
			name:   "set list by value",
			fields: `{"f:metadata":{"f:finalizers":{".":{},"v:\"b.example.com/f\"":{}}}}`,
			want:   `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"ns","finalizers":["b.example.com/f"]}}`,
		},
		{
			name:   "list by index, and an atomic list owned whole",
			fields: `{"f:spec":{"f:template":{"f:spec":{"f:tolerations":{"i:1":{"f:key":{}}},"f:containers":{"k:{\"name\":\"web\"}":{"f:args":{}}}}}}}`,
			want: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"ns"},
"spec":{"template":{"spec":{"tolerations":[{"key":"k2"}],"containers":[{"name":"web","args":["-a","-b"]}]}}}}`,
		},
		{
			name:   "fields the object no longer has are left out",
			fields: `{"f:spec":{"f:minReadySeconds":{},"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"gone\"}":{".":{},"f:image":{}}}}}}}`,
			want: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"ns"},
"spec":{"replicas":3}}`,
		},
		{
			name:   "element owned as a member keeps its key",
			fields: `{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"side\"}":{".":{}}}}}}}`,
			want: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"ns"},
"spec":{"template":{"spec":{"containers":[{"name":"side"}]}}}}`,
		},
		{
			name:   "status subresource",
			sub:    "status",
			fields: `{"f:status":{"f:conditions":{"k:{\"type\":\"Available\"}":{".":{},"f:status":{},"f:type":{}}}}}`,
			want: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"ns"},
"status":{"conditions":[{"type":"Available","status":"True"}]}}`,
		},
		{
			name:   "update operation",
			op:     "Update",
			fields: `{"f:metadata":{"f:annotations":{"f:note":{}}}}`,
			want:   `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"ns","annotations":{"note":"n"}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			op := tt.op
			if op == "" {
				op = "Apply"
			}
			o := withManaged(t, deploymentBody, op, tt.sub, tt.fields)
			got, err := resource.Extract(o, "m", &resource.ExtractOptions{Subresource: tt.sub, Operation: tt.op})
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, got.String())
			var probe map[string]any
			require.NoError(t, json.Unmarshal(got.Bytes(), &probe))
		})
	}
}

func TestExtractErrors(t *testing.T) {
	t.Parallel()
	good := `{"f:spec":{"f:replicas":{}}}`
	tests := []struct {
		name    string
		o       unstructured.Object
		manager string
		opts    *resource.ExtractOptions
		is      error
		msg     string
	}{
		{"unknown manager", withManaged(t, deploymentBody, "Apply", "", good), "nobody", nil, resource.ErrNoManagedFields, `manager "nobody"`},
		{"no apply entry", withManaged(t, deploymentBody, "Update", "", good), "m", nil, resource.ErrNoManagedFields, "operation Apply"},
		{"not on the subresource", withManaged(t, deploymentBody, "Apply", "", good), "m", &resource.ExtractOptions{Subresource: "status"}, resource.ErrNoManagedFields, "subresource status"},
		{"no managedFields at all", obj(t, deploymentBody), "m", nil, resource.ErrNoManagedFields, "Deployment ns/web"},
		{"another apiVersion", func() unstructured.Object {
			o, err := withManaged(t, deploymentBody, "Apply", "", good).Set("metadata.managedFields.1.apiVersion", "apps/v1beta2")
			require.NoError(t, err)
			return o
		}(), "m", nil, nil, "recorded for apps/v1beta2"},
		{"a list key in a map", withManaged(t, deploymentBody, "Apply", "", `{"f:spec":{"k:{\"a\":1}":{}}}`), "m", nil, nil, `key "k:{\"a\":1}" in a map`},
		{"a field key in a list", withManaged(t, deploymentBody, "Apply", "", `{"f:metadata":{"f:finalizers":{"f:x":{}}}}`), "m", nil, nil, `.metadata.finalizers: key "f:x" in a list`},
		{"a bad k: key", withManaged(t, deploymentBody, "Apply", "", `{"f:metadata":{"f:finalizers":{"k:{oops":{}}}}`), "m", nil, nil, `key "k:{oops"`},
		{"a bad index", withManaged(t, deploymentBody, "Apply", "", `{"f:metadata":{"f:finalizers":{"i:-1":{}}}}`), "m", nil, nil, "bad index"},
		{"a set that is not an object", withManaged(t, deploymentBody, "Apply", "", `{"f:spec":{"f:replicas":true}}`), "m", nil, nil, "want an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := resource.Extract(tt.o, tt.manager, tt.opts)
			require.Error(t, err)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

// TestExtractReapplyIsNoOp runs the round trip against the test server:
// apply, read back, extract, apply again: the resourceVersion stays.
func TestExtractReapplyIsNoOp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := setup(t)
	deploys := c.Resource("apps/v1", "Deployment").Namespace("default")
	opts := &resource.ApplyOptions{FieldManager: "extractor"}
	applied, err := deploys.Apply(ctx, obj(t, deployment("x", 2)), opts)
	require.NoError(t, err)
	read, err := deploys.Get(ctx, "x", nil)
	require.NoError(t, err)
	mine, err := resource.Extract(read, "extractor", nil)
	require.NoError(t, err)
	assert.False(t, mine.Get("spec.strategy").Exists(), "server defaults are not the manager's")
	again, err := deploys.Apply(ctx, mine, opts)
	require.NoError(t, err)
	assert.Equal(t, applied.ResourceVersion(), again.ResourceVersion())
}

// FuzzExtract checks Extract never panics and, when it succeeds, returns a
// valid object that names the same object, whatever the fieldsV1 holds.
func FuzzExtract(f *testing.F) {
	for _, seed := range []string{
		`{"f:spec":{"f:replicas":{}}}`,
		`{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}`,
		`{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{}}}}}}}`,
		`{"f:metadata":{"f:finalizers":{"v:\"a.example.com/f\"":{}}}}`,
		`{"f:spec":{"f:template":{"f:spec":{"f:tolerations":{"i:0":{"f:key":{}}}}}}}`,
		`{"k:{}":{}}`, `{"f:spec":{"v:1":{}}}`, `{"f:spec":[]}`, `{".":{}}`, `{}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, fields string) {
		if !json.Valid([]byte(fields)) {
			return
		}
		o := obj(t, deploymentBody)
		o, err := o.SetRaw("metadata.managedFields", `[{"manager":"m","operation":"Apply","apiVersion":"apps/v1","fieldsType":"FieldsV1","fieldsV1":`+fields+`}]`)
		if err != nil {
			return // not an object unstructured accepts
		}
		got, err := resource.Extract(o, "m", nil)
		if err != nil {
			return
		}
		if got.Name() != "web" || got.Namespace() != "ns" || got.Kind() != "Deployment" {
			t.Fatalf("extract lost the object's identity: %s", got)
		}
	})
}

// TestExtractPicksTheEntryOfTheObjectsVersion checks that of two entries of
// one manager, the one recorded for the object's apiVersion is read.
func TestExtractPicksTheEntryOfTheObjectsVersion(t *testing.T) {
	t.Parallel()
	o, err := obj(t, deploymentBody).SetRaw("metadata.managedFields", `[
 {"manager":"m","operation":"Apply","apiVersion":"apps/v1beta2","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:paused":{}}}},
 {"manager":"m","operation":"Apply","apiVersion":"apps/v1","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:replicas":{}}}}]`)
	require.NoError(t, err)
	got, err := resource.Extract(o, "m", nil)
	require.NoError(t, err)
	assert.Equal(t, int64(3), got.Get("spec.replicas").Int())
	assert.False(t, got.Get("spec.paused").Exists())
}
