package netfault

import (
	"bytes"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// chunkSize bounds one read from the socket and one queued write.
	chunkSize = 32 << 10
	// queueChunks bounds the data in flight per direction (4 MiB): a full
	// queue blocks the writer, or stops reading the socket, like a TCP window.
	queueChunks = 128
	// refreshEvery is how stale a connection's view of its link may get
	// before the next read or write asks the rules again; Apply refreshes at
	// once.
	refreshEvery = time.Second
	// lingerTimeout bounds how long a closed connection keeps flushing
	// delayed writes to a peer that does not read them.
	lingerTimeout = 5 * time.Second
)

// chunk is a piece of a stream in a delay line. For writes, t is when it is
// due on the wire; for reads, when it arrived from the wire.
type chunk struct {
	data []byte
	err  error
	t    time.Time
}

// linkState is a connection's cached answer from the rules.
type linkState struct {
	delay time.Duration
	at    time.Time
}

// conn is a connection dialed through a Net: both directions run through
// delay lines, and the link is re-checked against the rules.
type conn struct {
	raw    net.Conn
	owner  *Net
	remote string
	state  atomic.Pointer[linkState]

	wq chan chunk // written, waiting for their due time
	rq chan chunk // arrived, waiting for the reader

	rmu   sync.Mutex // serializes Read and guards the fields below
	cur   chunk
	ready bool // cur holds data or an error not yet handed over
	due   time.Time

	wmu sync.Mutex // serializes Write

	rdl, wdl *deadline

	done     chan struct{} // closed when the connection ends for its user
	kill     chan struct{} // closed when the goroutines must stop at once
	endOnce  sync.Once
	killOnce sync.Once
	err      error // why it ended; written once, before done is closed
	live     atomic.Int32
	wg       sync.WaitGroup
}

var _ net.Conn = (*conn)(nil)

func newConn(owner *Net, raw net.Conn, remote string, delay time.Duration) *conn {
	c := &conn{
		raw: raw, owner: owner, remote: remote,
		wq: make(chan chunk, queueChunks), rq: make(chan chunk, queueChunks),
		rdl: newDeadline(), wdl: newDeadline(),
		done: make(chan struct{}), kill: make(chan struct{}),
	}
	c.state.Store(&linkState{delay: delay, at: time.Now()})
	c.live.Store(2)
	c.wg.Add(2)
	go c.writeLoop()
	go c.readLoop()
	return c
}

// Read hands over data d after it arrived from the wire.
func (c *conn) Read(b []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.check()
	select {
	case <-c.done:
		return 0, c.opErr("read", c.err)
	case <-c.rdl.wait():
		return 0, c.opErr("read", errTimeout)
	default:
	}
	if !c.ready {
		select {
		case ch := <-c.rq:
			c.cur, c.ready, c.due = ch, true, ch.t.Add(c.delay())
		case <-c.done:
			return 0, c.opErr("read", c.err)
		case <-c.rdl.wait():
			return 0, c.opErr("read", errTimeout)
		}
	}
	if wait := time.Until(c.due); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.done:
			return 0, c.opErr("read", c.err)
		case <-c.rdl.wait():
			return 0, c.opErr("read", errTimeout)
		}
	}
	if len(c.cur.data) == 0 {
		return 0, c.cur.err // sticky, and returned as is so io.EOF stays io.EOF
	}
	n := copy(b, c.cur.data)
	c.cur.data = c.cur.data[n:]
	if len(c.cur.data) == 0 {
		c.ready = false
	}
	return n, nil
}

// Write queues a copy of b to go on the wire d from now. It blocks only
// while the delay line is full.
func (c *conn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.check()
	select {
	case <-c.done:
		return 0, c.opErr("write", c.err)
	case <-c.wdl.wait():
		return 0, c.opErr("write", errTimeout)
	default:
	}
	due := time.Now().Add(c.delay())
	n := 0
	for n < len(b) {
		m := min(len(b)-n, chunkSize)
		select {
		case c.wq <- chunk{data: bytes.Clone(b[n : n+m]), t: due}:
			n += m
		case <-c.done:
			return n, c.opErr("write", c.err)
		case <-c.wdl.wait():
			return n, c.opErr("write", errTimeout)
		}
	}
	return n, nil
}

