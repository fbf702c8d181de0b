package tlsutil

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func raftLayer(t *testing.T, r *Reloader, resolve func(raft.ServerAddress) (string, bool)) *RaftStreamLayer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := RaftStreamLayerFunc(r, resolve, nil, nil)(ln, nil).(*RaftStreamLayer)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// echoOnce accepts one connection on l and echoes what it reads; the
// result is the accept side's error.
func echoOnce(l *RaftStreamLayer) <-chan error {
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 5)
		if _, err := io.ReadFull(c, buf); err != nil {
			done <- err
			return
		}
		_, err = c.Write(buf)
		done <- err
	}()
	return done
}

func TestRaftStreamLayerRoundTrip(t *testing.T) {
	p := newPKI(t)
	la := raftLayer(t, p.node(t, "a"), nil)
	addrA := raft.ServerAddress(la.Addr().String())
	lb := raftLayer(t, p.node(t, "b"), func(addr raft.ServerAddress) (string, bool) {
		return "a", addr == addrA
	})
	done := echoOnce(la)
	c, err := lb.Dial(addrA, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 5)
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, []byte("hello")) {
		t.Fatalf("read %q, %v", got, err)
	}
	if err := <-done; err != nil {
		t.Fatalf("accept side: %v", err)
	}
	if la.Addr().String() != string(addrA) {
		t.Fatal("Addr changed")
	}
}

func TestRaftStreamLayerRejects(t *testing.T) {
	p, evil := newPKI(t), newPKI(t)
	la := raftLayer(t, p.node(t, "a"), nil)
	addrA := raft.ServerAddress(la.Addr().String())

	t.Run("dialer from another CA", func(t *testing.T) {
		done := echoOnce(la)
		lm := raftLayer(t, evil.node(t, "b"), nil)
		if c, err := lm.Dial(addrA, 5*time.Second); err == nil {
			// TLS 1.3: the refusal of the client certificate arrives
			// after the client's handshake; a write-read then fails.
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Write([]byte("hello"))
			if _, err := io.ReadFull(c, make([]byte, 5)); err == nil {
				t.Fatal("foreign node exchanged bytes with a")
			}
			c.Close()
		}
		if err := <-done; err == nil {
			t.Fatal("a accepted a node from another CA")
		}
	})
	t.Run("listener from another CA", func(t *testing.T) {
		lm := raftLayer(t, evil.node(t, "a"), nil)
		go func() {
			if c, err := lm.Accept(); err == nil {
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				_, _ = c.Read(make([]byte, 1))
				c.Close()
			}
		}()
		lb := raftLayer(t, p.node(t, "b"), nil)
		_, err := lb.Dial(raft.ServerAddress(lm.Addr().String()), 5*time.Second)
		if err == nil || !strings.Contains(err.Error(), "not from the cluster CA") {
			t.Fatalf("dialed a server from another CA: %v", err)
		}
	})
	t.Run("address resolves to another node", func(t *testing.T) {
		go func() {
			if c, err := la.Accept(); err == nil {
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				_, _ = c.Read(make([]byte, 1))
				c.Close()
			}
		}()
		lb := raftLayer(t, p.node(t, "b"), func(raft.ServerAddress) (string, bool) { return "c", true })
		if _, err := lb.Dial(addrA, 5*time.Second); err == nil || !strings.Contains(err.Error(), `want node "c"`) {
			t.Fatalf("dialed node a as c: %v", err)
		}
	})
	t.Run("operator client certificate", func(t *testing.T) {
		done := echoOnce(la)
		ops := p.reloader(t, CertRequest{Identity: ClientIdentity("ops")})
		lo := raftLayer(t, ops, nil)
		if c, err := lo.Dial(addrA, 5*time.Second); err == nil {
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Write([]byte("hello"))
			_, _ = io.ReadFull(c, make([]byte, 5))
			c.Close()
		}
		if err := <-done; err == nil {
			t.Fatal("raft accepted an operator client certificate")
		}
	})
}

func TestRaftStreamLayerDialTimeout(t *testing.T) {
	p := newPKI(t)
	// A listener that accepts but never speaks TLS.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	release := make(chan struct{})
	defer close(release)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			<-release // silent until the test is over
			c.Close()
		}
	}()
	lb := raftLayer(t, p.node(t, "b"), nil)
	start := time.Now()
	if _, err := lb.Dial(raft.ServerAddress(ln.Addr().String()), 300*time.Millisecond); err == nil {
		t.Fatal("handshake with a silent server succeeded")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Dial took %v, past its 300ms timeout", d)
	}
}
