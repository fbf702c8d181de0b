package testcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/kv"
	"github.com/edgeplane/edgeplane/pkg/netfault"
	"github.com/edgeplane/edgeplane/pkg/node"
	"github.com/edgeplane/edgeplane/pkg/service"
	"github.com/edgeplane/edgeplane/pkg/services"
)

// Options shape a test cluster; zero values take small, fast defaults.
type Options struct {
	// Nodes is how many nodes start (default 3).
	Nodes int
	// Regions are assigned round-robin (default us-east, eu-west, ap-south).
	Regions []string
	// Voters is the Raft voter target (default 3).
	Voters int
	// BootstrapExpect, when 2 or more, starts every node of the initial
	// Nodes with --bootstrap-expect and --join naming all the others: the
	// cluster forms once they see each other, all of them voters. Nodes
	// added later join the first node and wait to be added as non-voters.
	BootstrapExpect int
	// Timing overrides the fast test timers.
	Timing *node.Timing
	// LogLevel enables node logs on stderr (also EDGE_TEST_LOG=debug|info).
	LogLevel string
	// NoWait returns before the cluster is ready.
	NoWait bool
	// Services are the nodes' services (default: the built-in ones with
	// fast background timers, FastServices).
	Services []service.Factory
	// TLS runs every node with mutual TLS and an HTTPS API, certificates
	// from a CA made for the cluster (see CADir, HTTPClient). EDGE_TEST_TLS=1
	// turns it on for every cluster.
	TLS bool
}

// FastServices are the built-in services with background timers short
// enough for tests (KV anti-entropy every 500 ms).
func FastServices() []service.Factory {
	return services.Builtin(services.Options{KV: kv.Options{AntiEntropyEvery: 500 * time.Millisecond}})
}

// FastTiming are timers short enough for tests yet stable on a loaded
// 2-core machine: failures are detected in about a second or two.
func FastTiming() node.Timing {
	return node.Timing{
		ProbeInterval:      200 * time.Millisecond,
		ProbeTimeout:       100 * time.Millisecond,
		GossipInterval:     50 * time.Millisecond,
		PushPullInterval:   2 * time.Second,
		ReconnectInterval:  time.Second,
		HeartbeatTimeout:   500 * time.Millisecond,
		ElectionTimeout:    500 * time.Millisecond,
		LeaderLeaseTimeout: 250 * time.Millisecond,
		ReconcileInterval:  200 * time.Millisecond,
		DeadServerGrace:    30 * time.Second,
		VoterReplaceAfter:  3 * time.Second,
		// A non-voter must be healthy for a second before promotion.
		ServerStabilizationTime: time.Second,
	}
}

// Cluster is a set of in-process nodes sharing one fault table.
type Cluster struct {
	t      testing.TB
	opts   Options
	faults *netfault.Table
	token  string
	log    *slog.Logger
	tls    tlsState
	scheme string

	mu    sync.Mutex
	nodes []*Member
}

// Member is one node slot: its fixed identity, addresses and data
// directory, and the running node when it is up.
type Member struct {
	ID     string
	Region string
	Dir    string
	addrs  addrs
	scheme string
	join   []string
	// bootstrapExpect is the member's --bootstrap-expect (founders only).
	bootstrapExpect int

	mu      sync.Mutex
	node    *node.Node
	started bool // has run once: its addresses are known to the cluster
}

// Node returns the running node, or nil while it is down.
func (m *Member) Node() *node.Node {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.node
}

// HTTPAddr is the member's public API address (fixed across restarts).
func (m *Member) HTTPAddr() string { return m.addrs.http }

// URL is the base URL of the member's public API.
func (m *Member) URL() string { return m.scheme + "://" + m.addrs.http }

// GossipAddr is the member's gossip address.
func (m *Member) GossipAddr() string { return m.addrs.gossip }

// RaftAddr is the member's Raft address (fixed across restarts).
func (m *Member) RaftAddr() string { return m.addrs.raft }

// RaftDir is the member's Raft directory, where an operator would put
// peers.json.
func (m *Member) RaftDir() string { return filepath.Join(m.Dir, "raft") }

