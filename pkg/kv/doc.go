// Package kv is Workers KV on an Edgeplane node: entries (value, metadata,
// expiration) versioned by a hybrid logical clock and the origin node id,
// the last-writer-wins rule that makes every delivery order converge, the
// limits Cloudflare enforces, the pebble-backed local store, and the service
// the HTTP API calls. Replication between nodes lives in pkg/replication.
package kv
