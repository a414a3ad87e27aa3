package testserver_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kubedyn/kubedyn/internal/testserver"
)

// client returns an HTTP client that trusts the server's CA, and a request
// helper that sends the server's token.
func client(srv *testserver.Server) func(method, path, body string) (*http.Response, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(srv.CAPEM())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return func(method, path, body string) (*http.Response, error) {
		req, err := http.NewRequest(method, srv.URL()+path, strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+srv.Token())
		req.Header.Set("Content-Type", "application/json")
		return hc.Do(req)
	}
}

// A program starts the server, talks to it over HTTPS with its CA and
// token, and closes it.
func ExampleStart() {
	srv, err := testserver.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	do := client(srv)

	res, err := do("POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"generateName":"demo-"},"data":{"k":"v"}}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	var cm struct {
		Metadata struct{ Name, Namespace string }
		Data     map[string]string
	}
	_ = json.NewDecoder(res.Body).Decode(&cm)
	fmt.Println(res.StatusCode, cm.Metadata.Namespace, strings.HasPrefix(cm.Metadata.Name, "demo-"), cm.Data["k"])
	// Output: 201 default true v
}

// Faults apply before normal handling: here the next two GETs of
// configmaps are throttled, then the server answers normally.
func ExampleServer_Inject() {
	srv, err := testserver.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	do := client(srv)

	srv.Inject(testserver.Fault{Method: "GET", PathPrefix: "/api/v1/namespaces/default/configmaps", Status: 429, RetryAfter: time.Second, Times: 2})
	for range 3 {
		res, err := do("GET", "/api/v1/namespaces/default/configmaps", "")
		if err != nil {
			fmt.Println(err)
			return
		}
		res.Body.Close()
		fmt.Println(res.StatusCode, res.Header.Get("Retry-After") != "")
	}
	fmt.Println(len(srv.Requests()), "requests recorded")
	// Output:
	// 429 true
	// 429 true
	// 200 false
	// 3 requests recorded
}
