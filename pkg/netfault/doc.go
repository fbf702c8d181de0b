// Package netfault injects faults and simulated latency into node-to-node
// traffic: memberlist gossip (UDP packets and TCP streams), Raft's stream
// layer and gRPC dials.
//
// Each node owns a Net, its view of the network. A Net asks a Rules value
// what happens to traffic from the local node towards a remote address
// (host:port): drop it, delay it, or let it through. Only outbound traffic is
// wrapped: packets the node sends, and connections the node dials. Because
// every node in a test wraps its own outbound traffic against the same rule
// table, a symmetric rule affects both directions, and a one-way delay d adds
// 2d to round trips over UDP and TCP alike.
//
// A dialed connection carries both directions of a conversation, so the
// dialer's Net applies the rule to both: data written is delivered d later,
// data read is handed to the reader d after it arrived, and when the link is
// dropped the connection is closed, which the accepting side sees as the
// peer going away. Delays are delay lines (a goroutine per direction and a
// timestamp per chunk), so a delay costs latency, not throughput. Dials do
// not model the connect handshake's round trip.
//
// Table is the rule set test harnesses use (an address book of nodes and
// regions, isolations, partitions, one-way blocks and region-pair latency);
// RegionLatency is the fixed delay edged's --region-latency flag adds
// towards nodes of other regions. A nil Rules makes a Net a pass-through.
package netfault
