// Command apply applies a folder of manifests holding a CRD and custom
// resources of it — in one run, which kubectl cannot do — waits for every
// object to be ready, and prints one line per object.
//
//	go run ./examples/apply                 # the manifests/ folder next to this file
//	go run ./examples/apply path/to/folder  # any files or folders
//
// It uses the configured cluster (KUBECONFIG, ~/.kube/config or in-cluster)
// when there is one. Otherwise it starts kubedyn's in-process test server,
// whose CRDs take as long to be established as a real server's, and says so.
// It exits 1 when an object failed or did not become ready.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/kubedyn/kubedyn/examples/internal/setup"
	"github.com/kubedyn/kubedyn/manifest"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	paths := os.Args[1:]
	if len(paths) == 0 {
		_, file, _, _ := runtime.Caller(0)
		paths = []string{filepath.Join(filepath.Dir(file), "manifests")}
	}
	// The configured cluster, or the in-process test server, whose CRDs
	// take as long to be established as a real server's.
	env, err := setup.Connect(os.Stdout, &setup.Options{RealCRDEstablishDelay: true, QuietOnCluster: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "apply:", err)
		os.Exit(2)
	}
	defer env.Close()
	ok, err := run(ctx, os.Stdout, env.Config, paths)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apply:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// run applies the manifests at paths, waits, prints the results and reports
// whether everything applied and became ready.
func run(ctx context.Context, out io.Writer, cfg *transport.Config, paths []string) (bool, error) {
	c, err := resource.NewClient(cfg)
	if err != nil {
		return false, err
	}
	objs, err := manifest.Load(paths, nil)
	if err != nil {
		return false, err
	}
	e := manifest.New(c)
	plan, err := e.Plan(ctx, objs, nil)
	if err != nil {
		return false, err
	}
	rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{
		FieldManager: "kubedyn-example",
		// The demo's widgets have no controller: after 2 s without a status
		// they count as ready. On a cluster with a controller, give it longer.
		Wait: &manifest.WaitOptions{Timeout: 2 * time.Minute, NoStatusGrace: 2 * time.Second},
	})
	if err != nil {
		return false, err
	}
	for _, r := range rep.Results {
		fmt.Fprintf(out, "%-40s %s\n", r.Ref, r.Action)
		if r.Err != nil {
			fmt.Fprintf(out, "    %s: %v\n", r.Source, r.Err)
		}
	}
	ready := true
	for _, w := range rep.Ready {
		fmt.Fprintf(out, "%-40s %s: %s\n", w.Ref, w.Status, w.Message)
		ready = ready && w.Ready()
	}
	fmt.Fprintln(out, rep.Summary())
	return rep.OK() && ready, nil
}
