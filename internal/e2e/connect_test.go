package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/connect"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// The tests in this file run the connect package against the whole control
// plane: kube-apiserver translates exec and attach (WebSocket v5) and
// tunnels port-forward (SPDY inside WebSocket) to the node agent's kubelet
// endpoints, which run the commands as local processes.

// connectPod creates a pod running script on the node agent and waits
// until it is Running and Ready.
func connectPod(t *testing.T, pods resource.Handle, name, script string) unstructured.Object {
	t.Helper()
	_, err := pods.Create(testContext(t), shellPod(t, name, "Never", script), nil)
	require.NoError(t, err)
	return waitPod(t, pods, name, "pod "+name+" to be Running and Ready", func(p unstructured.Object) bool {
		return p.Get("status.phase").String() == "Running" && podReady(p)
	})
}

// countingWriter counts bytes and samples the heap every 8 MiB.
type countingWriter struct {
	n       int64
	next    int64
	maxHeap uint64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	if w.n >= w.next {
		w.next += 8 << 20
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		w.maxHeap = max(w.maxHeap, ms.HeapInuse)
	}
	return len(p), nil
}

// signalWriter closes first at the first byte written.
type signalWriter struct {
	first chan struct{}
	once  atomic.Bool
}

func (w *signalWriter) Write(p []byte) (int, error) {
	if len(p) > 0 && w.once.CompareAndSwap(false, true) {
		close(w.first)
	}
	return len(p), nil
}

func TestConnectExec(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	admin := planeAdmin(t)
	pods := admin.Resource("v1", "Pod").Namespace(ns)
	connectPod(t, pods, "shell", "exec sleep 3600")
	c := admin.Connect()

	t.Run("echo", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := c.Exec(testContext(t), ns, "shell", []string{"echo", "hello", "world"}, &connect.ExecOptions{Stdout: &out, Stderr: &errOut})
		require.NoError(t, err)
		assert.Equal(t, "hello world\n", out.String())
		assert.Empty(t, errOut.String())
	})
	t.Run("stderr", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := c.Exec(testContext(t), ns, "shell", []string{"sh", "-c", "echo out; echo err >&2"}, &connect.ExecOptions{Stdout: &out, Stderr: &errOut})
		require.NoError(t, err)
		assert.Equal(t, "out\n", out.String())
		assert.Equal(t, "err\n", errOut.String())
	})
	t.Run("cat with stdin closed", func(t *testing.T) {
		var out bytes.Buffer
		in := strings.Repeat("a line of input\n", 10000)
		err := c.Exec(testContext(t), ns, "shell", []string{"cat"}, &connect.ExecOptions{Stdin: strings.NewReader(in), Stdout: &out})
		require.NoError(t, err)
		assert.Equal(t, len(in), out.Len())
		assert.Equal(t, in, out.String())
	})
	t.Run("exit 3 is an ExitError", func(t *testing.T) {
		err := c.Exec(testContext(t), ns, "shell", []string{"sh", "-c", "exit 3"}, nil)
		var exit *connect.ExitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, 3, exit.Code)
		assert.Contains(t, exit.Message, "exit code 3")
	})
	t.Run("a command that is not found", func(t *testing.T) {
		// The node agent reports it as a shell does: exit code 127.
		err := c.Exec(testContext(t), ns, "shell", []string{"/no/such/program"}, nil)
		var exit *connect.ExitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, 127, exit.Code)
	})
	t.Run("TTY with a resize", func(t *testing.T) {
		sizes := make(chan connect.TerminalSize, 1)
		sizes <- connect.TerminalSize{Width: 100, Height: 30}
		var out bytes.Buffer
		err := c.Exec(testContext(t), ns, "shell", []string{"sh", "-c", "echo in a tty"}, &connect.ExecOptions{TTY: true, Stdout: &out, TerminalSizes: sizes})
		require.NoError(t, err)
		assert.Equal(t, "in a tty", strings.TrimSpace(out.String()))
	})
	t.Run("100 MB of stdout in bounded memory", func(t *testing.T) {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		w := &countingWriter{}
		start := time.Now()
		err := c.Exec(testContext(t), ns, "shell", []string{"head", "-c", "104857600", "/dev/zero"}, &connect.ExecOptions{Stdout: w})
		require.NoError(t, err)
		took := time.Since(start)
		assert.Equal(t, int64(100<<20), w.n)
		grew := int64(w.maxHeap) - int64(before.HeapInuse)
		assert.Less(t, grew, int64(32<<20), "the heap grew by %d bytes while streaming", grew)
		t.Logf("100 MiB of stdout in %v (%.0f MiB/s), heap grew at most %d KiB", took, 100/took.Seconds(), grew>>10)
	})
	t.Run("cancelled by the context", func(t *testing.T) {
		before := runtime.NumGoroutine()
		cctx, cancel := context.WithCancel(testContext(t))
		w := &signalWriter{first: make(chan struct{})}
		errc := make(chan error, 1)
		go func() {
			errc <- c.Exec(cctx, ns, "shell", []string{"sh", "-c", "echo started; exec sleep 3600"}, &connect.ExecOptions{Stdout: w})
		}()
		<-w.first
		start := time.Now()
		cancel()
		err := <-errc
		require.ErrorIs(t, err, context.Canceled)
		assert.Less(t, time.Since(start), 2*time.Second)
		eventually(t, 10*time.Second, "the session's goroutines to end", func() bool {
			return runtime.NumGoroutine() <= before
		})
	})
	t.Run("missing container", func(t *testing.T) {
		err := c.Exec(testContext(t), ns, "shell", []string{"true"}, &connect.ExecOptions{Container: "nope"})
		require.ErrorIs(t, err, transport.ErrBadRequest)
		assert.Contains(t, err.Error(), "container nope is not valid for pod shell")
	})
	t.Run("missing pod", func(t *testing.T) {
		err := c.Exec(testContext(t), ns, "nope", []string{"true"}, nil)
		require.ErrorIs(t, err, transport.ErrNotFound)
	})
}

