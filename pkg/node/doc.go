// Package node assembles one Edgeplane node from its parts: data directory,
// gossip membership (pkg/cluster), the Raft member and catalog
// (pkg/consensus, pkg/catalog, pkg/replication), the internal gRPC service
// and forwarding (pkg/router), and the public HTTP API (pkg/api). cmd/edged
// and internal/testcluster both build nodes with it; neither holds logic of
// its own.
package node
