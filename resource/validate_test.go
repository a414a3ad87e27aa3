package resource_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

const badDeployment = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"bad"},
	"spec":{"replicas":"two","bogus":1,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},
	"spec":{"containers":[{"image":"nginx"}]}}}}`

const goodDeployment = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"good"},
	"spec":{"replicas":1,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},
	"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}`

// warnings collects the warnings one call raises.
type warningTexts struct {
	mu   sync.Mutex
	list []string
}

func (w *warningTexts) ctx() context.Context {
	return resource.WithWarningHandler(context.Background(), func(x transport.Warning) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.list = append(w.list, x.Text)
	})
}

func TestValidationStrictRefusesBeforeSending(t *testing.T) {
	srv, c := setup(t, resource.WithValidation(resource.ValidationStrict))
	deps := c.Resource("apps/v1", "Deployment").Namespace("default")
	ctx := context.Background()

	_, err := deps.Create(ctx, obj(t, badDeployment), nil)
	require.ErrorIs(t, err, unstructured.ErrInvalidObject)
	var verr *unstructured.ValidationError
	require.ErrorAs(t, err, &verr)
	var fields []string
	for _, e := range verr.Errors {
		fields = append(fields, e.Field)
	}
	assert.ElementsMatch(t, []string{"spec.bogus", "spec.replicas", "spec.template.spec.containers[0].name"}, fields)
	assert.Contains(t, err.Error(), "create apps/v1 deployments default/bad: client-side validation:")
	assert.Empty(t, resourceRequests(srv, http.MethodPost, "/deployments"), "nothing was sent")

	// A call may switch it off; the server then answers for itself.
	_, err = deps.Create(ctx, obj(t, badDeployment), &resource.CreateOptions{Validation: resource.ValidationIgnore})
	require.Error(t, err)
	assert.NotErrorIs(t, err, unstructured.ErrInvalidObject)
	assert.Len(t, resourceRequests(srv, http.MethodPost, "/deployments"), 1)

	created, err := deps.Create(ctx, obj(t, goodDeployment), nil)
	require.NoError(t, err)

	// Update checks the whole object.
	upd, err := created.Set("spec.template.spec.containers.0.imagePullPolcy", "Never")
	require.NoError(t, err)
	_, err = deps.Update(ctx, upd, nil)
	require.ErrorIs(t, err, unstructured.ErrInvalidObject)
	assert.Contains(t, err.Error(), `spec.template.spec.containers[0].imagePullPolcy: unknown field`)

	// A merge patch is checked on its result (one GET of the object).
	_, err = deps.Patch(ctx, "good", resource.MergePatch, []byte(`{"spec":{"replicas":"3"}}`), nil)
	require.ErrorIs(t, err, unstructured.ErrInvalidObject)
	assert.Contains(t, err.Error(), "spec.replicas")
	_, err = deps.Patch(ctx, "good", resource.MergePatch, []byte(`{"spec":{"replicas":3}}`), nil)
	require.NoError(t, err)
	// So is a JSON patch.
	_, err = deps.Patch(ctx, "good", resource.JSONPatch, []byte(`[{"op":"add","path":"/spec/template/spec/containers/0/bogus","value":1}]`), nil)
	require.ErrorIs(t, err, unstructured.ErrInvalidObject)
	assert.Contains(t, err.Error(), `spec.template.spec.containers[0].bogus: unknown field`)
	_, err = deps.Patch(ctx, "good", resource.JSONPatch, []byte(`[{"op":"replace","path":"/spec/replicas","value":4}]`), nil)
	require.NoError(t, err)

	// An apply configuration needs no required fields, but unknown ones fail.
	applyCM := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"good"},"spec":{"replicas":2}}`
	_, err = deps.Apply(ctx, obj(t, applyCM), &resource.ApplyOptions{FieldManager: "me", Force: true})
	require.NoError(t, err)
	_, err = deps.Apply(ctx, obj(t, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"good"},"spec":{"replica":2}}`), &resource.ApplyOptions{FieldManager: "me"})
	require.ErrorIs(t, err, unstructured.ErrInvalidObject)
	assert.Contains(t, err.Error(), `spec.replica: unknown field "spec.replica"`)
}

func TestValidationWarnSendsAndWarns(t *testing.T) {
	srv, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	var w warningTexts
	_, err := cms.Create(w.ctx(), obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"},"extra":1}`),
		&resource.CreateOptions{Validation: resource.ValidationWarn, FieldValidation: resource.FieldValidationIgnore})
	require.NoError(t, err)
	assert.Contains(t, w.list, `client-side validation: extra: unknown field "extra"`)
	assert.Len(t, resourceRequests(srv, http.MethodPost, "/configmaps"), 1)
}

func TestWithValidationRefusesUnknownMode(t *testing.T) {
	_, err := resource.NewClient(&transport.Config{Host: "https://127.0.0.1:1"}, resource.WithValidation("Loose"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown mode "Loose"`)
}