func TestConnectExecPodNotOnANode(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	admin := planeAdmin(t)
	pods := admin.Resource("v1", "Pod").Namespace(ns)
	// A node name nobody serves keeps the scheduler away and the pod
	// pending on a node that does not exist; no nodeName at all with a
	// selector nothing matches keeps it unbound.
	p := set(t, shellPod(t, "unbound", "Never", "exec sleep 3600"), "spec.nodeSelector", map[string]string{"kubedyn.io/none": "x"})
	_, err := pods.Create(testContext(t), p, nil)
	require.NoError(t, err)
	err = admin.Connect().Exec(testContext(t), ns, "unbound", []string{"true"}, nil)
	require.ErrorIs(t, err, transport.ErrBadRequest)
	assert.Contains(t, err.Error(), "does not have a host assigned")
}

// pyPod runs a Python program (no single quotes in it) on the node agent,
// with its pod's IP in $POD_IP (the downward API); the program prints the
// port it listens on as its first line, which is returned once the pod
// runs.
func pyPod(t *testing.T, ns string, pods resource.Handle, c *connect.Client, name string, labels map[string]string, program string) int {
	t.Helper()
	p := shellPod(t, name, "Never", "exec /usr/bin/python3 -u -c '"+program+"'")
	p = set(t, p, "spec.containers.0.env", []any{map[string]any{"name": "POD_IP",
		"valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "status.podIP"}}}})
	if labels != nil {
		p = set(t, p, "metadata.labels", labels)
	}
	_, err := pods.Create(testContext(t), p, nil)
	require.NoError(t, err)
	waitPod(t, pods, name, "pod "+name+" to be Running", func(p unstructured.Object) bool {
		return p.Get("status.phase").String() == "Running"
	})
	for l, err := range c.LogLines(testContext(t), ns, name, &connect.LogOptions{Follow: true}) {
		require.NoError(t, err)
		port, err := strconv.Atoi(strings.TrimSpace(l.Text))
		require.NoError(t, err, "the first line is the port: %q", l.Text)
		return port
	}
	t.Fatalf("pod %s ended without printing its port", name)
	return 0
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

// httpServer answers every GET and POST with what it got: the method,
// the path with its query, the X-Test header and the body; a POST is
// answered 201, and every answer carries X-Served-By: web. It listens on
// its pod's IP.
const httpServer = `import http.server,os
class H(http.server.BaseHTTPRequestHandler):
    def answer(self,code):
        n=int(self.headers.get("Content-Length","0"))
        body=self.rfile.read(n).decode()
        b=(self.command+" "+self.path+" test="+self.headers.get("X-Test","")+" body="+body).encode()
        self.send_response(code)
        self.send_header("Content-Length",str(len(b)))
        self.send_header("X-Served-By","web")
        self.end_headers()
        self.wfile.write(b)
    def do_GET(self): self.answer(200)
    def do_POST(self): self.answer(201)
    def log_message(self,*a): pass
s=http.server.ThreadingHTTPServer((os.environ["POD_IP"],0),H)
print(s.server_address[1],flush=True)
s.serve_forever()
`

func TestConnectPortForward(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	admin := planeAdmin(t)
	c := admin.Connect()
	pods := admin.Resource("v1", "Pod").Namespace(ns)
	port := pyPod(t, ns, pods, c, "echo", nil, echoServer)
	pf, err := c.PortForward(testContext(t), ns, "echo", nil)
	require.NoError(t, err)
	defer pf.Close()

	t.Run("1000 round trips", func(t *testing.T) {
		conn, err := pf.Dial(testContext(t), port)
		require.NoError(t, err)
		defer conn.Close()
		buf := make([]byte, 9)
		start := time.Now()
		for i := range 1000 {
			msg := fmt.Sprintf("ping %04d", i)
			_, err := io.WriteString(conn, msg)
			require.NoError(t, err)
			_, err = io.ReadFull(conn, buf)
			require.NoError(t, err)
			require.Equal(t, msg, string(buf))
		}
		t.Logf("1000 round trips in %v (%v each)", time.Since(start), time.Since(start)/1000)
	})
	t.Run("50 MB", func(t *testing.T) {
		conn, err := pf.Dial(testContext(t), port)
		require.NoError(t, err)
		defer conn.Close()
		data := make([]byte, 50<<20)
		_, _ = rand.Read(data)
		start := time.Now()
		go func() {
			_, _ = conn.Write(data)
			_ = conn.(interface{ CloseWrite() error }).CloseWrite()
		}()
		h := sha256.New()
		n, err := io.Copy(h, conn)
		require.NoError(t, err)
		assert.Equal(t, int64(len(data)), n)
		want := sha256.Sum256(data)
		assert.Equal(t, want[:], h.Sum(nil), "the bytes came back unchanged")
		t.Logf("50 MiB echoed in %v (%.0f MiB/s each way)", time.Since(start), 50/time.Since(start).Seconds())
	})
	t.Run("several connections at once", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				conn, err := pf.Dial(testContext(t), port)
				if !assert.NoError(t, err) {
					return
				}
				defer conn.Close()
				buf := make([]byte, 64<<10)
				msg := bytes.Repeat([]byte{byte('a' + i)}, len(buf))
				for range 50 {
					if _, err := conn.Write(msg); !assert.NoError(t, err) {
						return
					}
					if _, err := io.ReadFull(conn, buf); !assert.NoError(t, err) {
						return
					}
					if !assert.Equal(t, msg, buf) {
						return
					}
				}
			})
		}
		wg.Wait()
	})
	t.Run("a local listener", func(t *testing.T) {
		ln, err := pf.Listen("127.0.0.1:0", port)
		require.NoError(t, err)
		defer ln.Close()
		local, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		defer local.Close()
		_, err = io.WriteString(local, "through a listener")
		require.NoError(t, err)
		require.NoError(t, local.(*net.TCPConn).CloseWrite())
		got, err := io.ReadAll(local)
		require.NoError(t, err)
		assert.Equal(t, "through a listener", string(got))
	})
	t.Run("nothing listens on the port", func(t *testing.T) {
		free, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		closed := free.Addr().(*net.TCPAddr).Port
		free.Close()
		conn, err := pf.Dial(testContext(t), closed)
		require.NoError(t, err)
		defer conn.Close()
		_, err = io.ReadAll(conn)
		var pe *connect.PortError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, closed, pe.Port)
		t.Logf("the node's error: %v", pe)
	})
}

