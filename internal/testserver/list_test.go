package testserver

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seedConfigMaps creates cm-0..cm-(n-1) in default with labels idx=<i> and
// parity=even|odd, and cm-x in kube-system.
func seedConfigMaps(t *testing.T, c *tclient, n int) {
	t.Helper()
	for i := range n {
		parity := "even"
		if i%2 == 1 {
			parity = "odd"
		}
		body := fmt.Sprintf(`{"metadata":{"name":"cm-%d","labels":{"idx":"%d","parity":%q}},"data":{"i":"%d"}}`, i, i, parity, i)
		require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", body).code)
	}
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/kube-system/configmaps", `{"metadata":{"name":"cm-x","labels":{"parity":"none"}}}`).code)
}

func names(r resp) []string {
	var out []string
	items, _ := r.get("items").([]any)
	for _, it := range items {
		out = append(out, path(it, "metadata.name").(string))
	}
	return out
}

func TestListSelectors(t *testing.T) {
	t.Parallel()
	c := setup(t)
	seedConfigMaps(t, c, 6)
	for _, tc := range []struct {
		name, path string
		want       []string
	}{
		{"all in namespace", "/api/v1/namespaces/default/configmaps", []string{"cm-0", "cm-1", "cm-2", "cm-3", "cm-4", "cm-5"}},
		{"all namespaces", "/api/v1/configmaps?labelSelector=" + url.QueryEscape("parity in (none,odd)"), []string{"cm-1", "cm-3", "cm-5", "cm-x"}},
		{"equals", "/api/v1/namespaces/default/configmaps?labelSelector=parity%3Deven", []string{"cm-0", "cm-2", "cm-4"}},
		{"double equals", "/api/v1/namespaces/default/configmaps?labelSelector=" + url.QueryEscape("idx==3"), []string{"cm-3"}},
		{"not equals", "/api/v1/namespaces/default/configmaps?labelSelector=" + url.QueryEscape("parity!=even,idx!=5"), []string{"cm-1", "cm-3"}},
		{"notin", "/api/v1/namespaces/default/configmaps?labelSelector=" + url.QueryEscape("idx notin (0,1,2)"), []string{"cm-3", "cm-4", "cm-5"}},
		{"exists", "/api/v1/configmaps?labelSelector=idx", []string{"cm-0", "cm-1", "cm-2", "cm-3", "cm-4", "cm-5"}},
		{"does not exist", "/api/v1/configmaps?labelSelector=" + url.QueryEscape("!idx"), []string{"cm-x"}},
		{"field name", "/api/v1/configmaps?fieldSelector=metadata.name%3Dcm-2", []string{"cm-2"}},
		{"field namespace not", "/api/v1/configmaps?fieldSelector=" + url.QueryEscape("metadata.namespace!=default"), []string{"cm-x"}},
		{"both", "/api/v1/configmaps?fieldSelector=" + url.QueryEscape("metadata.name!=cm-0") + "&labelSelector=parity%3Deven", []string{"cm-2", "cm-4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := c.do("GET", tc.path, "")
			require.Equal(t, http.StatusOK, r.code, string(r.raw))
			assert.Equal(t, "ConfigMapList", r.str("kind"))
			assert.NotEmpty(t, r.str("metadata.resourceVersion"))
			assert.Equal(t, tc.want, names(r))
			if len(tc.want) > 0 {
				assert.Nil(t, r.get("items.0.kind"), "built-in list items carry no kind")
			}
		})
	}
	for _, bad := range []struct{ query, message string }{
		{"labelSelector=" + url.QueryEscape("a in (b"), "unable to parse requirement: found '', expected: ',' or ')'"},
		{"labelSelector=" + url.QueryEscape("a b c"), "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"},
		{"labelSelector=" + url.QueryEscape("a=1,"), "unable to parse requirement: found '', expected: identifier after ','"},
		{"labelSelector=" + url.QueryEscape("a=(1)"), "unable to parse requirement: found '(', expected: identifier"},
		{"fieldSelector=spec.foo%3Dx", `"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"`},
		{"fieldSelector=nonsense", ""},
	} {
		r := c.do("GET", "/api/v1/configmaps?"+bad.query, "")
		assert.Equal(t, http.StatusBadRequest, r.code, bad.query)
		assert.Equal(t, "BadRequest", r.str("reason"), bad.query)
		if bad.message != "" {
			assert.Equal(t, bad.message, r.str("message"))
		}
	}
	gt := c.do("GET", "/api/v1/namespaces/default/configmaps?labelSelector="+url.QueryEscape("idx>3,idx<5"), "")
	assert.Equal(t, []string{"cm-4"}, names(gt))
	pods := c.do("GET", "/api/v1/pods?fieldSelector=status.phase%3DRunning", "")
	assert.Equal(t, http.StatusOK, pods.code, "pods support status.phase")
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	c := setup(t)
	seedConfigMaps(t, c, 7)
	var got []string
	q := "/api/v1/namespaces/default/configmaps?limit=3"
	pages := 0
	for {
		r := c.do("GET", q, "")
		require.Equal(t, http.StatusOK, r.code, string(r.raw))
		pages++
		got = append(got, names(r)...)
		cont := r.str("metadata.continue")
		if cont == "" {
			assert.Nil(t, r.get("metadata.remainingItemCount"))
			break
		}
		assert.Len(t, names(r), 3)
		assert.NotNil(t, r.get("metadata.remainingItemCount"))
		q = "/api/v1/namespaces/default/configmaps?limit=3&continue=" + url.QueryEscape(cont)
	}
	assert.Equal(t, 3, pages)
	assert.Equal(t, []string{"cm-0", "cm-1", "cm-2", "cm-3", "cm-4", "cm-5", "cm-6"}, got)

	first := c.do("GET", "/api/v1/namespaces/default/configmaps?limit=2&labelSelector=parity%3Dodd", "")
	assert.Equal(t, []string{"cm-1", "cm-3"}, names(first))
	cont := first.str("metadata.continue")
	require.NotEmpty(t, cont)

	bad := c.do("GET", "/api/v1/namespaces/default/configmaps?limit=2&continue=garbage!", "")
	assert.Equal(t, http.StatusBadRequest, bad.code)

	withRV := c.do("GET", "/api/v1/namespaces/default/configmaps?limit=2&resourceVersion=5&continue="+url.QueryEscape(cont), "")
	assert.Equal(t, http.StatusUnprocessableEntity, withRV.code)

	c.srv.Compact()
	exact := c.do("GET", "/api/v1/namespaces/default/configmaps?resourceVersion=2&resourceVersionMatch=Exact", "")
	assert.Equal(t, http.StatusGone, exact.code, "an exact read before the compaction")
	expired := c.do("GET", "/api/v1/namespaces/default/configmaps?limit=2&continue="+url.QueryEscape(cont), "")
	assert.Equal(t, http.StatusGone, expired.code)
	assert.Equal(t, "Expired", expired.str("reason"))

	match := c.do("GET", "/api/v1/namespaces/default/configmaps?resourceVersionMatch=NotOlderThan", "")
	assert.Equal(t, http.StatusUnprocessableEntity, match.code, "resourceVersionMatch needs resourceVersion")
	ok := c.do("GET", "/api/v1/namespaces/default/configmaps?resourceVersion=0&resourceVersionMatch=NotOlderThan", "")
	assert.Equal(t, http.StatusOK, ok.code)
	cached := c.do("GET", "/api/v1/namespaces/default/configmaps?resourceVersion=0&limit=2", "")
	assert.Len(t, names(cached), 7, "resourceVersion=0 is served from the cache, which ignores limit")
	assert.Empty(t, cached.str("metadata.continue"))
	future := c.do("GET", "/api/v1/namespaces/default/configmaps?resourceVersion=99999999", "")
	assert.Equal(t, http.StatusGatewayTimeout, future.code)
	assert.Equal(t, "ResourceVersionTooLarge", future.str("details.causes.0.reason"))
	assert.Equal(t, http.StatusBadRequest, c.do("GET", "/api/v1/namespaces/default/configmaps?resourceVersion=abc", "").code)
}

