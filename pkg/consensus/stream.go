package consensus

import (
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// tcpStreamLayer is Raft's stream layer over a listener the node opened.
type tcpStreamLayer struct {
	net.Listener
	advertise net.Addr
}

var _ raft.StreamLayer = (*tcpStreamLayer)(nil)

func newTCPStreamLayer(ln net.Listener, advertise net.Addr) *tcpStreamLayer {
	return &tcpStreamLayer{Listener: ln, advertise: advertise}
}

func (t *tcpStreamLayer) Addr() net.Addr { return t.advertise }

func (t *tcpStreamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", string(address), timeout)
}
