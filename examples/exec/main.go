// Command exec runs commands in a pod and reads their output and exit
// codes: an echo, a cat fed on stdin (closing stdin ends it), and a command
// that exits with 3, which comes back as a *connect.ExitError rather than a
// failure of the session.
//
// It uses the configured cluster (KUBECONFIG, ~/.kube/config or in-cluster)
// when there is one: it creates a busybox pod, waits until it runs, and
// deletes it at the end. Otherwise it starts kubedyn's in-process test API
// server, which runs these few commands itself, and says so.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kubedyn/kubedyn/connect"
	"github.com/kubedyn/kubedyn/examples/internal/setup"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

func main() { setup.Main("exec", realMain) }

func realMain(ctx context.Context, out io.Writer) error {
	// The configured cluster, or the in-process test server.
	env, err := setup.Connect(out, nil)
	if err != nil {
		return err
	}
	defer env.Close()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	return run(ctx, out, env.Config, env.Server == nil)
}

// run does the tour against the server cfg points at; onCluster says a
// node will really run the pod, so it is worth waiting for.
func run(ctx context.Context, out io.Writer, cfg *transport.Config, onCluster bool) error {
	c, err := resource.NewClient(cfg)
	if err != nil {
		return err
	}
	ns := setup.Namespace(cfg)
	name := "exec-demo-" + setup.RandomSuffix()
	pods := c.Resource("v1", "Pod").Namespace(ns)
	pod, err := unstructured.Parse([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `"},
		"spec":{"terminationGracePeriodSeconds":1,"containers":[{"name":"main","image":"busybox:1.36","command":["sleep","3600"]}]}}`))
	if err != nil {
		return err
	}
	if _, err := pods.Create(ctx, pod, nil); err != nil {
		return err
	}
	defer func() {
		// A fresh context: the deletion must happen even after a cancel.
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pods.Delete(dctx, name, nil); err != nil {
			fmt.Fprintf(out, "cleanup: %v\n", err)
		}
	}()
	if onCluster {
		if err := waitRunning(ctx, pods, name); err != nil {
			return err
		}
	}
	cc := c.Connect()

	// 1. Output into any io.Writer.
	var stdout strings.Builder
	if err := cc.Exec(ctx, ns, name, []string{"echo", "hello from", name}, &connect.ExecOptions{Stdout: &stdout}); err != nil {
		return err
	}
	fmt.Fprintf(out, "echo said: %s", stdout.String())

	// 2. Stdin from any io.Reader; its end closes the command's stdin, so
	// cat finishes.
	stdout.Reset()
	in := strings.NewReader("first line\nsecond line\n")
	if err := cc.Exec(ctx, ns, name, []string{"cat"}, &connect.ExecOptions{Stdin: in, Stdout: &stdout}); err != nil {
		return err
	}
	fmt.Fprintf(out, "cat returned %d lines: %q\n", strings.Count(stdout.String(), "\n"), stdout.String())

	// 3. A non-zero exit is an *ExitError, not a broken session.
	err = cc.Exec(ctx, ns, name, []string{"sh", "-c", "exit 3"}, nil)
	var exit *connect.ExitError
	switch {
	case errors.As(err, &exit):
		fmt.Fprintf(out, "sh exited with code %d\n", exit.Code)
	case err != nil:
		return err
	default:
		return errors.New("sh -c 'exit 3' reported success")
	}
	return nil
}

// waitRunning polls the pod until it runs.
func waitRunning(ctx context.Context, pods resource.Handle, name string) error {
	for {
		p, err := pods.Get(ctx, name, nil)
		if err != nil {
			return err
		}
		switch phase := p.Get("status.phase").String(); phase {
		case "Running":
			return nil
		case "Succeeded", "Failed":
			return fmt.Errorf("pod %s ended (%s) before it could be used", name, phase)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for pod %s to run: %w", name, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}
