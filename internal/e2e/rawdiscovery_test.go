package e2e_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests speak plain HTTP to the real server: they pin down the wire
// behaviour the client packages and internal/testserver rely on.

const aggregatedAccept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"

func TestRawLegacyDiscovery(t *testing.T) {
	t.Parallel()
	r := newRaw(t, cluster(t).AdminToken)

	resp, body := r.do(http.MethodGet, "/api/v1", nil, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var list struct {
		Kind         string `json:"kind"`
		GroupVersion string `json:"groupVersion"`
		Resources    []struct {
			Name       string   `json:"name"`
			Kind       string   `json:"kind"`
			Namespaced bool     `json:"namespaced"`
			Verbs      []string `json:"verbs"`
			ShortNames []string `json:"shortNames"`
		} `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(body, &list))
	assert.Equal(t, "APIResourceList", list.Kind)
	assert.Equal(t, "v1", list.GroupVersion)
	byName := map[string]int{}
	for i, res := range list.Resources {
		byName[res.Name] = i
	}
	require.Contains(t, byName, "pods")
	pods := list.Resources[byName["pods"]]
	assert.Equal(t, "Pod", pods.Kind)
	assert.True(t, pods.Namespaced)
	assert.Contains(t, pods.ShortNames, "po")
	assert.Subset(t, pods.Verbs, []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"})
	for _, sub := range []string{"pods/status", "pods/log", "pods/exec", "pods/binding"} {
		assert.Contains(t, byName, sub)
	}
	require.Contains(t, byName, "namespaces")
	assert.False(t, list.Resources[byName["namespaces"]].Namespaced)

	resp, body = r.do(http.MethodGet, "/apis/apps/v1", nil, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `"name":"deployments/scale"`)

	resp, _ = r.do(http.MethodGet, "/apis/no.such.group/v1", nil, "")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestRawAggregatedDiscoveryAndETag(t *testing.T) {
	t.Parallel()
	r := newRaw(t, cluster(t).AdminToken)
	for _, root := range []string{"/api", "/apis"} {
		t.Run(strings.TrimPrefix(root, "/"), func(t *testing.T) {
			h := http.Header{"Accept": {aggregatedAccept}}
			resp, body := r.do(http.MethodGet, root, h, "")
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			assert.Equal(t, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", resp.Header.Get("Content-Type"))
			etag := resp.Header.Get("ETag")
			require.NotEmpty(t, etag)
			assert.Contains(t, resp.Header.Values("Vary"), "Accept")

			var doc struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Items      []struct {
					Metadata struct {
						Name string `json:"name"`
					} `json:"metadata"`
					Versions []struct {
						Version   string `json:"version"`
						Resources []struct {
							Resource     string `json:"resource"`
							Scope        string `json:"scope"`
							ResponseKind struct {
								Kind string `json:"kind"`
							} `json:"responseKind"`
							Subresources []struct {
								Subresource string `json:"subresource"`
							} `json:"subresources"`
						} `json:"resources"`
					} `json:"versions"`
				} `json:"items"`
			}
			require.NoError(t, json.Unmarshal(body, &doc))
			assert.Equal(t, "apidiscovery.k8s.io/v2", doc.APIVersion)
			assert.Equal(t, "APIGroupDiscoveryList", doc.Kind)
			require.NotEmpty(t, doc.Items)
			names := make([]string, 0, len(doc.Items))
			for _, it := range doc.Items {
				names = append(names, it.Metadata.Name)
			}
			if root == "/api" {
				assert.Equal(t, []string{""}, names, "the core group has an empty name")
				var pods bool
				for _, res := range doc.Items[0].Versions[0].Resources {
					if res.Resource == "pods" {
						pods = true
						assert.Equal(t, "Namespaced", res.Scope)
						assert.Equal(t, "Pod", res.ResponseKind.Kind)
						subs := make([]string, 0, len(res.Subresources))
						for _, s := range res.Subresources {
							subs = append(subs, s.Subresource)
						}
						assert.Subset(t, subs, []string{"status", "log", "exec", "portforward", "eviction"})
					}
				}
				assert.True(t, pods)
			} else {
				assert.Subset(t, names, []string{"apps", "batch", "rbac.authorization.k8s.io", "apiextensions.k8s.io"})
				assert.False(t, slices.Contains(names, ""))
			}

			h.Set("If-None-Match", etag)
			resp, body = r.do(http.MethodGet, root, h, "")
			assert.Equal(t, http.StatusNotModified, resp.StatusCode)
			assert.Empty(t, body)
			assert.Equal(t, etag, resp.Header.Get("ETag"))

			h.Set("If-None-Match", `"stale"`)
			resp, _ = r.do(http.MethodGet, root, h, "")
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
}

func TestRawLegacyRootWithoutAggregatedAccept(t *testing.T) {
	t.Parallel()
	r := newRaw(t, cluster(t).AdminToken)
	resp, body := r.do(http.MethodGet, "/apis", http.Header{"Accept": {"application/json"}}, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var groups struct {
		Kind   string `json:"kind"`
		Groups []struct {
			Name             string `json:"name"`
			PreferredVersion struct {
				GroupVersion string `json:"groupVersion"`
			} `json:"preferredVersion"`
		} `json:"groups"`
	}
	require.NoError(t, json.Unmarshal(body, &groups))
	assert.Equal(t, "APIGroupList", groups.Kind)
	var apps bool
	for _, g := range groups.Groups {
		if g.Name == "apps" {
			apps = true
			assert.Equal(t, "apps/v1", g.PreferredVersion.GroupVersion)
		}
	}
	assert.True(t, apps)
}

func TestRawOpenAPIV3(t *testing.T) {
	t.Parallel()
	r := newRaw(t, cluster(t).AdminToken)
	resp, body := r.do(http.MethodGet, "/openapi/v3", nil, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var root struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(body, &root))
	require.Contains(t, root.Paths, "apis/apps/v1")
	u := root.Paths["apis/apps/v1"].ServerRelativeURL
	assert.True(t, strings.HasPrefix(u, "/openapi/v3/apis/apps/v1?hash="), u)

	resp, body = r.do(http.MethodGet, u, nil, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Cache-Control"), "immutable")
	assert.Contains(t, string(body), `"io.k8s.api.apps.v1.Deployment"`)
}

func TestRawAuthentication(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	tests := []struct {
		name  string
		token string
		path  string
		want  int
	}{
		{"admin lists namespaces", c.AdminToken, "/api/v1/namespaces", http.StatusOK},
		{"nobody is forbidden", c.NobodyToken, "/api/v1/namespaces", http.StatusForbidden},
		{"nobody may discover", c.NobodyToken, "/apis", http.StatusOK},
		{"a wrong token is unauthorized", "wrong", "/api/v1/namespaces", http.StatusUnauthorized},
		{"anonymous may read readyz", "", "/readyz", http.StatusOK},
		{"anonymous may not list", "", "/api/v1/namespaces", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := newRaw(t, tt.token).do(http.MethodGet, tt.path, nil, "")
			assert.Equal(t, tt.want, resp.StatusCode, string(body))
			if tt.want >= 400 {
				var st struct {
					Kind   string `json:"kind"`
					Reason string `json:"reason"`
					Code   int    `json:"code"`
				}
				require.NoError(t, json.Unmarshal(body, &st))
				assert.Equal(t, "Status", st.Kind)
				assert.Equal(t, tt.want, st.Code)
				assert.Equal(t, http.StatusText(tt.want), st.Reason)
			}
		})
	}
}
