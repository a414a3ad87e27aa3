package transport_test

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/kubedyn/kubedyn/transport"
)

// A stand-in API server: one namespace exists, everything else is 404.
func fakeAPIServer() *httptest.Server {
	return httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/v1/namespaces/default" && r.Header.Get("Authorization") == "Bearer my-token" {
			_, _ = io.WriteString(w, `{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"default"}}`)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure",`+
			`"message":"namespaces \"nope\" not found","reason":"NotFound",`+
			`"details":{"name":"nope","kind":"namespaces"},"code":404}`)
	}))
}

func Example() {
	srv := fakeAPIServer()
	defer srv.Close()

	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	c, err := transport.New(&transport.Config{Host: srv.URL, TLS: transport.TLSConfig{CAData: ca}, BearerToken: "my-token"})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	resp, err := c.Do(ctx, &transport.Request{Path: transport.JoinPath("api", "v1", "namespaces", "default")})
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode, string(resp.Body))

	_, err = c.Do(ctx, &transport.Request{Path: transport.JoinPath("api", "v1", "namespaces", "nope")})
	fmt.Println(errors.Is(err, transport.ErrNotFound), err)
	var apiErr *transport.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Reason, apiErr.Details.Name)
	}

	// Names that would change the URL are refused before any request.
	fmt.Println(transport.ValidatePathSegment("name", ".."))
	// Output:
	// 200 {"kind":"Namespace","apiVersion":"v1","metadata":{"name":"default"}}
	// true namespaces "nope" not found (404 NotFound)
	// NotFound nope
	// invalid name: name may not be ".."
}

// JoinPath escapes every segment, so a name cannot add path segments or a
// query.
func ExampleJoinPath() {
	fmt.Println(transport.JoinPath("api", "v1", "namespaces", "team a", "configmaps", "x?y"))
	// Output:
	// /api/v1/namespaces/team%20a/configmaps/x%3Fy
}

// A proxy's HTML error page is not a Status, yet it still becomes an
// *APIError carrying the status code, with a snippet of the page as its
// message.
func ExampleAPIError_nonJSONBody() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html><body>upstream down</body></html>")
	}))
	defer srv.Close()
	c, err := transport.New(&transport.Config{Host: srv.URL, MaxRetries: -1})
	if err != nil {
		panic(err)
	}
	_, err = c.Do(context.Background(), &transport.Request{Path: "/api"})
	var apiErr *transport.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Reason == "")
	}
	fmt.Println(err)
	// Output:
	// 502 true
	// <html><body>upstream down</body></html> (502 Bad Gateway)
}
