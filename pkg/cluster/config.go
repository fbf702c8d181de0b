package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a node's membership.
type Config struct {
	// Meta is this node's record; Meta.ID and Meta.Region are required.
	Meta Meta
	// BindAddr is the host:port gossip listens on (TCP and UDP).
	BindAddr string
	// AdvertiseAddr is the host:port other nodes should use, when it differs
	// from BindAddr (binding 0.0.0.0, NAT).
	AdvertiseAddr string
	// SecretKey, when set, encrypts gossip (16, 24 or 32 bytes: AES-128/192/256).
	SecretKey []byte
	// ProbeInterval is how often a peer is probed; smaller detects failures
	// sooner at the cost of traffic. Default 1 s.
	ProbeInterval time.Duration
	// ProbeTimeout is how long a probe waits for an ack. Default 500 ms.
	ProbeTimeout time.Duration
	// GossipInterval is how often gossip messages are sent. Default 200 ms.
	GossipInterval time.Duration
	// SuspicionMult scales how long a suspect node has to refute. Default 4.
	SuspicionMult int
	// PushPullInterval is the full state sync period. Default 15 s.
	PushPullInterval time.Duration
	// ReconnectInterval is how often this node tries to rejoin one failed
	// member (after a partition heals, neither side would otherwise probe
	// the other again). Default 10 s.
	ReconnectInterval time.Duration
	// WrapTransport, when set, wraps the gossip transport (fault injection
	// in tests, simulated region latency in demos).
	WrapTransport func(memberlist.Transport) memberlist.NodeAwareTransport
	// Logger receives membership events and memberlist's own log lines.
	Logger *slog.Logger
	// Registerer receives the edge_cluster_* metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() {
	if c.ProbeInterval == 0 {
		c.ProbeInterval = time.Second
	}
	if c.ProbeTimeout == 0 {
		c.ProbeTimeout = 500 * time.Millisecond
	}
	if c.GossipInterval == 0 {
		c.GossipInterval = 200 * time.Millisecond
	}
	if c.SuspicionMult == 0 {
		c.SuspicionMult = 4
	}
	if c.PushPullInterval == 0 {
		c.PushPullInterval = 15 * time.Second
	}
	if c.ReconnectInterval == 0 {
		c.ReconnectInterval = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports the first problem with the configuration.
func (c *Config) Validate() error {
	if c.Meta.ID == "" {
		return errors.New("cluster config: node id is required")
	}
	if c.Meta.Region == "" {
		return errors.New("cluster config: region is required")
	}
	if _, _, err := net.SplitHostPort(c.BindAddr); err != nil {
		return fmt.Errorf("cluster config: gossip address %q: %w", c.BindAddr, err)
	}
	if c.AdvertiseAddr != "" {
		if _, _, err := net.SplitHostPort(c.AdvertiseAddr); err != nil {
			return fmt.Errorf("cluster config: advertise address %q: %w", c.AdvertiseAddr, err)
		}
	}
	switch len(c.SecretKey) {
	case 0, 16, 24, 32:
	default:
		return fmt.Errorf("cluster config: gossip key must be 16, 24 or 32 bytes, got %d", len(c.SecretKey))
	}
	return nil
}
