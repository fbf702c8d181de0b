package objstore

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/edgeplane/edgeplane/pkg/router"
	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// Replicator runs the replication protocol of this node: the DOReplica gRPC
// server (this node as a replica) and the client side (this node as the
// owner of the objects it opens).
type Replicator struct {
	store   *Store
	pool    *router.Pool
	self    string
	resolve func(nodeID string) (string, bool)
	peers   func() []string
	log     *slog.Logger
	m       *metrics

	callTimeout  time.Duration
	prepareGrace time.Duration

	mu   sync.Mutex
	open map[*Object]struct{}
}

// ReplicatorOption configures a Replicator.
type ReplicatorOption func(*replicatorConfig)

type replicatorConfig struct {
	resolve      func(string) (string, bool)
	peers        func() []string
	log          *slog.Logger
	reg          prometheus.Registerer
	callTimeout  time.Duration
	prepareGrace time.Duration
}

// WithResolver sets how a node id maps to its gRPC address (the gossip
// membership's GRPCAddr). Without one no other node can be reached.
func WithResolver(resolve func(nodeID string) (addr string, ok bool)) ReplicatorOption {
	return func(c *replicatorConfig) { c.resolve = resolve }
}

// WithPeers sets the nodes edge_do_replication_lag_seconds reports on
// even when no object this node owns replicates to them (a lag of 0), so
// the series exist before the first write (the cluster's members).
func WithPeers(peers func() []string) ReplicatorOption {
	return func(c *replicatorConfig) { c.peers = peers }
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) ReplicatorOption {
	return func(c *replicatorConfig) { c.log = l }
}

// WithRegisterer sets where the replicator's metrics are registered
// (default: none). Give each replicator its own registry.
func WithRegisterer(reg prometheus.Registerer) ReplicatorOption {
	return func(c *replicatorConfig) { c.reg = reg }
}

// WithCallTimeout bounds each call to another node (default 5 s); the
// caller's context bounds it too.
func WithCallTimeout(d time.Duration) ReplicatorOption {
	return func(c *replicatorConfig) { c.callTimeout = d }
}

// WithPrepareGrace sets how long Open waits, once a majority promised,
// for the other replicas to answer too (default 100 ms). Answers from more
// replicas make Open find a replica set change's newest state more often.
func WithPrepareGrace(d time.Duration) ReplicatorOption {
	return func(c *replicatorConfig) { c.prepareGrace = d }
}

// NewReplicator returns the replicator of store, reaching other nodes
// through pool; self is this node's id.
func NewReplicator(store *Store, pool *router.Pool, self string, opts ...ReplicatorOption) *Replicator {
	cfg := replicatorConfig{callTimeout: 5 * time.Second, prepareGrace: 100 * time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}
	if cfg.resolve == nil {
		cfg.resolve = func(string) (string, bool) { return "", false }
	}
	r := &Replicator{
		store: store, pool: pool, self: self, resolve: cfg.resolve, peers: cfg.peers,
		log:         cfg.log.With("component", "do-replica", "node", self),
		callTimeout: cfg.callTimeout, prepareGrace: cfg.prepareGrace,
		open: make(map[*Object]struct{}),
	}
	r.m = newMetrics(cfg.reg, r)
	return r
}

// RegisterGRPC registers the DOReplica service on s.
func (r *Replicator) RegisterGRPC(s *grpc.Server) {
	edgev1.RegisterDOReplicaServer(s, &server{r: r})
}

// Lag returns, per replica node of the objects this node has open, the age
// at now of the oldest write that node has not acknowledged (0 when none).
// This node (always up to date with its own writes) and the WithPeers
// nodes are reported too, with 0 unless an open object says otherwise.
func (r *Replicator) Lag(now time.Time) map[string]time.Duration {
	r.mu.Lock()
	objs := make([]*Object, 0, len(r.open))
	for o := range r.open {
		objs = append(objs, o)
	}
	r.mu.Unlock()
	out := map[string]time.Duration{r.self: 0}
	if r.peers != nil {
		for _, p := range r.peers() {
			out[p] = 0
		}
	}
	for _, o := range objs {
		for _, f := range o.followers {
			lag := f.lag(now)
			if cur, ok := out[f.node]; !ok || lag > cur {
				out[f.node] = lag
			}
		}
	}
	return out
}

