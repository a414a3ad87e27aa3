package testserver

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func FuzzLabelSelector(f *testing.F) {
	for _, s := range []string{"", "a=b", "a==b,c!=d", "a in (x,y),!b", "x notin ()", "a b c", "a in (b", "k>3,k<9", "!", ",", "a=(", "a in (b,)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sel string) {
		reqs, err := parseLabelSelector(sel)
		if err != nil {
			return
		}
		// Whatever parses can be evaluated.
		_ = matchLabels(reqs, map[string]string{"a": "b", "k": "5"})
	})
}

func FuzzJSONPatch(f *testing.F) {
	f.Add(`{"a":{"b":[1,2,3]}}`, `[{"op":"add","path":"/a/b/1","value":9},{"op":"remove","path":"/a/b/0"}]`)
	f.Add(`{"a":[]}`, `[{"op":"add","path":"/a/-","value":{}},{"op":"move","from":"/a/0","path":"/c"}]`)
	f.Add(`[1]`, `[{"op":"replace","path":"","value":2},{"op":"test","path":"","value":2}]`)
	f.Fuzz(func(t *testing.T, doc, patch string) {
		d, err := decodeJSON([]byte(doc))
		if err != nil {
			return
		}
		p, err := decodeJSON([]byte(patch))
		if err != nil {
			return
		}
		ops, ok := p.([]any)
		if !ok {
			return
		}
		before, _ := json.Marshal(d)
		out, err := applyJSONPatch(d, ops)
		after, _ := json.Marshal(d)
		assert.JSONEq(t, string(before), string(after), "the input document is not modified")
		if err == nil {
			_, err = json.Marshal(out)
			assert.NoError(t, err)
		}
	})
}

func FuzzMergePatch(f *testing.F) {
	f.Add(`{"a":{"b":1},"l":[{"name":"x","v":1}]}`, `{"a":{"b":null,"c":2},"l":[{"name":"x","v":2},{"name":"y"}]}`)
	f.Fuzz(func(t *testing.T, doc, patch string) {
		d, err := decodeJSON([]byte(doc))
		if err != nil {
			return
		}
		p, err := decodeJSON([]byte(patch))
		if err != nil {
			return
		}
		before, _ := json.Marshal(d)
		for _, strategic := range []bool{false, true} {
			out := mergePatch(d, p, strategic)
			_, err := json.Marshal(out)
			assert.NoError(t, err)
		}
		after, _ := json.Marshal(d)
		assert.JSONEq(t, string(before), string(after), "the target is not modified")
	})
}

// Concurrent optimistic updates: each writer re-reads and retries on 409,
// so no increment is lost.
func TestConcurrentOptimisticUpdates(t *testing.T) {
	t.Parallel()
	c := setup(t)
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"counter"},"data":{"n":"0"}}`).code)
	const writers, each = 4, 10
	var wg sync.WaitGroup
	conflicts := make([]int, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				r := c.do("GET", "/api/v1/namespaces/default/configmaps/counter", "")
				n, _ := strconv.Atoi(r.str("data.n"))
				r.obj["data"] = map[string]any{"n": strconv.Itoa(n + 1)}
				u := c.do("PUT", "/api/v1/namespaces/default/configmaps/counter", mustJSON(t, r.obj))
				switch u.code {
				case http.StatusOK:
					done++
				case http.StatusConflict:
					conflicts[w]++
				default:
					t.Errorf("update: %d %s", u.code, u.raw)
					return
				}
			}
		}()
	}
	wg.Wait()
	final := c.do("GET", "/api/v1/namespaces/default/configmaps/counter", "")
	assert.Equal(t, strconv.Itoa(writers*each), final.str("data.n"))
}
