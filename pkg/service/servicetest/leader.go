// Package servicetest holds test doubles of what the node lends a service
// (service.Deps), for tests that run one service without a cluster.
package servicetest

import (
	"context"
	"time"
)

// Leader is service.Raft for a single node that always leads and has
// applied every command its proposer handed out: Index reports the last
// index handed out (the test's Propose applies each command at once).
type Leader struct {
	// ID is the node's id, reported as the leader.
	ID string
	// Index is the last index proposed and applied.
	Index func() uint64
}

// LeaderID implements service.Raft.
func (l *Leader) LeaderID() string { return l.ID }

// IsLeader implements service.Raft.
func (l *Leader) IsLeader() bool { return true }

// VerifyLeader implements service.Raft: a single node is its own quorum.
func (l *Leader) VerifyLeader(context.Context) error { return nil }

// ReadIndex implements service.Raft.
func (l *Leader) ReadIndex(context.Context) (uint64, error) { return l.Index(), nil }

// CommitIndex implements service.Raft.
func (l *Leader) CommitIndex() uint64 { return l.Index() }

// AppliedIndex implements service.Raft.
func (l *Leader) AppliedIndex() uint64 { return l.Index() }

// WaitApplied implements service.Raft: an index not handed out yet never
// comes without a proposal, so it waits for ctx.
func (l *Leader) WaitApplied(ctx context.Context, index uint64) error {
	if l.Index() >= index {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

// LastContact implements service.Raft: the leader is in contact with itself.
func (l *Leader) LastContact() time.Duration { return 0 }
