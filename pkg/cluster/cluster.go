package cluster

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"
	"time"

	stdlog "log"
	"log/slog"

	"github.com/edgeplane/edgeplane/internal/logadapt"
	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/serf/coordinate"
)

// Cluster is this node's membership: a memberlist instance plus the member
// table and network coordinates built from it. Its methods are safe for
// concurrent use.
type Cluster struct {
	cfg    Config
	log    *slog.Logger
	ml     *memberlist.Memberlist
	coords *coordinate.Client

	mu         sync.Mutex
	meta       Meta
	members    map[string]*Member
	peerCoords map[string]*coordinate.Coordinate
	refused    error // last member of another cluster refused (cluster_guard.go)

	changes chan struct{}
	// gossipAddr is read once at start: memberlist's LocalNode returns its
	// internal record, which UpdateNode rewrites without a lock we can take.
	gossipAddr string
	seeds      []string
	stop       chan struct{}
	done       chan struct{}
	once       sync.Once
}

// New binds the gossip ports and starts gossiping; call Join to meet peers.
func New(cfg Config) (*Cluster, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	coords, err := coordinate.NewClient(coordinate.DefaultConfig())
	if err != nil {
		return nil, fmt.Errorf("cluster: coordinate client: %w", err)
	}
	c := &Cluster{
		cfg:        cfg,
		log:        cfg.Logger.With("component", "cluster"),
		coords:     coords,
		meta:       cfg.Meta,
		members:    make(map[string]*Member),
		peerCoords: make(map[string]*coordinate.Coordinate),
		changes:    make(chan struct{}, 1),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	mc, err := c.memberlistConfig()
	if err != nil {
		return nil, err
	}
	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("cluster: start gossip on %s: %w", cfg.BindAddr, err)
	}
	c.ml = ml
	c.gossipAddr = ml.LocalNode().Address()
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(newCollector(c)); err != nil {
			_ = ml.Shutdown()
			return nil, fmt.Errorf("cluster: register metrics: %w", err)
		}
	}
	c.log.Info("gossip started", "node", cfg.Meta.ID, "region", cfg.Meta.Region, "addr", c.GossipAddr())
	go c.reconnectLoop()
	return c, nil
}

func (c *Cluster) memberlistConfig() (*memberlist.Config, error) {
	mc := memberlist.DefaultLANConfig()
	mc.Name = c.cfg.Meta.ID
	host, port, err := splitHostPort(c.cfg.BindAddr)
	if err != nil {
		return nil, fmt.Errorf("cluster: gossip address: %w", err)
	}
	mc.BindAddr, mc.BindPort = host, port
	mc.AdvertisePort = port
	if c.cfg.AdvertiseAddr != "" {
		ah, ap, err := splitHostPort(c.cfg.AdvertiseAddr)
		if err != nil {
			return nil, fmt.Errorf("cluster: advertise address: %w", err)
		}
		mc.AdvertiseAddr, mc.AdvertisePort = ah, ap
	}
	mc.ProbeInterval = c.cfg.ProbeInterval
	mc.ProbeTimeout = c.cfg.ProbeTimeout
	mc.GossipInterval = c.cfg.GossipInterval
	mc.SuspicionMult = c.cfg.SuspicionMult
	// Cap the suspicion timeout growth so a failure is declared within a few
	// probe rounds even in small clusters.
	mc.SuspicionMaxTimeoutMult = 2
	mc.PushPullInterval = c.cfg.PushPullInterval
	// A node restarted on a new address may reclaim its name quickly.
	mc.DeadNodeReclaimTime = 10 * time.Second
	mc.SecretKey = c.cfg.SecretKey
	mc.Delegate = &delegate{c: c}
	mc.Events = &eventDelegate{c: c}
	mc.Ping = &pingDelegate{c: c}
	mc.Merge = &guard{c: c}
	mc.Alive = &guard{c: c}
	mlLog := stdlog.New(logadapt.Writer(c.cfg.Logger.With("component", "memberlist")), "", 0)
	mc.Logger = mlLog
	if c.cfg.WrapTransport != nil {
		nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
			BindAddrs: []string{host},
			BindPort:  port,
			Logger:    mlLog,
		})
		if err != nil {
			return nil, fmt.Errorf("cluster: gossip transport on %s: %w", c.cfg.BindAddr, err)
		}
		if port == 0 {
			mc.BindPort = nt.GetAutoBindPort()
			if c.cfg.AdvertiseAddr == "" {
				mc.AdvertisePort = mc.BindPort
			}
		}
		mc.Transport = c.cfg.WrapTransport(nt)
	}
	return mc, nil
}

