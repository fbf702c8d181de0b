// Package router decides where a request is served and carries it there:
// placement, forwarding and the Raft propose path, one of each for every
// service.
//
// Placement: every route declares a Placement: Here, AtLeader, AtOwner (the
// first live node of the key's Rendezvous order, highest random weight),
// AtOwnerBy (the node a service's own OwnerFunc names: Durable Objects
// decide ownership by leases, not by gossip, and the router only carries
// the request there) or AtNearest (the receiving node when it holds the data, else the holder
// Nearest orders first by estimated round-trip time, region as the
// fallback). Router.Place wraps the route's handler accordingly.
//
// Forwarding: every node serves the internal gRPC service edge.v1.Node
// (Server). A request that belongs elsewhere is handed to that node by the
// Forwarder, which calls Node.Forward through a Pool of client connections.
// The receiving node runs it through its own HTTP handler with a context
// mark (api.WithForwardedFrom) that makes every route serve it locally: a
// request crosses at most one hop. The original X-Request-Id travels with
// it, and every answer names the serving node in X-Edge-Served-By. A
// leader-placed write returns its Raft index, and the forwarding node
// answers only once it applied that index (read-your-writes).
//
// Proposing: Proposer commits Raft commands from any node, through the
// leader's Node.Apply when this node does not lead. A non-leader refuses with
// consensus.NotLeaderError; on the wire that is gRPC status
// FailedPrecondition, message "not leader", and an edgev1.NotLeader detail
// with the leader's node id.
//
// Limits: a forwarded request or response is one gRPC message, bounded by
// MaxMessageBytes; servers must be built with ServerOptions so that both
// sides agree on that bound and on keepalive.
package router
