package cluster_test

import (
	"context"
	"log"
	"net/http"
	"os"
	"testing"

	"github.com/kubedyn/kubedyn/internal/cluster"
)

// A test package shares one control plane between its tests: TestMain runs
// them through Main, which stops the control plane afterwards.
func ExampleMain() {
	var m *testing.M // the argument of TestMain
	os.Exit(cluster.Main(m))
}

// ExampleForTest shows a test using the shared control plane.
func ExampleForTest() {
	_ = func(t *testing.T) {
		c := cluster.ForTest(t) // starts it on first use
		t.Logf("kubeconfig for %s: %s", c.URL, c.Kubeconfig)
	}
}

// ExampleStart starts a control plane of its own, for a program.
func ExampleStart() {
	ctx := context.Background()
	c, err := cluster.Start(ctx, nil) // builds the binaries on first use
	if err != nil {
		log.Fatal(err)
	}
	defer c.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"/readyz", nil)
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.AdminToken)
	_ = req // send it with an http.Client that trusts c.CAPEM
}
