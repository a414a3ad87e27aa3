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
	"syscall"

	"github.com/kubedyn/kubedyn/examples/internal/setup"
	"github.com/kubedyn/kubedyn/examples/operator/greeter"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

func main() { setup.Main("operator", realMain, os.Interrupt, syscall.SIGTERM) }

func realMain(ctx context.Context, out io.Writer) error {
	// The configured cluster, or the in-process test server, whose CRDs are
	// established after the real server's delay, as on a cluster; there the
	// operator makes a Greeting to show itself at work.
	env, err := setup.Connect(out, &setup.Options{RealCRDEstablishDelay: true})
	if err != nil {
		return err
	}
	defer env.Close()
	return run(ctx, out, env.Config, setup.Namespace(env.Config), env.Server != nil)
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
