package consensus

import (
	"errors"
	"fmt"
	"google.golang.org/grpc"
	"log/slog"
	"net"
	"time"

	"github.com/edgeplane/edgeplane/pkg/cluster"
	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a node's Raft member.
type Config struct {
	// NodeID is the Raft server id; it equals the gossip node id.
	NodeID string
	// Dir holds the log (raft-wal) and snapshots.
	Dir string
	// Listener accepts Raft traffic; Advertise is the address peers dial.
	Listener  net.Listener
	Advertise net.Addr
	// StreamLayer, when set, wraps the listener (fault injection, latency).
	StreamLayer func(ln net.Listener, advertise net.Addr) raft.StreamLayer
	// Bootstrap lets a node with no Raft state start a new cluster as its
	// first voter, at once, when BootstrapExpect is 1. A node that is told
	// to join never bootstraps that way.
	Bootstrap bool
	// BootstrapExpect, when 2 or more, makes a node with no Raft state wait
	// until it sees that many live members in gossip, none of them with
	// Raft state, and then bootstrap with all of them as voters (every one
	// of them computes the same configuration). 0 or 1: see Bootstrap.
	BootstrapExpect int
	// Voters is how many voters the leader keeps (default 3).
	Voters int
	// DeadServerGrace is how long a failed member stays in the Raft
	// configuration before the leader removes it (default 60 s).
	DeadServerGrace time.Duration
	// VoterReplaceAfter is how long a voter may be unhealthy (in
	// autopilot's judgement) before the leader demotes it in favour of a
	// healthy non-voter (default 10 s).
	VoterReplaceAfter time.Duration
	// ReconcileInterval is the leader's membership check period, and
	// autopilot's reconcile period (default 1 s). Autopilot refreshes its
	// view of every server's health twice as slowly (at least every second).
	ReconcileInterval time.Duration
	// ServerStabilizationTime is how long a non-voter must stay healthy
	// before it may be promoted (default 10 s).
	ServerStabilizationTime time.Duration
	// LastContactThreshold is how long a server may go without hearing from
	// the leader and still count as healthy (default 200 ms, autopilot's
	// and Consul's default, but never less than the heartbeat timeout).
	LastContactThreshold time.Duration
	// MaxTrailingLogs is how many entries a server may lag the leader and
	// still count as healthy (default 250).
	MaxTrailingLogs uint64
	// HeartbeatTimeout, ElectionTimeout and LeaderLeaseTimeout tune Raft
	// (defaults 1 s, 1 s, 500 ms, Raft's own LAN defaults).
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	// SnapshotThreshold is how many log entries trigger a snapshot (default 8192).
	SnapshotThreshold uint64
	// TrailingLogs is how many entries stay in the log after a snapshot, so
	// slightly lagging followers catch up without a snapshot (default 10240).
	TrailingLogs uint64
	// FSM is the state machine the log is applied to.
	FSM raft.FSM
	// Members reports gossip membership; the leader reconciles against it.
	Members func() []cluster.Member
	// MembersChanged, when set, wakes the reconciler early.
	MembersChanged <-chan struct{}
	// OnFatal, when set, receives log-store write failures Raft cannot
	// continue past (disk full, I/O error, corrupt log).
	OnFatal func(error)
	// Forget, when set, drops a member removed from Raft from this node's
	// gossip table.
	Forget func(id string)
	// PeerConn, when set, returns the connection to a peer's gRPC address
	// from the node's pool, which owns it (the node's credentials, mutual
	// TLS, fault injection); the default dials plain TCP without TLS.
	PeerConn func(addr string) (grpc.ClientConnInterface, error)
	// Logger and Registerer receive logs and edge_raft_* metrics.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() {
	if c.Voters == 0 {
		c.Voters = 3
	}
	if c.DeadServerGrace == 0 {
		c.DeadServerGrace = 60 * time.Second
	}
	if c.VoterReplaceAfter == 0 {
		c.VoterReplaceAfter = 10 * time.Second
	}
	if c.ReconcileInterval == 0 {
		c.ReconcileInterval = time.Second
	}
	if c.ServerStabilizationTime == 0 {
		c.ServerStabilizationTime = 10 * time.Second
	}
	if c.MaxTrailingLogs == 0 {
		c.MaxTrailingLogs = 250
	}
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = time.Second
	}
	if c.ElectionTimeout == 0 {
		c.ElectionTimeout = time.Second
	}
	if c.LeaderLeaseTimeout == 0 {
		c.LeaderLeaseTimeout = 500 * time.Millisecond
	}
	if c.LastContactThreshold == 0 {
		// A follower hears from the leader at least every HeartbeatTimeout/10
		// (Raft's heartbeat period); an idle cluster sits near it.
		c.LastContactThreshold = max(200*time.Millisecond, c.HeartbeatTimeout)
	}
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = 8192
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = 10240
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports the first problem with the configuration.
func (c *Config) Validate() error {
	switch {
	case c.NodeID == "":
		return errors.New("consensus config: node id is required")
	case c.Dir == "":
		return errors.New("consensus config: data dir is required")
	case c.Listener == nil:
		return errors.New("consensus config: listener is required")
	case c.FSM == nil:
		return errors.New("consensus config: state machine is required")
	case c.Members == nil:
		return errors.New("consensus config: membership source is required")
	case c.Voters < 1 || c.Voters > 9:
		return fmt.Errorf("consensus config: voters must be 1..9, got %d", c.Voters)
	case c.BootstrapExpect < 0 || c.BootstrapExpect > 9:
		return fmt.Errorf("consensus config: bootstrap-expect must be 0..9, got %d", c.BootstrapExpect)
	}
	return nil
}
