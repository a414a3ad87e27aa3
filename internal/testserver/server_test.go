package testserver

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	c := setup(t)
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"no credentials", "", http.StatusUnauthorized},
		{"wrong token", "Bearer nope", http.StatusUnauthorized},
		{"basic auth", "Basic dXNlcjpwYXNz", http.StatusUnauthorized},
		{"right token", "Bearer " + c.srv.Token(), http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do("GET", "/api/v1/namespaces", "", "Authorization", tc.auth)
			assert.Equal(t, tc.want, r.code)
			if tc.want == http.StatusUnauthorized {
				assert.Equal(t, "Status", r.str("kind"))
				assert.Equal(t, "Unauthorized", r.str("reason"))
				assert.EqualValues(t, 401, r.get("code"))
			}
		})
	}
	r := c.do("GET", "/healthz", "", "Authorization", "")
	assert.Equal(t, http.StatusOK, r.code)
	assert.Equal(t, "ok", string(r.raw))
}

func TestCreateGetUpdateDelete(t *testing.T) {
	t.Parallel()
	c := setup(t)
	r := c.do("POST", "/api/v1/namespaces/default/pods", fmt.Sprintf(podJSON, "web"))
	require.Equal(t, http.StatusCreated, r.code, string(r.raw))
	assert.Equal(t, "default", r.str("metadata.namespace"))
	assert.NotEmpty(t, r.str("metadata.uid"))
	assert.NotEmpty(t, r.str("metadata.creationTimestamp"))
	rv := r.str("metadata.resourceVersion")
	assert.NotEmpty(t, rv)
	assert.Equal(t, "Pending", r.str("status.phase"))

	g := c.do("GET", "/api/v1/namespaces/default/pods/web", "")
	require.Equal(t, http.StatusOK, g.code)
	assert.Equal(t, "Pod", g.str("kind"))
	assert.Equal(t, "v1", g.str("apiVersion"))
	assert.Equal(t, rv, g.str("metadata.resourceVersion"))

	dup := c.do("POST", "/api/v1/namespaces/default/pods", fmt.Sprintf(podJSON, "web"))
	assert.Equal(t, http.StatusConflict, dup.code)
	assert.Equal(t, "AlreadyExists", dup.str("reason"))
	assert.Equal(t, `pods "web" already exists`, dup.str("message"))
	assert.Equal(t, "pods", dup.str("details.kind"))
	assert.Equal(t, "web", dup.str("details.name"))

	// Update with the current resourceVersion succeeds and bumps it.
	upd := fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","resourceVersion":%q,"labels":{"app":"api"}},"spec":{"containers":[{"name":"c","image":"nginx:1.28"}]}}`, rv)
	u := c.do("PUT", "/api/v1/namespaces/default/pods/web", upd)
	require.Equal(t, http.StatusOK, u.code, string(u.raw))
	assert.NotEqual(t, rv, u.str("metadata.resourceVersion"))
	assert.Equal(t, "api", u.str("metadata.labels.app"))
	assert.Equal(t, g.str("metadata.uid"), u.str("metadata.uid"))
	assert.Equal(t, "Pending", u.str("status.phase"), "status is kept by main-resource updates")

	// The same stale update now conflicts.
	stale := c.do("PUT", "/api/v1/namespaces/default/pods/web", upd)
	assert.Equal(t, http.StatusConflict, stale.code)
	assert.Equal(t, "Conflict", stale.str("reason"))
	assert.Contains(t, stale.str("message"), "the object has been modified")

	d := c.do("DELETE", "/api/v1/namespaces/default/pods/web", "")
	require.Equal(t, http.StatusOK, d.code)
	assert.Equal(t, "Pod", d.str("kind"))
	nf := c.do("GET", "/api/v1/namespaces/default/pods/web", "")
	assert.Equal(t, http.StatusNotFound, nf.code)
	assert.Equal(t, `pods "web" not found`, nf.str("message"))
	assert.Equal(t, "NotFound", nf.str("reason"))

	// A configmap's delete answers a Status.
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"cm"},"data":{"a":"b"}}`).code)
	dc := c.do("DELETE", "/api/v1/namespaces/default/configmaps/cm", `{"propagationPolicy":"Background"}`)
	require.Equal(t, http.StatusOK, dc.code)
	assert.Equal(t, "Status", dc.str("kind"))
	assert.Equal(t, "Success", dc.str("status"))
	assert.Equal(t, "cm", dc.str("details.name"))
}

func TestCreateErrors(t *testing.T) {
	t.Parallel()
	c := setup(t)
	for _, tc := range []struct {
		name, path, body string
		code             int
		reason, message  string
	}{
		{"missing namespace", "/api/v1/namespaces/nope/configmaps", `{"metadata":{"name":"a"}}`, 404, "NotFound", `namespaces "nope" not found`},
		{"bad name", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"Bad_Name"}}`, 422, "Invalid", `ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain`},
		{"no name", "/api/v1/namespaces/default/configmaps", `{"metadata":{}}`, 422, "Invalid", `metadata.name: Required value: name or generateName is required`},
		{"namespace mismatch", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"a","namespace":"kube-system"}}`, 400, "BadRequest", "does not match the namespace"},
		{"wrong kind", "/api/v1/namespaces/default/configmaps", `{"kind":"Secret","metadata":{"name":"a"}}`, 400, "BadRequest", "kind"},
		{"not json", "/api/v1/namespaces/default/configmaps", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":`, 400, "BadRequest", `the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: unexpected end of JSON input ({"apiVersion":"v1","kind":"Con ...)`},
		{"resourceVersion set", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"a","resourceVersion":"5"}}`, 400, "BadRequest", "resourceVersion should not be set"},
		{"pod without containers", "/api/v1/namespaces/default/pods", `{"metadata":{"name":"a"},"spec":{}}`, 422, "Invalid", "spec.containers: Required value"},
		{"bad label", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"a","labels":{"k":"bad value"}}}`, 422, "Invalid", "metadata.labels: Invalid value"},
		{"unknown resource", "/api/v1/namespaces/default/widgets", `{}`, 404, "NotFound", "the server could not find the requested resource"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := c.do("POST", tc.path, tc.body)
			assert.Equal(t, tc.code, r.code, string(r.raw))
			assert.Equal(t, "Status", r.str("kind"))
			assert.Equal(t, "v1", r.str("apiVersion"))
			assert.Equal(t, "Failure", r.str("status"))
			assert.Equal(t, tc.reason, r.str("reason"))
			assert.Contains(t, r.str("message"), tc.message)
			assert.EqualValues(t, tc.code, r.get("code"))
		})
	}
	r := c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"Bad_Name"}}`)
	assert.Equal(t, "FieldValueInvalid", r.str("details.causes.0.reason"))
	assert.Equal(t, "metadata.name", r.str("details.causes.0.field"))
	assert.Equal(t, "ConfigMap", r.str("details.kind"))
}

func TestBodyMediaTypes(t *testing.T) {
	t.Parallel()
	c := setup(t)
	y := c.do("POST", "/api/v1/namespaces/default/configmaps", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  big: \"9007199254740993\"\n", "Content-Type", "application/yaml")
	require.Equal(t, http.StatusCreated, y.code, string(y.raw))
	assert.Equal(t, "9007199254740993", y.str("data.big"))
	bad := c.do("POST", "/api/v1/namespaces/default/configmaps", "name=x", "Content-Type", "text/plain")
	assert.Equal(t, http.StatusUnsupportedMediaType, bad.code)
	assert.Equal(t, "UnsupportedMediaType", bad.str("reason"))
}

func TestGenerateName(t *testing.T) {
	t.Parallel()
	c := setup(t)
	seen := map[string]bool{}
	for range 3 {
		r := c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"generateName":"cm-"}}`)
		require.Equal(t, http.StatusCreated, r.code, string(r.raw))
		name := r.str("metadata.name")
		assert.Regexp(t, `^cm-[a-z0-9]{5}$`, name)
		assert.False(t, seen[name])
		seen[name] = true
	}
}

