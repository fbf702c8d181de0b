// Package lease is the node-liveness layer of Durable Objects: epoch-based
// leases recorded through Raft, as CockroachDB records node liveness.
//
// The replicated Table holds one Record per node that registered and was
// not forgotten (OpForget, once the node left the cluster for good):
// {node, region, epoch, expiration, dead}. Every node applies the same
// commands in the same order (Table.Apply is deterministic: it reads only
// the command, never the local clock), so every node sees the same table.
//
// A node's Manager registers it (a new epoch: Register), then renews its
// record every Period/3 (Renew, accepted only for the record's current
// epoch and only forward in time). The node may serve objects only while
// its own clock is before its applied expiration minus MaxOffset, and, after
// a registration, only once a full Period has passed since it saw the
// registration applied: every lease granted before it is over by then.
//
// A node whose record expired (by the observer's clock plus MaxOffset) is
// declared dead by any other node with Increment, which Table.Apply accepts
// only if the record is unchanged since the observer read it and expired as
// of the command's own timestamp. The increment bumps the epoch and marks
// the record dead, which ends every lease the old epoch held; the node must
// register again (a new epoch) before it can serve.
//
// Ownership on top of this (pkg/do): an object's owner is the first node of
// its rendezvous order whose record is not dead. An expired record that is
// not yet dead keeps its objects unavailable rather than handing them over,
// so two nodes never serve one object at once.
package lease
