package resource

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/transport"
)

func ptr[T any](v T) *T { return &v }

func TestListQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     *ListOptions
		cont     string
		defLimit int64
		want     url.Values
	}{
		{"nil options use the default page size", nil, "", DefaultPageSize, url.Values{"limit": {"500"}}},
		{"nil options and no default send nothing", nil, "", 0, url.Values{}},
		{"negative limit sends no limit", &ListOptions{Limit: -1}, "", DefaultPageSize, url.Values{}},
		{
			"every field on the first page",
			&ListOptions{LabelSelector: "app=web,tier!=db", FieldSelector: "metadata.name=x", Limit: 100,
				ResourceVersion: "42", ResourceVersionMatch: ResourceVersionMatchNotOlderThan, TimeoutSeconds: 30},
			"", DefaultPageSize,
			url.Values{"labelSelector": {"app=web,tier!=db"}, "fieldSelector": {"metadata.name=x"}, "limit": {"100"},
				"resourceVersion": {"42"}, "resourceVersionMatch": {"NotOlderThan"}, "timeoutSeconds": {"30"}},
		},
		{
			"continued pages drop resourceVersion and its match",
			&ListOptions{Limit: 10, ResourceVersion: "42", ResourceVersionMatch: ResourceVersionMatchExact},
			"tok", DefaultPageSize,
			url.Values{"limit": {"10"}, "continue": {"tok"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var before ListOptions
			if tt.opts != nil {
				before = *tt.opts
			}
			assert.Equal(t, tt.want, tt.opts.query(tt.cont, tt.defLimit))
			if tt.opts != nil {
				assert.Equal(t, before, *tt.opts, "options must not be modified")
			}
		})
	}
}

func TestWriteQueries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  url.Values
		want url.Values
	}{
		{"nil create, no default manager", (*CreateOptions)(nil).query(""), url.Values{}},
		{"nil create takes the client's manager", (*CreateOptions)(nil).query("me"), url.Values{"fieldManager": {"me"}}},
		{
			"create options",
			(&CreateOptions{DryRun: true, FieldManager: "op", FieldValidation: FieldValidationStrict}).query("me"),
			url.Values{"dryRun": {"All"}, "fieldManager": {"op"}, "fieldValidation": {"Strict"}},
		},
		{"update options", (&UpdateOptions{DryRun: true}).query("me"), url.Values{"dryRun": {"All"}, "fieldManager": {"me"}}},
		{"nil patch", (*PatchOptions)(nil).query(""), url.Values{}},
		{"patch force", (&PatchOptions{Force: true, FieldManager: "a"}).query(""), url.Values{"force": {"true"}, "fieldManager": {"a"}}},
		{"patch no force", (&PatchOptions{Force: false}).query(""), url.Values{}},
		{"apply force", (&ApplyOptions{Force: true, FieldManager: "a"}).query(""), url.Values{"force": {"true"}, "fieldManager": {"a"}}},
		{"get rv", (&GetOptions{ResourceVersion: "0"}).query(), url.Values{"resourceVersion": {"0"}}},
		{"nil get", (*GetOptions)(nil).query(), url.Values{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.got)
		})
	}
}

func TestDeleteOptionsRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      *DeleteOptions
		wantQuery url.Values
		wantBody  map[string]any // nil: no body
	}{
		{"nil sends no body", nil, url.Values{}, nil},
		{"empty sends no body", &DeleteOptions{}, url.Values{}, nil},
		{"empty preconditions send no body", &DeleteOptions{Preconditions: &Preconditions{}}, url.Values{}, nil},
		{
			"grace period zero is sent",
			&DeleteOptions{GracePeriodSeconds: ptr(int64(0))},
			url.Values{},
			map[string]any{"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": float64(0)},
		},
		{
			"everything",
			&DeleteOptions{PropagationPolicy: PropagationForeground, GracePeriodSeconds: ptr(int64(5)),
				Preconditions: &Preconditions{UID: "u1", ResourceVersion: "7"}, DryRun: true},
			url.Values{"dryRun": {"All"}},
			map[string]any{"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": float64(5),
				"propagationPolicy": "Foreground", "dryRun": []any{"All"},
				"preconditions": map[string]any{"uid": "u1", "resourceVersion": "7"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q, body, err := tt.opts.request()
			require.NoError(t, err)
			assert.Equal(t, tt.wantQuery, q)
			if tt.wantBody == nil {
				assert.Nil(t, body)
				return
			}
			var got map[string]any
			require.NoError(t, json.Unmarshal(body, &got))
			assert.Equal(t, tt.wantBody, got)
		})
	}
}

