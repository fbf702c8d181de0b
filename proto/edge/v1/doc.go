// Package edgev1 is the generated Go code of Edgeplane's internal gRPC
// protocol: node.proto, the Node service every edged serves to its peers
// for node info, pings, one-hop request forwarding and Raft command
// proposals; and one file per service that has node-to-node RPCs (kv.proto:
// KV push and anti-entropy). Do not edit the .pb.go files; change the
// .proto and run `make proto`.
//
// A non-leader refuses Apply with status FailedPrecondition, message
// "not leader", and a *NotLeader status detail naming the leader's node id
// (leader_addr is no longer set: the caller looks the id up in membership).
// pkg/router maps that status to and from consensus.NotLeaderError.
package edgev1
