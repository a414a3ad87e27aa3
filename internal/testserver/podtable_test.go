package testserver

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPodTableCells(t *testing.T) {
	t.Parallel()
	const running = `"state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}}`
	tests := []struct {
		name, spec, status string
		// want is Ready, Status, Restarts.
		want []any
		// wide is IP, Node, Nominated Node, Readiness Gates.
		wide []any
	}{
		{"pending", `{"containers":[{"name":"a","image":"i"}]}`, `{}`,
			[]any{"0/1", "Pending", "0"}, []any{"<none>", "<none>", "<none>", "<none>"}},
		{"running and ready", `{"containers":[{"name":"a","image":"i"}],"readinessGates":[{"conditionType":"example.com/gate"}]}`,
			`{"phase":"Running","podIPs":[{"ip":"10.0.0.9"}],"nominatedNodeName":"n2","conditions":[{"type":"example.com/gate","status":"True"}],
			"containerStatuses":[{"name":"a","ready":true,"restartCount":0,"image":"i","imageID":"",` + running + `}]}`,
			[]any{"1/1", "Running", "0"}, []any{"10.0.0.9", "<none>", "n2", "1/1"}},
		{"crash loop", `{"containers":[{"name":"a","image":"i"},{"name":"b","image":"i"}]}`,
			`{"phase":"Running","containerStatuses":[{"name":"a","ready":true,"restartCount":1,"image":"i","imageID":"",` + running + `},
			{"name":"b","ready":false,"restartCount":4,"image":"i","imageID":"","state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}`,
			[]any{"1/2", "CrashLoopBackOff", "5"}, nil},
		{"waiting init container", `{"initContainers":[{"name":"init","image":"i"}],"containers":[{"name":"a","image":"i"}]}`,
			`{"phase":"Pending","initContainerStatuses":[{"name":"init","ready":false,"restartCount":0,"image":"i","imageID":"","state":{"waiting":{"reason":"ImagePullBackOff"}}}]}`,
			[]any{"0/1", "Init:ImagePullBackOff", "0"}, nil},
		{"sidecar counts", `{"initContainers":[{"name":"side","image":"i","restartPolicy":"Always"}],"containers":[{"name":"a","image":"i"}]}`,
			`{"phase":"Running","initContainerStatuses":[{"name":"side","ready":true,"started":true,"restartCount":1,"image":"i","imageID":"",` + running + `}],
			"containerStatuses":[{"name":"a","ready":true,"restartCount":0,"image":"i","imageID":"",` + running + `}]}`,
			[]any{"2/2", "Running", "1"}, nil},
		{"failed init container", `{"initContainers":[{"name":"init","image":"i"}],"containers":[{"name":"a","image":"i"}]}`,
			`{"phase":"Failed","initContainerStatuses":[{"name":"init","ready":false,"restartCount":0,"image":"i","imageID":"","state":{"terminated":{"exitCode":3}}}]}`,
			[]any{"0/1", "Init:ExitCode:3", "0"}, nil},
		{"completed but one still runs", `{"containers":[{"name":"a","image":"i"},{"name":"b","image":"i"}]}`,
			`{"phase":"Running","containerStatuses":[{"name":"a","ready":true,"restartCount":0,"image":"i","imageID":"",` + running + `},
			{"name":"b","ready":false,"restartCount":0,"image":"i","imageID":"","state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}`,
			[]any{"1/2", "NotReady", "0"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t)
			r := c.do("POST", "/api/v1/namespaces/default/pods", `{"metadata":{"name":"p"},"spec":`+tc.spec+`}`)
			require.Equal(t, http.StatusCreated, r.code, string(r.raw))
			st := c.do("PATCH", "/api/v1/namespaces/default/pods/p/status", `{"status":`+tc.status+`}`, "Content-Type", "application/merge-patch+json")
			require.Equal(t, http.StatusOK, st.code, string(st.raw))
			tbl := c.do("GET", "/api/v1/namespaces/default/pods/p", "", "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
			require.Equal(t, http.StatusOK, tbl.code)
			cells := tbl.get("rows.0.cells").([]any)
			require.Len(t, cells, 9)
			assert.Equal(t, tc.want, cells[1:4])
			if tc.wide != nil {
				assert.Equal(t, tc.wide, cells[5:])
			}
		})
	}
}

