package consensus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// This file is the read side of consensus: what a service needs to serve
// linearizable reads without writing to the log (the ReadIndex protocol of
// the Raft thesis, section 6.4), and the indexes and contact time it shows
// as replica lag.

// LeaderID returns the current leader's id, "" when none is known.
func (n *Node) LeaderID() string {
	id, _ := n.Leader()
	return id
}

// CommitIndex is the highest log index this node knows to be committed.
func (n *Node) CommitIndex() uint64 { return n.raft.CommitIndex() }

// AppliedIndex is the index of the last entry whose effects are visible on
// this node: the state machine's own count when it keeps one (Raft's moves
// as entries are handed to the state machine, before they are applied).
func (n *Node) AppliedIndex() uint64 {
	if f, ok := n.cfg.FSM.(interface{ AppliedIndex() uint64 }); ok {
		return f.AppliedIndex()
	}
	return n.raft.AppliedIndex()
}

// CatchingUp reports whether this node has yet to apply the entries its own
// log held when it opened it: after a restart Raft restores the last
// snapshot at once but replays the entries after it only once a leader
// says they committed. Until then the state machines are known to be older
// than what this node served before it stopped (a token created since the
// snapshot is not there yet); a fresh node has nothing to catch up on.
func (n *Node) CatchingUp() (applied, target uint64, behind bool) {
	applied = n.AppliedIndex()
	return applied, n.replayTo, applied < n.replayTo
}

// LastContact is the time since this node last heard from the leader: zero
// on the leader itself and before any contact.
func (n *Node) LastContact() time.Duration {
	if n.raft.State() == raft.Leader {
		return 0
	}
	lc := n.raft.LastContact()
	if lc.IsZero() {
		return 0
	}
	return time.Since(lc)
}

// VerifyLeader confirms that this node still leads: it sends a round of
// heartbeats and returns once a quorum of voters answered, without writing
// to the log. Any other node, or a leader that a quorum no longer follows,
// gets a *NotLeaderError.
func (n *Node) VerifyLeader(ctx context.Context) error {
	if n.raft.State() != raft.Leader {
		return n.notLeader()
	}
	f := n.raft.VerifyLeader()
	if !awaitFuture(ctx, f) {
		return fmt.Errorf("verify raft leadership: %w", ctx.Err())
	}
	switch err := f.Error(); {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost):
		return n.notLeader()
	default:
		return fmt.Errorf("verify raft leadership: %w", err)
	}
}

// ReadIndex returns an index such that a read served once this node applied
// it is linearizable: every write acknowledged before the call is at or
// below it. Only the leader answers (others get a *NotLeaderError); it
// takes the larger of its commit index and the last index of its log when
// its term began (a new leader's commit index can trail the entries its
// predecessor committed until its first entry of the term commits), then
// confirms with a quorum that it still leads (VerifyLeader). Nothing is
// written to the log.
func (n *Node) ReadIndex(ctx context.Context) (uint64, error) {
	if n.raft.State() != raft.Leader {
		return 0, n.notLeader()
	}
	index := max(n.raft.CommitIndex(), n.termStart.get(n.raft))
	if err := n.VerifyLeader(ctx); err != nil {
		return 0, err
	}
	return index, nil
}

// termStart remembers, for the term this node leads, the last index its log
// held when it first checked: every entry of earlier terms is at or below
// it, so once it is applied so is everything an earlier leader committed.
type termStart struct {
	mu    sync.Mutex
	term  uint64
	index uint64
}

func (t *termStart) get(r *raft.Raft) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	// LastIndex is read after the term: an index read later can only be
	// higher, which makes a reader wait longer, never read older state.
	term := r.CurrentTerm()
	if term != t.term {
		t.term, t.index = term, r.LastIndex()
	}
	return t.index
}
