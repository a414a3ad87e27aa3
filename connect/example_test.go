package connect_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/kubedyn/kubedyn/connect"
	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/transport"
)

// exampleClient starts a test server with a pod named web and returns a
// client for it; programs get theirs from resource.Client.Connect.
func exampleClient() (*connect.Client, *testserver.Server) {
	srv, err := testserver.Start()
	if err != nil {
		panic(err)
	}
	tc, err := transport.New(&transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()})
	if err != nil {
		panic(err)
	}
	_, err = tc.Do(context.Background(), &transport.Request{Method: http.MethodPost, Path: "/api/v1/namespaces/default/pods",
		Body: []byte(`{"metadata":{"name":"web"},"spec":{"containers":[{"name":"main","image":"busybox:1.36"}]}}`)})
	if err != nil {
		panic(err)
	}
	return connect.New(tc, nil), srv
}

func ExampleClient_Exec() {
	c, srv := exampleClient()
	defer srv.Close()
	ctx := context.Background()

	err := c.Exec(ctx, "default", "web", []string{"echo", "hello"}, &connect.ExecOptions{Stdout: os.Stdout})
	fmt.Println("echo:", err)

	var out strings.Builder
	err = c.Exec(ctx, "default", "web", []string{"cat"}, &connect.ExecOptions{Stdin: strings.NewReader("fed on stdin\n"), Stdout: &out})
	fmt.Printf("cat: %q %v\n", out.String(), err)

	err = c.Exec(ctx, "default", "web", []string{"sh", "-c", "exit 3"}, nil)
	var exit *connect.ExitError
	if errors.As(err, &exit) {
		fmt.Println("exit code", exit.Code)
	}
	// Output:
	// hello
	// echo: <nil>
	// cat: "fed on stdin\n" <nil>
	// exit code 3
}

func ExampleClient_LogLines() {
	c, srv := exampleClient()
	defer srv.Close()
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	srv.AppendPodLog("default", "web", "main", at, "starting", "ready")

	for line, err := range c.LogLines(context.Background(), "default", "web", &connect.LogOptions{Timestamps: true}) {
		if err != nil {
			panic(err)
		}
		fmt.Println(line.Time.Format(time.TimeOnly), line.Text)
	}
	// Output:
	// 10:00:00 starting
	// 10:00:00 ready
}

func ExamplePortForward_Dial() {
	c, srv := exampleClient()
	defer srv.Close()
	ctx := context.Background()

	// The test server echoes forwarded bytes back.
	pf, err := c.PortForward(ctx, "default", "web", nil)
	if err != nil {
		panic(err)
	}
	defer pf.Close()
	conn, err := pf.Dial(ctx, 8080)
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	fmt.Fprintln(conn, "ping")
	line, err := bufio.NewReader(conn).ReadString('\n')
	fmt.Printf("%q %v\n", line, err)
	// Output:
	// "ping\n" <nil>
}

func ExampleClient_ProxyClient() {
	c, srv := exampleClient()
	defer srv.Close()
	srv.SetProxyHandler(func(target testserver.ProxyRequest, w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s:%s answers %s", target.Resource, target.Name, target.Port, r.URL.Path)
	})

	hc, err := c.ProxyClient(connect.ProxyTarget{Kind: connect.ProxyPod, Namespace: "default", Name: "web", Port: "8080"})
	if err != nil {
		panic(err)
	}
	resp, err := hc.Get("http://web/healthz")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output:
	// 200 pods web:8080 answers /healthz
}
