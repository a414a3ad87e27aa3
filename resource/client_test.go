package resource_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// setup starts a test server and returns a client for it.
func setup(t *testing.T, opts ...resource.Option) (*testserver.Server, *resource.Client) {
	t.Helper()
	srv := testserver.New(t)
	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()}
	c, err := resource.NewClient(cfg, opts...)
	require.NoError(t, err)
	return srv, c
}

// obj parses a JSON object or fails the test.
func obj(t *testing.T, s string) unstructured.Object {
	t.Helper()
	o, err := unstructured.ParseString(s)
	require.NoError(t, err)
	return o
}

func configMap(t *testing.T, name string, data map[string]string) unstructured.Object {
	t.Helper()
	b := unstructured.New("v1", "ConfigMap").Builder()
	b.Set("metadata.name", name)
	for k, v := range data {
		b.Set(unstructured.Path("data", k), v)
	}
	o, err := b.Object()
	require.NoError(t, err)
	return o
}

// resourceRequests returns the recorded requests whose path contains part,
// leaving out discovery.
func resourceRequests(srv *testserver.Server, method, part string) []testserver.RecordedRequest {
	var out []testserver.RecordedRequest
	for _, r := range srv.Requests() {
		if (method == "" || r.Method == method) && strings.Contains(r.Path, part) {
			out = append(out, r)
		}
	}
	return out
}

// createNamespace makes a namespace for one test.
func createNamespace(t *testing.T, c *resource.Client, name string) {
	t.Helper()
	_, err := c.Resource("v1", "Namespace").Create(context.Background(), obj(t, `{"metadata":{"name":"`+name+`"}}`), nil)
	require.NoError(t, err)
}

func TestCreateGetListDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")

	created, err := cms.Create(ctx, configMap(t, "web", map[string]string{"k": "v"}), nil)
	require.NoError(t, err)
	assert.Equal(t, "default", created.Namespace(), "the handle's namespace is filled in")
	assert.NotEmpty(t, created.UID())
	assert.NotEmpty(t, created.ResourceVersion())

	got, err := cms.Get(ctx, "web", nil)
	require.NoError(t, err)
	assert.Equal(t, "v", got.Get("data.k").String())
	assert.Equal(t, created.UID(), got.UID())

	var names []string
	for o, err := range cms.List(ctx, nil) {
		require.NoError(t, err)
		names = append(names, o.Name())
	}
	assert.Contains(t, names, "web")

	_, err = cms.Create(ctx, configMap(t, "web", nil), nil)
	require.ErrorIs(t, err, transport.ErrAlreadyExists)
	assert.Contains(t, err.Error(), "create v1 configmaps default/web: ")

	_, err = cms.Delete(ctx, "web", nil)
	require.NoError(t, err)
	_, err = cms.Get(ctx, "web", nil)
	require.ErrorIs(t, err, transport.ErrNotFound)
	assert.Contains(t, err.Error(), "get v1 configmaps default/web: ")
	_, err = cms.Delete(ctx, "web", nil)
	assert.ErrorIs(t, err, transport.ErrNotFound)
}

func TestResourceForNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := setup(t)
	_, err := c.Resource("apps/v1", "Deployment").Namespace("default").Create(ctx, obj(t, deployment("web", 1)), nil)
	require.NoError(t, err)
	for _, name := range []string{"deployments", "deployment", "deploy", "deployments.apps", "Deployment"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := c.ResourceFor(name).Namespace("default")
			r, err := h.Resolve(ctx)
			require.NoError(t, err)
			assert.Equal(t, "apps", r.Group)
			assert.Equal(t, "deployments", r.Resource)
			got, err := h.Get(ctx, "web", nil)
			require.NoError(t, err)
			assert.Equal(t, "Deployment", got.Kind())
		})
	}
}

