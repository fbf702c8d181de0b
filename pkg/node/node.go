package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/cluster"
	"github.com/edgeplane/edgeplane/pkg/consensus"
	"github.com/edgeplane/edgeplane/pkg/netfault"
	"github.com/edgeplane/edgeplane/pkg/replication"
	"github.com/edgeplane/edgeplane/pkg/router"
	"github.com/edgeplane/edgeplane/pkg/service"
	"github.com/edgeplane/edgeplane/pkg/storage"
	"github.com/edgeplane/edgeplane/pkg/tlsutil"
	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
)

// Node is one running edged: every component, started in order and
// stopped in reverse.
type Node struct {
	cfg     Config
	log     *slog.Logger
	started time.Time

	layout storage.Layout
	// clusterID is the cluster recorded in the data dir at start (empty
	// on a node that never joined one); see clusterid.go.
	clusterID string
	lock      *storage.Lock

	reg      *prometheus.Registry
	net      *netfault.Net
	catalog  *catalog.Catalog
	cluster  *cluster.Cluster
	raft     *consensus.Node
	pool     *router.Pool
	tls      *tlsutil.Reloader // nil: plaintext (see tls.go)
	grpc     *grpc.Server
	api      *api.Server
	httpSrv  *http.Server
	httpLn   net.Listener
	grpcLn   net.Listener
	raftLn   net.Listener
	advHTTP  string
	advGRPC  string
	advRaft  string
	adminTok string
	// GeneratedToken is set when the admin token was generated on this start.
	generated bool

	fsm      *replication.FSM
	router   *router.Router
	proposer *router.Proposer
	services []service.Service

	cancel context.CancelFunc
	wg     sync.WaitGroup
	// raftLoops are the background loops that write through Raft (the
	// services' Run, catalog init, cluster id): Shutdown cancels them and
	// waits for them before it stops Raft, so none is left retrying a
	// proposal that can no longer succeed.
	raftLoops sync.WaitGroup

	stopOnce sync.Once
	fault    faultState // first storage fault (fatal.go)
}

// New opens the data directory and listeners and starts every component in
// order: gossip, the connection pool, the services (whose state machines
// Raft replays into), Raft, the router and proposer, the HTTP API with every
// service's routes, and gRPC; then it serves HTTP (clients that connected
// meanwhile wait in the listener's backlog), joins the cluster and runs the
// services' loops in the background.
func New(cfg Config) (_ *Node, err error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("node config: %w", err)
	}
	n := &Node{cfg: cfg, log: cfg.Logger.With("node", cfg.NodeID), started: time.Now()}
	defer func() {
		if err != nil {
			n.Kill() // undo the partial start; every step is nil-safe
		}
	}()
	if n.layout, n.lock, err = storage.Open(cfg.DataDir); err != nil {
		return nil, err
	}
	var ident storage.Identity
	if ident, err = n.layout.ClaimIdentity(cfg.NodeID); err != nil {
		return nil, err
	}
	n.clusterID = ident.ClusterID
	if n.adminTok, n.generated, err = loadOrCreateAdminToken(n.layout.AdminTokenFile(), cfg.AdminToken); err != nil {
		return nil, err
	}
	if err = n.loadTLS(); err != nil {
		return nil, err
	}
	if err = n.listen(); err != nil {
		return nil, err
	}
	n.reg = prometheus.NewRegistry()
	n.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	n.net = netfault.New(cfg.NodeID, n.rules(), n.log)
	if a, ok := cfg.Rules.(interface{ Attach(*netfault.Net) }); ok {
		a.Attach(n.net)
	}
	n.catalog = catalog.New()

	if err = n.startCluster(); err != nil {
		return nil, err
	}
	if err = n.startPool(); err != nil {
		return nil, err
	}
	if err = n.buildServices(); err != nil {
		return nil, err
	}
	if err = n.startRaft(); err != nil {
		return nil, err
	}
	if err = n.startRouter(); err != nil {
		return nil, err
	}
	if err = n.startAPI(); err != nil {
		return nil, err
	}
	n.startGRPC()
	// The API answers only once every part it reads exists: /readyz and the
	// status views read the Raft node and the cluster. Until then clients
	// wait in the listener's backlog.
	n.serveHTTP()

	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.goLoop(func() { n.joinLoop(ctx) })
	n.goRaftLoop(func() { n.initLoop(ctx) })
	n.goRaftLoop(func() { n.clusterIDLoop(ctx) })
	n.goLoop(func() { n.voterFlagLoop(ctx) })
	for _, svc := range n.services {
		n.goRaftLoop(func() { svc.Run(ctx) })
	}
	n.log.Info("node started", "region", cfg.Region, "http", n.advHTTP, "grpc", n.advGRPC, "raft", n.advRaft,
		"gossip", n.cluster.GossipAddr(), "data_dir", n.layout.Root)
	return n, nil
}