func TestPaths(t *testing.T) {
	t.Parallel()
	pods := discovery.APIResource{Version: "v1", Resource: "pods", Kind: "Pod", Namespaced: true}
	deploys := discovery.APIResource{Group: "apps", Version: "v1", Resource: "deployments", Kind: "Deployment", Namespaced: true}
	nss := discovery.APIResource{Version: "v1", Resource: "namespaces", Kind: "Namespace"}
	crds := discovery.APIResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	tests := []struct {
		name  string
		t     target
		obj   string
		wantC string
		wantO string
	}{
		{"core namespaced", target{r: pods, ns: "default"}, "web", "/api/v1/namespaces/default/pods", "/api/v1/namespaces/default/pods/web"},
		{"core all namespaces", target{r: pods}, "web", "/api/v1/pods", "/api/v1/pods/web"},
		{"group namespaced subresource", target{r: deploys, ns: "prod", sub: "scale"}, "web",
			"/apis/apps/v1/namespaces/prod/deployments", "/apis/apps/v1/namespaces/prod/deployments/web/scale"},
		{"core cluster-scoped", target{r: nss}, "kube-system", "/api/v1/namespaces", "/api/v1/namespaces/kube-system"},
		{"group cluster-scoped, dotted name", target{r: crds}, "widgets.example.com",
			"/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com"},
		{"escaping", target{r: pods, ns: "a b"}, "c?d", "/api/v1/namespaces/a%20b/pods", "/api/v1/namespaces/a%20b/pods/c%3Fd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.wantC, tt.t.collectionPath())
			assert.Equal(t, tt.wantO, tt.t.objectPath(tt.obj))
		})
	}
}

func TestErrorWrapping(t *testing.T) {
	t.Parallel()
	deploys := discovery.APIResource{Group: "apps", Version: "v1", Resource: "deployments", Kind: "Deployment", Namespaced: true}
	c := &Client{}
	h := c.Resource("apps/v1", "Deployment")
	tests := []struct {
		name string
		t    target
		op   string
		obj  string
		want string
	}{
		{"resolved object", target{h: h.Namespace("default"), r: deploys, resolved: true, ns: "default"}, "get", "web",
			"get apps/v1 deployments default/web: boom"},
		{"resolved status", target{h: h.Namespace("default"), r: deploys, resolved: true, ns: "default", sub: "status"}, "update status", "web",
			"update status apps/v1 deployments/status default/web: boom"},
		{"unresolved", target{h: h.Namespace("default")}, "get", "web", "get apps/v1 Deployment default/web: boom"},
		{"lookup all namespaces", target{h: c.ResourceFor("deploy").AllNamespaces()}, "list", "", "list deploy in all namespaces: boom"},
		{"collection in namespace", target{h: h.Namespace("x"), r: deploys, resolved: true, ns: "x"}, "list", "",
			"list apps/v1 deployments in namespace x: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cause := errors.New("boom")
			err := tt.t.wrap(tt.op, tt.obj, cause)
			assert.EqualError(t, err, tt.want)
			assert.ErrorIs(t, err, cause)
		})
	}
}

func TestHandleIsImmutable(t *testing.T) {
	t.Parallel()
	c := &Client{}
	base := c.Resource("v1", "Pod")
	inNS := base.Namespace("a")
	all := inNS.AllNamespaces()
	sub := inNS.Subresource("status")
	back := all.Namespace("b")

	assert.Equal(t, "v1 Pod", base.String())
	assert.Equal(t, "v1 Pod namespace=a", inNS.String())
	assert.Equal(t, "v1 Pod all-namespaces", all.String())
	assert.Equal(t, "v1 Pod subresource=status namespace=a", sub.String())
	assert.Equal(t, "v1 Pod namespace=b", back.String())
	assert.Equal(t, "deploy", c.ResourceFor("deploy").String())
}

func TestZeroHandle(t *testing.T) {
	t.Parallel()
	var h Handle
	_, err := h.Get(context.Background(), "x", nil)
	assert.ErrorIs(t, err, ErrInvalidHandle)
	_, err = h.Resolve(context.Background())
	assert.ErrorIs(t, err, ErrInvalidHandle)
	n := 0
	for _, err := range h.List(context.Background(), nil) {
		assert.ErrorIs(t, err, ErrInvalidHandle)
		n++
	}
	assert.Equal(t, 1, n, "List yields the failure once")
}

