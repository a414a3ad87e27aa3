package e2e_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

func TestFinalizersHoldADeletedObject(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	cms := admin(t).Resource("v1", "ConfigMap").Namespace(ns)
	_, err := cms.Create(ctx, obj(t, `{"metadata":{"name":"held","finalizers":["e2e.example.com/hold"]}}`), nil)
	require.NoError(t, err)

	_, err = cms.Delete(ctx, "held", nil)
	require.NoError(t, err)
	held, err := cms.Get(ctx, "held", nil)
	require.NoError(t, err, "a finalizer keeps the object")
	_, deleting := held.DeletionTimestamp()
	assert.True(t, deleting)
	assert.Equal(t, []string{"e2e.example.com/hold"}, held.Finalizers())

	_, err = cms.Patch(ctx, "held", resource.JSONPatch, []byte(`[{"op":"remove","path":"/metadata/finalizers"}]`), nil)
	require.NoError(t, err)
	_, err = cms.Get(ctx, "held", nil)
	assert.ErrorIs(t, err, transport.ErrNotFound, "removing the last finalizer completes the delete")
}

func TestDeletePreconditionsAndPropagation(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	c := admin(t)
	cms := c.Resource("v1", "ConfigMap").Namespace(ns)
	created, err := cms.Create(ctx, obj(t, `{"metadata":{"name":"pre"}}`), nil)
	require.NoError(t, err)

	_, err = cms.Delete(ctx, "pre", &resource.DeleteOptions{Preconditions: &resource.Preconditions{UID: "not-the-uid"}})
	assert.ErrorIs(t, err, transport.ErrConflict)
	_, err = cms.Delete(ctx, "pre", &resource.DeleteOptions{Preconditions: &resource.Preconditions{ResourceVersion: "1"}})
	assert.ErrorIs(t, err, transport.ErrConflict)
	_, err = cms.Delete(ctx, "pre", &resource.DeleteOptions{Preconditions: &resource.Preconditions{UID: created.UID(), ResourceVersion: created.ResourceVersion()}})
	require.NoError(t, err)

	// Foreground deletion waits for dependents through a finalizer that only
	// the garbage collector removes; none runs here, so the object stays.
	deploys := c.Resource("apps/v1", "Deployment").Namespace(ns)
	_, err = deploys.Create(ctx, deployment(t, "fg"), nil)
	require.NoError(t, err)
	_, err = deploys.Delete(ctx, "fg", &resource.DeleteOptions{PropagationPolicy: resource.PropagationForeground})
	require.NoError(t, err)
	fg, err := deploys.Get(ctx, "fg", nil)
	require.NoError(t, err)
	assert.Contains(t, fg.Finalizers(), "foregroundDeletion")
	_, err = deploys.Patch(ctx, "fg", resource.MergePatch, []byte(`{"metadata":{"finalizers":null}}`), nil)
	require.NoError(t, err)
	_, err = deploys.Get(ctx, "fg", nil)
	assert.ErrorIs(t, err, transport.ErrNotFound)
}

func TestGenerateNameAndEviction(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	c := admin(t)
	pods := c.Resource("v1", "Pod").Namespace(ns)
	created, err := pods.Create(ctx, obj(t, `{"metadata":{"generateName":"gen-"},"spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}`), nil)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(created.Name(), "gen-"), created.Name())
	assert.Greater(t, len(created.Name()), len("gen-"))

	eviction := obj(t, `{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"`+created.Name()+`"}}`)
	_, err = pods.Subresource("eviction").Create(ctx, eviction, nil)
	require.NoError(t, err)
	_, err = pods.Get(ctx, created.Name(), nil)
	assert.ErrorIs(t, err, transport.ErrNotFound, "an unscheduled pod is deleted at once by its eviction")
}

func TestWarningsReachTheHandler(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	var mu sync.Mutex
	var warnings []transport.Warning
	cfg := config(t, "admin")
	cfg.WarningHandler = func(w transport.Warning) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, w)
	}
	c, err := resource.NewClient(cfg)
	require.NoError(t, err)
	cms := c.Resource("v1", "ConfigMap").Namespace(ns)

	// fieldValidation defaults to Warn: the object is stored, the unknown
	// field dropped, and the server says so in a Warning header.
	created, err := cms.Create(ctx, obj(t, `{"metadata":{"name":"warned"},"data":{"k":"v"},"bogus":true}`), nil)
	require.NoError(t, err)
	assert.False(t, created.Get("bogus").Exists())
	mu.Lock()
	got := append([]transport.Warning(nil), warnings...)
	mu.Unlock()
	require.Len(t, got, 1)
	assert.Equal(t, 299, got[0].Code)
	assert.Equal(t, `unknown field "bogus"`, got[0].Text)

	_, err = cms.Create(ctx, obj(t, `{"metadata":{"name":"ignored"},"bogus":true}`), &resource.CreateOptions{FieldValidation: resource.FieldValidationIgnore})
	require.NoError(t, err)
	mu.Lock()
	assert.Len(t, warnings, 1, "Ignore sends no warning")
	mu.Unlock()
}
