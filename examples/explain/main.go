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
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kubedyn/kubedyn/examples/internal/setup"
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
	setup.Main("explain", func(ctx context.Context, out io.Writer) error {
		return realMain(ctx, out, os.Stderr, flag.Args(), *recursive)
	})
}

func realMain(ctx context.Context, out, info io.Writer, args []string, recursive bool) error {
	// The configured cluster, or the in-process test server; only the
	// latter is announced, on info, so that out holds the explanation alone.
	env, err := setup.Connect(info, &setup.Options{QuietOnCluster: true})
	if err != nil {
		return err
	}
	defer env.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return run(ctx, out, env.Config, args, recursive)
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
