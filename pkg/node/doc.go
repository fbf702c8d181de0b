// Package node assembles one Edgeplane node from its parts: data directory,
// gossip membership (pkg/cluster), the Raft member, catalog and state
// machine (pkg/consensus, pkg/catalog, pkg/replication), placement,
// forwarding and the internal gRPC (pkg/router), the public HTTP API
// (pkg/api), and the data services it is given (pkg/service; the built-in
// list is pkg/services). It knows none of the services: it builds each from
// the same dependencies, mounts its routes and resources, and runs and stops
// it. cmd/edged and internal/testcluster both build nodes with it.
package node
