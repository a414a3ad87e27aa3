package celrules_test

import (
	"compress/gzip"
	"io"
	"os"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/celrules"
	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/unstructured"
)

func widgetSchema(t *testing.T) *unstructured.Schema {
	t.Helper()
	f, err := os.Open("../discovery/testdata/openapi/real/apis_schema.kubedyn.test_v1.json.gz")
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	doc, err := io.ReadAll(zr)
	require.NoError(t, err)
	set, err := discovery.CompileOpenAPIV3(doc)
	require.NoError(t, err)
	s := set.Kind(unstructured.GroupVersionKind{Group: "schema.kubedyn.test", Version: "v1", Kind: "Widget"})
	require.NotNil(t, s)
	return s
}

func TestRulesOfTheWidgetCRD(t *testing.T) {
	s := widgetSchema(t)
	ev, err := celrules.New()
	require.NoError(t, err)
	for _, tc := range []struct {
		name       string
		spec       string
		errs       []string
		notChecked []string
	}{
		{"all rules hold", `{"size":1,"mode":"Steady","endpoint":"https://x","ports":[{"name":"a","number":22}],"limits":{"cpu":1}}`, nil, nil},
		{"defaults feed the rules", `{"size":1,"mode":"Steady","minReplicas":4}`,
			[]string{"spec: Invalid value: minReplicas must not exceed maxReplicas"}, nil},
		{"every standard rule fails", `{"size":1,"mode":"Burst","minReplicas":5,"endpoint":"http://x","ports":[{"name":"a","number":22,"protocol":"UDP"}],"limits":{"verylongname":1}}`,
			[]string{
				"spec.burst: Required value: mode Burst needs burst",
				"spec.endpoint: Invalid value: endpoint must use https",
				"spec.limits: Invalid value: limit names are at most 8 characters",
				"spec.ports[0]: Invalid value: port 22 must be TCP",
				"spec: Invalid value: minReplicas must not exceed maxReplicas",
			}, nil},
		{"a Kubernetes library function is not checked", `{"size":1,"mode":"Off","host":"a b"}`, nil, []string{"spec.host"}},
		{"rules do not run over invalid values", `{"size":"x","mode":"Off","minReplicas":9}`,
			[]string{`spec.size: Invalid value: "string": spec.size in body must be of type integer: "x"`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := unstructured.MustParse(`{"apiVersion":"schema.kubedyn.test/v1","kind":"Widget","metadata":{"name":"w"},"spec":` + tc.spec + `}`)
			res, err := unstructured.Validate(obj, s, &unstructured.ValidateOptions{Rules: ev})
			require.NoError(t, err)
			var got []string
			for _, e := range res.Errors {
				got = append(got, e.Error())
			}
			sort.Strings(got)
			assert.Equal(t, tc.errs, got)
			var nc []string
			for _, e := range res.NotChecked {
				nc = append(nc, e.Field)
				assert.Contains(t, e.Message, "isURL")
			}
			assert.Equal(t, tc.notChecked, nc)
		})
	}
}

func TestRulesWithoutEvaluatorAreNotChecked(t *testing.T) {
	s := widgetSchema(t)
	obj := unstructured.MustParse(`{"apiVersion":"schema.kubedyn.test/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":1,"mode":"Off"}}`)
	res, err := unstructured.Validate(obj, s, nil)
	require.NoError(t, err)
	assert.Empty(t, res.Errors)
	assert.Len(t, res.NotChecked, 3) // the three on spec; host, ports and limits are absent
}

func TestTransitionRulesAreNotChecked(t *testing.T) {
	ev, err := celrules.New()
	require.NoError(t, err)
	_, err = ev.EvalRule(&unstructured.ValidationRule{Rule: "self == oldSelf"}, &unstructured.Schema{Type: "string"}, "a")
	assert.ErrorIs(t, err, unstructured.ErrRuleNotChecked)
	msg, err := ev.EvalRule(&unstructured.ValidationRule{Rule: "self.size() > 3"}, &unstructured.Schema{Type: "string"}, "a")
	require.NoError(t, err)
	assert.Equal(t, "failed rule: self.size() > 3", msg)
}