func TestApplyConflict(t *testing.T) {
	t.Parallel()
	ae := &transport.APIError{StatusCode: 409, Reason: "Conflict", Message: "Apply failed with 2 conflicts",
		Details: &transport.StatusDetails{Causes: []transport.StatusCause{
			{Type: "FieldManagerConflict", Message: `conflict with "kubectl-edit" using apps/v1: .spec.replicas`, Field: ".spec.replicas"},
			{Type: "FieldManagerConflict", Message: `conflict with "helm": .metadata.labels.app`, Field: ".metadata.labels.app"},
			{Type: "FieldValueInvalid", Message: "ignored", Field: ".x"},
		}}}
	err := applyConflict(ae)
	var ce *ApplyConflictError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, []FieldConflict{
		{Manager: "kubectl-edit", Field: ".spec.replicas", Message: `conflict with "kubectl-edit" using apps/v1: .spec.replicas`},
		{Manager: "helm", Field: ".metadata.labels.app", Message: `conflict with "helm": .metadata.labels.app`},
	}, ce.Conflicts)
	assert.Equal(t, `apply conflict: .spec.replicas owned by "kubectl-edit"; .metadata.labels.app owned by "helm"`, err.Error())
	assert.ErrorIs(t, err, transport.ErrConflict)
	var got *transport.APIError
	require.ErrorAs(t, err, &got)
	assert.Same(t, ae, got)

	for _, other := range []*transport.APIError{
		{StatusCode: 404, Reason: "NotFound", Message: "nope"},
		{StatusCode: 409, Reason: "Conflict", Message: "the object has been modified"},
		{StatusCode: 409, Reason: "Conflict", Message: "stale", Details: &transport.StatusDetails{Name: "x"}},
	} {
		assert.Same(t, error(other), applyConflict(other), "%s is no field-manager conflict", other.Message)
	}
}

func TestConflictManager(t *testing.T) {
	t.Parallel()
	for msg, want := range map[string]string{
		`conflict with "a b" using v1: .x`: "a b",
		`conflict with "m": .y`:            "m",
		`no manager here`:                  "",
		`conflict with "unterminated`:      "",
	} {
		assert.Equal(t, want, conflictManager(msg), msg)
	}
}

func TestPatchTypes(t *testing.T) {
	t.Parallel()
	for _, pt := range []PatchType{JSONPatch, MergePatch, StrategicMergePatch, ApplyPatch} {
		assert.True(t, pt.valid(), pt)
	}
	assert.False(t, PatchType("application/json").valid())
}

func TestNewClientOptions(t *testing.T) {
	t.Parallel()
	_, err := NewClient(nil)
	require.Error(t, err)
	_, err = NewClient(&transport.Config{Host: "https://127.0.0.1:1"}, WithFieldManager(""))
	require.Error(t, err)
	_, err = NewClient(&transport.Config{Host: "https://127.0.0.1:1"}, WithDiscovery(nil))
	require.Error(t, err)
	c, err := NewClient(&transport.Config{Host: "https://127.0.0.1:1"}, WithFieldManager("me"))
	require.NoError(t, err)
	assert.NotNil(t, c.Transport())
	assert.NotNil(t, c.Discovery())
	assert.Equal(t, "me", c.fieldManager)
	assert.Equal(t, "default", c.DefaultNamespace())
	c3, err := NewClient(&transport.Config{Host: "https://127.0.0.1:1", Namespace: "team-a"})
	require.NoError(t, err)
	assert.Equal(t, "team-a", c3.DefaultNamespace())

	shared := discovery.New(c.Transport(), nil)
	c2, err := NewClient(nil, WithTransport(c.Transport()), WithDiscovery(shared))
	require.NoError(t, err)
	assert.Same(t, shared, c2.Discovery())
	assert.Same(t, c.Transport(), c2.Transport())
}

func TestAllowSubVerb(t *testing.T) {
	t.Parallel()
	r := discovery.APIResource{Resource: "widgets"}
	tests := []struct {
		name  string
		verbs []string
		verb  string
		ok    bool
	}{
		{"listed verb", []string{"get", "patch", "update"}, verbPatch, true},
		{"unlisted verb", []string{"get", "patch", "update"}, verbDelete, false},
		{"create only", []string{"create"}, verbGet, false},
		{"delete when listed", []string{"get", "delete"}, verbDelete, true},
		{"no verbs known: get goes to the server", nil, verbGet, true},
		{"no verbs known: update goes to the server", nil, verbUpdate, true},
		{"no verbs known: delete is not sent", nil, verbDelete, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := allowSubVerb(r, discovery.Subresource{Name: "sub", Verbs: tt.verbs}, tt.verb)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, ErrSubresourceNotAllowed)
			assert.Contains(t, err.Error(), "widgets/sub")
		})
	}
}

func TestPageSizing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		limit int64
		bytes int
		want  int64
	}{
		{"an empty page: the default", 500, 0, DefaultPageSize},
		{"large objects: never below the default", 500, 500 * (40 << 10), DefaultPageSize},
		{"tiny objects: never above the maximum", 500, 500 * 100, ListMaxPageSize},
		{"2 kB objects fill the budget", 1000, 1000 * 2048, ListPageBytes / 2048},
		{"a body smaller than its limit counts a byte an item at least", 500, 10, ListMaxPageSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, listSizing.next(tt.limit, tt.bytes))
		})
	}
	assert.Equal(t, int64(ListAllPageBytes/2048), listAllSizing.next(1000, 1000*2048))
}