// Start launches a cluster: the first node bootstraps, the others join it.
// Unless opts.NoWait, it returns once every node is ready. Nodes are
// stopped when the test ends.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	if len(opts.Regions) == 0 {
		opts.Regions = []string{"us-east", "eu-west", "ap-south"}
	}
	if opts.Voters == 0 {
		opts.Voters = 3
	}
	if os.Getenv("EDGE_TEST_TLS") == "1" {
		opts.TLS = true // run any suite over mutual TLS
	}
	c := &Cluster{t: t, opts: opts, faults: netfault.NewTable(), token: "test-admin-token", log: testLogger(opts.LogLevel), scheme: "http"}
	if opts.TLS {
		c.scheme = "https"
	}
	// The test's temporary directory is removed by a cleanup its first
	// TempDir call registers. Cleanups run last-in first-out: registered
	// after stopAll, the removal ran while the nodes still wrote there
	// ("directory not empty", now and then).
	_ = t.TempDir()
	t.Cleanup(c.stopAll)
	if opts.BootstrapExpect >= 2 {
		c.startFounders(opts.Nodes)
	} else {
		for range opts.Nodes {
			c.AddNode("")
		}
	}
	if !opts.NoWait {
		c.WaitReady(30 * time.Second)
	}
	return c
}

func testLogger(level string) *slog.Logger {
	if level == "" {
		level = os.Getenv("EDGE_TEST_LOG")
	}
	var lv slog.Level
	if level == "" || lv.UnmarshalText([]byte(level)) != nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
}

// startFounders starts the founders of a --bootstrap-expect cluster.
func (c *Cluster) startFounders(n int) {
	c.t.Helper()
	for _, m := range c.newFounders(n) {
		c.startMember(m)
	}
}

// newFounders creates n member slots that all know each other's gossip
// addresses, without starting them.
func (c *Cluster) newFounders(n int) []*Member {
	c.t.Helper()
	var ms []*Member
	for range n {
		ms = append(ms, c.newMember(""))
	}
	for _, m := range ms {
		for _, o := range ms {
			if o != m {
				m.join = append(m.join, o.addrs.gossip)
			}
		}
		m.bootstrapExpect = c.opts.BootstrapExpect
	}
	return ms
}

// newMember allocates the next slot (addresses, data dir) without starting it.
func (c *Cluster) newMember(region string) *Member {
	c.t.Helper()
	c.mu.Lock()
	i := len(c.nodes)
	if region == "" {
		region = c.opts.Regions[i%len(c.opts.Regions)]
	}
	a, err := allocAddrs()
	if err != nil {
		c.mu.Unlock()
		c.t.Fatalf("testcluster: %v", err)
	}
	m := &Member{ID: fmt.Sprintf("node-%d", i+1), Region: region, Dir: filepath.Join(c.t.TempDir(), "data"), addrs: a, scheme: c.scheme}
	c.nodes = append(c.nodes, m)
	c.mu.Unlock()
	c.faults.AddNode(m.ID, m.Region, a.http, a.grpc, a.raft, a.gossip)
	return m
}

// AddNode starts one more node, in region (round-robin when empty), joined
// to the first node.
func (c *Cluster) AddNode(region string) *Member {
	c.t.Helper()
	m := c.newMember(region)
	if first := c.Member(0); first != m {
		m.join = []string{first.addrs.gossip}
	}
	c.startMember(m)
	return m
}

func (c *Cluster) timing() node.Timing {
	if c.opts.Timing != nil {
		return *c.opts.Timing
	}
	return FastTiming()
}

func (c *Cluster) services() []service.Factory {
	if c.opts.Services != nil {
		return c.opts.Services
	}
	return FastServices()
}

