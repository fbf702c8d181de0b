// Package consensus runs the node's member of the cluster's single Raft group
// (hashicorp/raft, with a raft-wal log): opening it, forming a new cluster,
// proposing commands (leader only; others get ErrNotLeader so the caller can
// forward), reporting status and metrics, and, on the leader, keeping the
// Raft configuration in line with the cluster.
//
// Formation: with BootstrapExpect >= 2 a new node waits until that many
// members are live in gossip, none of them with Raft state (asked over the
// Consensus gRPC service, grpc.go), and bootstraps with all of them as
// voters, every founder computing the same configuration (formation.go).
// Otherwise a node without a join list bootstraps alone.
//
// Voter changes: the leader runs hashicorp/raft-autopilot, which judges each
// server on its own Raft stats (contact with the leader, log term and index,
// fetched over gRPC), with Edgeplane's promoter (promoter.go): at most Voters
// voters spread over regions, a non-voter promoted only once healthy and
// stable, a failed voter replaced by a healthy non-voter, dead servers
// removed after DeadServerGrace. The leader's own loop (reconcile.go) adds
// live gossip members as non-voters and follows address changes.
//
// Recovery: a peers.json in the Raft directory is applied at start with
// raft.RecoverCluster and renamed peers.json.applied (recover.go);
// RemoveServer removes a dead server for good (remove.go).
//
// docs/design.md, "Formation, voter changes and lost quorum", says why.
package consensus
