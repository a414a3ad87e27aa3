// Command ensure builds (or finds in the cache) the kube-apiserver and etcd
// binaries the end-to-end tests use, and prints their directory. Run it from
// anywhere inside the kubedyn repository:
//
//	go run ./internal/cluster/cmd/ensure
//
// With -start it also starts a control plane, prints its kubeconfig path and
// keeps it running until interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kubedyn/kubedyn/internal/cluster"
)

func main() {
	startFlag := flag.Bool("start", false, "also start a control plane and keep it running until interrupted")
	timeout := flag.Duration("timeout", 20*time.Minute, "give up after this long")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *startFlag, *timeout); err != nil {
		slog.Error("ensure", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, start bool, timeout time.Duration) error {
	bctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dir, err := cluster.EnsureBinaries(bctx)
	if err != nil {
		return err
	}
	fmt.Println(dir)
	if !start {
		return nil
	}
	c, err := cluster.Start(bctx, &cluster.Options{BinDir: dir})
	if err != nil {
		return err
	}
	defer c.Stop()
	fmt.Printf("KUBECONFIG=%s\n", c.Kubeconfig)
	<-ctx.Done()
	return nil
}
