// Command operator is a small CRD operator built with kubedyn: for every
// Greeting (demo.kubedyn.dev/v1) in a namespace it keeps a ConfigMap holding
// the greeting, owned by the Greeting, and reports status.observedGeneration
// and a Ready condition through the status subresource. See package
// examples/operator/greeter for the controller itself.
//
// It uses the configured cluster (KUBECONFIG, ~/.kube/config or in-cluster)
// when there is one, installing the Greeting CRD if it is missing. Otherwise
// it starts kubedyn's in-process test server, says so, and creates one
// Greeting to show the operator at work. It runs until interrupted (SIGINT or
// SIGTERM), then stops its informers and workers and exits.
//
//	kubectl apply -f - <<<'{"apiVersion":"demo.kubedyn.dev/v1","kind":"Greeting","metadata":{"name":"hi"},"spec":{"name":"Ada"}}'
//	kubectl get configmap hi-greeting -o jsonpath='{.data.greeting}'   # Hello, Ada!
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/kubedyn/kubedyn/examples/operator/greeter"
	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/kubeconfig"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "operator:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context, out io.Writer) error {
	cfg, err := kubeconfig.Load(nil)
	demo := false
	switch {
	case errors.Is(err, kubeconfig.ErrNoConfig):
		// CRDs are established after the real server's delay, as on a
		// cluster.
		srv, err := testserver.StartWithOptions(&testserver.Options{CRDEstablishDelay: testserver.RealCRDEstablishDelay})
		if err != nil {
			return fmt.Errorf("start the in-process test server: %w", err)
		}
		defer srv.Close()
		fmt.Fprintf(out, "No cluster is configured: using kubedyn's in-process test server at %s\n", srv.URL())
		cfg = &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()}
		demo = true
	case err != nil:
		return err
	default:
		fmt.Fprintf(out, "Using the configured cluster at %s\n", cfg.Host)
	}
	ns := cfg.Namespace
	if ns == "" {
		ns = "default"
	}
	return run(ctx, out, cfg, ns, demo)
}

// run installs the CRD and runs the operator in namespace ns until ctx
// ends; with demo set it first creates a Greeting named "demo".
func run(ctx context.Context, out io.Writer, cfg *transport.Config, ns string, demo bool) error {
	c, err := resource.NewClient(cfg)
	if err != nil {
		return err
	}
	if err := greeter.InstallCRD(ctx, c); err != nil {
		return err
	}
	if demo {
		g := unstructured.MustParse(`{"apiVersion":"demo.kubedyn.dev/v1","kind":"Greeting","metadata":{"name":"demo"},"spec":{"name":"kubedyn"}}`)
		if _, err := c.Resource(greeter.APIVersion, greeter.Kind).Namespace(ns).Create(ctx, g, nil); err != nil && !errors.Is(err, transport.ErrAlreadyExists) {
			return err
		}
	}
	fmt.Fprintf(out, "watching Greetings in namespace %s; interrupt to stop\n", ns)
	if err := greeter.New(c, ns, &greeter.Options{Log: out}).Run(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "stopped")
	return nil
}