func TestRoutingErrors(t *testing.T) {
	t.Parallel()
	c := setup(t)
	for _, tc := range []struct {
		name, method, path string
		code               int
		contentType        string
	}{
		{"create on the all-namespaces path", "POST", "/api/v1/configmaps", 405, "application/json"},
		{"deletecollection of namespaces", "DELETE", "/api/v1/namespaces", 405, "application/json"},
		{"unknown resource", "GET", "/api/v1/namespaces/default/nosuchthings", 404, "application/json"},
		{"unserved group", "GET", "/apis/no.such.group/v1/things", 404, "text/plain; charset=utf-8"},
		{"unserved version", "GET", "/apis/apps/v9/deployments", 404, "text/plain; charset=utf-8"},
		{"namespaced resource by name without namespace", "GET", "/api/v1/pods/x", 404, "application/json"},
		{"unknown subresource", "GET", "/api/v1/namespaces/default/configmaps/x/nope", 404, "application/json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := c.do(tc.method, tc.path, "")
			assert.Equal(t, tc.code, r.code, string(r.raw))
			assert.Equal(t, tc.contentType, r.header.Get("Content-Type"))
			assert.Equal(t, "no-cache, private", r.header.Get("Cache-Control"))
		})
	}
}

func TestTokensAndClientCertificates(t *testing.T) {
	t.Parallel()
	c := setup(t)
	c.srv.AddToken("rotated")
	assert.Equal(t, http.StatusOK, c.do("GET", "/api/v1/namespaces", "", "Authorization", "Bearer rotated").code)
	c.srv.RevokeToken(c.srv.Token())
	assert.Equal(t, http.StatusUnauthorized, c.do("GET", "/api/v1/namespaces", "").code, "a revoked token is refused")
	assert.Equal(t, http.StatusOK, c.do("GET", "/api/v1/namespaces", "", "Authorization", "Bearer rotated").code)

	certPEM, keyPEM, err := c.srv.ClientCertificate("admin")
	require.NoError(t, err)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(c.srv.CAPEM()))
	get := func(certs []tls.Certificate) int {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs}}
		defer tr.CloseIdleConnections()
		res, err := (&http.Client{Transport: tr}).Get(c.srv.URL() + "/api/v1/namespaces")
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	assert.Equal(t, http.StatusOK, get([]tls.Certificate{cert}), "a certificate from the server's CA authenticates")
	other, err := Start()
	require.NoError(t, err)
	defer other.Close()
	foreignPEM, foreignKey, err := other.ClientCertificate("admin")
	require.NoError(t, err)
	foreign, err := tls.X509KeyPair(foreignPEM, foreignKey)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, get([]tls.Certificate{foreign}), "another CA's certificate gets 401")
	assert.Equal(t, http.StatusUnauthorized, get(nil))
}

