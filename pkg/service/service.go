// Package service is the seam every data service of Edgeplane plugs into.
//
// A service (Workers KV today; D1, Durable Objects, R2 and Queues next) is
// one package that owns all of its parts: HTTP routes, storage, replication,
// catalog resources, background jobs and metrics. It exports one Factory
// that builds it from Deps, the small set of things a node lends it. The
// node (pkg/node) builds the services it is given, mounts their routes
// behind the router's placement, registers their gRPC services and Raft
// state machines, runs them and closes them, and knows nothing of any one.
package service

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/cluster"
	"github.com/edgeplane/edgeplane/pkg/router"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
)

// Service is one data service as the node drives it.
type Service interface {
	// Name is the service's short name ("kv", "d1"): its metrics label,
	// its data directory and its state machine section.
	Name() string
	// Routes lists the HTTP routes the service serves, each with where it
	// is served.
	Routes() []Route
	// Resources lists the catalog resource kinds the service owns; the
	// node serves Cloudflare's list/create/get/rename/delete for each.
	Resources() []ResourceKind
	// RegisterGRPC registers the service's internal gRPC services, if any.
	RegisterGRPC(s *grpc.Server)
	// Run runs the service's background loops until ctx ends. It is called
	// once, after the node serves HTTP and gRPC.
	Run(ctx context.Context)
	// Close releases what the service holds (stores, files) after Run
	// returned.
	Close() error
}

// StateMachine is implemented by a service that replicates commands through
// Raft (D1's writes, DO leases). The node's state machine hands it every
// committed command of its type and one section of every snapshot.
type StateMachine interface {
	// CommandType is the service's command type in the Raft log: a number
	// from 2 to 127 that never changes once released.
	CommandType() uint8
	// ValidateCommand checks a payload before it is proposed, on the
	// proposing node and again on a leader that received it over gRPC.
	// proposer is the node that proposes it (on the leader: the node whose
	// certificate sent it, under mutual TLS), for commands that name the
	// node allowed to propose them (DO: a node renews only its own lease).
	ValidateCommand(payload []byte, proposer string) error
	// ApplyCommand applies one committed payload and returns the result
	// handed back to the proposer. It must be deterministic: every node
	// applies the same entries in the same order. A payload it cannot
	// apply is an error result, recorded the same way on every node; it
	// must never panic.
	ApplyCommand(index uint64, payload []byte) ([]byte, error)
	// Snapshot writes the service's whole replicated state.
	Snapshot(w io.Writer) error
	// Restore replaces the service's replicated state with a snapshot
	// section written by Snapshot.
	Restore(r io.Reader) error
}

// SnapshotPreparer is implemented by a StateMachine whose state is too
// large to copy into memory at every snapshot (D1's databases). The node's
// state machine then calls PrepareSnapshot instead of Snapshot, on its own
// goroutine while no command applies, and writes the section later, while
// commands apply again, from the SectionSnapshot it returned.
type SnapshotPreparer interface {
	// PrepareSnapshot pins the current state (for instance by opening read
	// transactions) and returns quickly; the copying happens in the
	// SectionSnapshot's methods.
	PrepareSnapshot() (SectionSnapshot, error)
}

// SectionSnapshot is one prepared snapshot section. The node calls Size
// once, then WriteTo at most once, then always Release.
type SectionSnapshot interface {
	// Size is the exact number of bytes WriteTo will write.
	Size() (int64, error)
	// WriteTo streams the section, in the format Restore reads.
	WriteTo(w io.Writer) (int64, error)
	// Release frees what the snapshot pinned (transactions, temp files).
	Release()
}

// Route is one HTTP route of a service.
type Route struct {
	// Pattern is a net/http ServeMux pattern with method, e.g.
	// "GET /client/v4/accounts/{account_id}/storage/kv/namespaces/{namespace_id}/keys".
	// A final "{name...}" wildcard is matched on the raw path, so its value
	// may hold "//", "." or ".." segments.
	Pattern string
	// MaxBody bounds the request body; 0 means the API's default.
	MaxBody int64
	// Access says whether the route reads or writes, which picks the
	// permission a token needs: AccessDefault decides by method (GET,
	// HEAD and OPTIONS read); a read through POST says AccessRead.
	Access api.Access
	// Placement says on which node the route is served.
	Placement router.Placement
	// Handler serves the request on that node.
	Handler http.Handler
}

