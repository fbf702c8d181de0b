package kv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/hlc"
	"github.com/edgeplane/edgeplane/pkg/service"
	"google.golang.org/grpc"
)

// Options tunes KV's background work; zero values take the defaults.
type Options struct {
	// AntiEntropyEvery is how often KV compares digests with a random peer
	// (default DefaultKVAntiEntropyEvery, 10 s).
	AntiEntropyEvery time.Duration
	// CollectEvery is how often expired entries and old tombstones are
	// purged (default 1 min).
	CollectEvery time.Duration
	// TombstoneHorizon is how long tombstones are kept: the longest
	// partition after which a delete still wins (default 7 days).
	TombstoneHorizon time.Duration
	// MaxNamespacesPerAccount caps an account's namespaces (default
	// DefaultMaxNamespacesPerAccount, Cloudflare's 1,000; -1: no cap).
	MaxNamespacesPerAccount int
	// NamespaceQuotaBytes caps the approximate stored bytes of one
	// namespace (default DefaultNamespaceQuotaBytes, 1 GiB; -1: no cap).
	NamespaceQuotaBytes int64
}

func (o Options) withDefaults() Options {
	if o.AntiEntropyEvery == 0 {
		o.AntiEntropyEvery = DefaultKVAntiEntropyEvery
	}
	if o.CollectEvery == 0 {
		o.CollectEvery = time.Minute
	}
	if o.MaxNamespacesPerAccount == 0 {
		o.MaxNamespacesPerAccount = DefaultMaxNamespacesPerAccount
	}
	if o.NamespaceQuotaBytes == 0 {
		o.NamespaceQuotaBytes = DefaultNamespaceQuotaBytes
	}
	if o.TombstoneHorizon == 0 {
		o.TombstoneHorizon = 7 * 24 * time.Hour
	}
	return o
}

// Module is Workers KV as a service of the node (service.Service): the
// pebble store, the last-writer-wins logic (Service), push replication and
// anti-entropy (Replicator), the HTTP routes, the namespace catalog
// resource, the janitor that purges expired entries and the data of deleted
// namespaces, and the metrics.
type Module struct {
	deps  service.Deps
	opts  Options
	log   *slog.Logger
	store *Store
	svc   *Service
	repl  *Replicator

	mu      sync.Mutex
	deleted map[string]bool // namespaces the catalog deleted while running
}

var _ service.Service = (*Module)(nil)

// Factory returns the service.Factory of KV with opts.
func Factory(opts Options) service.Factory {
	return service.Factory{Name: serviceName, New: func(d service.Deps) (service.Service, error) { return New(d, opts) }}
}

// New opens KV's store in d.DataDir and builds the module.
func New(d service.Deps, opts Options) (_ *Module, err error) {
	m := &Module{deps: d, opts: opts.withDefaults(), log: d.Logger.With("service", serviceName), deleted: make(map[string]bool)}
	if m.store, err = OpenStore(StoreConfig{Dir: d.DataDir, Logger: d.Logger, Registerer: d.Registerer, OnFatal: d.OnFatal}); err != nil {
		return nil, fmt.Errorf("kv store: %w", err)
	}
	defer func() {
		if err != nil {
			_ = m.store.Close()
		}
	}()
	if err := d.Registerer.Register(newKeysCollector(m.store)); err != nil {
		return nil, fmt.Errorf("kv metrics: %w", err)
	}
	m.repl, err = NewReplicator(ReplicatorConfig{
		NodeID:           d.NodeID,
		Local:            replicaLocal{m},
		Peers:            m.peers,
		Pool:             d.Pool,
		AntiEntropyEvery: m.opts.AntiEntropyEvery,
		RegionOf:         m.regionOf,
		Registerer:       d.Registerer,
		Logger:           d.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("kv replication: %w", err)
	}
	m.svc, err = NewService(ServiceConfig{
		Storage: m.store, Clock: hlc.NewClock(nil), NodeID: d.NodeID, Publisher: m.repl,
		Registerer: d.Registerer, Logger: d.Logger,
		NamespaceQuota: m.opts.NamespaceQuotaBytes, Measure: m.store.diskUsage,
	})
	if err != nil {
		return nil, fmt.Errorf("kv service: %w", err)
	}
	return m, nil
}

// Name implements service.Service.
func (m *Module) Name() string { return serviceName }

// Routes implements service.Service.
func (m *Module) Routes() []service.Route { return Routes(m.deps.Catalog, m.svc) }

// Resources implements service.Service: KV namespaces.
func (m *Module) Resources() []api.ResourceKind {
	kind := NamespaceKind
	kind.MaxPerAccount = max(m.opts.MaxNamespacesPerAccount, 0)
	return []api.ResourceKind{kind}
}

// RegisterGRPC implements service.Service: the KV replication service.
func (m *Module) RegisterGRPC(s *grpc.Server) { m.repl.Register(s) }

// Run implements service.Service: replication and the janitor.
func (m *Module) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.repl.Run(ctx)
	}()
	m.janitor(ctx)
	wg.Wait()
}