func TestConnectAttach(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	admin := planeAdmin(t)
	pods := admin.Resource("v1", "Pod").Namespace(ns)
	connectPod(t, pods, "ticker", `i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.1; done`)
	lines := &lineWriter{want: 3, done: make(chan struct{})}
	cctx, cancel := context.WithCancel(testContext(t))
	errc := make(chan error, 1)
	go func() { errc <- admin.Connect().Attach(cctx, ns, "ticker", &connect.ExecOptions{Stdout: lines}) }()
	<-lines.done
	cancel()
	err := <-errc
	require.ErrorIs(t, err, context.Canceled)
	assert.Regexp(t, `^(tick \d+\n){3}`, lines.String(), "attach sees the output written from then on")
}

// lineWriter closes done once it has seen want lines.
type lineWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want int
	done chan struct{}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.want > 0 && strings.Count(w.buf.String(), "\n") >= w.want {
		w.want = 0
		close(w.done)
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestConnectLogs(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	admin := planeAdmin(t)
	c := admin.Connect()
	pods := admin.Resource("v1", "Pod").Namespace(ns)
	connectPod(t, pods, "writer", `sleep 1; i=0; while [ $i -lt 40 ]; do echo "line $i"; i=$((i+1)); sleep 0.05; done; exec sleep 3600`)
	var want []string
	for i := range 40 {
		want = append(want, fmt.Sprintf("line %d", i))
	}

	// Follow while the lines are written, until the last one.
	var got []connect.LogLine
	for l, err := range c.LogLines(testContext(t), ns, "writer", &connect.LogOptions{Follow: true}) {
		require.NoError(t, err)
		got = append(got, l)
		if l.Text == "line 39" {
			break
		}
	}
	var texts []string
	for _, l := range got {
		texts = append(texts, l.Text)
		assert.False(t, l.Time.IsZero(), "a follow carries the node's timestamps")
	}
	assert.Equal(t, want, texts)

	t.Run("tail", func(t *testing.T) {
		rc, err := c.Logs(testContext(t), ns, "writer", &connect.LogOptions{TailLines: new(int64(3))})
		require.NoError(t, err)
		defer rc.Close()
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		assert.Equal(t, "line 37\nline 38\nline 39\n", string(b))
	})
	t.Run("since time", func(t *testing.T) {
		since := got[20].Time
		var lines []connect.LogLine
		for l, err := range c.LogLines(testContext(t), ns, "writer", &connect.LogOptions{SinceTime: since, Timestamps: true}) {
			require.NoError(t, err)
			lines = append(lines, l)
		}
		require.NotEmpty(t, lines)
		// The server keeps whole seconds of sinceTime.
		assert.False(t, lines[0].Time.Before(since.Truncate(time.Second)), "first line %v, since %v", lines[0].Time, since)
		assert.Equal(t, "line 39", lines[len(lines)-1].Text)
		assert.LessOrEqual(t, len(lines), 40)
		assert.GreaterOrEqual(t, len(lines), 20)
	})
	t.Run("limit bytes", func(t *testing.T) {
		rc, err := c.Logs(testContext(t), ns, "writer", &connect.LogOptions{LimitBytes: 10})
		require.NoError(t, err)
		defer rc.Close()
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		assert.Equal(t, "line 0\nlin", string(b))
	})
	t.Run("missing container", func(t *testing.T) {
		_, err := c.Logs(testContext(t), ns, "writer", &connect.LogOptions{Container: "nope"})
		require.ErrorIs(t, err, transport.ErrBadRequest)
	})
}

func TestConnectProxy(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	admin := planeAdmin(t)
	c := admin.Connect()
	pods := admin.Resource("v1", "Pod").Namespace(ns)
	port := pyPod(t, ns, pods, c, "web", map[string]string{"app": "web"}, httpServer)
	_, err := admin.Resource("v1", "Service").Namespace(ns).Create(testContext(t), obj(t, fmt.Sprintf(
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"front"},"spec":{"selector":{"app":"web"},"ports":[{"name":"http","port":80,"targetPort":%d}]}}`, port)), nil)
	require.NoError(t, err)
	pod, err := pods.Get(testContext(t), "web", nil)
	require.NoError(t, err)
	podIP := pod.Get("status.podIP").String()

	type answer struct {
		code   int
		header http.Header
		body   string
	}
	proxyDo := func(t *testing.T, target connect.ProxyTarget, method, url, body string) answer {
		t.Helper()
		hc, err := c.ProxyClient(target)
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(testContext(t), method, url, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("X-Test", "through the API server")
		resp, err := hc.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return answer{resp.StatusCode, resp.Header, string(b)}
	}
	podTarget := connect.ProxyTarget{Kind: connect.ProxyPod, Namespace: ns, Name: "web", Port: strconv.Itoa(port)}
	svcTarget := connect.ProxyTarget{Kind: connect.ProxyService, Namespace: ns, Name: "front", Port: "http"}
	nodeTarget := connect.ProxyTarget{Kind: connect.ProxyNode, Name: plane(t).Nodes[0]}

	if !podNetworkUp(t, podIP) {
		// The node agent's loopback fallback: the pod's IP is 127.0.0.1.
		// kube-apiserver proxies only to global unicast pod addresses, and
		// EndpointSlice validation refuses loopback addresses, so the
		// endpointslice controller cannot publish the pod and
		// services/proxy finds no endpoints. Both answers are the real
		// server's, reached through the proxy paths the client builds;
		// they come back as responses, not errors.
		t.Run("pods/proxy refused", func(t *testing.T) {
			a := proxyDo(t, podTarget, http.MethodGet, "http://web/greet", "")
			assert.Equal(t, http.StatusBadRequest, a.code)
			assert.Contains(t, a.body, "address not allowed")
		})
		t.Run("services/proxy finds no endpoints", func(t *testing.T) {
			a := proxyDo(t, svcTarget, http.MethodGet, "http://front/greet?who=me", "")
			assert.Equal(t, http.StatusServiceUnavailable, a.code)
			assert.Contains(t, a.body, `no endpoints available for service \"front\"`)
		})
		t.Run("nodes/proxy refused", func(t *testing.T) {
			a := proxyDo(t, nodeTarget, http.MethodGet, "/healthz", "")
			assert.Equal(t, http.StatusBadRequest, a.code)
			assert.Contains(t, a.body, "address not allowed")
		})
		return
	}

	// The pod network: the pod has an address of its own that the API
	// server proxies to and the endpointslice controller publishes.
	for _, target := range []struct {
		name   string
		target connect.ProxyTarget
		host   string
	}{
		{"pods/proxy", podTarget, "web"},
		{"services/proxy", svcTarget, "front"},
	} {
		t.Run(target.name, func(t *testing.T) {
			if target.target.Kind == connect.ProxyService {
				// Until the endpointslice controller has published the
				// pod, the API server answers 503.
				eventually(t, planeWait, "the Service's endpoints", func() bool {
					return proxyDo(t, target.target, http.MethodGet, "http://front/", "").code == http.StatusOK
				})
			}
			for _, tc := range []struct {
				name, method, url, body string
				code                    int
				want                    string
			}{
				{"GET with a query", http.MethodGet, "http://" + target.host + "/greet?who=me&n=1", "", http.StatusOK,
					"GET /greet?who=me&n=1 test=through the API server body="},
				{"POST with a body", http.MethodPost, "http://" + target.host + "/items", "a body\nof two lines", http.StatusCreated,
					"POST /items test=through the API server body=a body\nof two lines"},
				{"nested path", http.MethodGet, "http://" + target.host + "/a/b/c", "", http.StatusOK,
					"GET /a/b/c test=through the API server body="},
			} {
				t.Run(tc.name, func(t *testing.T) {
					a := proxyDo(t, target.target, tc.method, tc.url, tc.body)
					assert.Equal(t, tc.code, a.code, a.body)
					assert.Equal(t, tc.want, a.body)
					assert.Equal(t, "web", a.header.Get("X-Served-By"), "the pod's own header comes through")
				})
			}
		})
	}
	t.Run("exec runs in the pod network", func(t *testing.T) {
		// The namespace's local addresses: the pod's is among them.
		var out bytes.Buffer
		err := c.Exec(testContext(t), ns, "web", []string{"cat", "/proc/net/fib_trie"}, &connect.ExecOptions{Stdout: &out})
		require.NoError(t, err)
		assert.Contains(t, out.String(), podIP)
	})
	t.Run("the pod reaches the API server", func(t *testing.T) {
		// KUBERNETES_SERVICE_HOST:PORT (127.0.0.1) is relayed from the pod
		// network to the API server: a TLS handshake gets its certificate.
		var out, errOut bytes.Buffer
		script := `import os,socket,ssl
ctx=ssl.create_default_context()
ctx.check_hostname=False
ctx.verify_mode=ssl.CERT_NONE
c=socket.create_connection((os.environ["KUBERNETES_SERVICE_HOST"],int(os.environ["KUBERNETES_SERVICE_PORT"])),timeout=30)
t=ctx.wrap_socket(c)
print(t.version())
`
		err := c.Exec(testContext(t), ns, "web", []string{"/usr/bin/python3", "-c", script}, &connect.ExecOptions{Stdout: &out, Stderr: &errOut})
		require.NoError(t, err, errOut.String())
		assert.Contains(t, out.String(), "TLS")
	})
	t.Run("the EndpointSlice holds the pod's address", func(t *testing.T) {
		slices := admin.Resource("discovery.k8s.io/v1", "EndpointSlice").Namespace(ns)
		var addrs []string
		eventually(t, planeWait, "an EndpointSlice for front with the pod's address", func() bool {
			items, _, err := slices.ListAll(testContext(t), &resource.ListOptions{LabelSelector: "kubernetes.io/service-name=front"})
			if err != nil || len(items) == 0 {
				return false
			}
			addrs = nil
			for _, e := range items[0].Get("endpoints").Array() {
				for _, a := range e.Get("addresses").Array() {
					addrs = append(addrs, a.String())
				}
			}
			return len(addrs) > 0
		})
		assert.Equal(t, []string{podIP}, addrs)
	})
	t.Run("nodes/proxy", func(t *testing.T) {
		// The node's InternalIP is the pod network's root-side address,
		// where the agent serves its kubelet API too.
		node, err := admin.Resource("v1", "Node").Get(testContext(t), plane(t).Nodes[0], nil)
		require.NoError(t, err)
		nodeIP := node.Get(`status.addresses.#(type=="InternalIP").address`).String()
		require.False(t, net.ParseIP(nodeIP).IsLoopback(), "the node's InternalIP %q", nodeIP)
		assert.Equal(t, nodeIP, pod.Get("status.hostIP").String(), "the pod's hostIP is its node's address")

		a := proxyDo(t, nodeTarget, http.MethodGet, "/healthz", "")
		assert.Equal(t, http.StatusOK, a.code, a.body)
		assert.Equal(t, "ok", a.body)
		// The API server authenticates to the kubelet API with its client
		// certificate, so an authenticated endpoint answers too: the web
		// pod's log, whose first line is its port.
		a = proxyDo(t, nodeTarget, http.MethodGet, "/containerLogs/"+ns+"/web/main", "")
		assert.Equal(t, http.StatusOK, a.code, a.body)
		assert.True(t, strings.HasPrefix(a.body, strconv.Itoa(port)+"\n"), "the pod's log: %q", a.body)
	})
}

