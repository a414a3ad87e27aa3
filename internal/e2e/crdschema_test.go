package e2e_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/celrules"
	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// TestCompileCRDSchemaAgreesWithPublished compiles the widget CRD's schema
// client-side (discovery.CompileCRDSchema) and checks that it validates
// every widget object of the agreement corpus exactly as the schema the
// real server publishes for the installed CRD does (same stages, reasons,
// fields), and that its verdict agrees with the server's own dry run.
func TestCompileCRDSchemaAgreesWithPublished(t *testing.T) {
	ctx := testContext(t)
	c := admin(t)
	crdJSON, err := os.ReadFile(widgetCRDFile)
	require.NoError(t, err)
	crd := unstructured.MustParse(string(crdJSON))
	local, err := discovery.CompileCRDSchema(crd, "v1")
	require.NoError(t, err)

	_, err = c.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition").Create(ctx, crd, nil)
	if err != nil && !errors.Is(err, transport.ErrAlreadyExists) {
		require.NoError(t, err)
	}
	_, err = c.WaitEstablished(ctx, "widgets.schema.kubedyn.test", nil)
	require.NoError(t, err)
	gvk := unstructured.GroupVersionKind{Group: "schema.kubedyn.test", Version: "v1", Kind: "Widget"}
	var published *unstructured.Schema
	eventually(t, 30*time.Second, "the schema of "+gvk.String(), func() bool {
		published, err = c.Discovery().Schema(ctx, gvk)
		if err != nil {
			c.Discovery().Invalidate()
		}
		return err == nil
	})
	rules, err := celrules.New()
	require.NoError(t, err)
	ns := newNamespace(t)
	r := newRaw(t, cluster(t).AdminToken)
	path := "/apis/schema.kubedyn.test/v1/namespaces/" + ns + "/widgets?dryRun=All&fieldValidation=Strict"

	describe := func(res *unstructured.ValidationResult) []string {
		var out []string
		for _, e := range res.Errors {
			out = append(out, fmt.Sprintf("%s %s %s: %s", e.Stage, e.Reason, e.Field, e.Message))
		}
		return out
	}
	objects, rejected := 0, 0
	var serverDisagrees []string
	for _, tc := range append(validCases(), wrongCases()...) {
		if !strings.HasPrefix(tc.name, "widget/") {
			continue
		}
		doc := tc.object(t)
		o := unstructured.MustParse(doc)
		opts := &unstructured.ValidateOptions{Rules: rules, ResetStatus: true}
		want, err := unstructured.Validate(o, published, opts)
		require.NoError(t, err)
		got, err := unstructured.Validate(o, local, opts)
		require.NoError(t, err)
		assert.Equal(t, describe(want), describe(got), tc.name)
		assert.Equal(t, len(want.NotChecked), len(got.NotChecked), tc.name)

		resp, body := r.do(http.MethodPost, path, http.Header{"Content-Type": {"application/json"}}, doc)
		sv := parseVerdict(t, resp.StatusCode, body)
		objects++
		if !sv.accepted {
			rejected++
		}
		if why, ok := agree(sv, got); !ok {
			if _, documented := schemaDisagreements[tc.name]; !documented {
				serverDisagrees = append(serverDisagrees, tc.name+": "+why)
			}
		}
	}
	t.Logf("compiled CRD schema: %d widget objects (%d rejected by the server) validated as the published schema does", objects, rejected)
	assert.Greater(t, objects, 100)
	assert.Greater(t, rejected, 50)
	assert.Empty(t, serverDisagrees, "\n"+strings.Join(serverDisagrees, "\n"))
}
