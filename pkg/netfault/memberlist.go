package netfault

import (
	"bytes"
	"net"
	"time"

	"github.com/hashicorp/memberlist"
)

// mlTransport wraps a memberlist transport: packets are dropped or sent
// late, stream dials go through the Net. Inbound traffic is not touched.
type mlTransport struct {
	n     *Net
	inner memberlist.NodeAwareTransport
}

var _ memberlist.NodeAwareTransport = (*mlTransport)(nil)

// MemberlistTransport wraps a memberlist transport (e.g.
// *memberlist.NetTransport) so WriteToAddress/WriteTo drop or delay packets
// (a delayed packet is copied and sent later without blocking the caller)
// and DialAddressTimeout/DialTimeout go through the Net. With nil rules the
// inner transport is returned (as a NodeAwareTransport).
func (n *Net) MemberlistTransport(inner memberlist.Transport) memberlist.NodeAwareTransport {
	na, ok := inner.(memberlist.NodeAwareTransport)
	if !ok {
		na = nodeAware{inner}
	}
	if n.rules == nil {
		return na
	}
	return &mlTransport{n: n, inner: na}
}

// FinalAdvertiseAddr is the inner transport's.
func (t *mlTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	return t.inner.FinalAdvertiseAddr(ip, port)
}

// PacketCh is the inner transport's: inbound packets are not wrapped.
func (t *mlTransport) PacketCh() <-chan *memberlist.Packet { return t.inner.PacketCh() }

// StreamCh is the inner transport's: inbound streams are not wrapped.
func (t *mlTransport) StreamCh() <-chan net.Conn { return t.inner.StreamCh() }

// Shutdown drops this transport's delayed packets, then shuts the inner one.
func (t *mlTransport) Shutdown() error {
	t.n.cancelPackets(t)
	return t.inner.Shutdown()
}

// WriteTo sends b to addr subject to the rules.
func (t *mlTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.packet(b, addr, func(p []byte) (time.Time, error) { return t.inner.WriteTo(p, addr) })
}

// WriteToAddress sends b to a subject to the rules.
func (t *mlTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	return t.packet(b, a.Addr, func(p []byte) (time.Time, error) { return t.inner.WriteToAddress(p, a) })
}

// packet drops, delays or sends b. A dropped packet is reported sent, as the
// network would lose it silently; a delayed one is reported sent now, so RTT
// measurements include the delay.
func (t *mlTransport) packet(b []byte, addr string, send func([]byte) (time.Time, error)) (time.Time, error) {
	drop, delay := t.n.link(addr)
	switch {
	case drop:
		return time.Now(), nil
	case delay <= 0:
		return send(b)
	}
	p := bytes.Clone(b)
	t.n.later(delay, t, func() {
		if _, err := send(p); err != nil {
			t.n.log.Debug("delayed packet not sent", "to", addr, "err", err)
		}
	})
	return time.Now(), nil
}

// DialTimeout dials addr through the Net.
func (t *mlTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.n.dialVia("tcp", NormalizeAddr(addr), func() (net.Conn, error) { return t.inner.DialTimeout(addr, timeout) })
}

// DialAddressTimeout dials a through the Net.
func (t *mlTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	return t.n.dialVia("tcp", NormalizeAddr(a.Addr), func() (net.Conn, error) { return t.inner.DialAddressTimeout(a, timeout) })
}

// nodeAware adapts a plain memberlist.Transport, as memberlist itself does.
type nodeAware struct{ memberlist.Transport }

func (t nodeAware) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	return t.WriteTo(b, a.Addr)
}

func (t nodeAware) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	return t.DialTimeout(a.Addr, timeout)
}
