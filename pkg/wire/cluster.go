package wire

// Member states as reported by the cluster endpoints and edgectl.
const (
	StateAlive   = "alive"
	StateSuspect = "suspect"
	StateFailed  = "failed"
	StateLeft    = "left"
)

// Raft states as reported in RaftStatus.State.
const (
	RaftLeader    = "leader"
	RaftFollower  = "follower"
	RaftCandidate = "candidate"
	RaftNonvoter  = "nonvoter"
	RaftShutdown  = "shutdown"
)

// Member is one node of the cluster as seen by the answering node
// (GET /client/v4/cluster/members).
type Member struct {
	ID         string   `json:"id"`
	Region     string   `json:"region"`
	State      string   `json:"state"`
	Voter      bool     `json:"voter"`
	HTTPAddr   string   `json:"http_addr"`
	GRPCAddr   string   `json:"grpc_addr"`
	RaftAddr   string   `json:"raft_addr"`
	GossipAddr string   `json:"gossip_addr"`
	Version    string   `json:"version"`
	RTTMillis  *float64 `json:"rtt_ms"`
	Self       bool     `json:"self"`
}

// Status describes the answering node (GET /client/v4/cluster/status).
type Status struct {
	NodeID         string     `json:"node_id"`
	ClusterID      string     `json:"cluster_id"`
	Region         string     `json:"region"`
	AccountID      string     `json:"account_id"`
	Version        string     `json:"version"`
	HTTPAddr       string     `json:"http_addr"`
	Raft           RaftStatus `json:"raft"`
	CatalogVersion uint64     `json:"catalog_version"`
	Members        int        `json:"members"`
	UptimeSeconds  float64    `json:"uptime_seconds"`
}

// RaftStatus is the Raft part of Status.
type RaftStatus struct {
	State        string `json:"state"`
	LeaderID     string `json:"leader_id"`
	LeaderAddr   string `json:"leader_addr"`
	Term         uint64 `json:"term"`
	CommitIndex  uint64 `json:"commit_index"`
	AppliedIndex uint64 `json:"applied_index"`
	LastIndex    uint64 `json:"last_index"`
	Voters       int    `json:"voters"`
	Nonvoters    int    `json:"nonvoters"`
}
