package cluster_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/kubedyn/kubedyn/internal/cluster"
)

// fakeM stands in for the *testing.M that TestMain receives.
type fakeM struct{}

func (fakeM) Run() int {
	fmt.Println("the package's tests run here")
	return 0
}

// A test package shares one control plane between its tests: TestMain runs
// them through Main (or MainWith, to choose the components), which stops the
// control plane afterwards.
func ExampleMain() {
	var m cluster.Runner = fakeM{} // in TestMain: the *testing.M argument
	code := cluster.Main(m)
	fmt.Println("exit code", code) // in TestMain: os.Exit(code)
	// Output:
	// the package's tests run here
	// exit code 0
}

// fakeT stands in for the *testing.T of a test.
type fakeT struct{}

func (fakeT) Helper()                      {}
func (fakeT) Fatalf(f string, args ...any) { log.Fatalf(f, args...) }

// A test gets the shared control plane, which the first caller starts, and
// talks to it with the kubeconfig or the URL, CA and tokens.
func ExampleForTest() {
	var t cluster.TB = fakeT{} // in a test: t *testing.T
	c := cluster.ForTest(t)
	fmt.Println(strings.HasPrefix(c.URL, "https://127.0.0.1:"), filepath.Dir(c.Kubeconfig) == c.Dir)
	// Output: true true
}

// A program starts a control plane of its own (here etcd and kube-apiserver
// alone; Options.Components adds the controller manager, the scheduler and
// the node agent) and stops it when done.
func ExampleStart() {
	ctx := context.Background()
	c, err := cluster.Start(ctx, nil) // builds the binaries on first use
	if err != nil {
		log.Fatal(err)
	}
	defer c.Stop()

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"/readyz", nil)
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.AdminToken)
	resp, err := hc.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 ok
}