// Join contacts the given gossip addresses until one answers or ctx ends.
// Joining nothing (a first node) returns at once. A seed that belongs to
// another cluster than this node's ends the attempts with ErrOtherCluster:
// retrying would never succeed.
func (c *Cluster) Join(ctx context.Context, addrs []string) error {
	if len(addrs) == 0 {
		return nil
	}
	c.mu.Lock()
	c.seeds = append([]string(nil), addrs...)
	c.mu.Unlock()
	backoff := 200 * time.Millisecond
	for {
		c.refusal() // forget refusals of earlier gossip rounds
		n, err := c.ml.Join(addrs)
		if n > 0 {
			c.log.Info("joined cluster", "contacted", n)
			return nil
		}
		if refused := c.refusal(); refused != nil {
			return fmt.Errorf("cluster: join %v: %w", addrs, refused)
		}
		c.log.Warn("join failed, retrying", "seeds", addrs, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: join %v: %w", addrs, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// LocalID is this node's id.
func (c *Cluster) LocalID() string { return c.cfg.Meta.ID }

// LocalMeta is this node's current record.
func (c *Cluster) LocalMeta() Meta { return c.localMeta() }

func (c *Cluster) localMeta() Meta {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.meta
}

// GossipAddr is the host:port other nodes gossip with this node on.
func (c *Cluster) GossipAddr() string { return c.gossipAddr }

// SetVoter updates the voter flag in this node's record and gossips it.
func (c *Cluster) SetVoter(voter bool) error {
	c.mu.Lock()
	changed := c.meta.Voter != voter
	c.meta.Voter = voter
	c.mu.Unlock()
	if !changed {
		return nil
	}
	if err := c.ml.UpdateNode(5 * time.Second); err != nil {
		return fmt.Errorf("cluster: publish voter=%t: %w", voter, err)
	}
	return nil
}

// observe records a member's new record and state.
func (c *Cluster) observe(n *memberlist.Node, state State) {
	meta, err := decodeMeta(n.Meta)
	if err != nil {
		c.log.Warn("ignoring member with unreadable record", "member", n.Name, "err", err)
		return
	}
	c.mu.Lock()
	m, ok := c.members[n.Name]
	if !ok {
		m = &Member{}
		c.members[n.Name] = m
	}
	prev := m.State
	m.Meta = meta
	m.GossipAddr = n.Address()
	if prev != state {
		m.State = state
		m.Since = time.Now()
	}
	c.mu.Unlock()
	if prev != state {
		c.log.Info("member state", "member", n.Name, "region", meta.Region, "state", state, "was", prev)
	}
	select {
	case c.changes <- struct{}{}:
	default:
	}
}

// Changes signals (coalesced) whenever a member joins, changes or fails.
func (c *Cluster) Changes() <-chan struct{} { return c.changes }

// Members lists every member this node knows, itself included, sorted by id.
func (c *Cluster) Members() []Member {
	// Ask memberlist first, outside our lock: memberlist calls the event
	// delegate (which takes our lock) while holding its own.
	suspect := make(map[string]bool)
	for _, n := range c.ml.Members() {
		if n.State == memberlist.StateSuspect {
			suspect[n.Name] = true
		}
	}
	c.mu.Lock()
	out := make([]Member, 0, len(c.members))
	for _, m := range c.members {
		mm := *m
		if mm.State == StateAlive && suspect[mm.ID] {
			mm.State = StateSuspect
		}
		out = append(out, mm)
	}
	c.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Member returns one member by id.
func (c *Cluster) Member(id string) (Member, bool) {
	for _, m := range c.Members() {
		if m.ID == id {
			return m, true
		}
	}
	return Member{}, false
}

// Forget drops a member that is failed or left from the table, once the
// rest of the system (Raft) has let it go.
func (c *Cluster) Forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.members[id]; ok && !m.Live() {
		delete(c.members, id)
		delete(c.peerCoords, id)
		c.coords.ForgetNode(id)
	}
}

// RTT estimates the round trip to a peer from network coordinates.
func (c *Cluster) RTT(id string) (time.Duration, bool) {
	if id == c.cfg.Meta.ID {
		return 0, false
	}
	c.mu.Lock()
	other := c.peerCoords[id]
	c.mu.Unlock()
	if other == nil {
		return 0, false
	}
	return c.coords.DistanceTo(other), true
}

// Leave announces a graceful departure and waits up to timeout for it to
// spread.
func (c *Cluster) Leave(timeout time.Duration) error {
	c.mu.Lock()
	c.meta.Leaving = true
	c.mu.Unlock()
	if err := c.ml.UpdateNode(timeout / 2); err != nil {
		c.log.Warn("could not announce leaving", "err", err)
	}
	if err := c.ml.Leave(timeout); err != nil {
		return fmt.Errorf("cluster: leave: %w", err)
	}
	return nil
}

// Shutdown stops gossip without announcing anything (a crash, as far as the
// peers can tell, unless Leave ran first).
func (c *Cluster) Shutdown() error {
	c.once.Do(func() {
		close(c.stop)
		<-c.done
	})
	if err := c.ml.Shutdown(); err != nil {
		return fmt.Errorf("cluster: shutdown: %w", err)
	}
	return nil
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", p, err)
	}
	return host, port, nil
}