// client returns the DOReplica client of node.
func (r *Replicator) client(node string) (edgev1.DOReplicaClient, error) {
	addr, ok := r.resolve(node)
	if !ok {
		return nil, fmt.Errorf("do replica %q: no address known: %w", node, router.ErrUnreachable)
	}
	conn, err := r.pool.Conn(addr)
	if err != nil {
		return nil, fmt.Errorf("do replica %q: %w", node, err)
	}
	// The pool skips the rest of a reconnect backoff (a partition that
	// healed, a restart), so an owner change right after a heal finds its
	// quorum. Calls wait for the connection (within their deadline) instead of
	// failing at once while it is being made: grpc.WaitForReady.
	return edgev1.NewDOReplicaClient(conn), nil
}

// callCtx bounds one call.
func (r *Replicator) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.callTimeout)
}

// prepareOn asks node (this one locally) for a promise of b.
func (r *Replicator) prepareOn(ctx context.Context, node, obj string, b Ballot, replicas []string) (bool, Meta, error) {
	if node == r.self {
		return r.store.Promise(obj, b, replicas)
	}
	c, err := r.client(node)
	if err != nil {
		return false, Meta{}, err
	}
	ctx, cancel := r.callCtx(ctx)
	defer cancel()
	resp, err := c.Prepare(ctx, &edgev1.DOPrepareRequest{Obj: obj, Ballot: ballotToProto(b), Replicas: replicas},
		grpc.WaitForReady(true))
	if err != nil {
		return false, Meta{}, fmt.Errorf("do prepare %q on %s: %w", obj, node, err)
	}
	m := infoFromProto(resp.GetInfo())
	if err := validInfo(m); err != nil {
		return false, Meta{}, fmt.Errorf("do prepare %q on %s: bad answer: %w", obj, node, err)
	}
	return resp.GetOk(), m, nil
}

// acceptOn sends one Accept to a remote node.
func (r *Replicator) acceptOn(ctx context.Context, node, obj string, req AcceptRequest) (AcceptResult, Meta, error) {
	c, err := r.client(node)
	if err != nil {
		return 0, Meta{}, err
	}
	ctx, cancel := r.callCtx(ctx)
	defer cancel()
	resp, err := c.Accept(ctx, &edgev1.DOAcceptRequest{
		Obj: obj, Ballot: ballotToProto(req.Ballot), BaseBallot: ballotToProto(req.BaseBallot), BaseSeq: req.BaseSeq,
		Seq: req.Seq, Ops: opsToProto(req.Ops), Replicas: req.Replicas,
	}, grpc.WaitForReady(true))
	if err != nil {
		return 0, Meta{}, fmt.Errorf("do accept %q seq %d on %s: %w", obj, req.Seq, node, err)
	}
	return acceptAnswer(resp)
}

func acceptAnswer(resp *edgev1.DOAcceptResponse) (AcceptResult, Meta, error) {
	m := infoFromProto(resp.GetInfo())
	if err := validInfo(m); err != nil {
		return 0, Meta{}, fmt.Errorf("bad answer: %w", err)
	}
	switch {
	case resp.GetOk():
		return Accepted, m, nil
	case resp.GetSuperseded():
		return Superseded, m, nil
	}
	return Mismatch, m, nil
}

