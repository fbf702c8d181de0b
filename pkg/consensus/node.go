package consensus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/edgeplane/edgeplane/internal/logadapt"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	autopilot "github.com/hashicorp/raft-autopilot"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
)

// ErrNotLeader is returned by leader-only calls on other nodes. The error
// is a *NotLeaderError naming the leader when one is known.
var ErrNotLeader = errors.New("not the raft leader")

// ErrOutcomeUnknown means a command may or may not be applied: leadership
// was lost while it was being committed, or the connection to the leader
// broke after it was sent. It must not be proposed again blindly (that
// could apply it twice).
var ErrOutcomeUnknown = errors.New("the command may or may not have been applied")

// NotLeaderError says which node leads, so callers can forward to it.
type NotLeaderError struct {
	LeaderID   string
	LeaderAddr string
}

func (e *NotLeaderError) Error() string {
	if e.LeaderID == "" {
		return "not the raft leader (no leader known)"
	}
	return fmt.Sprintf("not the raft leader (leader is %s)", e.LeaderID)
}

// Is makes errors.Is(err, ErrNotLeader) true.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }

// Node is this node's member of the Raft group.
type Node struct {
	cfg       Config
	log       *slog.Logger
	raft      *raft.Raft
	wal       *raftwal.WAL
	meta      *metadb.BoltMetaDB
	transport *raft.NetworkTransport

	peers     *peers
	autopilot *autopilot.Autopilot
	delegate  *delegate
	promoter  *promoter
	termStart termStart // see ReadIndex
	// replayTo is the last index of the log this node found on disk when
	// it opened it (see CatchingUp).
	replayTo uint64

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{} // closed when reconcileLoop returns
	formed   chan struct{} // closed when bootstrapExpectLoop returns (or never ran)
}

