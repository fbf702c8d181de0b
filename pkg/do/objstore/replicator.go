package objstore

import (
	"context"
	"errors"

	"github.com/edgeplane/edgeplane/pkg/router"
	"google.golang.org/grpc"
)

// Replicator runs the replication protocol of this node: the DOReplica gRPC
// server (this node as a replica) and the client side (this node as the
// owner of the objects it opens).
type Replicator struct{}

// ReplicatorOption configures a Replicator.
type ReplicatorOption func(*Replicator)

// WithResolver sets how a node id maps to its gRPC address (the gossip
// membership's GRPCAddr).
func WithResolver(resolve func(nodeID string) (addr string, ok bool)) ReplicatorOption {
	return func(*Replicator) {}
}

// NewReplicator returns the replicator of store, reaching other nodes
// through pool; self is this node's id.
func NewReplicator(store *Store, pool *router.Pool, self string, opts ...ReplicatorOption) *Replicator {
	return &Replicator{}
}

// RegisterGRPC registers the DOReplica service on s.
func (r *Replicator) RegisterGRPC(s *grpc.Server) {}

// Open makes this node the writer of obj for a new ballot over replicas
// (node ids; this node should be one of them): promises from a majority of
// replicas and of the set recorded with the newest state found, adoption of
// the newest state, written back to a majority under the new ballot.
func (r *Replicator) Open(ctx context.Context, obj string, replicas []string) (*Object, error) {
	return nil, errors.New("objstore: not implemented")
}

// Object is the owner's handle on one object, from Open to Close. Its
// methods are safe for concurrent use; Commits are applied in call order.
type Object struct{}

// Get returns the values of the present keys among keys.
func (o *Object) Get(keys []string) (map[string][]byte, error) { return nil, ErrClosed }

// List returns the entries selected by opts.
func (o *Object) List(opts ListOptions) ([]Entry, error) { return nil, ErrClosed }

// Alarm returns the alarm time (ms since the epoch), 0 when none.
func (o *Object) Alarm() int64 { return 0 }

// Commit applies ops atomically; it returns once they are durable on a
// majority of the replica set. ErrSuperseded means a newer ballot exists.
func (o *Object) Commit(ctx context.Context, ops []Op) error { return ErrClosed }

// Close stops replicating the object from this node.
func (o *Object) Close() {}
