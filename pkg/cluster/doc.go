// Package cluster is the membership layer of an Edgeplane node: it gossips
// with its peers over hashicorp/memberlist, publishes this node's record
// (id, region, addresses, version, voter) as gossip metadata, tracks every
// peer's state (alive, suspect, failed, left), and keeps Vivaldi network
// coordinates fed by memberlist's ping round trips (hashicorp/serf's
// coordinate package) so that any node can estimate its RTT to any other.
//
// Which members vote in Raft is decided by the consensus package; cluster
// only carries the voter flag in the node record.
package cluster