func TestPodTableRowConditions(t *testing.T) {
	t.Parallel()
	c := setup(t)
	for _, p := range []struct{ name, phase string }{{"done", "Succeeded"}, {"broken", "Failed"}, {"up", "Running"}} {
		require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/pods", `{"metadata":{"name":"`+p.name+`"},"spec":{"containers":[{"name":"a","image":"i"}]}}`).code)
		st := c.do("PATCH", "/api/v1/namespaces/default/pods/"+p.name+"/status", `{"status":{"phase":"`+p.phase+`"}}`, "Content-Type", "application/merge-patch+json")
		require.Equal(t, http.StatusOK, st.code, string(st.raw))
	}
	tbl := c.do("GET", "/api/v1/namespaces/default/pods", "", "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	require.Equal(t, http.StatusOK, tbl.code)
	got := map[string]any{}
	for _, r := range tbl.get("rows").([]any) {
		got[path(r, "cells.0").(string)] = path(r, "conditions.0.reason")
	}
	assert.Equal(t, map[string]any{"done": "Succeeded", "broken": "Failed", "up": nil}, got)
}

func TestServiceTableCells(t *testing.T) {
	t.Parallel()
	c := setup(t)
	for _, svc := range []string{
		`{"metadata":{"name":"lb"},"spec":{"type":"LoadBalancer","externalIPs":["192.0.2.9"],"ports":[{"port":443,"nodePort":30443}]}}`,
		`{"metadata":{"name":"np"},"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30080}]}}`,
	} {
		r := c.do("POST", "/api/v1/namespaces/default/services", svc)
		require.Equal(t, http.StatusCreated, r.code, string(r.raw))
	}
	st := c.do("PATCH", "/api/v1/namespaces/default/services/lb/status",
		`{"status":{"loadBalancer":{"ingress":[{"ip":"198.51.100.2"},{"hostname":"a.example.com"},{"ip":"198.51.100.2"}]}}}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, http.StatusOK, st.code, string(st.raw))
	tbl := c.do("GET", "/api/v1/namespaces/default/services", "", "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	require.Equal(t, http.StatusOK, tbl.code)
	got := map[string][]any{}
	for _, r := range tbl.get("rows").([]any) {
		cells := path(r, "cells").([]any)
		got[cells[0].(string)] = []any{cells[3], cells[4]}
	}
	assert.Equal(t, []any{"198.51.100.2,a.example.com,192.0.2.9", "443:30443/TCP"}, got["lb"], "load balancer addresses sorted and unique, then externalIPs")
	assert.Equal(t, []any{"<none>", "80:30080/TCP"}, got["np"])

	unnamed := c.do("POST", "/api/v1/namespaces/default/services", `{"metadata":{"name":"two"},"spec":{"ports":[{"port":80},{"name":"dns","port":53}]}}`)
	assert.Equal(t, http.StatusUnprocessableEntity, unnamed.code)
	assert.Equal(t, `Service "two" is invalid: spec.ports[0].name: Required value`, unnamed.str("message"), "a multi-port service names its ports")
}

func TestFormatLabelSelector(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ sel, want string }{
		{`{}`, ""},
		{`{"matchLabels":{"b":"2","a":"1"}}`, "a=1,b=2"},
		{`{"matchLabels":{"app":"api"},"matchExpressions":[{"key":"tier","operator":"In","values":["b","a"]},{"key":"canary","operator":"DoesNotExist"},
			{"key":"zone","operator":"NotIn","values":["x"]},{"key":"gpu","operator":"Exists"}]}`, "app=api,!canary,gpu,tier in (a,b),zone notin (x)"},
	} {
		var sel map[string]any
		require.NoError(t, json.Unmarshal([]byte(tc.sel), &sel))
		assert.Equal(t, tc.want, formatLabelSelector(sel), tc.sel)
	}
}