// Open starts Raft: it opens the log and snapshots in cfg.Dir, applies an
// operator's peers.json (lost quorum recovery) if there is one, bootstraps
// a new single-voter cluster if allowed and there is no state (or, with
// BootstrapExpect >= 2, waits in the background for the expected members
// and bootstraps with all of them as voters), and otherwise resumes from
// its state (or waits to be added by a leader).
func Open(cfg Config) (*Node, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger.With("component", "raft")
	hlog := hclog.New(&hclog.LoggerOptions{
		Name:   "raft",
		Level:  hclog.Info,
		Output: logadapt.WriterFunc(cfg.Logger.With("component", "raft-lib"), departedPeerNoise(cfg.Members)),
	})
	walDir := filepath.Join(cfg.Dir, "wal")
	if err := os.MkdirAll(walDir, 0o700); err != nil {
		return nil, fmt.Errorf("raft dir: %w", err)
	}
	// raft-wal's Close does not close the meta store it opens itself, which
	// would keep its bolt file locked after shutdown; own it instead.
	meta := &metadb.BoltMetaDB{}
	wal, err := openLog(walDir, hlog.Named("wal"), meta, log, cfg.Registerer)
	if err != nil {
		_ = meta.Close()
		return nil, fmt.Errorf("open raft log: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, 2, hlog.Named("snapshots"))
	if err != nil {
		_ = wal.Close()
		_ = meta.Close()
		return nil, fmt.Errorf("open raft snapshots: %w", err)
	}
	var stream raft.StreamLayer
	if cfg.StreamLayer != nil {
		stream = cfg.StreamLayer(cfg.Listener, advertiseOf(cfg))
	} else {
		stream = newTCPStreamLayer(cfg.Listener, advertiseOf(cfg))
	}
	transport := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  stream,
		MaxPool: 3,
		Timeout: 10 * time.Second,
		Logger:  hlog.Named("transport"),
	})

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.Logger = hlog
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = commitTimeout
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.TrailingLogs = cfg.TrailingLogs
	rc.ShutdownOnRemove = false

	hasState, err := raft.HasExistingState(wal, wal, snaps)
	if err != nil {
		_ = wal.Close()
		_ = meta.Close()
		return nil, fmt.Errorf("inspect raft state: %w", err)
	}
	recovered := false
	if hasState {
		recovered, err = recoverFromPeersFile(cfg.Dir, rc, cfg.FSM, wal, wal, snaps, transport, log)
		if err != nil {
			_ = transport.Close()
			_ = wal.Close()
			_ = meta.Close()
			return nil, err
		}
	} else if _, serr := os.Stat(filepath.Join(cfg.Dir, PeersFile)); serr == nil {
		log.Warn("ignoring peers.json: this server has no raft state to recover", "file", filepath.Join(cfg.Dir, PeersFile))
	}
	if !hasState && cfg.Bootstrap && cfg.BootstrapExpect <= 1 {
		boot := raft.Configuration{Servers: []raft.Server{{
			Suffrage: raft.Voter, ID: rc.LocalID, Address: transport.LocalAddr(),
		}}}
		if err := raft.BootstrapCluster(rc, wal, wal, snaps, transport, boot); err != nil {
			_ = wal.Close()
			_ = meta.Close()
			return nil, fmt.Errorf("bootstrap raft: %w", err)
		}
		log.Info("bootstrapped a new cluster", "node", cfg.NodeID, "addr", transport.LocalAddr())
	}
	r, err := raft.NewRaft(rc, cfg.FSM, newTrimmedLog(withFatal(wal, walDir, cfg.OnFatal), wal), wal, snaps, transport)
	if err != nil {
		_ = transport.Close()
		_ = wal.Close()
		_ = meta.Close()
		return nil, fmt.Errorf("start raft: %w", err)
	}
	n := &Node{
		cfg: cfg, log: log, raft: r, wal: wal, meta: meta, transport: transport,
		peers:  newPeers(cfg.PeerConn),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		formed: make(chan struct{}),
		// Read before raft applies anything beyond its snapshot: it
		// replays the rest only once a leader tells it what committed.
		replayTo: r.LastIndex(),
	}
	n.delegate = newDelegate(n)
	n.promoter = &promoter{
		voters: cfg.Voters, replaceAfter: cfg.VoterReplaceAfter, deadGrace: cfg.DeadServerGrace, now: time.Now,
		current: func() (raft.Configuration, bool) {
			f := r.GetConfiguration()
			return f.Configuration(), f.Error() == nil
		},
	}
	n.autopilot = autopilot.New(r, n.delegate,
		autopilot.WithLogger(hlog.Named("autopilot")),
		autopilot.WithReconcileInterval(cfg.ReconcileInterval),
		// Each update asks every server for its stats, bounded by half the
		// interval: at least a second keeps a slow answer from a loaded
		// machine from looking like a dead server.
		autopilot.WithUpdateInterval(max(2*cfg.ReconcileInterval, time.Second)),
		autopilot.WithPromoter(n.promoter),
	)
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(newCollector(n)); err != nil {
			_ = n.Shutdown()
			return nil, fmt.Errorf("register raft metrics: %w", err)
		}
	}
	log.Info("raft started", "node", cfg.NodeID, "addr", transport.LocalAddr(), "existing_state", hasState, "recovered", recovered)
	go n.reconcileLoop()
	if !hasState && cfg.BootstrapExpect >= 2 {
		go n.bootstrapExpectLoop()
	} else {
		close(n.formed)
	}
	return n, nil
}

func advertiseOf(cfg Config) net.Addr {
	if cfg.Advertise != nil {
		return cfg.Advertise
	}
	return cfg.Listener.Addr()
}

// Apply proposes a command and waits until it is committed and applied on
// this (leader) node, returning its log index and the state machine's
// result. Other nodes get a *NotLeaderError.
func (n *Node) Apply(ctx context.Context, cmd []byte) (uint64, []byte, error) {
	if n.raft.State() != raft.Leader {
		return 0, nil, n.notLeader()
	}
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
		if timeout <= 0 {
			return 0, nil, fmt.Errorf("raft apply: %w", context.DeadlineExceeded)
		}
	}
	f := n.raft.Apply(cmd, timeout)
	// The future resolves within timeout; a caller that gives up sooner
	// (a node shutting down cancels its loops) is not kept waiting. The
	// entry may still commit: its outcome is unknown.
	if !awaitFuture(ctx, f) {
		return 0, nil, fmt.Errorf("raft apply: %w (%w)", ErrOutcomeUnknown, ctx.Err())
	}
	if err := f.Error(); err != nil {
		switch {
		case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
			// Refused before it reached the log: safe to send elsewhere.
			return 0, nil, n.notLeader()
		case errors.Is(err, raft.ErrLeadershipLost):
			// The entry may have reached the log and may yet commit under
			// the next leader: proposing it again could apply it twice.
			return 0, nil, fmt.Errorf("raft apply: %w", ErrOutcomeUnknown)
		}
		return 0, nil, fmt.Errorf("raft apply: %w", err)
	}
	// The state machine answers an entry it could not apply with an error
	// (recorded the same way on every node): the proposer's failure.
	if err, ok := f.Response().(error); ok {
		return f.Index(), nil, err
	}
	res, _ := f.Response().([]byte)
	return f.Index(), res, nil
}

