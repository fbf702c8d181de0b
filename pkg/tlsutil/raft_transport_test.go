package tlsutil

import (
	"net"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// transport is a real Raft network transport over a TLS stream layer.
func transport(t *testing.T, r *Reloader, resolve func(raft.ServerAddress) (string, bool)) *raft.NetworkTransport {
	t.Helper()
	tr := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  raftLayer(t, r, resolve),
		MaxPool: 2,
		Timeout: 5 * time.Second,
		Logger:  hclog.NewNullLogger(),
	})
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// answer responds to AppendEntries arriving at tr until stop is closed and
// reports each request's leader id.
func answer(tr *raft.NetworkTransport, stop <-chan struct{}) <-chan string {
	got := make(chan string, 8)
	go func() {
		for {
			select {
			case <-stop:
				return
			case rpc := <-tr.Consumer():
				if req, ok := rpc.Command.(*raft.AppendEntriesRequest); ok {
					got <- string(req.ID)
				}
				rpc.Respond(&raft.AppendEntriesResponse{Term: 7, Success: true}, nil)
			}
		}
	}()
	return got
}

func TestRaftTransportOverTLS(t *testing.T) {
	p := newPKI(t)
	b := transport(t, p.node(t, "b"), nil)
	addrB := b.LocalAddr()
	a := transport(t, p.node(t, "a"), func(addr raft.ServerAddress) (string, bool) { return "b", addr == addrB })
	stop := make(chan struct{})
	defer close(stop)
	got := answer(b, stop)

	var resp raft.AppendEntriesResponse
	req := &raft.AppendEntriesRequest{RPCHeader: raft.RPCHeader{ID: []byte("a"), Addr: []byte(a.LocalAddr())}, Term: 7}
	if err := a.AppendEntries("b", addrB, req, &resp); err != nil {
		t.Fatalf("AppendEntries over mTLS: %v", err)
	}
	if !resp.Success || resp.Term != 7 {
		t.Fatalf("response %+v", resp)
	}
	if id := <-got; id != "a" {
		t.Fatalf("b saw leader %q", id)
	}

	// A transport holding a certificate from another CA cannot append.
	evil := transport(t, newPKI(t).node(t, "a"), nil)
	err := evil.AppendEntries("b", addrB, req, &resp)
	if err == nil {
		t.Fatal("AppendEntries from a foreign CA succeeded")
	}
	select {
	case id := <-got:
		t.Fatalf("b handled an AppendEntries from a foreign CA (leader %q)", id)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestRaftAcceptHandshakeTimeout(t *testing.T) {
	p := newPKI(t)
	l := raftLayer(t, p.node(t, "a"), nil)
	l.handshakeTimeout = 200 * time.Millisecond
	accepted := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			accepted <- err
			return
		}
		_, err = c.Read(make([]byte, 1))
		accepted <- err
	}()
	// A peer that connects and never speaks.
	raw, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	select {
	case err := <-accepted:
		if err == nil {
			t.Fatal("read from a silent peer succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a silent peer held the accepted connection past the handshake timeout")
	}
}
