// Package storage owns a node's data directory: where each part keeps its
// files (the layout: the Raft log, the admin token, and one directory per
// service, <data-dir>/<service>), the lock that keeps two processes from
// opening the same directory, and the pebble options every pebble-backed
// store shares.
package storage