func deployment(name string, replicas int) string {
	return fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":%q,"labels":{"app":%q}},
"spec":{"replicas":%d,"selector":{"matchLabels":{"app":%q}},
"template":{"metadata":{"labels":{"app":%q}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}`,
		name, name, replicas, name, name)
}

func TestHostileNamesRefusedBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, bad := range []string{".", "..", "a/b", "a%2Fb", "%", "../../secrets"} {
		t.Run(bad, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t)
			cms := c.Resource("v1", "ConfigMap").Namespace("default")
			inBadNS := c.Resource("v1", "ConfigMap").Namespace(bad)
			deploys := c.Resource("apps/v1", "Deployment").Namespace("default")
			apply := &resource.ApplyOptions{FieldManager: "t"}
			first := func(seq func(func(unstructured.Object, error) bool)) error {
				for _, err := range seq {
					return err
				}
				return nil
			}
			// Every call, with the hostile value as the name, the handle's
			// namespace, the object's namespace or the subresource.
			calls := map[string]func() error{
				"get":    func() error { _, err := cms.Get(ctx, bad, nil); return err },
				"delete": func() error { _, err := cms.Delete(ctx, bad, nil); return err },
				"patch":  func() error { _, err := cms.Patch(ctx, bad, resource.MergePatch, []byte(`{}`), nil); return err },
				"create": func() error { _, err := cms.Create(ctx, configMap(t, bad, nil), nil); return err },
				"update": func() error { _, err := cms.Update(ctx, configMap(t, bad, nil), nil); return err },
				"apply":  func() error { _, err := cms.Apply(ctx, configMap(t, bad, nil), apply); return err },
				"patch apply": func() error {
					_, err := cms.Patch(ctx, bad, resource.ApplyPatch, []byte(`{}`), &resource.PatchOptions{FieldManager: "t"})
					return err
				},
				"updateStatus": func() error { _, err := deploys.UpdateStatus(ctx, obj(t, deployment(bad, 1)), nil); return err },
				"create on a subresource": func() error {
					_, err := c.Resource("v1", "Pod").Namespace("default").Subresource("eviction").Create(ctx, configMap(t, bad, nil), nil)
					return err
				},

				"get in bad namespace":    func() error { _, err := inBadNS.Get(ctx, "ok", nil); return err },
				"delete in bad namespace": func() error { _, err := inBadNS.Delete(ctx, "ok", nil); return err },
				"patch in bad namespace": func() error {
					_, err := inBadNS.Patch(ctx, "ok", resource.MergePatch, []byte(`{}`), nil)
					return err
				},
				"create in bad namespace": func() error { _, err := inBadNS.Create(ctx, configMap(t, "ok", nil), nil); return err },
				"update in bad namespace": func() error { _, err := inBadNS.Update(ctx, configMap(t, "ok", nil), nil); return err },
				"apply in bad namespace":  func() error { _, err := inBadNS.Apply(ctx, configMap(t, "ok", nil), apply); return err },
				"updateStatus in bad namespace": func() error {
					_, err := c.Resource("apps/v1", "Deployment").Namespace(bad).UpdateStatus(ctx, obj(t, deployment("ok", 1)), nil)
					return err
				},
				"list in bad namespace":      func() error { return first(inBadNS.List(ctx, nil)) },
				"list page in bad namespace": func() error { _, err := inBadNS.ListPage(ctx, nil); return err },
				"list all in bad namespace":  func() error { _, _, err := inBadNS.ListAll(ctx, nil); return err },
				"table in bad namespace":     func() error { _, err := inBadNS.Table(ctx, nil); return err },
				"delete collection in bad namespace": func() error {
					return inBadNS.DeleteCollection(ctx, nil, nil)
				},

				"create with bad metadata.namespace": func() error {
					o, err := configMap(t, "ok", nil).Set("metadata.namespace", bad)
					require.NoError(t, err)
					_, err = cms.Create(ctx, o, nil)
					return err
				},
				"update with bad metadata.namespace": func() error {
					o, err := configMap(t, "ok", nil).Set("metadata.namespace", bad)
					require.NoError(t, err)
					_, err = cms.Update(ctx, o, nil)
					return err
				},
				"apply with bad metadata.namespace": func() error {
					o, err := configMap(t, "ok", nil).Set("metadata.namespace", bad)
					require.NoError(t, err)
					_, err = cms.Apply(ctx, o, apply)
					return err
				},

				"get on bad subresource": func() error { _, err := cms.Subresource(bad).Get(ctx, "ok", nil); return err },
				"update on bad subresource": func() error {
					_, err := cms.Subresource(bad).Update(ctx, configMap(t, "ok", nil), nil)
					return err
				},
				"patch on bad subresource": func() error {
					_, err := cms.Subresource(bad).Patch(ctx, "ok", resource.MergePatch, []byte(`{}`), nil)
					return err
				},
			}
			for what, call := range calls {
				err := call()
				assert.ErrorIs(t, err, transport.ErrInvalidName, what)
			}
			assert.Empty(t, srv.Requests(), "no request, not even discovery, may be sent for a hostile name")
		})
	}
}

func TestNamespaceRequired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	cms := c.Resource("v1", "ConfigMap") // no namespace
	cm := configMap(t, "x", nil)
	calls := map[string]func() error{
		"get":    func() error { _, err := cms.Get(ctx, "x", nil); return err },
		"create": func() error { _, err := cms.Create(ctx, cm, nil); return err },
		"update": func() error { _, err := cms.Update(ctx, cm, nil); return err },
		"status": func() error { _, err := c.Resource("v1", "Pod").UpdateStatus(ctx, cm, nil); return err },
		"patch": func() error {
			_, err := cms.Patch(ctx, "x", resource.MergePatch, []byte(`{}`), nil)
			return err
		},
		"apply": func() error {
			_, err := cms.Apply(ctx, cm, &resource.ApplyOptions{FieldManager: "t"})
			return err
		},
		"delete":            func() error { _, err := cms.Delete(ctx, "x", nil); return err },
		"delete collection": func() error { return cms.DeleteCollection(ctx, nil, nil) },
		"delete collection in all namespaces": func() error {
			return cms.AllNamespaces().DeleteCollection(ctx, nil, nil)
		},
		"get with AllNamespaces": func() error { _, err := cms.AllNamespaces().Get(ctx, "x", nil); return err },
		"list": func() error {
			for _, err := range cms.List(ctx, nil) {
				return err
			}
			return nil
		},
		"list page": func() error { _, err := cms.ListPage(ctx, nil); return err },
		"list all":  func() error { _, _, err := cms.ListAll(ctx, nil); return err },
		"table":     func() error { _, err := cms.Table(ctx, nil); return err },
	}
	for what, call := range calls {
		err := call()
		assert.ErrorIs(t, err, resource.ErrNamespaceRequired, what)
	}
	assert.Empty(t, resourceRequests(srv, "", "/configmaps"), "nothing may reach the cluster-wide URL")
	assert.Empty(t, resourceRequests(srv, "", "/pods"), "nothing may reach the cluster-wide URL")

	// Listing across namespaces works when asked for.
	_, err := cms.Namespace("default").Create(ctx, cm, nil)
	require.NoError(t, err)
	n := 0
	for _, err := range cms.AllNamespaces().List(ctx, nil) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 1, n, "the one ConfigMap created is listed")
	assert.Len(t, resourceRequests(srv, "GET", "/api/v1/configmaps"), 1)
}

func TestClusterScoped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	nss := c.Resource("v1", "Namespace")

	_, err := nss.Namespace("default").Get(ctx, "default", nil)
	require.ErrorIs(t, err, resource.ErrClusterScoped)
	assert.Contains(t, err.Error(), "Namespace")

	// A namespace in a cluster-scoped object is dropped (TestClusterScopedObjectNamespaceDropped).
	_, err = nss.Create(ctx, obj(t, `{"metadata":{"name":"x","namespace":"default"}}`), nil)
	require.NoError(t, err)
	assert.Empty(t, resourceRequests(srv, "", "/namespaces/default/namespaces"))

	got, err := nss.Get(ctx, "default", nil)
	require.NoError(t, err)
	assert.Equal(t, "default", got.Name())
	// AllNamespaces on a cluster-scoped resource lists it as usual.
	found := false
	for o, err := range nss.AllNamespaces().List(ctx, nil) {
		require.NoError(t, err)
		found = found || o.Name() == "default"
	}
	assert.True(t, found)
}

func TestObjectChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	tests := []struct {
		name string
		obj  string
		want error
	}{
		{"other namespace", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"kube-system"}}`, resource.ErrNamespaceMismatch},
		{"other kind", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a"}}`, resource.ErrKindMismatch},
		{"other apiVersion", `{"apiVersion":"v2","kind":"ConfigMap","metadata":{"name":"a"}}`, resource.ErrKindMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cms.Create(ctx, obj(t, tt.obj), nil)
			assert.ErrorIs(t, err, tt.want)
			_, err = cms.Update(ctx, obj(t, tt.obj), nil)
			assert.ErrorIs(t, err, tt.want)
			_, err = cms.Apply(ctx, obj(t, tt.obj), &resource.ApplyOptions{FieldManager: "m"})
			assert.ErrorIs(t, err, tt.want)
		})
	}
	assert.Empty(t, resourceRequests(srv, "", "/configmaps"))

	// Missing apiVersion and kind are filled in.
	created, err := cms.Create(ctx, obj(t, `{"metadata":{"name":"bare"},"data":{"a":"b"}}`), nil)
	require.NoError(t, err)
	assert.Equal(t, "ConfigMap", created.Kind())
	assert.Equal(t, "v1", created.APIVersion())

	// generateName without a name.
	gen, err := cms.Create(ctx, obj(t, `{"metadata":{"generateName":"gen-"}}`), nil)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(gen.Name(), "gen-"), gen.Name())
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	createNamespace(t, c, "paging")
	cms := c.Resource("v1", "ConfigMap").Namespace("paging")

	const total = 1200
	var wg sync.WaitGroup
	errs := make(chan error, total)
	sem := make(chan struct{}, 8)
	for i := range total {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			_, err := cms.Create(ctx, configMap(t, fmt.Sprintf("cm-%04d", i), map[string]string{"i": fmt.Sprint(i)}), nil)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	t.Run("every object once in 12 pages", func(t *testing.T) {
		srv.ResetRequests()
		seen := map[string]int{}
		for o, err := range cms.List(ctx, &resource.ListOptions{Limit: 100}) {
			require.NoError(t, err)
			seen[o.Name()]++
		}
		assert.Len(t, seen, total)
		for name, n := range seen {
			if n != 1 {
				t.Errorf("%s seen %d times", name, n)
			}
		}
		lists := resourceRequests(srv, "GET", "/api/v1/namespaces/paging/configmaps")
		require.Len(t, lists, 12)
		assert.Empty(t, lists[0].Query.Get("continue"))
		for i, r := range lists {
			assert.Equal(t, "100", r.Query.Get("limit"))
			if i > 0 {
				assert.NotEmpty(t, r.Query.Get("continue"), "page %d continues", i)
			}
		}
	})

	t.Run("breaking the loop stops paging", func(t *testing.T) {
		srv.ResetRequests()
		n := 0
		for _, err := range cms.List(ctx, &resource.ListOptions{Limit: 100}) {
			require.NoError(t, err)
			n++
			if n == 150 {
				break
			}
		}
		assert.Equal(t, 150, n)
		// Two pages read, and at most the one fetched ahead of them (its
		// request cancelled by the break, perhaps before it was sent).
		lists := resourceRequests(srv, "GET", "/api/v1/namespaces/paging/configmaps")
		assert.GreaterOrEqual(t, len(lists), 2)
		assert.LessOrEqual(t, len(lists), 3)
		assert.Len(t, resourceRequests(srv, "GET", "/api/v1/namespaces/paging/configmaps"), len(lists),
			"nothing is sent once the loop has ended")
	})

	t.Run("the next page is fetched while the caller reads this one", func(t *testing.T) {
		srv.ResetRequests()
		// Pages of 120 here: a request of an earlier subtest, sent before
		// its loop ended and cancelled, may reach the server after the
		// reset; it asked for pages of 100.
		pages := func() int {
			n := 0
			for _, r := range resourceRequests(srv, "GET", "/api/v1/namespaces/paging/configmaps") {
				if r.Query.Get("limit") == "120" {
					n++
				}
			}
			return n
		}
		n := 0
		for _, err := range cms.List(ctx, &resource.ListOptions{Limit: 120}) {
			require.NoError(t, err)
			n++
			if n == 1 {
				// Still on the first page: the second is asked for already.
				require.Eventually(t, func() bool { return pages() == 2 }, 10*time.Second, time.Millisecond)
			}
			if n == 120 {
				// Only one page ahead: the third waits for the second to be reached.
				assert.Equal(t, 2, pages())
			}
		}
		assert.Equal(t, total, n)
		assert.Equal(t, 10, pages())
	})

	t.Run("nothing is sent until the loop starts", func(t *testing.T) {
		srv.ResetRequests()
		seq := cms.List(ctx, nil)
		assert.Empty(t, srv.Requests())
		n := 0
		for _, err := range seq {
			require.NoError(t, err)
			n++
		}
		assert.Equal(t, total, n)
		// DefaultPageSize first; then the small ConfigMaps fit one page.
		lists := resourceRequests(srv, "GET", "/api/v1/namespaces/paging/configmaps")
		require.Len(t, lists, 2)
		assert.Equal(t, strconv.Itoa(resource.DefaultPageSize), lists[0].Query.Get("limit"))
		assert.Equal(t, strconv.Itoa(resource.ListMaxPageSize), lists[1].Query.Get("limit"))
	})

	t.Run("pages after the first are sized to the byte budget", func(t *testing.T) {
		// 1,200 ConfigMaps of about 4 kB: the first page of DefaultPageSize
		// tells their size, the next asks for what fits ListPageBytes
		// (ListAllPageBytes for ListAll).
		ns := "paging-big"
		createNamespace(t, c, ns)
		big := c.Resource("v1", "ConfigMap").Namespace(ns)
		pad := strings.Repeat("x", 4<<10)
		const n = 1200
		var wg sync.WaitGroup
		errs := make(chan error, n)
		sem := make(chan struct{}, 8)
		for i := range n {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				_, err := big.Create(ctx, configMap(t, fmt.Sprintf("cm-%04d", i), map[string]string{"pad": pad}), nil)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		limits := func() []int {
			var out []int
			for _, r := range resourceRequests(srv, "GET", "/api/v1/namespaces/"+ns+"/configmaps") {
				l, err := strconv.Atoi(r.Query.Get("limit"))
				require.NoError(t, err)
				out = append(out, l)
			}
			return out
		}
		const perItem = 4<<10 + 250 // the pad and the rest of the object

		srv.ResetRequests()
		count := 0
		for _, err := range big.List(ctx, nil) {
			require.NoError(t, err)
			count++
		}
		assert.Equal(t, n, count)
		got := limits()
		require.Len(t, got, 2)
		assert.Equal(t, resource.DefaultPageSize, got[0])
		assert.InEpsilon(t, resource.ListPageBytes/perItem, got[1], 0.1, "List's second page fits its byte budget")

		srv.ResetRequests()
		items, _, err := big.ListAll(ctx, nil)
		require.NoError(t, err)
		assert.Len(t, items, n)
		got = limits()
		require.Len(t, got, 2)
		assert.Equal(t, resource.DefaultPageSize, got[0])
		assert.InEpsilon(t, resource.ListAllPageBytes/perItem, got[1], 0.1, "ListAll's second page fits its byte budget")
	})

	t.Run("ListPage and ListAll", func(t *testing.T) {
		page, err := cms.ListPage(ctx, &resource.ListOptions{Limit: 7, LabelSelector: ""})
		require.NoError(t, err)
		assert.Len(t, page.Items(), 7)
		require.NotEmpty(t, page.Continue())
		next, err := cms.ListPage(ctx, &resource.ListOptions{Limit: 7, Continue: page.Continue()})
		require.NoError(t, err)
		assert.NotEqual(t, page.Items()[0].Name(), next.Items()[0].Name())

		all, rv, err := cms.ListAll(ctx, &resource.ListOptions{Limit: 250})
		require.NoError(t, err)
		assert.Len(t, all, total)
		assert.NotEmpty(t, rv)
	})
}

func TestListSelectors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	for i, tier := range []string{"web", "web", "db"} {
		cm := configMap(t, fmt.Sprintf("sel-%d", i), nil)
		cm, err := cm.Set("metadata.labels.tier", tier)
		require.NoError(t, err)
		_, err = cms.Create(ctx, cm, nil)
		require.NoError(t, err)
	}
	tests := []struct {
		opts *resource.ListOptions
		want []string
	}{
		{&resource.ListOptions{LabelSelector: "tier=web"}, []string{"sel-0", "sel-1"}},
		{&resource.ListOptions{LabelSelector: "tier!=web,tier"}, []string{"sel-2"}},
		{&resource.ListOptions{FieldSelector: "metadata.name=sel-1"}, []string{"sel-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.opts.LabelSelector+tt.opts.FieldSelector, func(t *testing.T) {
			t.Parallel()
			var got []string
			for o, err := range cms.List(ctx, tt.opts) {
				require.NoError(t, err)
				got = append(got, o.Name())
			}
			assert.ElementsMatch(t, tt.want, got)
		})
	}
}

