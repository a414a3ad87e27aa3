package testserver

import (
	"fmt"
	"net/http"
	"testing"
)

// BenchmarkCreateThenList creates b.N ConfigMaps and lists them, through
// HTTPS, the way a client-side benchmark would fill the server.
func BenchmarkCreateThenList(b *testing.B) {
	c := setup(b)
	b.ReportAllocs()
	for i := range b.N {
		r := c.do("POST", "/api/v1/namespaces/default/configmaps", fmt.Sprintf(`{"metadata":{"name":"cm-%d","labels":{"i":"%d"}},"data":{"k":"v"}}`, i, i))
		if r.code != http.StatusCreated {
			b.Fatalf("create: %d %s", r.code, r.raw)
		}
	}
	r := c.do("GET", "/api/v1/namespaces/default/configmaps", "")
	if got := len(r.get("items").([]any)); got != b.N {
		b.Fatalf("listed %d, want %d", got, b.N)
	}
}