// Close implements service.Service.
func (m *Module) Close() error { return m.store.Close() }

// Service is KV's logic (tests drive it directly).
func (m *Module) Service() *Service { return m.svc }

// Store is the local store (tests compare dumps).
func (m *Module) Store() *Store { return m.store }

// replicaLocal adapts the module to what replication needs.
type replicaLocal struct{ m *Module }

// ApplyRemote applies replicated entries, except those of namespaces the
// catalog deleted: anti-entropy from a node that has not dropped them yet
// must not bring their data back.
func (l replicaLocal) ApplyRemote(entries []Entry) ([]bool, error) {
	won := make([]bool, len(entries))
	keep := entries[:0:0]
	idx := make([]int, 0, len(entries))
	for i, e := range entries {
		if !l.m.namespaceDeleted(e.Namespace) {
			keep = append(keep, e)
			idx = append(idx, i)
		}
	}
	if len(keep) == 0 {
		return won, nil
	}
	w, err := l.m.svc.ApplyRemote(keep)
	if err != nil {
		return nil, err
	}
	for j, i := range idx {
		won[i] = w[j]
	}
	return won, nil
}

func (l replicaLocal) Namespaces() ([]string, error)      { return l.m.store.Namespaces() }
func (l replicaLocal) Digest(ns string) ([]uint64, error) { return l.m.store.Digest(ns) }
func (l replicaLocal) BucketsVersions(ns string, b []int) (map[int]map[string]Version, error) {
	return l.m.store.BucketsVersions(ns, b)
}
func (l replicaLocal) GetMany(ns string, keys []string) ([]Entry, error) {
	return l.m.store.GetMany(ns, keys)
}

func (m *Module) namespaceDeleted(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.deleted[id]
}

// peers lists the live members KV replicates to.
func (m *Module) peers() []Peer {
	var out []Peer
	for _, mem := range m.deps.Members.Members() {
		if mem.ID != m.deps.NodeID && mem.Live() && mem.GRPCAddr != "" {
			out = append(out, Peer{ID: mem.ID, Region: mem.Region, GRPCAddr: mem.GRPCAddr})
		}
	}
	return out
}

func (m *Module) regionOf(id string) string {
	mem, _ := m.deps.Members.Member(id)
	return mem.Region
}

// janitor purges expired entries and old tombstones, and drops the data of
// namespaces deleted from the catalog, on every node.
func (m *Module) janitor(ctx context.Context) {
	t := time.NewTicker(m.opts.CollectEvery)
	defer t.Stop()
	known := m.namespaceSet()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.deps.Catalog.Changed():
			now := m.namespaceSet()
			for id := range known {
				if !now[id] {
					m.dropNamespace(id)
				}
			}
			known = now
		case <-t.C:
			purged, err := m.store.Collect(time.Now(), m.opts.TombstoneHorizon)
			if err != nil && !errors.Is(err, context.Canceled) {
				m.log.Error("kv collect", "err", err)
			} else if purged > 0 {
				m.log.Debug("kv collect", "purged", purged)
			}
		}
	}
}

func (m *Module) dropNamespace(id string) {
	m.mu.Lock()
	m.deleted[id] = true
	m.mu.Unlock()
	if err := m.store.DropNamespace(id); err != nil {
		m.log.Error("drop deleted kv namespace", "namespace", id, "err", err)
		return
	}
	m.svc.quota.forget(id) // its usage is gone with it
	m.log.Info("dropped data of deleted kv namespace", "namespace", id)
}

func (m *Module) namespaceSet() map[string]bool {
	set := make(map[string]bool)
	for _, a := range m.deps.Catalog.Accounts() {
		for _, r := range m.deps.Catalog.Resources(catalog.KindKVNamespace, a.ID) {
			set[r.ID] = true
		}
	}
	return set
}

// Replicator is the module's push replication and anti-entropy.
func (m *Module) Replicator() *Replicator { return m.repl }