func TestUnknownResource(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	tests := []struct {
		name string
		h    resource.Handle
	}{
		{"kind", c.Resource("v1", "NoSuchKind").Namespace("default")},
		{"group", c.Resource("nothing.example.com/v1", "Widget").Namespace("default")},
		{"name", c.ResourceFor("nosuchthings").Namespace("default")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.h.Get(ctx, "x", nil)
			require.ErrorIs(t, err, discovery.ErrUnknownResource)
			assert.Contains(t, err.Error(), "get ")
			n := 0
			for _, err := range tt.h.List(ctx, nil) {
				require.ErrorIs(t, err, discovery.ErrUnknownResource)
				n++
			}
			assert.Equal(t, 1, n, "List yields the failure once")
		})
	}
	for _, r := range srv.Requests() {
		assert.NotContains(t, r.Path, "nosuch", "only discovery may be asked")
	}
	_, err := c.Resource("", "Pod").Namespace("default").Get(ctx, "x", nil)
	require.Error(t, err)
}

func TestListExpiredContinue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	createNamespace(t, c, "gone")
	cms := c.Resource("v1", "ConfigMap").Namespace("gone")
	for i := range 5 {
		_, err := cms.Create(ctx, configMap(t, fmt.Sprintf("g%d", i), nil), nil)
		require.NoError(t, err)
	}
	n := 0
	var last error
	for _, err := range cms.List(ctx, &resource.ListOptions{Limit: 2}) {
		if err != nil {
			last = err
			continue
		}
		n++
		if n == 2 {
			// The continue token expires before the second page is asked for.
			srv.Inject(testserver.Fault{Method: "GET", PathPrefix: "/api/v1/namespaces/gone/configmaps", Status: http.StatusGone, Times: 1})
		}
	}
	assert.Equal(t, 2, n)
	require.ErrorIs(t, last, transport.ErrGone)
	lists := resourceRequests(srv, "GET", "/api/v1/namespaces/gone/configmaps")
	require.Len(t, lists, 2)
	assert.NotEmpty(t, lists[1].Query.Get("continue"))
}

func TestListSequenceIsReusable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c := setup(t)
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	_, err := cms.Create(ctx, configMap(t, "one", nil), nil)
	require.NoError(t, err)
	opts := &resource.ListOptions{Limit: 10}
	seq := cms.List(ctx, opts)
	opts.Limit = 1 // changing the options after List has no effect
	srv.ResetRequests()
	for range 2 {
		n := 0
		for o, err := range seq {
			require.NoError(t, err)
			assert.Equal(t, "one", o.Name())
			n++
		}
		assert.Equal(t, 1, n)
	}
	lists := resourceRequests(srv, "GET", "/api/v1/namespaces/default/configmaps")
	require.Len(t, lists, 2, "each loop lists again")
	assert.Equal(t, "10", lists[1].Query.Get("limit"))
}