func TestConnectForbiddenBeforeAnyStream(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	admin := planeAdmin(t)
	pods := admin.Resource("v1", "Pod").Namespace(ns)
	connectPod(t, pods, "guarded", "exec sleep 3600")
	// nobody may read pods and their logs here, not exec, attach or
	// port-forward.
	_, err := admin.Resource("rbac.authorization.k8s.io/v1", "Role").Namespace(ns).Create(testContext(t), obj(t,
		`{"metadata":{"name":"readers"},"rules":[{"apiGroups":[""],"resources":["pods","pods/log"],"verbs":["get","list"]}]}`), nil)
	require.NoError(t, err)
	_, err = admin.Resource("rbac.authorization.k8s.io/v1", "RoleBinding").Namespace(ns).Create(testContext(t), obj(t,
		`{"metadata":{"name":"readers"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"readers"},
		"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"nobody"}]}`), nil)
	require.NoError(t, err)
	nobody := newClientFromConfig(t, planeConfig(t, "nobody")).Connect()
	eventually(t, planeWait, "the role to apply", func() bool {
		rc, err := nobody.Logs(testContext(t), ns, "guarded", nil)
		if err == nil {
			rc.Close()
		}
		return err == nil
	})
	var out bytes.Buffer
	err = nobody.Exec(testContext(t), ns, "guarded", []string{"echo", "should not run"}, &connect.ExecOptions{Stdout: &out})
	require.ErrorIs(t, err, transport.ErrForbidden)
	assert.Contains(t, err.Error(), `cannot get resource "pods/exec"`)
	assert.Empty(t, out.String())
	err = nobody.Attach(testContext(t), ns, "guarded", &connect.ExecOptions{Stdout: &out})
	assert.ErrorIs(t, err, transport.ErrForbidden)
	_, err = nobody.PortForward(testContext(t), ns, "guarded", nil)
	assert.ErrorIs(t, err, transport.ErrForbidden)
}