func TestHTTP2(t *testing.T) {
	t.Parallel()
	srv := NewWithOptions(t, &Options{HTTP2: true})
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(srv.CAPEM()))
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequest("GET", srv.URL()+"/api/v1/namespaces", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.Token())
	res, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, 2, res.ProtoMajor)
	assert.Equal(t, "HTTP/2.0", srv.Requests()[0].Proto)

	srv.Inject(Fault{Drop: true, Times: 1})
	req2, err := http.NewRequest("GET", srv.URL()+"/api/v1/namespaces", nil)
	require.NoError(t, err)
	_, err = (&http.Client{Transport: tr}).Do(req2)
	assert.Error(t, err, "a drop resets the stream")
}

func TestNegotiation(t *testing.T) {
	t.Parallel()
	c := setup(t)
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"a","labels":{"x":"1"}},"data":{"k":"v"}}`).code)
	one := c.do("GET", "/api/v1/namespaces/default/configmaps/a", "", "Accept", "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json")
	assert.Equal(t, "PartialObjectMetadata", one.str("kind"))
	assert.Equal(t, "meta.k8s.io/v1", one.str("apiVersion"))
	assert.Equal(t, "1", one.str("metadata.labels.x"))
	assert.Nil(t, one.get("data"))
	list := c.do("GET", "/api/v1/namespaces/default/configmaps", "", "Accept", "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1")
	assert.Equal(t, "PartialObjectMetadataList", list.str("kind"))
	assert.Equal(t, "PartialObjectMetadata", list.str("items.0.kind"))
	assert.Equal(t, "a", list.str("items.0.metadata.name"))
	assert.NotEmpty(t, list.str("metadata.resourceVersion"))

	assert.Equal(t, http.StatusNotAcceptable, c.do("GET", "/api/v1/namespaces/default/configmaps/a", "", "Accept", "application/vnd.kubernetes.protobuf").code, "no protobuf")
	assert.Equal(t, http.StatusOK, c.do("GET", "/api/v1/namespaces/default/configmaps/a", "", "Accept", "application/vnd.kubernetes.protobuf, application/json").code)
	assert.Equal(t, http.StatusOK, c.do("GET", "/api/v1/namespaces/default/configmaps/a", "", "Accept", "*/*").code)
}
