package wire

// MemberRemoval is the result of DELETE /client/v4/cluster/members/{id}:
// the node removed from the Raft configuration for good.
type MemberRemoval struct {
	ID string `json:"id"`
	// WasVoter reports whether the removed node held a vote.
	WasVoter bool `json:"was_voter"`
	// RaftIndex is the log index of the configuration change.
	RaftIndex uint64 `json:"raft_index"`
}
