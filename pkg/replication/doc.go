// Package replication moves state between nodes. For now it holds the Raft
// state machine: a versioned command envelope and an FSM that dispatches each
// command to the state it belongs to (the catalog today; D1 databases, keyed
// by database id, later). KV push and anti-entropy and Durable Object backup
// streams will live here too.
package replication
