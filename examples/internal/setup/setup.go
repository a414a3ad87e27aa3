// Package setup is the start-up the example programs share: it finds the
// API server an example runs against and prints where that is, so that each
// example's own main.go shows only the part of kubedyn it teaches.
//
// Connect loads the configured cluster through kubeconfig.Load
// (KUBECONFIG, ~/.kube/config or in-cluster). When none is configured
// (kubeconfig.ErrNoConfig) it starts kubedyn's in-process test API server
// (internal/testserver) instead and says so. Either way the example gets a
// *transport.Config, which it passes to resource.NewClient.
package setup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/kubeconfig"
	"github.com/kubedyn/kubedyn/transport"
)

// Options tune Connect. Nil means the defaults: a test server with
// instant CRD establishment, and a line saying where the example runs in
// both cases.
type Options struct {
	// RealCRDEstablishDelay makes the test server establish CRDs after the
	// real kube-apiserver's delay, so that an example waits for Established
	// as it must on a cluster.
	RealCRDEstablishDelay bool
	// QuietOnCluster prints nothing when a cluster is configured; the line
	// saying the test server is used is always printed.
	QuietOnCluster bool
}

// Env is where an example runs. Close it when done. An Env is not safe
// for concurrent Close; its fields may be read from any goroutine.
type Env struct {
	// Config points at the configured cluster or the test server.
	Config *transport.Config
	// Server is the in-process test server, or nil on a configured
	// cluster (where a node really runs pods).
	Server *testserver.Server
}

// Connect returns the configured cluster, or starts the in-process test
// server when no cluster is configured, and prints to out which it is. A
// kubeconfig that exists but cannot be loaded is an error, returned as
// kubeconfig.Load gave it.
func Connect(out io.Writer, opts *Options) (*Env, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	cfg, err := kubeconfig.Load(nil)
	switch {
	case errors.Is(err, kubeconfig.ErrNoConfig):
		var sopts *testserver.Options
		if o.RealCRDEstablishDelay {
			sopts = &testserver.Options{CRDEstablishDelay: testserver.RealCRDEstablishDelay}
		}
		srv, err := testserver.StartWithOptions(sopts)
		if err != nil {
			return nil, fmt.Errorf("start the in-process test server: %w", err)
		}
		fmt.Fprintf(out, "No cluster is configured: using kubedyn's in-process test server at %s\n", srv.URL())
		return &Env{Config: ServerConfig(srv), Server: srv}, nil
	case err != nil:
		return nil, err
	}
	if !o.QuietOnCluster {
		fmt.Fprintf(out, "Using the configured cluster at %s\n", cfg.Host)
	}
	return &Env{Config: cfg}, nil
}

// Close stops the test server, if one was started.
func (e *Env) Close() {
	if e.Server != nil {
		e.Server.Close()
	}
}

// ServerConfig is the client configuration for the test server srv.
func ServerConfig(srv *testserver.Server) *transport.Config {
	return &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()}
}

// Namespace is cfg's namespace, or "default" when it names none.
func Namespace(cfg *transport.Config) string {
	if cfg.Namespace == "" {
		return "default"
	}
	return cfg.Namespace
}

// RandomSuffix is six hex digits, to name what an example creates.
func RandomSuffix() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Main runs realMain with a context that ends on the given signals (none
// means os.Interrupt) and standard output; on an error it prints
// "name: error" to standard error and exits with status 1. It returns
// normally when realMain succeeds.
func Main(name string, realMain func(ctx context.Context, out io.Writer) error, signals ...os.Signal) {
	if len(signals) == 0 {
		signals = []os.Signal{os.Interrupt}
	}
	ctx, stop := signal.NotifyContext(context.Background(), signals...)
	err := realMain(ctx, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
