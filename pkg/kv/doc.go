// Package kv is Workers KV as a service of an Edgeplane node, every part of
// it in one package: entries (value, metadata, expiration) versioned by a
// hybrid logical clock and the origin node id; the last-writer-wins rule
// that makes every delivery order converge; the limits Cloudflare enforces;
// the pebble-backed local store (store*.go); the logic the routes call
// (Service); push replication and anti-entropy between nodes
// (replicate_*.go, proto/edge/v1/kv.proto); Cloudflare's REST routes
// (http_*.go) and the namespace catalog resource; the janitor; and Module,
// which plugs all of it into the node through pkg/service.
package kv
