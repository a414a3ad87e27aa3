// Command kubedyn is a small kubectl-like tool over the kubedyn library: get,
// apply, create, delete, diff, wait, watch, logs, exec, port-forward,
// api-resources, explain and version. It reads kubeconfig as kubectl does (--kubeconfig, KUBECONFIG,
// ~/.kube/config, in-cluster) with --context, -n/--namespace and
// -A/--all-namespaces.
//
// # Exit codes
//
//   - 0: everything asked for was done.
//   - 1: the command ran but some objects failed: a write the server
//     refused, a name not found, an object that did not become ready in
//     time (and for diff, as kubectl diff: some object differs).
//   - 2: the command could not run: bad flags or arguments, no usable
//     kubeconfig, unreadable manifests, a server that could not be reached.
//
// exec is the exception, as in kubectl and ssh: it exits with the remote
// command's exit code, 255 when kubedyn itself failed (bad arguments, a
// refused request, a broken connection), and 128+n when signal n ended it
// before the command did.
//
// A follow (logs -f, get -w, watch) and port-forward run until SIGINT or
// SIGTERM and then exit 0: ending them is how they are used, not a failure.
// (kubectl exits 1 after a signal for logs -f and get -w, by its generic
// interrupt handler's default, and 0 for port-forward.) A second signal
// ends kubedyn at once.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kubedyn/kubedyn/kubeconfig"
	"github.com/kubedyn/kubedyn/resource"
)

// Exit codes, documented in the package comment.
const (
	exitOK        = 0
	exitFailed    = 1
	exitCannotRun = 2
)

// exitError carries an exit code to main. A nil err with code exitFailed
// means the failures were already printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// failed reports that some objects failed; their lines are already printed.
func failed() error { return &exitError{code: exitFailed} }

// failedf reports a failure of some objects with a message for stderr.
func failedf(format string, a ...any) error {
	return &exitError{code: exitFailed, err: fmt.Errorf(format, a...)}
}

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		// The first signal ends the command gently; the default action
		// is back for a second one.
		signal.Stop(sigs)
		cancel(&signalled{sig: s.(syscall.Signal)})
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	os.Exit(code)
}

// signalled is the cause of the command's context when a signal ended it.
type signalled struct{ sig syscall.Signal }

func (s *signalled) Error() string { return s.sig.String() + " signal received" }

// signalOf returns the signal that cancelled ctx, or 0.
func signalOf(ctx context.Context) syscall.Signal {
	var s *signalled
	if errors.As(context.Cause(ctx), &s) {
		return s.sig
	}
	return 0
}

// run executes the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globals{in: stdin, out: stdout, errOut: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "error:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "error:", err)
	return exitCannotRun
}

// globals are the flags every command shares, kubectl's names.
type globals struct {
	kubeconfig    string
	context       string
	cluster       string
	user          string
	namespace     string
	allNamespaces bool

	in     io.Reader
	out    io.Writer
	errOut io.Writer
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "kubedyn",
		Short: "A dynamic, schema-driven Kubernetes client",
		Long: `kubedyn reads and writes any Kubernetes resource through the kubedyn library.

Exit codes: 0 done; 1 some objects failed (or, for diff, differ); 2 could not run.
exec exits with the remote command's code (255: kubedyn failed). A follow
(logs -f, get -w, watch) and port-forward exit 0 when SIGINT or SIGTERM ends
them.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
	pf.StringVar(&g.context, "context", "", "the kubeconfig context to use")
	pf.StringVar(&g.cluster, "cluster", "", "the kubeconfig cluster to use")
	pf.StringVar(&g.user, "user", "", "the kubeconfig user to use")
	pf.StringVarP(&g.namespace, "namespace", "n", "", "the namespace (default: the context's)")
	pf.BoolVarP(&g.allNamespaces, "all-namespaces", "A", false, "list or watch across all namespaces")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitCannotRun, err: err}
	})
	root.AddCommand(
		newGet(g), newApply(g, "apply"), newApply(g, "create"), newDelete(g), newDiff(g),
		newWait(g), newWatch(g), newLogs(g), newExec(g), newPortForward(g),
		newAPIResources(g), newExplain(g), newVersion(g),
	)
	return root
}

// client loads the kubeconfig as kubectl does and returns a client.
func (g *globals) client() (*resource.Client, error) {
	cfg, err := kubeconfig.Load(&kubeconfig.Options{
		Path: g.kubeconfig, Context: g.context, Cluster: g.cluster, User: g.user, Namespace: g.namespace,
	})
	if err != nil {
		return nil, err
	}
	return resource.NewClient(cfg)
}

// isTerminal reports whether w is a character device (a terminal), where
// progress lines may be rewritten in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