func (c *Cluster) startMember(m *Member) {
	c.t.Helper()
	start := func() (*node.Node, error) {
		return node.New(node.Config{
			NodeID: m.ID, Region: m.Region, DataDir: m.Dir,
			HTTPAddr: m.addrs.http, GRPCAddr: m.addrs.grpc, RaftAddr: m.addrs.raft, GossipAddr: m.addrs.gossip,
			Join: m.join, BootstrapExpect: m.bootstrapExpect, Voters: c.opts.Voters, AdminToken: c.token,
			Rules: c.faults, Timing: c.timing(), Version: "test", Logger: c.log.With("test_node", m.ID),
			Services: c.services(), TLS: c.nodeTLS(m),
		})
	}
	n, err := start()
	// A port found free can be taken by another test before the node binds
	// it. A node's first start may take new ports; a restart must keep its
	// own (Raft knows it by address). A founder's new gossip address goes
	// to the founders not started yet; those already running learn it when
	// it joins them (its join list names them), as --bootstrap-expect needs.
	for try := 0; err != nil && addrInUse(err) && !m.started && try < 3; try++ {
		a, aerr := allocAddrs()
		if aerr != nil {
			break
		}
		c.t.Logf("testcluster: %s: %v; starting it on new ports", m.ID, err)
		old := m.addrs.gossip
		m.addrs = a
		c.faults.AddNode(m.ID, m.Region, a.http, a.grpc, a.raft, a.gossip)
		for _, o := range c.Members() {
			if o != m && !o.started {
				for i, j := range o.join {
					if j == old {
						o.join[i] = a.gossip
					}
				}
			}
		}
		n, err = start()
	}
	if err != nil {
		c.t.Fatalf("testcluster: start %s: %v", m.ID, err)
	}
	m.mu.Lock()
	m.node = n
	m.started = true
	m.mu.Unlock()
}

// addrInUse reports a bind that failed on a taken port. memberlist formats
// its listener errors with %v, so the gossip port's error only says it.
func addrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}

// Token is the admin token every node accepts.
func (c *Cluster) Token() string { return c.token }

// Faults is the shared rule table, for faults the helpers below do not cover.
func (c *Cluster) Faults() *netfault.Table { return c.faults }

// Members lists every node slot, up or down, in start order.
func (c *Cluster) Members() []*Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Member(nil), c.nodes...)
}

// Member returns slot i (0-based).
func (c *Cluster) Member(i int) *Member { return c.Members()[i] }

// take marks slot i down and returns the node that was running, if any.
func (c *Cluster) take(i int) (*Member, *node.Node) {
	m := c.Member(i)
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.node
	m.node = nil
	return m, n
}

// Kill crashes node i: no goodbye, no leadership hand-over.
func (c *Cluster) Kill(i int) {
	if _, n := c.take(i); n != nil {
		n.Kill()
	}
}

// Stop shuts node i down gracefully, as SIGTERM does.
func (c *Cluster) Stop(i int) {
	m, n := c.take(i)
	if n != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := n.Shutdown(ctx); err != nil {
			c.t.Logf("testcluster: stop %s: %v", m.ID, err)
		}
	}
}

// Restart starts node i again on its data directory and addresses.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	m := c.Member(i)
	if m.Node() != nil {
		c.t.Fatalf("testcluster: restart %s: still running", m.ID)
	}
	c.startMember(m)
}

// Isolate cuts node i off from every other node, both directions.
func (c *Cluster) Isolate(i int) { c.faults.Isolate(c.Member(i).ID) }

// Partition splits the cluster between the nodes in a and those in b.
func (c *Cluster) Partition(a, b []int) {
	c.faults.Partition(c.ids(a), c.ids(b))
}

// Heal removes every partition and isolation (latency stays).
func (c *Cluster) Heal() { c.faults.Heal() }

// SetLatency adds a one-way delay between two regions (both directions).
func (c *Cluster) SetLatency(regionA, regionB string, oneWay time.Duration) {
	c.faults.SetLatency(regionA, regionB, oneWay)
}

func (c *Cluster) ids(idx []int) []string {
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = c.Member(i).ID
	}
	return out
}

func (c *Cluster) stopAll() {
	var wg sync.WaitGroup
	for i := range c.Members() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Kill(i)
		}()
	}
	wg.Wait()
}
