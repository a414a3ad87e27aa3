package e2e_test

import (
	"encoding/base64"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/transport"
)

// TestServiceAccountTokenAuthenticates requests a token for a service
// account (the serviceaccounts/token subresource, signed with the cluster's
// service-account key) and authenticates with it.
func TestServiceAccountTokenAuthenticates(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	c := admin(t)
	_, err := c.Resource("v1", "ServiceAccount").Namespace(ns).Create(ctx, obj(t, `{"metadata":{"name":"robot"}}`), nil)
	require.NoError(t, err)

	req := obj(t, `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","metadata":{"name":"robot"},"spec":{"expirationSeconds":600}}`)
	tr, err := c.Resource("v1", "ServiceAccount").Namespace(ns).Subresource("token").Create(ctx, req, nil)
	require.NoError(t, err)
	token := tr.Get("status.token").String()
	require.NotEmpty(t, token)
	assert.NotEmpty(t, tr.Get("status.expirationTimestamp").String())

	cfg := config(t, "nobody")
	cfg.BearerToken = token
	robot := newClientFromConfig(t, cfg)
	user, groups, err := whoAmI(t, ctx, robot)
	require.NoError(t, err)
	assert.Equal(t, "system:serviceaccount:"+ns+":robot", user)
	assert.Contains(t, groups, "system:serviceaccounts:"+ns)

	_, err = robot.Resource("v1", "Secret").Namespace(ns).ListPage(ctx, nil)
	assert.ErrorIs(t, err, transport.ErrForbidden, "a service account has no rights by default")
}

func TestSecretsAndServices(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	c := admin(t)

	secret, err := c.Resource("v1", "Secret").Namespace(ns).Create(ctx,
		obj(t, `{"metadata":{"name":"s"},"stringData":{"password":"hunter2"}}`), nil)
	require.NoError(t, err)
	assert.False(t, secret.Get("stringData").Exists(), "stringData is folded into data")
	raw, err := base64.StdEncoding.DecodeString(secret.Get("data.password").String())
	require.NoError(t, err)
	assert.Equal(t, "hunter2", string(raw))
	assert.Equal(t, "Opaque", secret.Get("type").String())

	svc, err := c.Resource("v1", "Service").Namespace(ns).Create(ctx,
		obj(t, `{"metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"port":80,"targetPort":8080}]}}`), nil)
	require.NoError(t, err)
	ip, err := netip.ParseAddr(svc.Get("spec.clusterIP").String())
	require.NoError(t, err, "a cluster IP is allocated")
	assert.True(t, netip.MustParsePrefix("10.0.0.0/24").Contains(ip), ip.String())
	assert.Equal(t, "ClusterIP", svc.Get("spec.type").String())
	assert.Equal(t, "TCP", svc.Get("spec.ports.0.protocol").String())

	_, err = c.Resource("v1", "Service").Namespace(ns).Create(ctx,
		obj(t, `{"metadata":{"name":"clash"},"spec":{"clusterIP":"`+ip.String()+`","ports":[{"port":80}]}}`), nil)
	assert.ErrorIs(t, err, transport.ErrInvalid, "an allocated cluster IP cannot be taken twice")
}
