// Package router decides where a request is served and carries it there:
// placement and forwarding between nodes.
//
// Placement: Rendezvous orders nodes for a key by highest random weight
// (Durable Object owners, replica sets), and Nearest orders candidate
// replicas by estimated round-trip time with region as the coarse fallback.
//
// Forwarding: every node serves the internal gRPC service edge.v1.Node
// (Server). A node that should not serve an HTTP request itself hands it to
// the right node with a Forwarder, which calls Node.Forward through a Pool of
// client connections. The receiving node runs the request through its own
// HTTP handler with the header X-Edge-Forwarded-From set, so it never
// forwards it again: a request crosses at most one hop. The original
// X-Request-Id travels with it, and the response says which node served it in
// X-Edge-Served-By. Raft commands reach the leader through Pool.ApplyOn; a
// non-leader refuses with a *NotLeaderError naming the leader when known.
//
// Wire mapping of "not leader": gRPC status FailedPrecondition with message
// "not leader" and an edgev1.NotLeader status detail (leader id and gRPC
// address). No trailer metadata is used.
//
// Limits: a forwarded request or response is one gRPC message, bounded by
// MaxMessageBytes; servers must be built with ServerOptions so that both
// sides agree on that bound and on keepalive.
package router
