package testserver

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPodSubresourcesInDiscovery(t *testing.T) {
	t.Parallel()
	c := setup(t)
	v1 := c.do("GET", "/api/v1", "")
	for _, sub := range []string{"pods/status", "pods/log", "pods/exec", "pods/attach", "pods/portforward", "pods/eviction", "pods/binding", "services/proxy", "namespaces/finalize"} {
		assert.NotNil(t, findByField(v1.get("resources"), "name", sub), sub)
	}
	ev := findByField(v1.get("resources"), "name", "pods/eviction")
	assert.Equal(t, "policy", ev["group"])
	agg := c.do("GET", "/api", "", "Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
	pods := findByField(agg.get("items.0.versions.0.resources"), "resource", "pods")
	require.NotNil(t, pods)
	exec := findByField(pods["subresources"], "subresource", "exec")
	require.NotNil(t, exec)
	assert.Equal(t, "PodExecOptions", path(exec, "responseKind.kind"))
}

func TestPodLog(t *testing.T) {
	t.Parallel()
	c := setup(t)
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/pods", `{"metadata":{"name":"two"},"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}}`).code)
	c.srv.SetPodLog("default", "two", "a", "one\ntwo\nthree\n")

	r := c.do("GET", "/api/v1/namespaces/default/pods/two/log?container=a", "")
	require.Equal(t, http.StatusOK, r.code)
	assert.Equal(t, "one\ntwo\nthree\n", string(r.raw))
	assert.Equal(t, "two\nthree\n", string(c.do("GET", "/api/v1/namespaces/default/pods/two/log?container=a&tailLines=2", "").raw))
	assert.Equal(t, "one", string(c.do("GET", "/api/v1/namespaces/default/pods/two/log?container=a&limitBytes=3", "").raw))

	noContainer := c.do("GET", "/api/v1/namespaces/default/pods/two/log", "")
	assert.Equal(t, http.StatusBadRequest, noContainer.code)
	assert.Equal(t, "a container name must be specified for pod two, choose one of: [a b]", noContainer.str("message"))
	assert.Equal(t, http.StatusBadRequest, c.do("GET", "/api/v1/namespaces/default/pods/two/log?container=zz", "").code)
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/api/v1/namespaces/default/pods/nope/log", "").code)
	assert.Equal(t, http.StatusMethodNotAllowed, c.do("GET", "/api/v1/namespaces/default/pods/two/binding", "").code)
	none := c.do("GET", "/api/v1/namespaces/default/pods/two/log?container=b", "")
	assert.Equal(t, http.StatusNoContent, none.code, "a container with no log, as a pod on no node")

	// follow streams what is appended and ends when the pod goes.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", c.srv.URL()+"/api/v1/namespaces/default/pods/two/log?container=a&follow=true", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.srv.Token())
	res, err := c.hc.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	buf := make([]byte, len("one\ntwo\nthree\n"))
	_, err = io.ReadFull(res.Body, buf)
	require.NoError(t, err)
	c.srv.SetPodLog("default", "two", "a", "one\ntwo\nthree\nfour\n")
	more := make([]byte, len("four\n"))
	_, err = io.ReadFull(res.Body, more)
	require.NoError(t, err)
	assert.Equal(t, "four\n", string(more))
	require.Equal(t, http.StatusOK, c.do("DELETE", "/api/v1/namespaces/default/pods/two", "").code)
	rest, err := io.ReadAll(res.Body)
	assert.NoError(t, err, "the stream ends cleanly when the pod is deleted")
	assert.Empty(t, rest)
}

func TestServiceAccountToken(t *testing.T) {
	t.Parallel()
	c := setup(t)
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/serviceaccounts", `{"metadata":{"name":"robot"}}`).code)
	r := c.do("POST", "/api/v1/namespaces/default/serviceaccounts/robot/token", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":1200}}`)
	require.Equal(t, http.StatusCreated, r.code, string(r.raw))
	assert.Equal(t, "TokenRequest", r.str("kind"))
	assert.NotEmpty(t, r.str("status.token"))
	assert.NotEmpty(t, r.str("status.expirationTimestamp"))
	assert.EqualValues(t, 1200, r.get("spec.expirationSeconds"))
	assert.Equal(t, http.StatusUnprocessableEntity, c.do("POST", "/api/v1/namespaces/default/serviceaccounts/robot/token", `{"spec":{"expirationSeconds":5}}`).code)
	assert.Equal(t, http.StatusNotFound, c.do("POST", "/api/v1/namespaces/default/serviceaccounts/nobody/token", `{}`).code)
}

func TestEviction(t *testing.T) {
	t.Parallel()
	c := setup(t)
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/pods", `{"metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"x"}]}}`).code)
	dry := c.do("POST", "/api/v1/namespaces/default/pods/p/eviction", `{"metadata":{"name":"p"},"deleteOptions":{"dryRun":["All"]}}`)
	require.Equal(t, http.StatusCreated, dry.code, string(dry.raw))
	assert.Equal(t, http.StatusOK, c.do("GET", "/api/v1/namespaces/default/pods/p", "").code, "a dry-run eviction keeps the pod")
	badDry := c.do("POST", "/api/v1/namespaces/default/pods/p/eviction", `{"metadata":{"name":"p"},"deleteOptions":{"dryRun":["Yes"]}}`)
	assert.Equal(t, http.StatusUnprocessableEntity, badDry.code, string(badDry.raw))
	stale := c.do("POST", "/api/v1/namespaces/default/pods/p/eviction", `{"metadata":{"name":"p"},"deleteOptions":{"preconditions":{"uid":"not-the-uid"}}}`)
	assert.Equal(t, http.StatusConflict, stale.code, string(stale.raw))
	r := c.do("POST", "/api/v1/namespaces/default/pods/p/eviction", `{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"p","namespace":"default"}}`)
	require.Equal(t, http.StatusCreated, r.code, string(r.raw))
	assert.Equal(t, "Success", r.str("status"))
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/api/v1/namespaces/default/pods/p", "").code)
	assert.Equal(t, http.StatusNotFound, c.do("POST", "/api/v1/namespaces/default/pods/p/eviction", `{"metadata":{"name":"p"}}`).code)
	exec := c.do("GET", "/api/v1/namespaces/default/pods/p/exec?command=ls", "")
	assert.Equal(t, http.StatusBadRequest, exec.code, "exec needs a WebSocket upgrade")
}