func (n *Node) rules() netfault.Rules {
	if n.cfg.Rules != nil {
		return n.cfg.Rules
	}
	if n.cfg.RegionLatency > 0 {
		return netfault.RegionLatency{LocalRegion: n.cfg.Region, Delay: n.cfg.RegionLatency, RegionOf: n.regionOfAddr}
	}
	return nil
}

// regionOfAddr maps any address a member listens on to its region.
func (n *Node) regionOfAddr(addr string) (string, bool) {
	if n.cluster == nil {
		return "", false
	}
	for _, m := range n.cluster.Members() {
		if addr == m.GossipAddr || addr == m.GRPCAddr || addr == m.RaftAddr || addr == m.HTTPAddr {
			return m.Region, true
		}
	}
	return "", false
}

func (n *Node) listen() error {
	var err error
	if n.httpLn, err = net.Listen("tcp", n.cfg.HTTPAddr); err != nil {
		return fmt.Errorf("listen http %s: %w", n.cfg.HTTPAddr, err)
	}
	if n.grpcLn, err = net.Listen("tcp", n.cfg.GRPCAddr); err != nil {
		return fmt.Errorf("listen grpc %s: %w", n.cfg.GRPCAddr, err)
	}
	if n.raftLn, err = net.Listen("tcp", n.cfg.RaftAddr); err != nil {
		return fmt.Errorf("listen raft %s: %w", n.cfg.RaftAddr, err)
	}
	if n.advHTTP, err = advertise(n.httpLn.Addr(), n.cfg.AdvertiseAddr); err != nil {
		return err
	}
	if n.advGRPC, err = advertise(n.grpcLn.Addr(), n.cfg.AdvertiseAddr); err != nil {
		return err
	}
	n.advRaft, err = advertise(n.raftLn.Addr(), n.cfg.AdvertiseAddr)
	return err
}

// advertise returns the address peers should dial for a bound listener.
func advertise(bound net.Addr, host string) (string, error) {
	tcp := bound.(*net.TCPAddr)
	if host != "" {
		return net.JoinHostPort(host, fmt.Sprint(tcp.Port)), nil
	}
	if tcp.IP.IsUnspecified() {
		return "", fmt.Errorf("listening on %s: set --advertise-addr so peers know where to reach this node", bound)
	}
	return bound.String(), nil
}

func (n *Node) serveHTTP() {
	n.goLoop(func() {
		if err := n.httpSrv.Serve(n.httpListener()); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("http server stopped", "err", err)
		}
	})
}

