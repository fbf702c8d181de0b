// Package catalog is the cluster's replicated directory: accounts, API tokens
// (kept as SHA-256 hashes) and the registries of resources that services
// create (KV namespaces, D1 databases, Durable Object namespaces, R2 buckets,
// queues). It is pure state: operations are applied in Raft log order by the
// state machine in pkg/replication, and everything an operation needs
// (ids, timestamps) is chosen by the proposer, so every replica computes the
// same state.
package catalog
