package cluster

import "time"

// State is a member's liveness as seen by this node.
type State string

// Member states. Failed means gossip declared the node dead; Left means it
// said goodbye before going away.
const (
	StateAlive   State = "alive"
	StateSuspect State = "suspect"
	StateFailed  State = "failed"
	StateLeft    State = "left"
)

// Member is one node of the cluster as this node sees it.
type Member struct {
	Meta
	// GossipAddr is the host:port the member gossips on.
	GossipAddr string
	State      State
	// Since is when this node last saw the member's state change.
	Since time.Time
}

// Live reports whether the member is alive or merely suspected.
func (m Member) Live() bool { return m.State == StateAlive || m.State == StateSuspect }
