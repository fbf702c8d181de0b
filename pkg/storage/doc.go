// Package storage owns a node's data directory: where each component keeps
// its files (the layout), and the lock that keeps two processes from
// opening the same directory. The pebble engine (KV, Durable Object storage,
// queue data), SQLite handles (D1) and blob files (R2) will live here too.
package storage
