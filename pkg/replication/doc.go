// Package replication is the Raft state machine of a node (FSM): the
// versioned command envelope ([envelope version][type][payload]), dispatch of
// each committed command to its owner (type 1 the catalog, types 2-127 the
// services that registered a service.StateMachine), validation of commands
// before they are proposed, deterministic recording of entries a node cannot
// apply (never a crash), and versioned snapshots with one section per owner.
// Services' own replication streams (KV push and anti-entropy) live in their
// packages.
package replication
