package router

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

func TestPoolReuseAndDrop(t *testing.T) {
	addr := startNode(t, &fakeBackend{info: &edgev1.InfoResponse{NodeId: "n2"}})
	var dials atomic.Int32
	dial := func(ctx context.Context, a string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, "tcp", a)
	}
	pool := newTestPool(t, PoolConfig{Dialer: dial})
	ctx := testCtx(t)

	for i := 0; i < 3; i++ {
		c, err := pool.Client(addr)
		if err != nil {
			t.Fatalf("Client: %v", err)
		}
		if _, err := c.Ping(ctx, &edgev1.PingRequest{}); err != nil {
			t.Fatalf("Ping %d: %v", i, err)
		}
	}
	if pool.Len() != 1 || dials.Load() != 1 {
		t.Fatalf("after 3 calls: %d connections, %d dials; want 1, 1", pool.Len(), dials.Load())
	}
	first := pool.conns[addr]

	pool.Drop(addr)
	if pool.Len() != 0 {
		t.Fatalf("after Drop: %d connections, want 0", pool.Len())
	}
	pool.Drop(addr) // dropping an unknown address is a no-op

	c, err := pool.Client(addr)
	if err != nil {
		t.Fatalf("Client after Drop: %v", err)
	}
	if _, err := c.Ping(ctx, &edgev1.PingRequest{}); err != nil {
		t.Fatalf("Ping after Drop: %v", err)
	}
	if pool.conns[addr] == first {
		t.Fatal("Client after Drop reused the dropped connection")
	}
	if dials.Load() != 2 {
		t.Fatalf("dials after Drop and a call = %d, want 2", dials.Load())
	}
}

func TestPoolClose(t *testing.T) {
	pool, err := NewPool(PoolConfig{})
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	if _, err := pool.Client("127.0.0.1:1"); err != nil {
		t.Fatalf("Client: %v", err)
	}
	if err := pool.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := pool.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := pool.Client("127.0.0.1:1"); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("Client after Close: %v, want ErrPoolClosed", err)
	}
}

func TestPoolEmptyAddress(t *testing.T) {
	pool := newTestPool(t, PoolConfig{})
	if _, err := pool.Client(""); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Client(\"\") = %v, want ErrUnreachable", err)
	}
}

func TestPoolConfigValidate(t *testing.T) {
	if _, err := NewPool(PoolConfig{KeepaliveTime: time.Second}); err == nil {
		t.Error("accepted a keepalive below what servers permit")
	}
	if _, err := NewPool(PoolConfig{MaxBackoff: -time.Second}); err == nil {
		t.Error("accepted a negative backoff")
	}
}
