package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/netfault"
	"github.com/edgeplane/edgeplane/pkg/service"
)

// Config is everything a node needs. Zero values take the defaults of a
// single-node cluster on 127.0.0.1.
type Config struct {
	NodeID  string
	Region  string
	DataDir string

	HTTPAddr   string
	GRPCAddr   string
	RaftAddr   string
	GossipAddr string
	// AdvertiseAddr is the host (or IP) peers should use to reach this node
	// when the listen addresses are not reachable as given (0.0.0.0, NAT).
	AdvertiseAddr string

	// Join lists gossip addresses of existing members. A node started
	// without Join and without Raft state bootstraps a new cluster, unless
	// BootstrapExpect is 2 or more.
	Join []string
	// BootstrapExpect, when 2 or more, makes a new node wait until that
	// many members are live in gossip, none with Raft state, and bootstrap
	// Raft with all of them as voters; Join then only finds the others.
	// 0 or 1: the node without Join bootstraps alone at once.
	BootstrapExpect int
	// Voters is how many Raft voters the cluster keeps.
	Voters int
	// AdminToken is always accepted by this node's API. Empty: generated on
	// first start and kept in the data directory.
	AdminToken string
	// AccountID is the account this node serves by default; on a new
	// cluster it becomes the default account (generated when empty).
	AccountID string
	// GossipKey encrypts gossip (16, 24 or 32 bytes).
	GossipKey []byte
	// TLS turns on mutual TLS between members and HTTPS (see tls.go).
	TLS TLSConfig
	// RegionLatency adds this one-way delay to traffic towards nodes in
	// other regions (demos of a multi-region cluster on one machine).
	RegionLatency time.Duration
	// Rules, when set, injects network faults (tests). It overrides
	// RegionLatency. If it has an Attach(*netfault.Net) method, the node
	// attaches its network to it.
	Rules netfault.Rules

	// Services are the data services the node runs (services.Builtin in
	// edged). The node knows none of them: it builds each, mounts its
	// routes and catalog resources, and runs and stops it.
	Services []service.Factory

	// MaxBodyBytes bounds request bodies of the node's own endpoints.
	MaxBodyBytes int64
	// AccessLog logs every HTTP request at info level (see api.Config).
	AccessLog bool
	// HTTPLimits bounds bodies, deadlines, in-flight requests and each
	// token's rate on the public API (api.Limits; zero fields: defaults).
	HTTPLimits api.Limits
	// MaxConns caps open public HTTP connections (DefaultMaxConns; -1: none).
	MaxConns int
	// Timing tunes failure detection and elections.
	Timing Timing
	// Version is reported in the node record and status.
	Version string
	// OnFatal is called once, on its own goroutine, when storage fails in
	// a way the node cannot continue past (disk full, I/O error, damaged
	// file); the node reports not ready from then on. The daemon exits.
	OnFatal func(error)
	Logger  *slog.Logger
}

// Timing holds the gossip and Raft timers; zero values take production
// defaults. Tests shorten them.
type Timing struct {
	ProbeInterval      time.Duration
	ProbeTimeout       time.Duration
	GossipInterval     time.Duration
	PushPullInterval   time.Duration
	ReconnectInterval  time.Duration
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	ReconcileInterval  time.Duration
	DeadServerGrace    time.Duration
	VoterReplaceAfter  time.Duration
	// ServerStabilizationTime is how long a non-voter must stay healthy (in
	// autopilot's judgement) before promotion (default 10 s).
	ServerStabilizationTime time.Duration
	// LastContactThreshold is how long a server may go without hearing
	// from the leader and still count as healthy (default: the larger of
	// 200 ms and HeartbeatTimeout).
	LastContactThreshold time.Duration
	// TrailingLogs is how many Raft entries survive a snapshot (tests make
	// it small to force snapshot installs).
	TrailingLogs uint64
	// SnapshotThreshold is how many new Raft entries trigger a snapshot
	// (default 8192; tests make it small to force log truncation).
	SnapshotThreshold uint64
}

// Defaults of a node started with no flags at all.
const (
	DefaultHTTPAddr   = "127.0.0.1:8787"
	DefaultGRPCAddr   = "127.0.0.1:8788"
	DefaultRaftAddr   = "127.0.0.1:8789"
	DefaultGossipAddr = "127.0.0.1:7946"
	DefaultDataDir    = "edged-data"
	DefaultRegion     = "local"
	DefaultVoters     = 3
)

// SetDefaults fills unset fields with the single-node defaults.
func (c *Config) SetDefaults() {
	if c.HTTPAddr == "" {
		c.HTTPAddr = DefaultHTTPAddr
	}
	if c.GRPCAddr == "" {
		c.GRPCAddr = DefaultGRPCAddr
	}
	if c.RaftAddr == "" {
		c.RaftAddr = DefaultRaftAddr
	}
	if c.GossipAddr == "" {
		c.GossipAddr = DefaultGossipAddr
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.Voters == 0 {
		c.Voters = DefaultVoters
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports the first problem with the configuration.
func (c *Config) Validate() error {
	if c.NodeID == "" {
		return errors.New("node id is required")
	}
	if len(c.NodeID) > 64 || !validName(c.NodeID) {
		return fmt.Errorf("node id %q: use 1-64 letters, digits, '-', '_' or '.'", c.NodeID)
	}
	if !validName(c.Region) || len(c.Region) > 64 {
		return fmt.Errorf("region %q: use 1-64 letters, digits, '-', '_' or '.'", c.Region)
	}
	for name, addr := range map[string]string{"http": c.HTTPAddr, "grpc": c.GRPCAddr, "raft": c.RaftAddr, "gossip": c.GossipAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("%s address %q: %w", name, addr, err)
		}
	}
	if c.Voters < 1 || c.Voters > 9 {
		return fmt.Errorf("voters must be between 1 and 9, got %d", c.Voters)
	}
	if c.BootstrapExpect < 0 || c.BootstrapExpect > 9 {
		return fmt.Errorf("bootstrap-expect must be between 0 and 9, got %d", c.BootstrapExpect)
	}
	switch len(c.GossipKey) {
	case 0, 16, 24, 32:
	default:
		return fmt.Errorf("gossip key must be 16, 24 or 32 bytes, got %d", len(c.GossipKey))
	}
	if c.RegionLatency < 0 || c.RegionLatency > 5*time.Second {
		return fmt.Errorf("region latency %v out of range 0..5s", c.RegionLatency)
	}
	return nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}