func (n *Node) startCluster() error {
	gossipAdv := ""
	if n.cfg.AdvertiseAddr != "" {
		_, port, _ := net.SplitHostPort(n.cfg.GossipAddr)
		gossipAdv = net.JoinHostPort(n.cfg.AdvertiseAddr, port)
	}
	t := n.cfg.Timing
	c, err := cluster.New(cluster.Config{
		Meta: cluster.Meta{
			ID: n.cfg.NodeID, Region: n.cfg.Region, Version: n.cfg.Version,
			HTTPAddr: n.advHTTP, GRPCAddr: n.advGRPC, RaftAddr: n.advRaft,
			Cluster: n.clusterID,
		},
		BindAddr:          n.cfg.GossipAddr,
		AdvertiseAddr:     gossipAdv,
		SecretKey:         n.cfg.GossipKey,
		ProbeInterval:     t.ProbeInterval,
		ProbeTimeout:      t.ProbeTimeout,
		GossipInterval:    t.GossipInterval,
		PushPullInterval:  t.PushPullInterval,
		ReconnectInterval: t.ReconnectInterval,
		WrapTransport: func(inner memberlist.Transport) memberlist.NodeAwareTransport {
			return n.net.MemberlistTransport(inner)
		},
		Logger:     n.log,
		Registerer: n.reg,
	})
	if err != nil {
		return err
	}
	n.cluster = c
	return nil
}

func (n *Node) startRaft() error {
	t := n.cfg.Timing
	advertise, err := net.ResolveTCPAddr("tcp", n.advRaft)
	if err != nil {
		return fmt.Errorf("raft advertise address %s: %w", n.advRaft, err)
	}
	r, err := consensus.Open(consensus.Config{
		NodeID:             n.cfg.NodeID,
		Dir:                n.layout.RaftDir(),
		Listener:           n.raftLn,
		Advertise:          advertise,
		StreamLayer:        n.raftStreamLayer(),
		Bootstrap:          len(n.cfg.Join) == 0,
		Voters:             n.cfg.Voters,
		DeadServerGrace:    t.DeadServerGrace,
		VoterReplaceAfter:  t.VoterReplaceAfter,
		ReconcileInterval:  t.ReconcileInterval,
		HeartbeatTimeout:   t.HeartbeatTimeout,
		ElectionTimeout:    t.ElectionTimeout,
		LeaderLeaseTimeout: t.LeaderLeaseTimeout,
		TrailingLogs:       t.TrailingLogs,
		SnapshotThreshold:  t.SnapshotThreshold,
		FSM:                n.fsm,
		Members:            n.cluster.Members,
		MembersChanged:     n.cluster.Changes(),
		Logger:             n.log,
		Registerer:         n.reg,
		OnFatal:            n.fatal,

		// Formation, autopilot and removals (pkg/node/formation.go).
		BootstrapExpect:         n.cfg.BootstrapExpect,
		ServerStabilizationTime: t.ServerStabilizationTime,
		LastContactThreshold:    t.LastContactThreshold,
		Forget:                  n.cluster.Forget,
		PeerConn:                n.pool.Conn,
	})
	if err != nil {
		return err
	}
	n.raft = r
	return nil
}

// startPool opens the gRPC connection pool to other nodes.
func (n *Node) startPool() error {
	pool, err := router.NewPool(router.PoolConfig{
		Dialer:      func(ctx context.Context, addr string) (net.Conn, error) { return n.net.DialContext(ctx, "tcp", addr) },
		MaxBackoff:  time.Second,
		Logger:      n.log,
		Credentials: n.poolCredentials(),
	})
	if err != nil {
		return fmt.Errorf("grpc pool: %w", err)
	}
	n.pool = pool
	return nil
}

// startRouter builds the placement router and the Raft proposer, once Raft
// and gossip run.
func (n *Node) startRouter() error {
	rt, err := router.New(router.Config{
		NodeID: n.cfg.NodeID, Region: n.cfg.Region, Members: n.cluster,
		Leader:      func() string { id, _ := n.raft.Leader(); return id },
		WaitApplied: n.raft.WaitApplied, AppliedIndex: n.raft.AppliedIndex,
		Pool: n.pool, Registerer: n.reg, Logger: n.log,
	})
	if err != nil {
		return fmt.Errorf("router: %w", err)
	}
	n.router = rt
	n.proposer = router.NewProposer(n.cfg.NodeID, n.raft, n.cluster, n.pool, n.fsm.Validate)
	return nil
}

