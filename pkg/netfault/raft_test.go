package netfault

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func TestRaftStreamLayer(t *testing.T) {
	srv := startServer(t, echo)
	tb, n := twoNodes(t, srv.addr())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adv := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
	layer := n.RaftStreamLayer(ln, adv)
	defer layer.Close()
	if layer.Addr() != adv {
		t.Fatalf("Addr() = %v, want the advertised address", layer.Addr())
	}
	if got := n.RaftStreamLayer(ln, nil).Addr(); got.String() != ln.Addr().String() {
		t.Fatalf("Addr() without advertise = %v", got)
	}

	c, err := layer.Dial(raft.ServerAddress(srv.addr()), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rtt(t, c)
	tb.Isolate("b")
	if _, err := c.Write([]byte{1}); !errors.Is(err, ErrDropped) {
		t.Fatalf("write on a cut raft conn = %v", err)
	}
	if _, err := layer.Dial(raft.ServerAddress(srv.addr()), time.Second); !errors.Is(err, ErrDropped) {
		t.Fatalf("raft dial while isolated = %v", err)
	}

	// Accept is the listener's, unwrapped.
	accepted := make(chan error, 1)
	go func() {
		c, err := layer.Accept()
		if err == nil {
			_ = c.Close()
		}
		accepted <- err
	}()
	d, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := <-accepted; err != nil {
		t.Fatalf("accept: %v", err)
	}
}
