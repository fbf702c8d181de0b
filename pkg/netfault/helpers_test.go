package netfault

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// eventually polls cond every 10ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testLog returns a logger writing to the test log at debug level.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// server is a TCP server on 127.0.0.1 that runs handle on every accepted
// connection and counts the live ones.
type server struct {
	ln     net.Listener
	active atomic.Int32
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func startServer(t *testing.T, handle func(net.Conn)) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.active.Add(1)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer s.active.Add(-1)
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *server) addr() string { return s.ln.Addr().String() }

func echo(c net.Conn) { _, _ = io.Copy(c, c) }

// twoNodes returns a table with node a in region r1 and node b (listening
// on bAddrs) in region r2, and a's Net attached to it.
func twoNodes(t *testing.T, bAddrs ...string) (*Table, *Net) {
	t.Helper()
	tb := NewTable()
	tb.AddNode("b", "r2", bAddrs...)
	n := New("a", tb, testLog(t))
	tb.Attach(n)
	t.Cleanup(func() { _ = n.Close() })
	return tb, n
}

// assertNoConnGoroutines waits until no goroutine runs a wrapped
// connection's delay lines.
func assertNoConnGoroutines(t *testing.T) {
	t.Helper()
	var stacks []byte
	eventually(t, 5*time.Second, "connection goroutines to end", func() bool {
		buf := make([]byte, 1<<20)
		stacks = buf[:runtime.Stack(buf, true)]
		return !bytes.Contains(stacks, []byte("netfault.(*conn)."))
	})
}

// rtt writes one byte to an echo connection and times its return.
func rtt(t *testing.T, c net.Conn) time.Duration {
	t.Helper()
	start := time.Now()
	if _, err := c.Write([]byte{7}); err != nil {
		t.Fatalf("write: %v", err)
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read: %v", err)
	}
	return time.Since(start)
}
