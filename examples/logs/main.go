// Command logs follows a pod's log while the pod writes it, then reads the
// tail of what it wrote. A follow delivers each line with the time the node
// recorded it and, should the connection drop, asks again from the last
// line's time without losing or repeating a line.
//
// It uses the configured cluster (KUBECONFIG, ~/.kube/config or in-cluster)
// when there is one: it creates a busybox pod that writes five lines, and
// deletes it at the end. Otherwise it starts kubedyn's in-process test API
// server, writes the pod's log lines into it the way a node would, and says
// so.
package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kubedyn/kubedyn/connect"
	"github.com/kubedyn/kubedyn/examples/internal/setup"
	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

func main() { setup.Main("logs", realMain) }

func realMain(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	// The configured cluster, or the in-process test server (env.Server).
	env, err := setup.Connect(out, nil)
	if err != nil {
		return err
	}
	defer env.Close()
	return run(ctx, out, env.Config, env.Server)
}

// run does the tour against the server cfg points at. With srv (the
// in-process test server) nothing runs the pod, so run writes its log lines
// into srv as a node would.
func run(ctx context.Context, out io.Writer, cfg *transport.Config, srv *testserver.Server) error {
	c, err := resource.NewClient(cfg)
	if err != nil {
		return err
	}
	ns := setup.Namespace(cfg)
	name := "logs-demo-" + setup.RandomSuffix()
	pods := c.Resource("v1", "Pod").Namespace(ns)
	pod, err := unstructured.Parse([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `"},
		"spec":{"restartPolicy":"Never","terminationGracePeriodSeconds":1,"containers":[{"name":"main","image":"busybox:1.36",
		"command":["sh","-c","for i in 1 2 3 4 5; do echo \"step $i\"; sleep 0.5; done; sleep 3600"]}]}}`))
	if err != nil {
		return err
	}
	if _, err := pods.Create(ctx, pod, nil); err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pods.Delete(dctx, name, nil); err != nil {
			fmt.Fprintf(out, "cleanup: %v\n", err)
		}
	}()
	if srv != nil {
		go func() {
			for i := 1; i <= 5; i++ {
				srv.AppendPodLog(ns, name, "main", time.Time{}, fmt.Sprintf("step %d", i))
				time.Sleep(100 * time.Millisecond)
			}
		}()
	} else if err := waitStarted(ctx, pods, name); err != nil {
		return err
	}
	cc := c.Connect()

	// Follow: lines arrive as they are written. Leaving the loop closes
	// the stream; so would cancelling ctx.
	n := 0
	for line, err := range cc.LogLines(ctx, ns, name, &connect.LogOptions{Follow: true}) {
		if err != nil {
			return err
		}
		n++
		fmt.Fprintf(out, "followed %q (written at %s)\n", line.Text, line.Time.Format(time.TimeOnly))
		if n == 5 {
			break
		}
	}

	// The last two lines, as an io.ReadCloser.
	rc, err := cc.Logs(ctx, ns, name, &connect.LogOptions{TailLines: new(int64(2))})
	if err != nil {
		return err
	}
	defer rc.Close()
	tail, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "the last two lines: %q\n", strings.Split(strings.TrimSpace(string(tail)), "\n"))
	return nil
}

// waitStarted polls the pod until its container has started.
func waitStarted(ctx context.Context, pods resource.Handle, name string) error {
	for {
		p, err := pods.Get(ctx, name, nil)
		if err != nil {
			return err
		}
		if p.Get("status.phase").String() != "Pending" && p.Get("status.phase").String() != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for pod %s to start: %w", name, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}
