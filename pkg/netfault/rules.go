package netfault

import (
	"errors"
	"net"
	"strings"
	"time"
)

// Rules decides the fate of traffic from local node from to the remote
// address to (host:port, normalized by NormalizeAddr). Implementations must
// be safe for concurrent use and fast: Link is asked for every packet.
type Rules interface {
	Link(from, to string) (drop bool, delay time.Duration)
}

// ErrDropped is the cause of every dial refused and connection cut because
// the rules drop the link.
var ErrDropped = errors.New("netfault: link dropped")

// NormalizeAddr turns a dial target into the host:port form rules match on:
// a gRPC scheme prefix ("passthrough:///", "dns:///") is stripped and the
// host is lower-cased. An address that is not host:port is returned with only
// the prefix stripped.
func NormalizeAddr(addr string) string {
	if i := strings.Index(addr, "://"); i >= 0 {
		addr = addr[i+3:]
	}
	addr = strings.TrimLeft(addr, "/")
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return net.JoinHostPort(strings.ToLower(host), port)
}
