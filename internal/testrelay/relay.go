// Package testrelay is a TCP relay for tests: it forwards every connection
// it accepts on loopback to a target address and can cut all of them at
// once, abruptly, as a dropped network or a restarted load balancer would
// (no protocol-level end is sent). connect's tests put it in front of the
// test server, internal/e2e's in front of the real API server.
//
// It is test infrastructure, never imported by the library.
package testrelay

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Relay forwards connections from its loopback address to a target. It is
// safe for concurrent use; it stops, closing every connection, when the
// test that made it ends.
type Relay struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns []net.Conn
	cuts  int
}

// New starts a relay to target (host:port) on a free loopback port.
func New(t testing.TB, target string) *Relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testrelay: %v", err)
	}
	r := &Relay{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); r.closeAll() })
	go r.serve()
	return r
}

func (r *Relay) serve() {
	for {
		in, err := r.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", r.target)
		if err != nil {
			in.Close()
			continue
		}
		r.mu.Lock()
		r.conns = append(r.conns, in, out)
		r.mu.Unlock()
		go func() { _, _ = io.Copy(out, in); out.Close() }()
		go func() { _, _ = io.Copy(in, out); in.Close() }()
	}
}

// Addr returns the relay's host:port, to dial instead of the target.
func (r *Relay) Addr() string { return r.ln.Addr().String() }

// Cut closes every connection open through the relay; new ones are still
// accepted.
func (r *Relay) Cut() {
	r.closeAll()
	r.mu.Lock()
	r.cuts++
	r.mu.Unlock()
}

// Cuts returns how many times Cut was called.
func (r *Relay) Cuts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cuts
}

func (r *Relay) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}
