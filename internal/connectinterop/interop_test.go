package connectinterop

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"

	"github.com/kubedyn/kubedyn/connect"
	"github.com/kubedyn/kubedyn/internal/cluster"
	"github.com/kubedyn/kubedyn/kubeconfig"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/unstructured"
)

func TestMain(m *testing.M) {
	os.Exit(cluster.MainWith(m, &cluster.Options{Components: cluster.AllComponents}))
}

type env struct {
	c    *cluster.Cluster
	rc   *resource.Client
	cc   *connect.Client
	rest *rest.Config
	ns   string
}

func setup(t *testing.T) *env {
	t.Helper()
	c := cluster.ForTest(t)
	cfg, err := kubeconfig.Load(&kubeconfig.Options{Path: c.Kubeconfig, Context: "admin"})
	require.NoError(t, err)
	rc, err := resource.NewClient(cfg)
	require.NoError(t, err)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	ns := "interop-" + hex.EncodeToString(b)
	nsObj, err := unstructured.ParseString(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"` + ns + `"}}`)
	require.NoError(t, err)
	_, err = rc.Resource("v1", "Namespace").Create(ctx(t), nsObj, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = rc.Resource("v1", "Namespace").Delete(context.Background(), ns, nil) })
	return &env{c: c, rc: rc, cc: rc.Connect(), ns: ns,
		rest: &rest.Config{Host: c.URL, BearerToken: c.AdminToken, TLSClientConfig: rest.TLSClientConfig{CAData: c.CAPEM}}}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// pod runs script (sh -c) on the node agent and waits until it runs.
func (e *env) pod(t *testing.T, name, script string) {
	t.Helper()
	p, err := unstructured.ParseString(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `"},"spec":{"restartPolicy":"Never",
		"terminationGracePeriodSeconds":1,"containers":[{"name":"main","image":"busybox:1.36","command":["sh","-c"]}]}}`)
	require.NoError(t, err)
	p, err = p.Set("spec.containers.0.args", []string{script})
	require.NoError(t, err)
	pods := e.rc.Resource("v1", "Pod").Namespace(e.ns)
	_, err = pods.Create(ctx(t), p, nil)
	require.NoError(t, err)
	deadline := time.Now().Add(90 * time.Second)
	for {
		got, err := pods.Get(ctx(t), name, nil)
		require.NoError(t, err)
		if got.Get("status.phase").String() == "Running" {
			return
		}
		require.True(t, time.Now().Before(deadline), "pod %s never ran", name)
		time.Sleep(200 * time.Millisecond) // polling the API, as kubectl wait does
	}
}

type result struct {
	stdout, stderr string
	code           int
}

func TestExecSameBytesAndExitCodes(t *testing.T) {
	e := setup(t)
	e.pod(t, "shell", "exec sleep 3600")
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	for _, tc := range []struct {
		name  string
		cmd   []string
		stdin string
	}{
		{"echo", []string{"echo", "hello", "world"}, ""},
		{"stdout and stderr", []string{"sh", "-c", "echo out; echo err >&2; echo out2"}, ""},
		{"exit 3", []string{"sh", "-c", "echo before; exit 3"}, ""},
		{"cat with stdin closed", []string{"cat"}, "line 1\nline 2\n"},
		{"1 MiB through cat", []string{"cat"}, big},
		{"not found", []string{"/no/such/program"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ours := e.execOurs(t, tc.cmd, tc.stdin)
			theirs := e.execClientGo(t, tc.cmd, tc.stdin)
			assert.Equal(t, theirs.code, ours.code, "exit codes")
			assert.Equal(t, len(theirs.stdout), len(ours.stdout), "stdout lengths")
			assert.True(t, theirs.stdout == ours.stdout, "the same stdout")
			assert.Equal(t, theirs.stderr, ours.stderr, "the same stderr")
		})
	}
}

func (e *env) execOurs(t *testing.T, cmd []string, stdin string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	o := &connect.ExecOptions{Stdout: &out, Stderr: &errOut}
	if stdin != "" {
		o.Stdin = strings.NewReader(stdin)
	}
	err := e.cc.Exec(ctx(t), e.ns, "shell", cmd, o)
	r := result{stdout: out.String(), stderr: errOut.String()}
	var exit *connect.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.Code
	default:
		require.NoError(t, err)
	}
	return r
}

func (e *env) execClientGo(t *testing.T, cmd []string, stdin string) result {
	t.Helper()
	q := url.Values{"command": cmd, "container": {"main"}, "stdout": {"true"}, "stderr": {"true"}}
	if stdin != "" {
		q.Set("stdin", "true")
	}
	u := e.c.URL + "/api/v1/namespaces/" + e.ns + "/pods/shell/exec?" + q.Encode()
	ex, err := remotecommand.NewWebSocketExecutor(e.rest, http.MethodGet, u)
	require.NoError(t, err)
	var out, errOut bytes.Buffer
	so := remotecommand.StreamOptions{Stdout: &out, Stderr: &errOut}
	if stdin != "" {
		so.Stdin = strings.NewReader(stdin)
	}
	err = ex.StreamWithContext(ctx(t), so)
	r := result{stdout: out.String(), stderr: errOut.String()}
	var exit utilexec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitStatus()
	default:
		require.NoError(t, err)
	}
	return r
}

const echoServer = `import socket,threading
s=socket.socket()
s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)
s.bind(("127.0.0.1",0))
s.listen(64)
print(s.getsockname()[1],flush=True)
def h(c):
    while True:
        b=c.recv(65536)
        if not b: break
        c.sendall(b)
    c.shutdown(socket.SHUT_WR)
    c.close()