// startAPI builds the public HTTP API and mounts every service's routes and
// catalog resources behind the router's placement.
func (n *Node) startAPI() error {
	var err error
	n.api, err = api.New(api.Config{
		NodeID: n.cfg.NodeID, Version: n.cfg.Version, AdminToken: n.adminTok, MaxBodyBytes: n.cfg.MaxBodyBytes,
		AccessLog: n.cfg.AccessLog, Limits: n.cfg.HTTPLimits,
		Leader: func(svc string, h http.Handler) http.Handler {
			return n.router.Place(svc, router.AtLeader(), h)
		},
		CatalogBehind: n.catalogBehind,
	}, (*clusterView)(n), &api.CatalogIdentity{Catalog: n.catalog, Apply: n.proposeCatalog}, n.reg, n.reg, n.log)
	if err != nil {
		return fmt.Errorf("http api: %w", err)
	}
	for _, svc := range n.services {
		for _, kind := range svc.Resources() {
			n.api.MountResources(kind, (*resources)(n))
		}
		for _, rt := range svc.Routes() {
			n.api.MountAccess(rt.Pattern, svc.Name(), rt.Access, rt.MaxBody, n.router.Place(svc.Name(), rt.Placement, rt.Handler))
		}
	}
	n.httpSrv = n.newHTTPServer(n.api.Handler())
	return nil
}

// startGRPC serves the internal gRPC: the node service (info, ping,
// forwarding, apply) and every service's own.
func (n *Node) startGRPC() {
	n.grpc = grpc.NewServer(n.grpcServerOptions()...)
	router.NewServer((*backend)(n), n.log).Register(n.grpc)
	n.raft.RegisterGRPC(n.grpc)
	for _, svc := range n.services {
		svc.RegisterGRPC(n.grpc)
	}
	n.goLoop(func() {
		if err := n.grpc.Serve(n.grpcLn); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			n.log.Error("grpc server stopped", "err", err)
		}
	})
}

// joinLoop contacts the seeds until gossip has joined a cluster.
func (n *Node) joinLoop(ctx context.Context) {
	if err := n.cluster.Join(ctx, n.cfg.Join); err != nil && ctx.Err() == nil {
		n.joinFailed(err)
	}
}

// voterFlagLoop publishes this node's Raft suffrage in its gossip record.
func (n *Node) voterFlagLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if err := n.cluster.SetVoter(n.raft.IsVoter()); err != nil {
			n.log.Debug("publish voter flag", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (n *Node) goLoop(fn func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		fn()
	}()
}

// goRaftLoop runs a loop that writes through Raft (see Node.raftLoops).
func (n *Node) goRaftLoop(fn func()) {
	n.raftLoops.Add(1)
	go func() {
		defer n.raftLoops.Done()
		fn()
	}()
}

// raftLoopGrace bounds how long Shutdown waits for the cancelled loops that
// write through Raft before it stops Raft under them anyway (the leadership
// hand-over must not wait for a loop that ignores its context).
const raftLoopGrace = 2 * time.Second

// waitRaftLoops waits, after their context was cancelled, for the loops
// that write through Raft to return, at most raftLoopGrace or until ctx
// ends.
func (n *Node) waitRaftLoops(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		n.raftLoops.Wait()
		close(done)
	}()
	t := time.NewTimer(raftLoopGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		n.log.Warn("background loops still running after they were told to stop; stopping raft anyway", "grace", raftLoopGrace)
	case <-ctx.Done():
		n.log.Warn("background loops still running at the shutdown deadline; stopping raft anyway", "err", ctx.Err())
	}
}

// Addr reports the addresses the node is reachable on.
func (n *Node) Addr() Addrs {
	return Addrs{HTTP: n.advHTTP, GRPC: n.advGRPC, Raft: n.advRaft, Gossip: n.cluster.GossipAddr()}
}

