package netfault

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

func TestDroppedDialFailsFast(t *testing.T) {
	srv := startServer(t, echo)
	tb, n := twoNodes(t, srv.addr())
	tb.Isolate("b")

	start := time.Now()
	_, err := n.DialTimeout("tcp", srv.addr(), 10*time.Second)
	if !errors.Is(err, ErrDropped) {
		t.Fatalf("dial error = %v, want ErrDropped", err)
	}
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Fatalf("dropped dial took %v", el)
	}
	_, err = n.DialContext(context.Background(), "tcp", "passthrough:///"+srv.addr())
	if !errors.Is(err, ErrDropped) {
		t.Fatalf("grpc-style dial error = %v, want ErrDropped", err)
	}

	tb.Heal()
	c, err := n.DialTimeout("tcp", srv.addr(), time.Second)
	if err != nil {
		t.Fatalf("dial after heal: %v", err)
	}
	if d := rtt(t, c); d > time.Second {
		t.Fatalf("echo rtt %v", d)
	}
	_ = c.Close()
	assertNoConnGoroutines(t)
}

// Both nodes dial each other; a partition cuts both connections on both
// ends, and new dials work after Heal.
func TestPartitionCutsLiveConnsBothWays(t *testing.T) {
	srvA := startServer(t, echo)
	srvB := startServer(t, echo)
	tb := NewTable()
	tb.AddNode("a", "r", srvA.addr())
	tb.AddNode("b", "r", srvB.addr())
	na, nb := New("a", tb, testLog(t)), New("b", tb, testLog(t))
	tb.Attach(na)
	tb.Attach(nb)
	t.Cleanup(func() { _ = na.Close(); _ = nb.Close() })

	ab, err := na.DialTimeout("tcp", srvB.addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ba, err := nb.DialTimeout("tcp", srvA.addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rtt(t, ab)
	rtt(t, ba)

	// A reader blocked on each dialed conn must be woken by the cut.
	var woke atomic.Int32
	for _, c := range []net.Conn{ab, ba} {
		go func() {
			_, err := c.Read(make([]byte, 1))
			if errors.Is(err, ErrDropped) {
				woke.Add(1)
			}
		}()
	}
	tb.Partition([]string{"a"}, []string{"b"})

	eventually(t, 2*time.Second, "blocked readers to fail with ErrDropped", func() bool { return woke.Load() == 2 })
	for _, c := range []net.Conn{ab, ba} {
		if _, err := c.Write([]byte{1}); !errors.Is(err, ErrDropped) {
			t.Fatalf("write after cut = %v, want ErrDropped", err)
		}
	}
	eventually(t, 2*time.Second, "accepting sides to see the peer gone", func() bool {
		return srvA.active.Load() == 0 && srvB.active.Load() == 0
	})
	if _, err := na.DialTimeout("tcp", srvB.addr(), time.Second); !errors.Is(err, ErrDropped) {
		t.Fatalf("a->b dial during partition = %v", err)
	}
	if _, err := nb.DialTimeout("tcp", srvA.addr(), time.Second); !errors.Is(err, ErrDropped) {
		t.Fatalf("b->a dial during partition = %v", err)
	}

	tb.Heal()
	for _, d := range []struct {
		n    *Net
		addr string
	}{{na, srvB.addr()}, {nb, srvA.addr()}} {
		c, err := d.n.DialTimeout("tcp", d.addr, time.Second)
		if err != nil {
			t.Fatalf("dial after heal: %v", err)
		}
		rtt(t, c)
		_ = c.Close()
	}
	_ = ab.Close()
	_ = ba.Close()
	assertNoConnGoroutines(t)
	if na.Conns() != 0 || nb.Conns() != 0 {
		t.Fatalf("tracked conns after close: %d, %d", na.Conns(), nb.Conns())
	}
}

// funcRules lets a test change its answer without calling Apply.
type funcRules struct{ drop atomic.Bool }

func (r *funcRules) Link(string, string) (bool, time.Duration) { return r.drop.Load(), 0 }

// A rule change the Net is not told about is still noticed by the next
// read or write once the cached answer is stale.
func TestUnappliedRuleChangeNoticedLazily(t *testing.T) {
	srv := startServer(t, echo)
	r := &funcRules{}
	n := New("a", r, testLog(t))
	defer n.Close()
	c, err := n.DialTimeout("tcp", srv.addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rtt(t, c)
	r.drop.Store(true)
	eventually(t, 3*refreshEvery, "a write to fail with ErrDropped", func() bool {
		_, err := c.Write([]byte{1})
		return errors.Is(err, ErrDropped)
	})
}

func TestNetCloseCutsConnsAndRefusesDials(t *testing.T) {
	srv := startServer(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	tb := NewTable()
	tb.AddNode("b", "r2", srv.addr())
	tb.AddNode("a", "r1")
	tb.SetLatency("r1", "r2", 200*time.Millisecond)
	n := New("a", tb, testLog(t))
	tb.Attach(n)
	var conns []net.Conn
	for range 5 {
		c, err := n.DialTimeout("tcp", srv.addr(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(make([]byte, 100<<10)); err != nil { // in flight when Close comes
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	if got := n.Conns(); got != 5 {
		t.Fatalf("Conns() = %d, want 5", got)
	}
	_ = n.Close()
	if got := n.Conns(); got != 0 {
		t.Fatalf("Conns() after Close = %d", got)
	}
	assertNoConnGoroutines(t)
	if _, err := conns[0].Write([]byte{1}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Net.Close = %v, want net.ErrClosed", err)
	}
	if _, err := n.DialTimeout("tcp", srv.addr(), time.Second); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("dial after Close = %v, want net.ErrClosed", err)
	}
	tb.Isolate("b") // a closed Net is detached: nothing to apply to
	tb.mu.Lock()
	attached := len(tb.nets)
	tb.mu.Unlock()
	if attached != 0 {
		t.Fatalf("%d nets still attached", attached)
	}
}

func TestPassThroughWithoutRules(t *testing.T) {
	srv := startServer(t, echo)
	n := New("a", nil, nil)
	c, err := n.DialContext(context.Background(), "tcp", "passthrough:///"+srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*net.TCPConn); !ok {
		t.Fatalf("nil rules wrapped the conn: %T", c)
	}
	rtt(t, c)
}