// installOn sends this node's whole state of obj (accepted under b) to
// node, recording replicas with it. It returns the outcome and the seq
// sent.
func (r *Replicator) installOn(ctx context.Context, node, obj string, b Ballot, replicas []string) (AcceptResult, uint64, error) {
	c, err := r.client(node)
	if err != nil {
		return 0, 0, err
	}
	snap, err := r.store.snapshot()
	if err != nil {
		return 0, 0, err
	}
	defer snap.Close()
	m, err := snap.Meta(obj)
	if err != nil {
		return 0, 0, err
	}
	if m.Accepted != b {
		// A newer owner installed its state here meanwhile.
		return Superseded, 0, nil
	}
	// A whole state may be large: allow a second per MiB on top (a slow
	// or loaded link must not make the transfer fail forever).
	ctx, cancel := context.WithTimeout(ctx, r.callTimeout+time.Duration(m.Size>>20)*time.Second)
	defer cancel()
	st, err := c.InstallState(ctx, grpc.WaitForReady(true))
	if err != nil {
		return 0, 0, fmt.Errorf("do install %q on %s: %w", obj, node, err)
	}
	if err := sendState(snap, obj, b, m, replicas, st.Send); err != nil {
		// The server's answer says why the stream broke.
		if _, rerr := st.CloseAndRecv(); rerr != nil {
			return 0, 0, fmt.Errorf("do install %q on %s: %w", obj, node, rerr)
		}
		return 0, 0, fmt.Errorf("do install %q on %s: %w", obj, node, err)
	}
	resp, err := st.CloseAndRecv()
	if err != nil {
		return 0, 0, fmt.Errorf("do install %q on %s: %w", obj, node, err)
	}
	res, held, err := acceptAnswer(resp)
	if err != nil {
		return 0, 0, fmt.Errorf("do install %q on %s: %w", obj, node, err)
	}
	r.m.transfers.WithLabelValues("sent").Inc()
	if res == Accepted && held.Accepted == b && held.Seq > m.Seq {
		// The replica was already past the state sent.
		return res, held.Seq, nil
	}
	return res, m.Seq, nil
}

// fetchFrom pulls node's whole state of obj under ballot b.
func (r *Replicator) fetchFrom(ctx context.Context, node, obj string, b Ballot) (State, error) {
	c, err := r.client(node)
	if err != nil {
		return State{}, err
	}
	// The stream may carry up to the storage cap: a generous bound of
	// twelve call timeouts (a minute by default) on top of the caller's.
	ctx, cancel := context.WithTimeout(ctx, 12*r.callTimeout)
	defer cancel()
	st, err := c.FetchState(ctx, &edgev1.DOFetchStateRequest{Obj: obj, Ballot: ballotToProto(b)}, grpc.WaitForReady(true))
	if err != nil {
		return State{}, fmt.Errorf("do fetch %q from %s: %w", obj, node, err)
	}
	_, _, state, err := receiveState(st.Recv, r.store.StorageCap()+MaxCommitBytes, func(o string, got Ballot) error {
		if o != obj || got != b {
			return fmt.Errorf("state of %q under %s, asked %q under %s: %w", o, got, obj, b, ErrInvalid)
		}
		return nil
	})
	if err != nil {
		return State{}, fmt.Errorf("do fetch %q from %s: %w", obj, node, err)
	}
	// Drain to the end so the stream's resources are released.
	if _, err := st.Recv(); err != nil && err != io.EOF {
		return State{}, fmt.Errorf("do fetch %q from %s: %w", obj, node, err)
	}
	r.m.transfers.WithLabelValues("fetched").Inc()
	return state, nil
}

// majority is the number of nodes that make a majority of n.
func majority(n int) int { return n/2 + 1 }

// Close closes every Object this node has open (their waiting Commits
// return ErrClosed). Call it before closing the Store.
func (r *Replicator) Close() {
	r.mu.Lock()
	objs := make([]*Object, 0, len(r.open))
	for o := range r.open {
		objs = append(objs, o)
	}
	r.mu.Unlock()
	for _, o := range objs {
		o.Close()
	}
}
