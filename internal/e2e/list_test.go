package e2e_test

import (
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/resource"
)

// createConfigMaps creates n ConfigMaps cm-0000 ... in ns with labels
// parity=even|odd and idx=<i>, eight at a time.
func createConfigMaps(t *testing.T, c *resource.Client, ns string, n int) {
	t.Helper()
	ctx := testContext(t)
	cms := c.Resource("v1", "ConfigMap").Namespace(ns)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			parity := "even"
			if i%2 == 1 {
				parity = "odd"
			}
			o := obj(t, fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-%04d","labels":{"parity":%q,"idx":"%d"}},"data":{"i":"%d"}}`, i, parity, i, i))
			if _, err := cms.Create(ctx, o, nil); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestListPaginationEachObjectOnce(t *testing.T) {
	t.Parallel()
	const n = 1200
	ctx := testContext(t)
	ns := newNamespace(t)
	c := admin(t)
	createConfigMaps(t, c, ns, n)
	cms := c.Resource("v1", "ConfigMap").Namespace(ns)

	for _, limit := range []int64{0, 100, 499, 1000} {
		t.Run("limit "+strconv.FormatInt(limit, 10), func(t *testing.T) {
			seen := map[string]int{}
			for o, err := range cms.List(ctx, &resource.ListOptions{Limit: limit, LabelSelector: "parity"}) {
				require.NoError(t, err)
				seen[o.Name()]++
			}
			assert.Len(t, seen, n)
			for name, count := range seen {
				if !assert.Equal(t, 1, count, name) {
					break
				}
			}
		})
	}

	t.Run("pages by hand", func(t *testing.T) {
		var pages, total int
		opts := &resource.ListOptions{Limit: 250}
		for {
			page, err := cms.ListPage(ctx, opts)
			require.NoError(t, err)
			pages++
			total += page.Len()
			if page.Continue() == "" {
				break
			}
			if rem, ok := page.RemainingItemCount(); ok {
				assert.Equal(t, int64(n-total), rem, "no controller manager creates kube-root-ca.crt: only our ConfigMaps count")
			}
			opts = &resource.ListOptions{Limit: 250, Continue: page.Continue()}
		}
		assert.Equal(t, 5, pages)
		assert.Equal(t, n, total)
	})

	t.Run("breaking out of the loop stops early", func(t *testing.T) {
		var got int
		for _, err := range cms.List(ctx, &resource.ListOptions{Limit: 10}) {
			require.NoError(t, err)
			got++
			if got == 15 {
				break
			}
		}
		assert.Equal(t, 15, got)
	})

	t.Run("ListAll with the list resourceVersion", func(t *testing.T) {
		items, rv, err := cms.ListAll(ctx, &resource.ListOptions{Limit: 300})
		require.NoError(t, err)
		assert.Len(t, items, n)
		assert.NotEmpty(t, rv)

		// The default: ListAllPageSize a page.
		items, rv, err = cms.ListAll(ctx, nil)
		require.NoError(t, err)
		assert.Len(t, items, n)
		assert.NotEmpty(t, rv)
		assert.Equal(t, "cm-0000", items[0].Name())
		assert.Equal(t, fmt.Sprintf("cm-%04d", n-1), items[n-1].Name())
	})
}

func TestSelectorsTableAndDeleteCollection(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	c := admin(t)
	createConfigMaps(t, c, ns, 20)
	cms := c.Resource("v1", "ConfigMap").Namespace(ns)
	names := func(opts *resource.ListOptions) []string {
		t.Helper()
		var out []string
		for o, err := range cms.List(ctx, opts) {
			require.NoError(t, err)
			out = append(out, o.Name())
		}
		return out
	}

	assert.Len(t, names(&resource.ListOptions{LabelSelector: "parity=even"}), 10)
	assert.Equal(t, []string{"cm-0003", "cm-0005"}, names(&resource.ListOptions{LabelSelector: "parity=odd,idx in (3,4,5)"}))
	assert.Equal(t, []string{"cm-0007"}, names(&resource.ListOptions{FieldSelector: "metadata.name=cm-0007"}))
	assert.Len(t, names(&resource.ListOptions{FieldSelector: "metadata.name!=cm-0007", LabelSelector: "parity=odd"}), 9)
	assert.Empty(t, names(&resource.ListOptions{LabelSelector: "parity=none"}))

	t.Run("all namespaces", func(t *testing.T) {
		var inNS int
		for o, err := range c.Resource("v1", "ConfigMap").AllNamespaces().List(ctx, &resource.ListOptions{FieldSelector: "metadata.namespace=" + ns}) {
			require.NoError(t, err)
			assert.Equal(t, ns, o.Namespace())
			inNS++
		}
		assert.Equal(t, 20, inNS)
	})

	t.Run("table", func(t *testing.T) {
		table, err := cms.Table(ctx, &resource.TableOptions{ListOptions: resource.ListOptions{LabelSelector: "parity=even", Limit: 4}})
		require.NoError(t, err)
		assert.Equal(t, "meta.k8s.io/v1", table.APIVersion())
		assert.Equal(t, "Table", table.Kind())
		var cols []string
		for _, c := range table.Get("columnDefinitions.#.name").Array() {
			cols = append(cols, c.String())
		}
		assert.Equal(t, []string{"Name", "Data", "Age"}, cols)
		rows := table.Get("rows").Array()
		require.Len(t, rows, 4)
		assert.Equal(t, "cm-0000", rows[0].Get("cells.0").String())
		assert.Equal(t, int64(1), rows[0].Get("cells.1").Int())
		assert.NotEmpty(t, table.Get("metadata.continue").String())
	})

	t.Run("delete collection by label", func(t *testing.T) {
		require.NoError(t, cms.DeleteCollection(ctx, nil, &resource.ListOptions{LabelSelector: "parity=odd"}))
		left := names(nil)
		assert.Len(t, left, 10)
		for _, n := range left {
			i, err := strconv.Atoi(n[3:])
			require.NoError(t, err)
			assert.Equal(t, 0, i%2, n)
		}
		require.NoError(t, cms.DeleteCollection(ctx, &resource.DeleteOptions{DryRun: true}, nil))
		assert.Len(t, names(nil), 10, "a dry-run delete collection deletes nothing")
	})
}

// TestListItemsWriteBack checks that list items, which the real server sends
// without apiVersion and kind for built-in kinds, can be changed and written
// back as they are: Update fills both in from the handle.
func TestListItemsWriteBack(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	c := admin(t)
	createConfigMaps(t, c, ns, 3)
	cms := c.Resource("v1", "ConfigMap").Namespace(ns)

	n := 0
	for item, err := range cms.List(ctx, nil) {
		require.NoError(t, err)
		assert.Empty(t, item.Kind(), "the server sends list items of built-in kinds without a kind")
		upd, err := item.Set("data.touched", "yes")
		require.NoError(t, err)
		out, err := cms.Update(ctx, upd, nil)
		require.NoError(t, err)
		assert.Equal(t, "ConfigMap", out.Kind())
		assert.Equal(t, "yes", out.Get("data.touched").String())
		n++
	}
	assert.Equal(t, 3, n)
	got, err := cms.Get(ctx, "cm-0001", nil)
	require.NoError(t, err)
	assert.Equal(t, "yes", got.Get("data.touched").String())
}