// Access says whether a route reads or writes (see api.Access).
type Access = api.Access

// Access levels of a route.
const (
	AccessDefault = api.AccessDefault
	AccessRead    = api.AccessRead
	AccessWrite   = api.AccessWrite
)

// ResourceKind describes one kind of account-scoped catalog resource a
// service owns (see api.ResourceKind).
type ResourceKind = api.ResourceKind

// Deps is what the node lends every service.
type Deps struct {
	// NodeID and Region describe this node.
	NodeID string
	Region string
	// DataDir is the service's own directory, <data-dir>/<name>: created by
	// the node, owned by the service.
	DataDir string
	// Catalog reads the replicated catalog.
	Catalog Catalog
	// Propose commits a Raft command (replication.EncodeCommand) from any
	// node and returns its result once this node applied it.
	Propose func(ctx context.Context, cmd []byte) ([]byte, error)
	// Pool is the connection pool to other nodes' gRPC.
	Pool *router.Pool
	// Raft is the read-only view of consensus: who leads, the indexes, and
	// the leader's quorum check that linearizable reads rest on. It is
	// usable once the node serves requests (Raft starts after services are
	// built; before that it reports no leader and zero indexes).
	Raft Raft
	// Members is the gossip membership view.
	Members Members
	// Registerer receives the service's metrics.
	Registerer prometheus.Registerer
	// Logger is the node's logger.
	Logger *slog.Logger
	// OnFatal reports a storage fault the service cannot recover from (a
	// full disk, a corrupt store): the node reports not ready and edged
	// exits naming it. Give it to every store the service opens.
	OnFatal func(error)
}

// Catalog is the read side of the replicated catalog: *catalog.Catalog.
type Catalog interface {
	// Account returns one account.
	Account(id string) (catalog.Account, bool)
	// Accounts lists every account.
	Accounts() []catalog.Account
	// Resource returns one resource of an account.
	Resource(kind catalog.Kind, account, id string) (catalog.Resource, bool)
	// Resources lists the resources of a kind in an account.
	Resources(kind catalog.Kind, account string) []catalog.Resource
	// Changed is closed at the next applied change.
	Changed() <-chan struct{}
}

// Raft is this node's view of the Raft group as a service sees it
// (*consensus.Node behind the node's wiring). It never writes to the log.
type Raft interface {
	// LeaderID is the current leader's node id, "" when none is known.
	LeaderID() string
	// IsLeader reports whether this node leads now (it may already have
	// lost a quorum it does not know about yet: see VerifyLeader).
	IsLeader() bool
	// VerifyLeader returns nil once a quorum of voters confirmed that this
	// node still leads (heartbeats, no log entry); an error otherwise.
	VerifyLeader(ctx context.Context) error
	// ReadIndex returns, on the leader only, an index such that a read
	// served after this node applied it reflects every write acknowledged
	// before the call (VerifyLeader included). Other nodes get an error
	// matching consensus.ErrNotLeader.
	ReadIndex(ctx context.Context) (uint64, error)
	// CommitIndex is the highest index this node knows to be committed.
	CommitIndex() uint64
	// AppliedIndex is the last index whose effects are visible here.
	AppliedIndex() uint64
	// WaitApplied blocks until AppliedIndex reaches index or ctx ends.
	WaitApplied(ctx context.Context, index uint64) error
	// LastContact is the time since the leader was last heard from: zero
	// on the leader and before any contact.
	LastContact() time.Duration
}

// RaftServers is what a Raft view may also offer: the ids of the servers
// of the latest Raft configuration (voters and non-voters) this node knows.
// The node's view has it; a service that must tell a node removed for good
// from one that is only down type-asserts Deps.Raft to it, and treats a
// view without it as knowing no removal.
type RaftServers interface {
	ServerIDs() ([]string, error)
}

// Members is the gossip membership as a service sees it: *cluster.Cluster.
type Members interface {
	// Members lists every known member.
	Members() []cluster.Member
	// Member returns one member.
	Member(id string) (cluster.Member, bool)
	// RTT is the estimated round-trip time to a member.
	RTT(id string) (time.Duration, bool)
}

// Factory names a service and builds it from the node's deps. Name must be
// what the built service's Name returns.
type Factory struct {
	Name string
	New  func(Deps) (Service, error)
}