while True:
    c,_=s.accept()
    threading.Thread(target=h,args=(c,),daemon=True).start()
`

func TestPortForwardSameBytes(t *testing.T) {
	e := setup(t)
	e.pod(t, "echo", "exec /usr/bin/python3 -u -c '"+echoServer+"'")
	var port int
	for l, err := range e.cc.LogLines(ctx(t), e.ns, "echo", &connect.LogOptions{Follow: true}) {
		require.NoError(t, err)
		port, err = strconv.Atoi(strings.TrimSpace(l.Text))
		require.NoError(t, err)
		break
	}
	data := make([]byte, 4<<20)
	_, _ = rand.Read(data)
	echo := func(t *testing.T, conn net.Conn) []byte {
		t.Helper()
		go func() {
			_, _ = conn.Write(data)
			_ = conn.(interface{ CloseWrite() error }).CloseWrite()
		}()
		got, err := io.ReadAll(conn)
		require.NoError(t, err)
		return got
	}

	// Ours: a dialled connection.
	pf, err := e.cc.PortForward(ctx(t), e.ns, "echo", nil)
	require.NoError(t, err)
	defer pf.Close()
	conn, err := pf.Dial(ctx(t), port)
	require.NoError(t, err)
	ours := echo(t, conn)
	conn.Close()

	// client-go: the tunnelling dialer kubectl uses, a local listener.
	u, err := url.Parse(e.c.URL + "/api/v1/namespaces/" + e.ns + "/pods/echo/portforward")
	require.NoError(t, err)
	dialer, err := portforward.NewSPDYOverWebsocketDialer(u, e.rest)
	require.NoError(t, err)
	stop, ready := make(chan struct{}), make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:" + strconv.Itoa(port)}, stop, ready, io.Discard, io.Discard)
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() { errc <- fw.ForwardPorts() }()
	<-ready
	ports, err := fw.GetPorts()
	require.NoError(t, err)
	local, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0].Local))
	require.NoError(t, err)
	theirs := echo(t, local)
	local.Close()
	close(stop)
	require.NoError(t, <-errc)

	assert.Equal(t, len(data), len(ours))
	assert.True(t, bytes.Equal(theirs, ours), "both clients got the same %d bytes back", len(theirs))
	assert.True(t, bytes.Equal(data, ours))
}
