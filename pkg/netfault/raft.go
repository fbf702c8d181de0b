package netfault

import (
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// raftLayer is a raft.StreamLayer that accepts on a listener and dials
// through a Net.
type raftLayer struct {
	net.Listener
	n         *Net
	advertise net.Addr
}

var _ raft.StreamLayer = (*raftLayer)(nil)

// RaftStreamLayer returns a raft.StreamLayer that accepts on ln and dials
// through the Net. A nil advertise address means ln.Addr(). Closing the
// layer closes ln.
func (n *Net) RaftStreamLayer(ln net.Listener, advertise net.Addr) raft.StreamLayer {
	return &raftLayer{Listener: ln, n: n, advertise: advertise}
}

// Addr is the address other servers dial to reach this one.
func (l *raftLayer) Addr() net.Addr {
	if l.advertise != nil {
		return l.advertise
	}
	return l.Listener.Addr()
}

// Dial connects to another Raft server through the Net.
func (l *raftLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return l.n.DialTimeout("tcp", string(address), timeout)
}
