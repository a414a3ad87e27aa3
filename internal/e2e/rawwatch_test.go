package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests pin down the real server's watch stream on the wire, which
// the watch package and internal/testserver must handle and reproduce.

// watchEvent is one frame of a watch stream.
type watchEvent struct {
	Type   string `json:"type"`
	Object struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name            string            `json:"name"`
			ResourceVersion string            `json:"resourceVersion"`
			Annotations     map[string]string `json:"annotations"`
		} `json:"metadata"`
		Data   map[string]string `json:"data"`
		Reason string            `json:"reason"`
		Code   int               `json:"code"`
	} `json:"object"`
}

// openWatch starts a watch request and returns a decoder of its events.
func openWatch(t *testing.T, path string) (*json.Decoder, *http.Response) {
	t.Helper()
	r := newRaw(t, cluster(t).AdminToken)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.c.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+r.token)
	resp, err := r.http.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return json.NewDecoder(resp.Body), resp
}

func next(t *testing.T, dec *json.Decoder) watchEvent {
	t.Helper()
	var ev watchEvent
	require.NoError(t, dec.Decode(&ev))
	return ev
}

func TestRawWatchStream(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	r := newRaw(t, cluster(t).AdminToken)
	base := "/api/v1/namespaces/" + ns + "/configmaps"
	resp, body := r.do(http.MethodPost, base, http.Header{"Content-Type": {"application/json"}}, `{"metadata":{"name":"a","labels":{"w":"yes"}}}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	resp, body = r.do(http.MethodGet, base, nil, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var list struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	require.NoError(t, json.Unmarshal(body, &list))

	dec, wresp := openWatch(t, base+"?watch=1&labelSelector=w%3Dyes&allowWatchBookmarks=true&resourceVersion="+list.Metadata.ResourceVersion)
	require.Equal(t, http.StatusOK, wresp.StatusCode)
	assert.Equal(t, "application/json", wresp.Header.Get("Content-Type"))
	assert.Equal(t, []string{"chunked"}, wresp.TransferEncoding)

	resp, _ = r.do(http.MethodPatch, base+"/a", http.Header{"Content-Type": {"application/merge-patch+json"}}, `{"data":{"k":"v"}}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	ev := next(t, dec)
	assert.Equal(t, "MODIFIED", ev.Type)
	assert.Equal(t, "ConfigMap", ev.Object.Kind)
	assert.Equal(t, "v", ev.Object.Data["k"])

	// An object created outside the selector sends nothing; one that enters
	// it is ADDED, one that leaves it is DELETED.
	resp, _ = r.do(http.MethodPost, base, http.Header{"Content-Type": {"application/json"}}, `{"metadata":{"name":"b"}}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	resp, _ = r.do(http.MethodPatch, base+"/b", http.Header{"Content-Type": {"application/merge-patch+json"}}, `{"metadata":{"labels":{"w":"yes"}}}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	ev = next(t, dec)
	assert.Equal(t, "ADDED", ev.Type)
	assert.Equal(t, "b", ev.Object.Metadata.Name)
	resp, _ = r.do(http.MethodPatch, base+"/a", http.Header{"Content-Type": {"application/merge-patch+json"}}, `{"metadata":{"labels":{"w":"no"}}}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	ev = next(t, dec)
	assert.Equal(t, "DELETED", ev.Type)
	assert.Equal(t, "a", ev.Object.Metadata.Name)

	resp, _ = r.do(http.MethodDelete, base+"/b", nil, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	ev = next(t, dec)
	assert.Equal(t, "DELETED", ev.Type)
	assert.Equal(t, "b", ev.Object.Metadata.Name)
}

func TestRawWatchSendInitialEvents(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	r := newRaw(t, cluster(t).AdminToken)
	base := "/api/v1/namespaces/" + ns + "/configmaps"
	for _, name := range []string{"x", "y", "z"} {
		resp, body := r.do(http.MethodPost, base, http.Header{"Content-Type": {"application/json"}}, `{"metadata":{"name":"`+name+`"}}`)
		require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	}
	dec, wresp := openWatch(t, base+"?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true")
	require.Equal(t, http.StatusOK, wresp.StatusCode)
	var added []string
	for {
		ev := next(t, dec)
		if ev.Type == "BOOKMARK" {
			assert.Equal(t, "true", ev.Object.Metadata.Annotations["k8s.io/initial-events-end"])
			assert.NotEmpty(t, ev.Object.Metadata.ResourceVersion)
			break
		}
		require.Equal(t, "ADDED", ev.Type)
		added = append(added, ev.Object.Metadata.Name)
	}
	assert.ElementsMatch(t, []string{"x", "y", "z"}, added)
}

func TestRawWatchTimeoutEndsTheStream(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	start := time.Now()
	dec, wresp := openWatch(t, "/api/v1/namespaces/"+ns+"/configmaps?watch=1&timeoutSeconds=1")
	require.Equal(t, http.StatusOK, wresp.StatusCode)
	var ev watchEvent
	err := dec.Decode(&ev)
	assert.ErrorIs(t, err, io.EOF, "the server closes a quiet watch at timeoutSeconds with no frame")
	assert.Less(t, time.Since(start), 30*time.Second)
}
