// Package edgev1 is the generated Go code of Edgeplane's internal gRPC
// protocol (node.proto): the Node service every edged serves to its peers
// for node info, pings, one-hop request forwarding and Raft command
// proposals. Do not edit node.pb.go or node_grpc.pb.go; change node.proto
// and run `make proto`.
//
// A non-leader refuses Apply with status FailedPrecondition, message
// "not leader", and a *NotLeader status detail naming the leader's id and
// gRPC address when known. pkg/router maps that status to and from
// router.NotLeaderError.
package edgev1
