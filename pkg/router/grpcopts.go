package router

import (
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// MaxMessageBytes bounds one gRPC message between nodes in either direction.
// It leaves room above DefaultMaxBodyBytes for headers and framing.
const MaxMessageBytes = DefaultMaxBodyBytes + 4<<20

// Keepalive defaults shared by Pool (client pings) and ServerOptions (what
// the server tolerates). The server must allow pings at least as often as
// clients send them, or it closes connections with "too_many_pings".
const (
	DefaultKeepaliveTime    = 15 * time.Second
	DefaultKeepaliveTimeout = 5 * time.Second
	minKeepalivePermitted   = 5 * time.Second
)

// ServerOptions returns the grpc.ServerOptions every edged gRPC server
// should be built with: message size bounds matching the Pool's and a
// keepalive policy that accepts the Pool's pings.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.MaxSendMsgSize(MaxMessageBytes),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             minKeepalivePermitted,
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    DefaultKeepaliveTime,
			Timeout: DefaultKeepaliveTimeout,
		}),
	}
}
