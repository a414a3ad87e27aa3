// Command explain documents a field of any kind from the OpenAPI v3 schema
// the server publishes, like kubectl explain, for built-in kinds and custom
// resources alike:
//
//	explain [-recursive] <apiVersion> <kind> [field.path]
//	explain apps/v1 Deployment spec.template.spec.containers
//	explain -recursive batch/v1 Job spec.template
//
// It uses the configured cluster (KUBECONFIG, ~/.kube/config or in-cluster)
// when there is one; otherwise kubedyn's in-process test API server, and
// says so.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/kubeconfig"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

func main() {
	recursive := flag.Bool("recursive", false, "list every field below the path, with types")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: explain [-recursive] <apiVersion> <kind> [field.path]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 2 || flag.NArg() > 3 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := realMain(ctx, os.Stdout, os.Stderr, flag.Args(), *recursive); err != nil {
		fmt.Fprintln(os.Stderr, "explain:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context, out, info io.Writer, args []string, recursive bool) error {
	cfg, err := kubeconfig.Load(nil)
	switch {
	case errors.Is(err, kubeconfig.ErrNoConfig):
		srv, err := testserver.Start()
		if err != nil {
			return fmt.Errorf("start the in-process test server: %w", err)
		}
		defer srv.Close()
		fmt.Fprintf(info, "No cluster is configured: using kubedyn's in-process test server at %s\n", srv.URL())
		cfg = &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()}
	case err != nil:
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return run(ctx, out, cfg, args, recursive)
}

// run explains args[0] (apiVersion) args[1] (kind) at the optional path
// args[2] on the server cfg points at.
func run(ctx context.Context, out io.Writer, cfg *transport.Config, args []string, recursive bool) error {
	gv, err := unstructured.ParseGroupVersion(args[0])
	if err != nil {
		return err
	}
	path := ""
	if len(args) > 2 {
		path = args[2]
	}
	c, err := resource.NewClient(cfg)
	if err != nil {
		return err
	}
	text, err := c.Discovery().Explain(ctx, gv.WithKind(args[1]), path, &unstructured.ExplainOptions{Recursive: recursive})
	if err != nil {
		return err
	}
	_, err = io.WriteString(out, text)
	return err
}
