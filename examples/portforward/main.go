// Command portforward forwards a pod's port 80 two ways: to a local
// listener that ordinary programs (here net/http) connect to, and as a
// net.Conn dialled in-process.
//
// It uses the configured cluster (KUBECONFIG, ~/.kube/config or in-cluster)
// when there is one: it creates an nginx pod, waits until it runs, and
// deletes it at the end. Otherwise it starts kubedyn's in-process test API
// server, which plays the pod's web server itself, and says so.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kubedyn/kubedyn/examples/internal/setup"
	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

func main() { setup.Main("portforward", realMain) }

func realMain(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	// The configured cluster, or the in-process test server, which then
	// plays the pod's web server.
	env, err := setup.Connect(out, nil)
	if err != nil {
		return err
	}
	defer env.Close()
	if env.Server != nil {
		env.Server.SetPortForwardHandler(FakeWebServer)
	}
	return run(ctx, out, env.Config, env.Server == nil)
}

// FakeWebServer answers each forwarded connection as nginx would answer
// "GET /", for the test server, which runs no pods.
func FakeWebServer(ctx context.Context, req testserver.PortForwardRequest, conn io.ReadWriter) error {
	r, err := http.ReadRequest(bufio.NewReader(conn))
	if err != nil {
		return err
	}
	body := "<h1>Welcome to nginx!</h1>\n"
	resp := &http.Response{StatusCode: http.StatusOK, ProtoMajor: 1, ProtoMinor: 1, Request: r, Close: true,
		ContentLength: int64(len(body)), Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{"Server": {"nginx"}}}
	return resp.Write(conn)
}

// run does the tour against the server cfg points at; onCluster says a
// node will really run the pod, so it is worth waiting for.
func run(ctx context.Context, out io.Writer, cfg *transport.Config, onCluster bool) error {
	c, err := resource.NewClient(cfg)
	if err != nil {
		return err
	}
	ns := setup.Namespace(cfg)
	name := "portforward-demo-" + setup.RandomSuffix()
	pods := c.Resource("v1", "Pod").Namespace(ns)
	pod, err := unstructured.Parse([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `"},
		"spec":{"terminationGracePeriodSeconds":1,"containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":80}]}]}}`))
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
	if onCluster {
		if err := waitRunning(ctx, pods, name); err != nil {
			return err
		}
	}

	pf, err := c.Connect().PortForward(ctx, ns, name, nil)
	if err != nil {
		return err
	}
	defer pf.Close()

	// 1. A local listener: any program can connect to it.
	ln, err := pf.Listen("127.0.0.1:0", 80)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+"/", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "through the local listener: %s, server %s, %d bytes\n", resp.Status, resp.Header.Get("Server"), len(body))

	// 2. A net.Conn dialled in-process, no listener at all.
	conn, err := pf.Dial(ctx, 80)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); err != nil {
		return err
	}
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "through a dialled connection: %s\n", strings.TrimSpace(status))
	return nil
}

// waitRunning polls the pod until it runs.
func waitRunning(ctx context.Context, pods resource.Handle, name string) error {
	for {
		p, err := pods.Get(ctx, name, nil)
		if err != nil {
			return err
		}
		if p.Get("status.phase").String() == "Running" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for pod %s to run: %w", name, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}
