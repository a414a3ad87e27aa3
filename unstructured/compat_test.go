package unstructured

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// Ordinary manifests decode to the same JSON values as kubectl's
// converter (sigs.k8s.io/yaml), key order aside.
func TestDecodeMatchesSigsYAML(t *testing.T) {
	t.Parallel()
	docs := []string{
		`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web, "app.kubernetes.io/name": web}
  annotations:
    kubernetes.io/change-cause: "image bump to 1.27"
spec:
  replicas: 3
  revisionHistoryLimit: 0
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 30
      containers:
      - name: nginx
        image: nginx:1.27
        args: ["--port", "8080", '--flag=a b']
        ports:
        - {containerPort: 8080, protocol: TCP}
        resources:
          limits: {cpu: 500m, memory: 128Mi}
          requests: {cpu: 0.25, memory: 64Mi}
        env:
        - name: EMPTY
          value: ""
        - name: NUMBER_AS_STRING
          value: "42"
        - name: NULLISH
          value: ~
      volumes:
      - name: cfg
        configMap: {name: cfg, defaultMode: 0644}
`,
		`apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  app.properties: |
    server.port=8080
    # a comment inside a block scalar
    cache.size=1024
  folded: >
    one
    two
  quoted: 'it''s'
  unicode: "caf\u00e9 ☕"
  multi: "a\nb\tc"
`,
		`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-preserve-unknown-fields: true
            properties:
              size: {type: integer, minimum: 1, maximum: 1e3}
              ratio: {type: number, default: 0.5}
`,
		`defaults: &defaults
  adapter: postgres
  host: localhost
development:
  database: dev
  <<: *defaults
list: [*defaults, *defaults]
`,
	}
	for _, doc := range docs {
		objs, err := Decode([]byte(doc))
		require.NoError(t, err)
		require.Len(t, objs, 1)
		ref, err := yaml.YAMLToJSON([]byte(doc))
		require.NoError(t, err)
		var got, want any
		require.NoError(t, json.Unmarshal([]byte(objs[0].String()), &got))
		require.NoError(t, json.Unmarshal(ref, &want))
		assert.Equal(t, want, got, strings.SplitN(doc, "\n", 3)[1])
	}
}

// Where YAML 1.1 (sigs.k8s.io/yaml) and YAML 1.2 (this package) differ,
// the YAML 1.2 reading is the one documented on Decode.
func TestDecodeYAML12Differences(t *testing.T) {
	t.Parallel()
	objs, err := Decode([]byte("a: yes\nb: off\nc: 0o17\n"))
	require.NoError(t, err)
	assert.Equal(t, `{"a":"yes","b":"off","c":15}`, objs[0].String())
	ref, err := yaml.YAMLToJSON([]byte("a: yes\nb: off\n"))
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":true,"b":false}`, string(ref))
}
