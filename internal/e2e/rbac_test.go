package e2e_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	clusterpkg "github.com/kubedyn/kubedyn/internal/cluster"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

// whoAmI asks the server who c authenticates as (a SelfSubjectReview) and
// returns the user name and groups.
func whoAmI(t testing.TB, ctx context.Context, c *resource.Client) (string, []string, error) {
	t.Helper()
	review, err := c.Resource("authentication.k8s.io/v1", "SelfSubjectReview").Create(ctx,
		obj(t, `{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`), nil)
	if err != nil {
		return "", nil, err
	}
	var groups []string
	for _, g := range review.Get("status.userInfo.groups").Array() {
		groups = append(groups, g.String())
	}
	return review.Get("status.userInfo.username").String(), groups, nil
}

// grant creates a ClusterRole with the given rules JSON and binds it to user,
// cluster-wide, deleting both when the test ends.
func grant(t testing.TB, user, rulesJSON string) {
	t.Helper()
	ctx := testContext(t)
	c := admin(t)
	name := uniqueName("e2e-grant")
	roles := c.Resource("rbac.authorization.k8s.io/v1", "ClusterRole")
	bindings := c.Resource("rbac.authorization.k8s.io/v1", "ClusterRoleBinding")
	_, err := roles.Create(ctx, obj(t, `{"metadata":{"name":"`+name+`"},"rules":`+rulesJSON+`}`), nil)
	require.NoError(t, err)
	_, err = bindings.Create(ctx, obj(t, `{"metadata":{"name":"`+name+`"},
		"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"`+name+`"},
		"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"`+user+`"}]}`), nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = bindings.Delete(ctx, name, nil)
		_, _ = roles.Delete(ctx, name, nil)
	})
}

func TestRBACForbidden(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	_, err := admin(t).Resource("v1", "ConfigMap").Namespace(ns).Create(ctx, obj(t, `{"metadata":{"name":"secret-ish"}}`), nil)
	require.NoError(t, err)

	nobody := newClient(t, "nobody")
	user, groups, err := whoAmI(t, ctx, nobody)
	require.NoError(t, err)
	assert.Equal(t, clusterpkg.NobodyUser, user)
	assert.Contains(t, groups, "system:authenticated")

	cms := nobody.Resource("v1", "ConfigMap").Namespace(ns)
	_, err = cms.Get(ctx, "secret-ish", nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, transport.ErrForbidden)
	var ae *transport.APIError
	require.True(t, errors.As(err, &ae))
	assert.Equal(t, 403, ae.StatusCode)
	assert.Contains(t, ae.Message, `User "nobody" cannot get resource "configmaps" in API group "" in the namespace "`+ns+`"`)
	require.NotNil(t, ae.Details)
	assert.Equal(t, "secret-ish", ae.Details.Name)
	assert.Equal(t, "configmaps", ae.Details.Kind)

	var listErrs int
	for _, err := range cms.List(ctx, nil) {
		assert.ErrorIs(t, err, transport.ErrForbidden)
		listErrs++
	}
	assert.Equal(t, 1, listErrs, "List yields the Forbidden error once and stops")
	_, err = cms.Create(ctx, obj(t, `{"metadata":{"name":"nope"}}`), nil)
	assert.ErrorIs(t, err, transport.ErrForbidden)
	_, err = cms.Delete(ctx, "secret-ish", nil)
	assert.ErrorIs(t, err, transport.ErrForbidden)

	// Discovery is open to every authenticated user, so the handle resolves.
	_, err = nobody.Resource("apps/v1", "Deployment").Resolve(ctx)
	assert.NoError(t, err)

	bad := config(t, "nobody")
	bad.BearerToken = "not-a-token"
	badClient, err := resource.NewClient(bad)
	require.NoError(t, err)
	_, err = badClient.Resource("v1", "ConfigMap").Namespace(ns).Get(ctx, "secret-ish", nil)
	assert.ErrorIs(t, err, transport.ErrUnauthorized)
}

func TestImpersonation(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	user := uniqueName("jane")
	_, err := admin(t).Resource("v1", "ConfigMap").Namespace(ns).Create(ctx, obj(t, `{"metadata":{"name":"shared"}}`), nil)
	require.NoError(t, err)

	// The impersonator may impersonate user and the group "e2e-readers"; only
	// that group may read ConfigMaps.
	grant(t, clusterpkg.ImpersonatorUser, `[
		{"apiGroups":[""],"resources":["users"],"verbs":["impersonate"],"resourceNames":["`+user+`"]},
		{"apiGroups":[""],"resources":["groups"],"verbs":["impersonate"],"resourceNames":["e2e-readers"]}]`)
	c := admin(t)
	readers := uniqueName("e2e-readers")
	_, err = c.Resource("rbac.authorization.k8s.io/v1", "ClusterRole").Create(ctx, obj(t, `{"metadata":{"name":"`+readers+`"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list"]}]}`), nil)
	require.NoError(t, err)
	_, err = c.Resource("rbac.authorization.k8s.io/v1", "RoleBinding").Namespace(ns).Create(ctx, obj(t, `{"metadata":{"name":"readers"},
		"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"`+readers+`"},
		"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"e2e-readers"}]}`), nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = c.Resource("rbac.authorization.k8s.io/v1", "ClusterRole").Delete(context.Background(), readers, nil)
	})

	impersonating := func(name string, groups ...string) *resource.Client {
		cfg := config(t, "impersonator")
		cfg.Impersonate = transport.Impersonation{UserName: name, Groups: groups}
		rc, err := resource.NewClient(cfg)
		require.NoError(t, err)
		return rc
	}

	// Without impersonation the impersonator cannot read.
	_, err = newClient(t, "impersonator").Resource("v1", "ConfigMap").Namespace(ns).Get(ctx, "shared", nil)
	assert.ErrorIs(t, err, transport.ErrForbidden)

	jane := impersonating(user, "e2e-readers")
	// RBAC changes reach the authorizer through an informer: wait for them.
	eventually(t, 30*time.Second, "the impersonation grant to take effect", func() bool {
		_, _, err := whoAmI(t, ctx, jane)
		return err == nil
	})
	name, groups, err := whoAmI(t, ctx, jane)
	require.NoError(t, err)
	assert.Equal(t, user, name)
	assert.Contains(t, groups, "e2e-readers")

	eventually(t, 30*time.Second, "the readers binding to take effect", func() bool {
		_, err := jane.Resource("v1", "ConfigMap").Namespace(ns).Get(ctx, "shared", nil)
		return err == nil
	})
	_, err = jane.Resource("v1", "ConfigMap").Namespace(ns).Create(ctx, obj(t, `{"metadata":{"name":"nope"}}`), nil)
	assert.ErrorIs(t, err, transport.ErrForbidden, "the impersonated user has only read rights")

	_, _, err = whoAmI(t, ctx, impersonating("someone-else"))
	require.Error(t, err)
	assert.ErrorIs(t, err, transport.ErrForbidden)
	assert.Contains(t, err.Error(), `cannot impersonate resource "users"`)

	_, _, err = whoAmI(t, ctx, impersonating(user, "system:masters"))
	assert.ErrorIs(t, err, transport.ErrForbidden, "impersonating a group not granted")
}