func TestTable(t *testing.T) {
	t.Parallel()
	c := setup(t)
	seedConfigMaps(t, c, 2)
	for _, inc := range []string{"", "Object", "None"} {
		t.Run("includeObject="+inc, func(t *testing.T) {
			t.Parallel()
			r := c.do("GET", "/api/v1/namespaces/default/configmaps?includeObject="+inc, "", "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io, application/json")
			require.Equal(t, http.StatusOK, r.code)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"), "the real server labels Tables plain JSON")
			assert.Equal(t, "Table", r.str("kind"))
			assert.Equal(t, "meta.k8s.io/v1", r.str("apiVersion"))
			assert.Equal(t, "Name", r.str("columnDefinitions.0.name"))
			assert.Equal(t, "Data", r.str("columnDefinitions.1.name"), "the real server's ConfigMap columns")
			assert.Equal(t, "Age", r.str("columnDefinitions.2.name"))
			assert.Equal(t, "cm-0", r.str("rows.0.cells.0"))
			assert.EqualValues(t, 1, r.get("rows.0.cells.1"))
			assert.Regexp(t, `^\d+s$`, r.str("rows.0.cells.2"))
			switch inc {
			case "":
				assert.Equal(t, "PartialObjectMetadata", r.str("rows.0.object.kind"))
			case "Object":
				assert.Equal(t, "0", r.str("rows.0.object.data.i"))
			case "None":
				assert.Nil(t, r.get("rows.0.object"))
			}
		})
	}
	one := c.do("GET", "/api/v1/namespaces/default/configmaps/cm-1", "", "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	assert.Equal(t, "Table", one.str("kind"))
	assert.Equal(t, "cm-1", one.str("rows.0.cells.0"))

	require.Equal(t, http.StatusCreated, c.do("POST", "/apis/apps/v1/namespaces/default/deployments", fmt.Sprintf(deployJSON, "web")).code)
	dep := c.do("GET", "/apis/apps/v1/namespaces/default/deployments", "", "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	var colNames []string
	for _, col := range dep.get("columnDefinitions").([]any) {
		colNames = append(colNames, path(col, "name").(string))
	}
	assert.Equal(t, []string{"Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"}, colNames)
	assert.Equal(t, []any{"web", "0/1", 0.0, 0.0}, dep.get("rows.0.cells").([]any)[:4])
	assert.Equal(t, "web,side", dep.str("rows.0.cells.5"))
	assert.Equal(t, "app=web", dep.str("rows.0.cells.7"))

	ns := c.do("GET", "/api/v1/namespaces/default", "", "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	assert.Equal(t, []any{"default", "Active"}, ns.get("rows.0.cells").([]any)[:2])
}

func TestDeleteCollection(t *testing.T) {
	t.Parallel()
	c := setup(t)
	seedConfigMaps(t, c, 4)
	dry := c.do("DELETE", "/api/v1/namespaces/default/configmaps?labelSelector=parity%3Deven&dryRun=All", "")
	require.Equal(t, http.StatusOK, dry.code)
	assert.Equal(t, []string{"cm-0", "cm-2"}, names(dry))
	assert.Len(t, names(c.do("GET", "/api/v1/namespaces/default/configmaps", "")), 4)

	r := c.do("DELETE", "/api/v1/namespaces/default/configmaps?labelSelector=parity%3Deven", "")
	require.Equal(t, http.StatusOK, r.code, string(r.raw))
	assert.Equal(t, "ConfigMapList", r.str("kind"))
	assert.Equal(t, []string{"cm-0", "cm-2"}, names(r))
	assert.Equal(t, []string{"cm-1", "cm-3"}, names(c.do("GET", "/api/v1/namespaces/default/configmaps", "")))
	assert.Equal(t, []string{"cm-x"}, names(c.do("GET", "/api/v1/namespaces/kube-system/configmaps", "")))
}

func TestEventTableCells(t *testing.T) {
	t.Parallel()
	c := setup(t)
	for _, ev := range []string{
		`{"metadata":{"name":"single"},"involvedObject":{"kind":"Node"},"reason":"R","message":" spaced \n","type":"Normal",
			"reportingComponent":"ctl","reportingInstance":"i-1","eventTime":"2026-01-01T00:00:00.000000Z"}`,
		`{"metadata":{"name":"counted"},"involvedObject":{"kind":"Pod","name":"p"},"reason":"R","message":"m","type":"Warning",
			"source":{"component":"kubelet","host":"n1"},"count":4}`,
	} {
		r := c.do("POST", "/api/v1/namespaces/default/events", ev)
		require.Equal(t, http.StatusCreated, r.code, string(r.raw))
	}
	tbl := c.do("GET", "/api/v1/namespaces/default/events", "", "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	require.Equal(t, http.StatusOK, tbl.code)
	rows := map[string][]any{}
	for _, r := range tbl.get("rows").([]any) {
		cells := path(r, "cells").([]any)
		require.Len(t, cells, 10)
		rows[cells[9].(string)] = cells
	}
	single, counted := rows["single"], rows["counted"]
	require.NotNil(t, single)
	require.NotNil(t, counted)
	assert.Equal(t, []any{"Normal", "R", "node", "", "ctl, i-1", "spaced"}, single[1:7], "no name: the kind alone; reporting fields as the source; message trimmed")
	assert.Equal(t, single[0], single[7], "Last Seen falls back to First Seen, which falls back to eventTime")
	assert.NotEqual(t, "<unknown>", single[7])
	assert.EqualValues(t, 1, single[8], "a singleton counts 1, as a number")
	assert.Equal(t, []any{"Warning", "R", "pod/p", "", "kubelet, n1", "m", "<unknown>"}, counted[1:8])
	assert.EqualValues(t, 4, counted[8])
}

// A continued list pages through the state its first page saw, as etcd
// serves it: objects created, changed or deleted after the first page do
// not show (the real server's snapshot semantics, on which list + watch
// consumers rely to apply later events in order).
func TestListContinueReadsSnapshot(t *testing.T) {
	t.Parallel()
	c := setup(t)
	seedConfigMaps(t, c, 6)
	first := c.do("GET", "/api/v1/namespaces/default/configmaps?limit=2", "")
	require.Equal(t, http.StatusOK, first.code, string(first.raw))
	require.Equal(t, []string{"cm-0", "cm-1"}, names(first))
	cont := first.str("metadata.continue")
	require.NotEmpty(t, cont)

	// After the first page: a new object that sorts into the rest, a
	// deletion, an update and a delete-then-recreate.
	r := c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"cm-2a"}}`)
	require.Equal(t, http.StatusCreated, r.code, string(r.raw))
	r = c.do("DELETE", "/api/v1/namespaces/default/configmaps/cm-3", "")
	require.Equal(t, http.StatusOK, r.code, string(r.raw))
	r = c.do("PATCH", "/api/v1/namespaces/default/configmaps/cm-4", `{"data":{"late":"yes"}}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusOK, r.code, string(r.raw))
	r = c.do("DELETE", "/api/v1/namespaces/default/configmaps/cm-5", "")
	require.Equal(t, http.StatusOK, r.code, string(r.raw))
	r = c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"cm-5"},"data":{"late":"yes"}}`)
	require.Equal(t, http.StatusCreated, r.code, string(r.raw))

	var rest []string
	q := "/api/v1/namespaces/default/configmaps?limit=2&continue=" + url.QueryEscape(cont)
	for q != "" {
		page := c.do("GET", q, "")
		require.Equal(t, http.StatusOK, page.code, string(page.raw))
		assert.Equal(t, first.str("metadata.resourceVersion"), page.str("metadata.resourceVersion"), "every page carries the list's resourceVersion")
		items, _ := page.get("items").([]any)
		for _, it := range items {
			data, _ := it.(map[string]any)["data"].(map[string]any)
			assert.Nil(t, data["late"], "an item changed after the first page shows as it was")
		}
		rest = append(rest, names(page)...)
		q = ""
		if next := page.str("metadata.continue"); next != "" {
			q = "/api/v1/namespaces/default/configmaps?limit=2&continue=" + url.QueryEscape(next)
		}
	}
	assert.Equal(t, []string{"cm-2", "cm-3", "cm-4", "cm-5"}, rest)

	// A fresh list sees the present.
	now := c.do("GET", "/api/v1/namespaces/default/configmaps", "")
	assert.Equal(t, []string{"cm-0", "cm-1", "cm-2", "cm-2a", "cm-4", "cm-5"}, names(now))
}
