// Package consensus runs the node's member of the cluster's single Raft group
// (hashicorp/raft, with a raft-wal log): opening and bootstrapping it,
// proposing commands (leader only; others get ErrNotLeader so the caller can
// forward), reporting status and metrics, and, on the leader, keeping the
// Raft configuration in line with gossip membership: every live member is a
// server, a few of them voters spread over regions, the rest non-voters that
// follow the log, and members dead past a grace period are removed
// (Consul's autopilot, in small).
package consensus
