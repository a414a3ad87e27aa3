package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/kubedyn/kubedyn/internal/cluster"
	"github.com/kubedyn/kubedyn/internal/testserver"
	"k8s.io/klog/v2"
)

// options are the command's flags.
type options struct {
	server    string
	n         int
	crds      int
	rounds    int
	opsRounds int
	duration  time.Duration
	raw       string
	chart     string
	quiet     bool
	only      string
	pageSizes string
	cpuprof   string
}

func main() {
	var o options
	flag.StringVar(&o.server, "server", "both", "test, real or both")
	flag.IntVar(&o.n, "n", 10000, "ConfigMaps listed")
	flag.IntVar(&o.crds, "crds", 200, "CRDs installed for discovery")
	flag.IntVar(&o.rounds, "rounds", 3, "runs of each measurement (the table shows medians)")
	flag.IntVar(&o.opsRounds, "ops-rounds", 1, "runs of each get/update measurement")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each get/update run")
	flag.StringVar(&o.raw, "raw", "", "also write every run in Go benchmark format to this file")
	flag.StringVar(&o.chart, "chart", "", "draw the SVG chart from this benchmark-format file to stdout, and do nothing else")
	flag.BoolVar(&o.quiet, "q", false, "no progress on stderr")
	flag.StringVar(&o.only, "only", "", "measure only the rows whose work contains this text")
	flag.StringVar(&o.pageSizes, "page-sizes", "", "other page sizes to compare List at, such as 1000,2000")
	flag.StringVar(&o.cpuprof, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if o.cpuprof != "" {
		f, err := os.Create(o.cpuprof)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	for _, f := range strings.FieldsFunc(o.pageSizes, func(r rune) bool { return r == ',' }) {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "bench: -page-sizes: %q is not a page size\n", f)
			os.Exit(2)
		}
		extraPageSizes = append(extraPageSizes, n)
	}

	if o.chart != "" {
		if err := chartFile(o.chart, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := benchmark(ctx, &o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// benchmark runs everything o asks for and prints the table to out.
func benchmark(ctx context.Context, o *options, out, progress io.Writer) error {
	if o.quiet {
		progress = io.Discard
	}
	// client-go logs each wait of its rate limiter; the table reports it.
	klog.SetLogger(logr.Discard())
	var raw io.Writer
	if o.raw != "" {
		f, err := os.Create(o.raw)
		if err != nil {
			return err
		}
		defer f.Close()
		raw = f
		fmt.Fprintf(f, "goos: %s\ngoarch: %s\ncpu: %s, %d cores (GOMAXPROCS %d)\n", runtime.GOOS, runtime.GOARCH, cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	}
	fmt.Fprintf(out, "kubedyn vs client-go v0.37.2: %d ConfigMaps, %d CRDs, median of %d runs (get/update: %d runs of %s, %d goroutines); %s/%s, %d cores\n",
		o.n, o.crds, o.rounds, o.opsRounds, o.duration, workers, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Fprintf(out, "CPU: %s; %s; load average at the start: %s\n", cpuModel(), runtime.Version(), loadAverage())
	fmt.Fprintln(out, "Ratios over 1 favour kubedyn (client-go's time / kubedyn's; kubedyn's ops/s / client-go's; client-go's requests or bytes / kubedyn's).")

	servers := []string{"test", "real"}
	switch o.server {
	case "both":
	case "test", "real":
		servers = []string{o.server}
	default:
		return fmt.Errorf("-server %q: want test, real or both", o.server)
	}
	for _, s := range servers {
		e, stopServer, err := startServer(ctx, s, o.n, progress)
		if err != nil {
			return err
		}
		err = benchServer(ctx, e, o, out, raw, progress)
		stopServer()
		if err != nil {
			return err
		}
	}
	return nil
}

// startServer starts one server and returns its environment.
func startServer(ctx context.Context, which string, n int, progress io.Writer) (*env, func(), error) {
	start := time.Now()
	switch which {
	case "test":
		srv, err := testserver.StartWithOptions(&testserver.Options{HTTP2: true})
		if err != nil {
			return nil, nil, err
		}
		e, err := newEnv("testserver", srv.URL(), srv.CAPEM(), srv.Token(), n)
		if err != nil {
			srv.Close()
			return nil, nil, err
		}
		return e, srv.Close, nil
	default:
		fmt.Fprintln(progress, "starting kube-apiserver (a cold build of the binaries takes minutes)")
		c, err := cluster.Start(ctx, nil)
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(progress, "kube-apiserver ready in %s\n", time.Since(start).Round(time.Millisecond))
		e, err := newEnv("kube-apiserver v1.37.2", c.URL, c.CAPEM, c.AdminToken, n)
		if err != nil {
			_ = c.Stop()
			return nil, nil, err
		}
		return e, func() { _ = c.Stop() }, nil
	}
}

// benchServer fills one server and measures every row against it.
func benchServer(ctx context.Context, e *env, o *options, out, raw io.Writer, progress io.Writer) error {
	start := time.Now()
	if err := e.populate(ctx, o.crds); err != nil {
		return fmt.Errorf("%s: %w", e.name, err)
	}
	fmt.Fprintf(progress, "%s: %d ConfigMaps (list %d bytes) and %d CRDs created in %s\n", e.name, e.n, len(e.listBytes), o.crds, time.Since(start).Round(time.Millisecond))
	server := map[string]string{"testserver": "test"}[e.name]
	if server == "" {
		server = "real"
	}
	decode, err := decodeRows(e)
	if err != nil {
		return err
	}
	list := listRows(e)
	ops, err := opsRows(e, o.duration)
	if err != nil {
		return err
	}
	disc := discoveryRows(e)
	inf := informerRows(e)
	steps := stepRows(e)
	if o.only != "" {
		decode, list, ops, disc, inf = only(decode, o.only), only(list, o.only), only(ops, o.only), only(disc, o.only), only(inf, o.only)
		steps = only(steps, o.only)
	}
	for _, part := range []struct {
		rows   []*row
		rounds int
	}{{decode, o.rounds}, {list, o.rounds}, {steps, o.rounds}, {inf, o.rounds}, {disc, o.rounds}, {ops, o.opsRounds}} {
		if err := run(ctx, server, part.rows, part.rounds, raw, progress); err != nil {
			return err
		}
	}
	var all []*row
	all = append(all, decode...)
	all = append(all, list...)
	all = append(all, inf...)
	all = append(all, ops...)
	all = append(all, disc...)
	all = append(all, discoveryTimes(disc)...)
	printTable(out, fmt.Sprintf("%s (list body %.1f MB, %d items)", e.name, float64(len(e.listBytes))/(1<<20), e.n), all)
	printSteps(out, steps)
	return nil
}

// only keeps the rows whose group or name contains s.
func only(rows []*row, s string) []*row {
	var out []*row
	for _, rw := range rows {
		if strings.Contains(rw.group+": "+rw.name, s) {
			out = append(out, rw)
		}
	}
	return out
}

// cpuModel returns the first CPU model name in /proc/cpuinfo, or "unknown".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAverage returns /proc/loadavg's three load averages, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}
