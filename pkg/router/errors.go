package router

import (
	"errors"
	"fmt"
)

// ErrNotLeader is returned (wrapped) by Apply on a node that is not the Raft
// leader. Backends return it, or a *NotLeaderError, which matches it.
var ErrNotLeader = errors.New("not leader")

// ErrUnreachable means the target node could not be reached over gRPC
// (dial failure, connection refused or reset, node gone).
var ErrUnreachable = errors.New("node unreachable")

// ErrPoolClosed is returned by a Pool after Close.
var ErrPoolClosed = errors.New("router: pool closed")

// NotLeaderError is the not-leader refusal with what the refusing node knows
// about the current leader. Either field may be empty when unknown.
// errors.Is(err, ErrNotLeader) holds for it.
type NotLeaderError struct {
	// LeaderID is the node id of the current leader.
	LeaderID string
	// LeaderAddr is the leader's gRPC address, where Apply should go next.
	LeaderAddr string
}

// Error implements error.
func (e *NotLeaderError) Error() string {
	if e.LeaderID == "" && e.LeaderAddr == "" {
		return "not leader (leader unknown)"
	}
	return fmt.Sprintf("not leader (leader %q at %q)", e.LeaderID, e.LeaderAddr)
}

// Unwrap makes errors.Is(err, ErrNotLeader) true.
func (e *NotLeaderError) Unwrap() error { return ErrNotLeader }