// Addrs are a node's advertised addresses.
type Addrs struct {
	HTTP, GRPC, Raft, Gossip string
}

// AdminToken is the token this node always accepts; Generated reports
// whether it was created on this start (edged prints it once then).
func (n *Node) AdminToken() (token string, generated bool) { return n.adminTok, n.generated }

// ID is the node id.
func (n *Node) ID() string { return n.cfg.NodeID }

// Snapshot snapshots the Raft state now and compacts the log.
func (n *Node) Snapshot() error { return n.raft.Snapshot() }

// Catalog exposes the replicated catalog (read-only use).
func (n *Node) Catalog() *catalog.Catalog { return n.catalog }

// Handler is the public HTTP handler (tests may call it directly).
func (n *Node) Handler() http.Handler { return n.api.Handler() }

// Shutdown leaves the cluster gracefully: stop taking requests, stop the
// background loops (while Raft still runs, so their last writes can finish
// or fail at once), say goodbye through gossip, hand Raft leadership to
// another voter, stop gRPC.
func (n *Node) Shutdown(ctx context.Context) error {
	var errs []error
	n.stopOnce.Do(func() {
		n.log.Info("shutting down")
		if n.cancel != nil {
			n.cancel()
		}
		if n.httpSrv != nil {
			if err := n.httpSrv.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("http shutdown: %w", err))
			}
		}
		n.waitRaftLoops(ctx)
		// Gossip first: peers then know this node left on purpose
		// before its Raft transport goes away, and do not log its
		// silence as a failure (consensus: departedPeerNoise).
		if n.cluster != nil {
			if err := n.cluster.Leave(3 * time.Second); err != nil {
				errs = append(errs, err)
			}
		}
		if n.raft != nil {
			if err := n.raft.Shutdown(); err != nil {
				errs = append(errs, err)
			}
		}
		n.stopRest(&errs)
	})
	return errors.Join(errs...)
}

// Kill stops the node abruptly, as a crash would look to its peers: no
// gossip goodbye, no leadership hand-over, connections cut. Data on disk
// stays as the last fsync left it. Tests use it as kill -9.
func (n *Node) Kill() {
	n.stopOnce.Do(func() {
		if n.cancel != nil {
			n.cancel()
		}
		var errs []error
		if n.httpSrv != nil {
			_ = n.httpSrv.Close()
		}
		if n.cluster != nil {
			_ = n.cluster.Shutdown()
		}
		if n.grpc != nil {
			n.grpc.Stop()
		}
		if n.raft != nil {
			_ = n.raft.Kill()
		}
		n.stopRest(&errs)
	})
}

// stopRest stops what both shutdown paths share, in reverse start order.
func (n *Node) stopRest(errs *[]error) {
	if n.cluster != nil {
		if err := n.cluster.Shutdown(); err != nil {
			n.log.Debug("gossip shutdown", "err", err)
		}
	}
	if n.grpc != nil {
		n.grpc.Stop()
	}
	if n.pool != nil {
		_ = n.pool.Close()
	}
	if n.net != nil {
		n.net.Close()
	}
	n.wg.Wait()
	n.raftLoops.Wait()
	for i := len(n.services) - 1; i >= 0; i-- {
		if err := n.services[i].Close(); err != nil {
			*errs = append(*errs, fmt.Errorf("close %s: %w", n.services[i].Name(), err))
		}
	}
	n.closeAll()
	n.log.Info("stopped")
}

// closeAll releases listeners and the data-dir lock; safe on partial starts.
func (n *Node) closeAll() {
	for _, ln := range []net.Listener{n.httpLn, n.grpcLn, n.raftLn} {
		if ln != nil {
			_ = ln.Close()
		}
	}
	if n.lock != nil {
		_ = n.lock.Release()
		n.lock = nil
	}
}
