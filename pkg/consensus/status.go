package consensus

import (
	"time"

	"github.com/hashicorp/raft"
)

// Raft roles as reported by Status.
const (
	RoleLeader    = "leader"
	RoleFollower  = "follower"
	RoleCandidate = "candidate"
	RoleNonvoter  = "nonvoter"
	RoleShutdown  = "shutdown"
)

// Status is a point-in-time view of this node's Raft member.
type Status struct {
	Role         string
	LeaderID     string
	LeaderAddr   string
	Term         uint64
	CommitIndex  uint64
	AppliedIndex uint64
	LastIndex    uint64
	Voters       int
	Nonvoters    int
	// LastContact is the time since the leader was last heard from; zero on
	// the leader itself and when never contacted.
	LastContact time.Duration
}

// Status reports this node's Raft role, leader, term and indexes.
func (n *Node) Status() Status {
	st := Status{
		Term:         n.raft.CurrentTerm(),
		CommitIndex:  n.raft.CommitIndex(),
		AppliedIndex: n.raft.AppliedIndex(),
		LastIndex:    n.raft.LastIndex(),
	}
	st.LeaderID, st.LeaderAddr = n.Leader()
	selfVoter := false
	if cf := n.raft.GetConfiguration(); cf.Error() == nil {
		for _, s := range cf.Configuration().Servers {
			if s.Suffrage == raft.Voter {
				st.Voters++
			} else {
				st.Nonvoters++
			}
			if string(s.ID) == n.cfg.NodeID && s.Suffrage == raft.Voter {
				selfVoter = true
			}
		}
	}
	switch n.raft.State() {
	case raft.Leader:
		st.Role = RoleLeader
	case raft.Candidate:
		st.Role = RoleCandidate
	case raft.Shutdown:
		st.Role = RoleShutdown
	default:
		st.Role = RoleFollower
		if !selfVoter {
			st.Role = RoleNonvoter
		}
	}
	if st.Role != RoleLeader {
		if lc := n.raft.LastContact(); !lc.IsZero() {
			st.LastContact = time.Since(lc)
		}
	}
	return st
}
