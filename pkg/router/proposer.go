package router

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/consensus"
)

// ErrNoLeader means no Raft leader could be reached before the deadline.
// It wraps api.ErrUnavailable, so the API answers 503 and clients retry.
var ErrNoLeader = fmt.Errorf("no raft leader reachable: %w", api.ErrUnavailable)

// DefaultProposeTimeout bounds a proposal whose context has no deadline.
const DefaultProposeTimeout = 10 * time.Second

// Raft is what a Proposer needs of this node's Raft member: *consensus.Node.
type Raft interface {
	// Apply proposes cmd; a non-leader answers *consensus.NotLeaderError.
	Apply(ctx context.Context, cmd []byte) (index uint64, result []byte, err error)
	// WaitApplied blocks until this node applied the log up to index.
	WaitApplied(ctx context.Context, index uint64) error
}

// Proposer commits Raft commands from any node: on the leader directly,
// elsewhere through the leader's Apply RPC. It is the one path by which
// every service (and the catalog) writes through Raft.
type Proposer struct {
	self     string
	raft     Raft
	members  Membership
	pool     *Pool
	validate func(cmd []byte, proposer string) error
}

// NewProposer returns a Proposer for node self. validate checks a command
// before it is proposed (nil accepts all), with the node that proposes it:
// self here, and, on the leader, the node that sent it over gRPC (its
// certificate's node id under mutual TLS), so a state machine can refuse a
// command one node proposes in another's name.
func NewProposer(self string, raft Raft, members Membership, pool *Pool, validate func(cmd []byte, proposer string) error) *Proposer {
	return &Proposer{self: self, raft: raft, members: members, pool: pool, validate: validate}
}

// Propose commits cmd and returns the state machine's result once this node
// has applied the entry too, so the caller reads its own write (unless ctx
// was marked with LeaderResult). Without a
// leader it retries with backoff until ctx ends (DefaultProposeTimeout when
// ctx has no deadline), then returns an error wrapping ErrNoLeader. When ctx
// belongs to a forwarded request, the entry's index travels back with the
// response so the forwarding node waits for it as well. A ctx that already
// ended proposes nothing.
func (p *Proposer) Propose(ctx context.Context, cmd []byte) ([]byte, error) {
	if p.validate != nil {
		if err := p.validate(cmd, p.self); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		// The caller already gave up (a stopping node cancels its
		// loops): a command sent to Raft now could only be abandoned with
		// its outcome unknown.
		return nil, fmt.Errorf("propose: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultProposeTimeout)
		defer cancel()
	}
	backoff := 20 * time.Millisecond
	for {
		index, res, err := p.proposeOnce(ctx, cmd)
		if err == nil {
			if !leaderResultOnly(ctx) {
				if err := p.raft.WaitApplied(ctx, index); err != nil {
					return nil, err
				}
			}
			noteIndex(ctx, index)
			return res, nil
		}
		if errors.Is(err, consensus.ErrOutcomeUnknown) {
			// Retrying could apply the command twice; the client decides.
			return nil, fmt.Errorf("propose: %w (%w)", err, api.ErrUnavailable)
		}
		if !errors.Is(err, consensus.ErrNotLeader) && !errors.Is(err, ErrNoLeader) && !errors.Is(err, ErrUnreachable) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("propose: %w (last: %v)", ErrNoLeader, err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

type leaderResultKey struct{}

// LeaderResult marks ctx so that Propose returns the leader's result as
// soon as the leader applied the entry, without waiting until this node
// applied it too. A follower learns that an entry committed only from the
// leader's next AppendEntries, so that wait costs up to Raft's commit
// timeout on an idle cluster; a caller that gives read-your-writes another
// way (D1 answers the entry's index as a bookmark and makes this node's next
// reads wait for it) saves it. The result is the same on every node: state
// machines are deterministic.
func LeaderResult(ctx context.Context) context.Context {
	return context.WithValue(ctx, leaderResultKey{}, true)
}

func leaderResultOnly(ctx context.Context) bool {
	v, _ := ctx.Value(leaderResultKey{}).(bool)
	return v
}

// ApplyLocal proposes cmd on this node only, as the gRPC Apply handler
// does for commands other nodes send: validated first, and refused with
// *consensus.NotLeaderError when this node does not lead.
func (p *Proposer) ApplyLocal(ctx context.Context, cmd []byte) (uint64, []byte, error) {
	if p.validate != nil {
		proposer := proposerFrom(ctx)
		if proposer == "" {
			proposer = p.self
		}
		if err := p.validate(cmd, proposer); err != nil {
			return 0, nil, err
		}
	}
	return p.raft.Apply(ctx, cmd)
}

func (p *Proposer) proposeOnce(ctx context.Context, cmd []byte) (uint64, []byte, error) {
	index, res, err := p.raft.Apply(ctx, cmd)
	var nle *consensus.NotLeaderError
	if !errors.As(err, &nle) {
		return index, res, err
	}
	if nle.LeaderID == "" || nle.LeaderID == p.self {
		return 0, nil, ErrNoLeader
	}
	leader, ok := p.members.Member(nle.LeaderID)
	if !ok || !leader.Live() || leader.GRPCAddr == "" {
		return 0, nil, ErrNoLeader
	}
	return p.pool.ApplyOn(ctx, leader.GRPCAddr, cmd, p.self, api.RequestIDFrom(ctx))
}

// indexNote carries the Raft index of a forwarded request's write from the
// proposer back to the gRPC server that answers the forward.
type indexNote struct{ index atomic.Uint64 }

type indexNoteKey struct{}

// withIndexNote returns ctx with a fresh note, and the note.
func withIndexNote(ctx context.Context) (context.Context, *indexNote) {
	n := &indexNote{}
	return context.WithValue(ctx, indexNoteKey{}, n), n
}

// noteIndex records index in ctx's note, keeping the highest.
func noteIndex(ctx context.Context, index uint64) {
	n, _ := ctx.Value(indexNoteKey{}).(*indexNote)
	if n == nil {
		return
	}
	for {
		cur := n.index.Load()
		if index <= cur || n.index.CompareAndSwap(cur, index) {
			return
		}
	}
}

// header returns the note as a header value, "" when nothing was written.
func (n *indexNote) header() string {
	if v := n.index.Load(); v > 0 {
		return strconv.FormatUint(v, 10)
	}
	return ""
}

// proposerKey marks the context of a command another node sent over gRPC.
type proposerKey struct{}

// withProposer marks ctx as carrying a command that node proposed.
func withProposer(ctx context.Context, node string) context.Context {
	return context.WithValue(ctx, proposerKey{}, node)
}

// proposerFrom is the node that sent the command of ctx, "" when local.
func proposerFrom(ctx context.Context) string {
	s, _ := ctx.Value(proposerKey{}).(string)
	return s
}
