package netfault

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// errTimeout is what reads and writes past their deadline fail with; it is a
// net.Error whose Timeout() is true, as with real sockets.
var errTimeout = os.ErrDeadlineExceeded

// Net is one node's view of the network: it wraps the node's dials,
// connections and packets with the Rules. Create it with New; the zero value
// is not usable. Methods are safe for concurrent use.
type Net struct {
	local  string
	rules  Rules
	log    *slog.Logger
	dialer net.Dialer

	mu      sync.Mutex
	closed  bool
	conns   map[*conn]struct{}
	packets map[*time.Timer]*mlTransport // delayed packets not yet sent
	onClose []func()
}

// New returns the network view of localNode. With nil rules the Net is a
// pass-through: nothing is wrapped, dropped or delayed. A nil log discards.
func New(localNode string, rules Rules, log *slog.Logger) *Net {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Net{
		local:   localNode,
		rules:   rules,
		log:     log.With("component", "netfault", "node", localNode),
		conns:   make(map[*conn]struct{}),
		packets: make(map[*time.Timer]*mlTransport),
	}
}

// Local returns the node id the Net speaks for.
func (n *Net) Local() string { return n.local }

// DialContext dials addr (host:port, a gRPC "scheme:///" prefix allowed)
// unless the rules drop the link, in which case it fails at once with an
// error wrapping ErrDropped. TCP connections are wrapped: see the package
// comment.
func (n *Net) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	target := NormalizeAddr(addr)
	if n.rules == nil {
		return n.dialer.DialContext(ctx, network, target)
	}
	return n.dialVia(network, target, func() (net.Conn, error) {
		return n.dialer.DialContext(ctx, network, target)
	})
}

// DialTimeout is DialContext with a timeout instead of a context.
func (n *Net) DialTimeout(network, addr string, timeout time.Duration) (net.Conn, error) {
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return n.DialContext(ctx, network, addr)
}

// dialVia checks the link to target, dials with dial, and wraps the result.
func (n *Net) dialVia(network, target string, dial func() (net.Conn, error)) (net.Conn, error) {
	if n.isClosed() {
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("netfault: %w", net.ErrClosed)}
	}
	drop, delay := n.rules.Link(n.local, target)
	if drop {
		n.log.Debug("dial dropped", "to", target)
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("%w: %s -> %s", ErrDropped, n.local, target)}
	}
	raw, err := dial()
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(network, "tcp") && network != "unix" {
		return raw, nil // datagram "connections" keep their boundaries: not wrapped
	}
	return n.track(raw, target, delay), nil
}

// track wraps raw and remembers it until its goroutines end.
func (n *Net) track(raw net.Conn, target string, delay time.Duration) net.Conn {
	c := newConn(n, raw, target, delay)
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		c.terminate(net.ErrClosed)
		c.wait()
		return c
	}
	n.conns[c] = struct{}{}
	n.mu.Unlock()
	return c
}

func (n *Net) untrack(c *conn) {
	n.mu.Lock()
	delete(n.conns, c)
	n.mu.Unlock()
}

// Apply re-evaluates every tracked connection against the rules: those now
// dropped are closed, the others take the current delay. Rules owners call
// it after each change; Table does so for the Nets attached to it.
func (n *Net) Apply() {
	if n.rules == nil {
		return
	}
	cut := 0
	for _, c := range n.snapshot() {
		if c.evaluate() {
			cut++
		}
	}
	if cut > 0 {
		n.log.Debug("connections cut", "count", cut)
	}
}

// Conns returns how many wrapped connections are live (their goroutines not
// yet ended), for tests and debugging.
func (n *Net) Conns() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.conns)
}

// Close cuts every tracked connection, drops delayed packets not yet sent,
// detaches the Net from its rule tables and waits for its goroutines. Dials
// through a closed Net fail. Close is idempotent.
func (n *Net) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	for t := range n.packets {
		t.Stop()
	}
	clear(n.packets)
	hooks := n.onClose
	n.onClose = nil
	n.mu.Unlock()

	for _, f := range hooks {
		f()
	}
	conns := n.snapshot()
	for _, c := range conns {
		c.terminate(net.ErrClosed)
	}
	for _, c := range conns {
		c.wait()
	}
	return nil
}

func (n *Net) isClosed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed
}

// addCloseHook runs f when the Net closes (at once if it already has).
func (n *Net) addCloseHook(f func()) {
	n.mu.Lock()
	if !n.closed {
		n.onClose = append(n.onClose, f)
		n.mu.Unlock()
		return
	}
	n.mu.Unlock()
	f()
}

func (n *Net) snapshot() []*conn {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]*conn, 0, len(n.conns))
	for c := range n.conns {
		out = append(out, c)
	}
	return out
}

// link asks the rules about traffic to addr; nil rules let everything pass.
func (n *Net) link(addr string) (bool, time.Duration) {
	if n.rules == nil {
		return false, 0
	}
	return n.rules.Link(n.local, NormalizeAddr(addr))
}

// later runs send after d unless the Net closes or owner shuts down first.
func (n *Net) later(d time.Duration, owner *mlTransport, send func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		n.mu.Lock()
		_, ok := n.packets[t]
		delete(n.packets, t)
		n.mu.Unlock()
		if ok {
			send()
		}
	})
	n.packets[t] = owner
}

// cancelPackets drops the delayed packets owner has not sent yet.
func (n *Net) cancelPackets(owner *mlTransport) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for t, o := range n.packets {
		if o == owner {
			t.Stop()
			delete(n.packets, t)
		}
	}
}
