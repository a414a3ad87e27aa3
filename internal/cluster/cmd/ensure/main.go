// Command ensure builds (or finds in the cache) the control plane binaries
// the end-to-end tests use — kube-apiserver, etcd, kube-controller-manager,
// kube-scheduler and the node agent — and prints their directory. Run it
// from anywhere inside the kubedyn repository:
//
//	go run ./internal/cluster/cmd/ensure
//
// With -start it also starts a whole control plane (controller manager,
// scheduler and a node agent whose pods run as local processes; -api-only
// for etcd and kube-apiserver alone), prints its KUBECONFIG and keeps it
// running until interrupted (Ctrl-C, SIGINT or SIGTERM), then stops it and
// removes its data directory. It also stops when its parent process dies:
// `go run` does not pass SIGTERM on to the program it runs and dies of it,
// so a parent-death signal makes `kill <pid of go run>` stop the control
// plane too, instead of leaving it orphaned.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kubedyn/kubedyn/internal/cluster"
)

func main() {
	startFlag := flag.Bool("start", false, "also start a control plane and keep it running until interrupted")
	apiOnly := flag.Bool("api-only", false, "with -start: run etcd and kube-apiserver only (no controller manager, scheduler or node agent)")
	nodes := flag.Int("nodes", 1, "with -start: how many nodes the node agent registers")
	loopbackPods := flag.Bool("loopback-pods", false, "with -start: keep every pod and node on 127.0.0.1 even as root (no pod network)")
	timeout := flag.Duration("timeout", 40*time.Minute, "give up building and starting after this long (a cold build of the five binaries takes many minutes on two cores)")
	flag.Parse()
	if *startFlag {
		// Stop with the parent (go run, a shell script): SIGTERM arrives
		// through the same path as a kill.
		if err := dieWithParent(syscall.SIGTERM); err != nil {
			slog.Warn("ensure: cannot follow the parent process", "err", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	components := cluster.AllComponents
	if *apiOnly {
		components = 0
	}
	opts := &cluster.Options{Components: components, Nodes: *nodes, LoopbackPods: *loopbackPods}
	if err := run(ctx, *startFlag, opts, *timeout); err != nil {
		slog.Error("ensure", "err", err)
		os.Exit(1)
	}
}

// dieWithParent asks the kernel to send sig when the parent exits, and
// sends it now if the parent is already gone.
func dieWithParent(sig syscall.Signal) error {
	parent := os.Getppid()
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(sig), 0); errno != 0 {
		return errno
	}
	if os.Getppid() != parent {
		return syscall.Kill(os.Getpid(), sig)
	}
	return nil
}

func run(ctx context.Context, start bool, opts *cluster.Options, timeout time.Duration) error {
	bctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	began := time.Now()
	dir, err := cluster.EnsureBinaries(bctx)
	if err != nil {
		return err
	}
	fmt.Println(dir)
	if !start {
		return nil
	}
	built := time.Now()
	o := *opts
	o.BinDir = dir
	c, err := cluster.Start(bctx, &o)
	if err != nil {
		return err
	}
	defer c.Stop()
	pids := make([]string, 0, len(c.PIDs()))
	for _, p := range c.PIDs() {
		pids = append(pids, strconv.Itoa(p))
	}
	slog.Info("ensure: control plane running", "components", c.Components.String(), "nodes", c.Nodes,
		"binaries", built.Sub(began).Round(time.Millisecond), "start", time.Since(built).Round(time.Millisecond), "dir", c.Dir)
	fmt.Printf("PIDS=%s\n", strings.Join(pids, " "))
	fmt.Printf("KUBECONFIG=%s\n", c.Kubeconfig)
	<-ctx.Done()
	slog.Info("ensure: stopping the control plane")
	return nil
}