// Close ends the connection for its user at once; data already written is
// still delivered on time (bounded by lingerTimeout), as a kernel would.
func (c *conn) Close() error {
	first := c.end(net.ErrClosed)
	c.rdl.stop()
	c.wdl.stop()
	if !first {
		return nil
	}
	_ = c.raw.SetReadDeadline(time.Unix(1, 0)) // wakes the read loop
	_ = c.raw.SetWriteDeadline(time.Now().Add(c.delay() + lingerTimeout))
	return nil
}

// LocalAddr returns the local address of the underlying connection.
func (c *conn) LocalAddr() net.Addr { return c.raw.LocalAddr() }

// RemoteAddr returns the remote address of the underlying connection.
func (c *conn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// SetDeadline sets the read and write deadlines.
func (c *conn) SetDeadline(t time.Time) error {
	c.rdl.set(t)
	c.wdl.set(t)
	return nil
}

// SetReadDeadline sets the deadline for pending and future reads.
func (c *conn) SetReadDeadline(t time.Time) error { c.rdl.set(t); return nil }

// SetWriteDeadline sets the deadline for pending and future writes.
func (c *conn) SetWriteDeadline(t time.Time) error { c.wdl.set(t); return nil }

func (c *conn) delay() time.Duration { return c.state.Load().delay }

// check asks the rules again when the cached answer is stale.
func (c *conn) check() {
	if time.Since(c.state.Load().at) >= refreshEvery {
		c.evaluate()
	}
}

// evaluate asks the rules about the link and cuts the connection if it is
// now dropped. It reports whether it cut.
func (c *conn) evaluate() bool {
	drop, delay := c.owner.rules.Link(c.owner.local, c.remote)
	c.state.Store(&linkState{delay: delay, at: time.Now()})
	if !drop {
		return false
	}
	select {
	case <-c.done:
		c.terminate(nil)
		return false
	default:
	}
	c.terminate(fmt.Errorf("%w: %s -> %s", ErrDropped, c.owner.local, c.remote))
	return true
}

// end marks the connection ended with err; it reports whether this call did.
func (c *conn) end(err error) bool {
	first := false
	c.endOnce.Do(func() {
		c.err = err
		close(c.done)
		first = true
	})
	return first
}

// terminate ends the connection with err (if not ended yet) and stops its
// goroutines now, discarding data in flight.
func (c *conn) terminate(err error) {
	if err == nil {
		err = net.ErrClosed
	}
	c.end(err)
	c.killOnce.Do(func() {
		close(c.kill)
		_ = c.raw.Close()
	})
}

// wait blocks until both goroutines have returned.
func (c *conn) wait() { c.wg.Wait() }

// exited is called by each goroutine on return; the last one untracks.
func (c *conn) exited() {
	if c.live.Add(-1) == 0 {
		c.owner.untrack(c)
	}
	c.wg.Done()
}

func (c *conn) writeLoop() {
	defer c.exited()
	defer func() { _ = c.raw.Close() }()
	for {
		select {
		case ch := <-c.wq:
			if !c.send(ch) {
				return
			}
		case <-c.done:
			for { // flush what was written before Close
				select {
				case ch := <-c.wq:
					if !c.send(ch) {
						return
					}
				default:
					return
				}
			}
		case <-c.kill:
			return
		}
	}
}

// send waits until ch is due and puts it on the wire.
func (c *conn) send(ch chunk) bool {
	if wait := time.Until(ch.t); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.kill:
			t.Stop()
			return false
		}
	}
	if _, err := c.raw.Write(ch.data); err != nil {
		c.terminate(err)
		return false
	}
	return true
}

func (c *conn) readLoop() {
	defer c.exited()
	for {
		buf := make([]byte, chunkSize)
		n, err := c.raw.Read(buf)
		now := time.Now()
		if n > 0 && !c.deliver(chunk{data: buf[:n], t: now}) {
			return
		}
		if err != nil {
			c.deliver(chunk{err: err, t: now})
			return
		}
	}
}

func (c *conn) deliver(ch chunk) bool {
	select {
	case c.rq <- ch:
		return true
	case <-c.done:
		return false
	}
}

func (c *conn) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: c.raw.LocalAddr().Network(), Source: c.raw.LocalAddr(), Addr: c.raw.RemoteAddr(), Err: err}
}
