package do

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/do/lease"
	"github.com/edgeplane/edgeplane/pkg/do/objstore"
	"github.com/edgeplane/edgeplane/pkg/replication"
	"github.com/edgeplane/edgeplane/pkg/service"
	"google.golang.org/grpc"
)

// serviceName is the service's name: its metrics label, data directory and
// snapshot section.
const serviceName = "do"

// Defaults of Options.
const (
	// DefaultReplicas is the size of an object's replica set.
	DefaultReplicas = 3
	// DefaultGateSize bounds the requests waiting at one object's input gate.
	DefaultGateSize = 100
	// DefaultIdleTimeout is how long an object stays open without requests.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultOpenTimeout bounds opening an object (state sync).
	DefaultOpenTimeout = 10 * time.Second
)

// Options tunes the service; zero values take the defaults.
type Options struct {
	// LeasePeriod is the liveness lease period (lease.DefaultPeriod).
	LeasePeriod time.Duration
	// MaxClockOffset is the tolerated clock offset (lease.DefaultMaxOffset).
	MaxClockOffset time.Duration
	// Replicas is the replica set size R (DefaultReplicas), capped by the
	// number of nodes.
	Replicas int
	// GateSize bounds the queue of one object (DefaultGateSize).
	GateSize int
	// IdleTimeout evicts objects without requests (DefaultIdleTimeout).
	IdleTimeout time.Duration
	// StorageCap bounds one object's bytes (objstore.DefaultStorageCap).
	StorageCap int64
	// ServeLog, when set, is told of every request an owner answered
	// successfully (tests check that no two nodes served one object at
	// overlapping times).
	ServeLog func(ServeRecord)
	// Now is the clock (time.Now).
	Now func() time.Time
}

// ServeRecord is one request an owner served and acknowledged.
type ServeRecord struct {
	Node   string
	Object string // "nsID/objectID"
	Epoch  uint64
	Start  time.Time
	End    time.Time
}

func (o Options) withDefaults() Options {
	if o.Replicas == 0 {
		o.Replicas = DefaultReplicas
	}
	if o.GateSize == 0 {
		o.GateSize = DefaultGateSize
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Validate reports an impossible option.
func (o Options) Validate() error {
	switch {
	case o.Replicas < 1 || o.Replicas > objstore.MaxReplicas:
		return fmt.Errorf("do options: replicas %d outside [1, %d]", o.Replicas, objstore.MaxReplicas)
	case o.GateSize < 1:
		return fmt.Errorf("do options: gate size %d must be positive", o.GateSize)
	case o.IdleTimeout < 0:
		return fmt.Errorf("do options: idle timeout %v must not be negative", o.IdleTimeout)
	case o.StorageCap < 0:
		return fmt.Errorf("do options: storage cap %d must not be negative", o.StorageCap)
	}
	return nil
}

// Module is Durable Objects as a service of the node.
type Module struct {
	deps    service.Deps
	opts    Options
	log     *slog.Logger
	table   *lease.Table
	lease   *lease.Manager
	store   *objstore.Store
	repl    *objstore.Replicator
	metrics *metrics
	edge    *edgeParts // alarms and WebSocket rooms (http_alarm.go, http_websocket.go)

	mu     sync.Mutex
	actors map[string]*actor // by "nsID/objectID"
	closed bool
}

var (
	_ service.Service      = (*Module)(nil)
	_ service.StateMachine = (*Module)(nil)
	_ Locator              = (*Module)(nil)
)

// Factory returns the service.Factory of Durable Objects with opts.
func Factory(opts Options) service.Factory {
	return service.Factory{Name: serviceName, New: func(d service.Deps) (service.Service, error) { return New(d, opts) }}
}

// New builds the service over d.DataDir.
func New(d service.Deps, opts Options) (*Module, error) {
	opts = opts.withDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(d.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("do data dir: %w", err)
	}
	m := &Module{deps: d, opts: opts, log: d.Logger.With("service", serviceName), table: lease.NewTable(),
		actors: make(map[string]*actor)}
	var err error
	m.lease, err = lease.NewManager(lease.Config{Node: d.NodeID, Region: d.Region, Table: m.table,
		Propose: m.proposeLease, Gone: m.goneForGood, Period: opts.LeasePeriod, MaxOffset: opts.MaxClockOffset, Now: opts.Now,
		Registerer: d.Registerer, Logger: d.Logger})
	if err != nil {
		return nil, err
	}
	if m.metrics, err = newMetrics(d.Registerer, m); err != nil {
		return nil, err
	}
	m.store, err = objstore.Open(d.DataDir, objstore.Options{OnFatal: d.OnFatal, Registerer: d.Registerer,
		Logger: d.Logger, StorageCap: opts.StorageCap})
	if err != nil {
		return nil, fmt.Errorf("do store: %w", err)
	}
	m.repl = objstore.NewReplicator(m.store, d.Pool, d.NodeID, objstore.WithResolver(m.grpcAddr),
		objstore.WithRegisterer(d.Registerer), objstore.WithLogger(d.Logger))
	if m.edge, err = newEdgeParts(m); err != nil {
		return nil, err
	}
	return m, nil
}

// grpcAddr maps a node id to its gRPC address through gossip.
func (m *Module) grpcAddr(node string) (string, bool) {
	mem, ok := m.deps.Members.Member(node)
	if !ok || mem.GRPCAddr == "" {
		return "", false
	}
	return mem.GRPCAddr, true
}

func (m *Module) proposeLease(ctx context.Context, payload []byte) ([]byte, error) {
	return m.deps.Propose(ctx, replication.EncodeCommand(replication.CommandType(CommandType), payload))
}

// Name implements service.Service.
func (m *Module) Name() string { return serviceName }

// Resources implements service.Service: Durable Object namespaces.
func (m *Module) Resources() []api.ResourceKind { return []api.ResourceKind{NamespaceKind()} }

// RegisterGRPC implements service.Service: the replication protocol.
func (m *Module) RegisterGRPC(s *grpc.Server) {
	m.repl.RegisterGRPC(s)
	m.edge.registerGRPC(s)
}

// Store is this node's object storage (alarms scan it).
func (m *Module) Store() *objstore.Store { return m.store }

// Run implements service.Service: the lease manager, alarms and rooms, and
// the sweep that stops actors of objects this node no longer serves. It
// returns once all of them stopped, so Close finds nothing running.
func (m *Module) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(2)
	go func() { defer wg.Done(); m.lease.Run(ctx) }()
	go func() { defer wg.Done(); m.edge.run(ctx) }()
	tick := time.NewTicker(m.lease.Period() / 6)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			m.stopAll()
			return
		case <-tick.C:
			m.sweepActors()
		}
	}
}

// Close implements service.Service.
func (m *Module) Close() error {
	m.stopAll()
	m.repl.Close()
	if err := m.store.Close(); err != nil {
		return fmt.Errorf("close do store: %w", err)
	}
	return nil
}

// errClosed answers requests that arrive while the service shuts down.
var errClosed = fmt.Errorf("durable objects shutting down: %w", api.ErrUnavailable)

// stopAll stops every actor and refuses new ones.
func (m *Module) stopAll() {
	m.mu.Lock()
	m.closed = true
	actors := make([]*actor, 0, len(m.actors))
	for _, a := range m.actors {
		actors = append(actors, a)
	}
	m.mu.Unlock()
	for _, a := range actors {
		a.stop(errClosed)
	}
	for _, a := range actors {
		<-a.done
	}
}