// awaitFuture waits until f resolves (true) or ctx ends first (false); f's
// own wait goes on in the background.
func awaitFuture(ctx context.Context, f raft.Future) bool {
	resolved := make(chan struct{})
	go func() { _ = f.Error(); close(resolved) }()
	select {
	case <-resolved:
		return true
	case <-ctx.Done():
		return false
	}
}

func (n *Node) notLeader() error {
	addr, id := n.raft.LeaderWithID()
	return &NotLeaderError{LeaderID: string(id), LeaderAddr: string(addr)}
}

// commitTimeout is how long the leader's replication to a follower waits
// for new entries before it sends an AppendEntries anyway. A follower learns
// that an entry committed only from the next AppendEntries, so on an idle
// cluster a write is visible on followers up to 2*commitTimeout after the
// leader applied it (raft's default, 50 ms, made a follower-sent D1 write
// take 84 ms at p50). 5 ms costs an empty AppendEntries per follower every
// 5-10 ms while idle: a few hundred small RPCs a second (measured: an idle
// 3-node cluster used 0.19 cores of a 2-core VM, against 0.09 with 50 ms).
const commitTimeout = 5 * time.Millisecond

// WaitApplied blocks until this node has applied the log up to index, so a
// read after a forwarded write sees that write.
//
// When the FSM reports its own applied index (AppliedIndex), that is what
// counts: Raft's moves as soon as entries are handed to the FSM goroutine,
// before their effects are visible.
func (n *Node) WaitApplied(ctx context.Context, index uint64) error {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for n.AppliedIndex() < index {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for raft index %d (applied %d): %w", index, n.AppliedIndex(), ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// Snapshot takes a snapshot now and compacts the log down to TrailingLogs.
func (n *Node) Snapshot() error {
	if err := n.raft.Snapshot().Error(); err != nil {
		return fmt.Errorf("raft snapshot: %w", err)
	}
	return nil
}

// Leader returns the current leader's id and Raft address, empty if none.
func (n *Node) Leader() (id, addr string) {
	a, i := n.raft.LeaderWithID()
	return string(i), string(a)
}

// IsLeader reports whether this node leads.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// IsVoter reports whether this node is a voter in the latest configuration.
func (n *Node) IsVoter() bool {
	cf := n.raft.GetConfiguration()
	if cf.Error() != nil {
		return false
	}
	for _, s := range cf.Configuration().Servers {
		if string(s.ID) == n.cfg.NodeID {
			return s.Suffrage == raft.Voter
		}
	}
	return false
}

// Shutdown hands leadership to another voter if this node leads (so the
// cluster does not wait out an election), then stops Raft and closes the log.
func (n *Node) Shutdown() error { return n.stopRaft(true) }

// Kill stops Raft without handing leadership over, as a crash would: the
// others notice only when heartbeats stop.
func (n *Node) Kill() error { return n.stopRaft(false) }

func (n *Node) stopRaft(handOver bool) error {
	var err error
	n.stopOnce.Do(func() {
		close(n.stop)
		<-n.done
		<-n.formed
		<-n.autopilot.Stop()
		n.peers.close()
		if handOver && n.raft.State() == raft.Leader && n.otherVoters() > 0 {
			if terr := n.raft.LeadershipTransfer().Error(); terr != nil {
				n.log.Warn("leadership transfer before shutdown failed", "err", terr)
			} else {
				n.log.Info("handed leadership over before shutdown")
			}
		}
		if serr := n.raft.Shutdown().Error(); serr != nil {
			err = fmt.Errorf("raft shutdown: %w", serr)
		}
		if cerr := n.transport.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("raft transport close: %w", cerr)
		}
		if werr := n.wal.Close(); werr != nil && err == nil {
			err = fmt.Errorf("raft log close: %w", werr)
		}
		if merr := n.meta.Close(); merr != nil && err == nil {
			err = fmt.Errorf("raft log meta close: %w", merr)
		}
	})
	return err
}

func (n *Node) otherVoters() int {
	cf := n.raft.GetConfiguration()
	if cf.Error() != nil {
		return 0
	}
	count := 0
	for _, s := range cf.Configuration().Servers {
		if s.Suffrage == raft.Voter && string(s.ID) != n.cfg.NodeID {
			count++
		}
	}
	return count
}