func TestConnectLogsPrevious(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	admin := planeAdmin(t)
	c := admin.Connect()
	pods := admin.Resource("v1", "Pod").Namespace(ns)
	_, err := pods.Create(testContext(t), shellPod(t, "crasher", "Always", `echo "run $(date +%s%N)"; sleep 0.3; exit 1`), nil)
	require.NoError(t, err)
	waitPod(t, pods, "crasher", "the container to restart", func(p unstructured.Object) bool {
		return p.Get("status.containerStatuses.0.restartCount").Int() >= 1
	})
	read := func(opts *connect.LogOptions) (string, error) {
		rc, err := c.Logs(testContext(t), ns, "crasher", opts)
		if err != nil {
			return "", err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		return string(b), err
	}
	// While the container waits out its back-off, the instance that just
	// ended is still the current one; once the next runs, it is previous.
	var prev string
	eventually(t, planeWait, "a previous instance's log", func() bool {
		prev, err = read(&connect.LogOptions{Previous: true})
		return err == nil
	})
	assert.Regexp(t, `^run \d+\n$`, prev, "the previous instance's log is its one line")

	// A container that never restarted has no previous log.
	connectPod(t, pods, "steady", "exec sleep 3600")
	rc, err := c.Logs(testContext(t), ns, "steady", &connect.LogOptions{Previous: true})
	if err == nil {
		rc.Close()
	}
	require.ErrorIs(t, err, transport.ErrBadRequest)
	t.Logf("no previous: %v", err)
}
