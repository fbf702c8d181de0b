package netfault

import (
	"fmt"
	"io"
	"log"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// newNetTransport binds a memberlist transport on an ephemeral 127.0.0.1
// port (TCP and UDP).
func newNetTransport(t *testing.T) (*memberlist.NetTransport, string) {
	t.Helper()
	nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
		BindAddrs: []string{"127.0.0.1"}, Logger: log.New(io.Discard, "", 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	return nt, fmt.Sprintf("127.0.0.1:%d", nt.GetAutoBindPort())
}

func TestPacketsDroppedAndDelayed(t *testing.T) {
	const d = 80 * time.Millisecond
	rx, rxAddr := newNetTransport(t)
	defer rx.Shutdown()
	tx, _ := newNetTransport(t)
	tb, n := twoNodes(t, rxAddr)
	tb.AddNode("a", "r1")
	wrapped := n.MemberlistTransport(tx)
	defer wrapped.Shutdown()

	recv := func(within time.Duration) (*memberlist.Packet, bool) {
		select {
		case p := <-rx.PacketCh():
			return p, true
		case <-time.After(within):
			return nil, false
		}
	}

	if _, err := wrapped.WriteTo([]byte("plain"), rxAddr); err != nil {
		t.Fatal(err)
	}
	if p, ok := recv(2 * time.Second); !ok || string(p.Buf) != "plain" {
		t.Fatalf("undelayed packet: %v %v", p, ok)
	}

	tb.SetLatency("r1", "r2", d)
	buf := []byte("late")
	sent, err := wrapped.WriteToAddress(buf, memberlist.Address{Addr: rxAddr, Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(sent); el > d/2 {
		t.Fatalf("WriteToAddress blocked for %v", el)
	}
	copy(buf, "XXXX") // the caller may reuse its buffer at once
	p, ok := recv(2 * time.Second)
	if !ok || string(p.Buf) != "late" {
		t.Fatalf("delayed packet: %v %v", p, ok)
	}
	if el := p.Timestamp.Sub(sent); el < d || el > d+slack {
		t.Fatalf("packet arrived after %v, want about %v", el, d)
	}

	tb.Isolate("b")
	if _, err := wrapped.WriteTo([]byte("lost"), rxAddr); err != nil {
		t.Fatalf("dropped packet reported an error: %v", err)
	}
	if p, ok := recv(d + 300*time.Millisecond); ok {
		t.Fatalf("dropped packet arrived: %q", p.Buf)
	}
	if _, err := wrapped.DialTimeout(rxAddr, time.Second); err == nil {
		t.Fatal("stream dial to an isolated node succeeded")
	}

	// Packets still in their delay when the transport shuts down are not sent.
	tb.Heal()
	tb.SetLatency("r1", "r2", 200*time.Millisecond)
	if _, err := wrapped.WriteTo([]byte("never"), rxAddr); err != nil {
		t.Fatal(err)
	}
	if err := wrapped.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if p, ok := recv(400 * time.Millisecond); ok {
		t.Fatalf("packet sent after shutdown: %q", p.Buf)
	}
}

func TestMemberlistStreamsGoThroughNet(t *testing.T) {
	srv := startServer(t, echo)
	_, n := twoNodes(t, srv.addr())
	tx, _ := newNetTransport(t)
	wrapped := n.MemberlistTransport(tx)
	defer wrapped.Shutdown()
	c, err := wrapped.DialAddressTimeout(memberlist.Address{Addr: srv.addr(), Name: "b"}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if n.Conns() != 1 {
		t.Fatalf("stream not tracked: Conns() = %d", n.Conns())
	}
	rtt(t, c)
	_ = c.Close()
}

// member starts a memberlist node whose traffic goes through its own Net.
func member(t *testing.T, name string, tb *Table) (*memberlist.Memberlist, string) {
	t.Helper()
	nt, addr := newNetTransport(t)
	tb.AddNode(name, "r", addr)
	n := New(name, tb, testLog(t))
	tb.Attach(n)
	cfg := memberlist.DefaultLocalConfig()
	cfg.Name = name
	cfg.BindAddr = "127.0.0.1"
	_, port, _ := net.SplitHostPort(addr)
	fmt.Sscan(port, &cfg.BindPort)
	cfg.AdvertisePort = cfg.BindPort
	cfg.Transport = n.MemberlistTransport(nt)
	cfg.ProbeInterval = 100 * time.Millisecond
	cfg.ProbeTimeout = 50 * time.Millisecond
	cfg.SuspicionMult = 2
	cfg.SuspicionMaxTimeoutMult = 2
	cfg.GossipInterval = 20 * time.Millisecond
	cfg.PushPullInterval = 300 * time.Millisecond
	cfg.TCPTimeout = 200 * time.Millisecond
	cfg.GossipToTheDeadTime = 2 * time.Second
	cfg.LogOutput = io.Discard
	m, err := memberlist.Create(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = m.Shutdown()
		_ = n.Close()
	})
	return m, addr
}

func TestMemberlistPairSeesIsolationAndHeal(t *testing.T) {
	tb := NewTable()
	ma, addrA := member(t, "a", tb)
	mb, addrB := member(t, "b", tb)
	if _, err := mb.Join([]string{addrA}); err != nil {
		t.Fatal(err)
	}
	both := func(want int) func() bool {
		return func() bool { return ma.NumMembers() == want && mb.NumMembers() == want }
	}
	eventually(t, 5*time.Second, "both to see two members", both(2))

	tb.Isolate("a")
	eventually(t, 10*time.Second, "each side to declare the other failed", both(1))

	tb.Heal()
	// Like serf's reconnect loop: a failed member is re-joined, not waited for.
	attempts := 0
	eventually(t, 10*time.Second, "both alive again after heal", func() bool {
		if both(2)() {
			return true
		}
		if attempts < 50 {
			attempts++
			_, _ = mb.Join([]string{addrA})
			_, _ = ma.Join([]string{addrB})
		}
		return false
	})
}
