package netfault

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// slack is the generous allowance for scheduling on a busy machine (and the
// race detector) on top of the delays a test expects.
const slack = 300 * time.Millisecond

func TestDelayAddsToEachDirection(t *testing.T) {
	const d = 60 * time.Millisecond
	srv := startServer(t, echo)
	tb, n := twoNodes(t, srv.addr())
	tb.AddNode("a", "r1")

	c, err := n.DialTimeout("tcp", srv.addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := rtt(t, c); got >= d {
		t.Fatalf("rtt before latency = %v", got)
	}
	// Set on a live connection: Apply must update it.
	tb.SetLatency("r1", "r2", d)
	for range 3 {
		got := rtt(t, c)
		if got < 2*d || got > 2*d+slack {
			t.Fatalf("rtt = %v, want within [%v, %v]", got, 2*d, 2*d+slack)
		}
	}
	tb.SetLatency("r1", "r2", 0)
	if got := rtt(t, c); got >= 2*d {
		t.Fatalf("rtt after latency removed = %v", got)
	}
}

// A 1 MiB echo in 4 KiB writes takes about one round trip, not one delay per
// write (which would be 256 * 2d).
func TestDelayDoesNotSerializeThroughput(t *testing.T) {
	const d = 50 * time.Millisecond
	srv := startServer(t, echo)
	tb, n := twoNodes(t, srv.addr())
	tb.AddNode("a", "r1")
	tb.SetLatency("r1", "r2", d)
	c, err := n.DialTimeout("tcp", srv.addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	payload := make([]byte, 1<<20)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	start := time.Now()
	werr := make(chan error, 1)
	go func() {
		for off := 0; off < len(payload); off += 4 << 10 {
			if _, err := c.Write(payload[off : off+4<<10]); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read: %v", err)
	}
	el := time.Since(start)
	if err := <-werr; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatal("echoed data differs")
	}
	if el < 2*d || el > 2*d+2*time.Second {
		t.Fatalf("1 MiB echo took %v, want about %v", el, 2*d)
	}
}

// Data written just before Close still arrives, late, followed by EOF.
func TestCloseFlushesDelayedWrites(t *testing.T) {
	const d = 80 * time.Millisecond
	got := make(chan []byte, 1)
	srv := startServer(t, func(c net.Conn) {
		b, _ := io.ReadAll(c)
		got <- b
	})
	tb, n := twoNodes(t, srv.addr())
	tb.AddNode("a", "r1")
	tb.SetLatency("r1", "r2", d)
	c, err := n.DialTimeout("tcp", srv.addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("edge"), 50<<10)
	start := time.Now()
	if _, err := c.Write(payload); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte{1}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close = %v", err)
	}
	select {
	case b := <-got:
		if !bytes.Equal(b, payload) {
			t.Fatalf("server got %d bytes, want %d", len(b), len(payload))
		}
		if el := time.Since(start); el < d {
			t.Fatalf("data arrived after %v, before the %v delay", el, d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server never saw EOF")
	}
	assertNoConnGoroutines(t)
}

func TestReadDeadlineWhileDataInFlight(t *testing.T) {
	const d = 150 * time.Millisecond
	srv := startServer(t, echo)
	tb, n := twoNodes(t, srv.addr())
	tb.AddNode("a", "r1")
	tb.SetLatency("r1", "r2", d)
	c, err := n.DialTimeout("tcp", srv.addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(d / 3))
	b := make([]byte, 1)
	_, err = c.Read(b)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read before the echo is due = %v, want a timeout", err)
	}
	_ = c.SetReadDeadline(time.Time{})
	if _, err := io.ReadFull(c, b); err != nil || b[0] != 'x' {
		t.Fatalf("read after clearing the deadline = %q, %v", b, err)
	}
	if el := time.Since(start); el < 2*d {
		t.Fatalf("echo after %v, before 2d", el)
	}
	// A deadline extended while a read waits applies to that read.
	_ = c.SetReadDeadline(time.Now().Add(time.Hour))
	done := make(chan error, 1)
	go func() { _, err := c.Read(b); done <- err }()
	time.Sleep(20 * time.Millisecond) // let the read block (not needed for correctness)
	_ = c.SetReadDeadline(time.Now())
	select {
	case err := <-done:
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("pending read = %v, want a timeout", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("pending read ignored the new deadline")
	}
}

// Write deadlines apply while the delay line is full.
func TestWriteDeadlineWhenQueueFull(t *testing.T) {
	block := make(chan struct{})
	srv := startServer(t, func(net.Conn) { <-block }) // never reads
	defer close(block)
	_, n := twoNodes(t, srv.addr())
	c, err := n.DialTimeout("tcp", srv.addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
	buf := make([]byte, 1<<20)
	var werr error
	for i := 0; i < 200 && werr == nil; i++ { // kernel buffers plus 4 MiB of queue fill well before 200 MiB
		_, werr = c.Write(buf)
	}
	var ne net.Error
	if !errors.As(werr, &ne) || !ne.Timeout() {
		t.Fatalf("write into a full queue = %v, want a timeout", werr)
	}
}
