package kv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/edgeplane/edgeplane/pkg/hlc"
	"github.com/prometheus/client_golang/prometheus"
)

// expirationSlack is how far below now+MinExpirationTTL the service still
// accepts an absolute expiration. The HTTP layer enforces the 60 s rule
// exactly against its own reading of the clock; the slack only keeps a
// second boundary crossed between that check and this one from refusing a
// request that was valid when it arrived.
const expirationSlack = 5 // seconds

// Storage is what the service needs from the local store (the pebble Store
// implements it).
type Storage interface {
	// Apply stores entries durably under last-writer-wins and reports, per
	// entry, whether it replaced what was stored.
	Apply(entries []Entry) ([]bool, error)
	// Get returns the stored entry of key, tombstones and expired ones
	// included.
	Get(ns, key string) (Entry, bool, error)
	// GetMany returns the stored entries among keys.
	GetMany(ns string, keys []string) ([]Entry, error)
	// List returns up to limit live entries of ns whose key starts with
	// prefix and sorts after startAfter, in key byte order, and whether
	// more may follow.
	List(ns, prefix, startAfter string, limit int, now time.Time) ([]Entry, bool, error)
}

// Publisher hands locally accepted writes to replication; it must not block.
type Publisher interface {
	// Publish queues entries for every peer.
	Publish(entries []Entry)
}

// ServiceConfig configures a Service.
type ServiceConfig struct {
	// Storage is the local store. Required.
	Storage Storage
	// Clock versions local writes. Required.
	Clock *hlc.Clock
	// NodeID is written into the version of every local write. Required.
	NodeID string
	// Publisher receives local writes once durable; nil publishes nothing.
	Publisher Publisher
	// Now reads wall time for expiration (default time.Now).
	Now func() time.Time
	// Registerer receives the service's metrics. Required.
	Registerer prometheus.Registerer
	// Logger is the service's logger (nil discards).
	Logger *slog.Logger
	// NamespaceQuota caps the approximate bytes of one namespace (0: none);
	// Measure gives a namespace's stored bytes (required with a quota).
	NamespaceQuota int64
	Measure        func(ns string) (int64, error)
}

// Validate reports whether c is usable.
func (c *ServiceConfig) Validate() error {
	switch {
	case c.Storage == nil:
		return errors.New("kv service config: storage is required")
	case c.Clock == nil:
		return errors.New("kv service config: clock is required")
	case c.NodeID == "":
		return errors.New("kv service config: node id is required")
	case c.Registerer == nil:
		return errors.New("kv service config: prometheus registerer is required")
	}
	return nil
}

// withDefaults returns c with zero values replaced by their defaults.
func (c ServiceConfig) withDefaults() ServiceConfig {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Service is Workers KV on one node: it validates requests against
// Cloudflare's limits, versions local writes with the node's hybrid logical
// clock, stores them durably, and hands them to replication. Reads are
// local. It is safe for concurrent use.
type Service struct {
	cfg     ServiceConfig
	log     *slog.Logger
	metrics *serviceMetrics
	quota   *nsQuota // nil without a quota
}

// NewService builds a Service from cfg.
func NewService(cfg ServiceConfig) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m, err := newServiceMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("kv service: %w", err)
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "kv"), metrics: m}
	if cfg.NamespaceQuota > 0 && cfg.Measure != nil {
		s.quota = newNSQuota(cfg.NamespaceQuota, cfg.Measure)
	}
	return s, nil
}

// Put writes value and metadata (nil for none) under key, to expire at the
// Unix second expiration (0 never). The write is durable when Put returns.
func (s *Service) Put(ctx context.Context, ns, key string, value, metadata []byte, expiration int64) (Entry, error) {
	e := Entry{Namespace: ns, Key: key, Value: value, Metadata: metadata, Expiration: expiration}
	if err := ctx.Err(); err != nil {
		return Entry{}, s.metrics.done(opPut, err)
	}
	if err := s.validateWrite(e, s.cfg.Now()); err != nil {
		return Entry{}, s.metrics.done(opPut, err)
	}
	e.Version = s.version()
	if err := s.commit(ctx, []Entry{e}); err != nil {
		return Entry{}, s.metrics.done(opPut, err)
	}
	return e, s.metrics.done(opPut, nil)
}

// Delete removes key by writing a tombstone. Deleting a missing key is not
// an error, as on Cloudflare.
func (s *Service) Delete(ctx context.Context, ns, key string) error {
	if err := ctx.Err(); err != nil {
		return s.metrics.done(opDelete, err)
	}
	if err := ValidateKey(key); err != nil {
		return s.metrics.done(opDelete, err)
	}
	e := Entry{Namespace: ns, Key: key, Tombstone: true, Version: s.version()}
	return s.metrics.done(opDelete, s.commit(ctx, []Entry{e}))
}

// Get returns the live entry of key; ErrKeyNotFound when it is missing,
// deleted or expired.
func (s *Service) Get(ctx context.Context, ns, key string) (Entry, error) {
	if err := ctx.Err(); err != nil {
		return Entry{}, s.metrics.done(opGet, err)
	}
	if err := ValidateKey(key); err != nil {
		return Entry{}, s.metrics.done(opGet, err)
	}
	e, ok, err := s.cfg.Storage.Get(ns, key)
	if err != nil {
		return Entry{}, s.metrics.done(opGet, fmt.Errorf("kv get: %w", err))
	}
	if !ok || !e.Live(s.cfg.Now()) {
		return Entry{}, s.metrics.done(opGet, fmt.Errorf("%w: %q", ErrKeyNotFound, key))
	}
	return e, s.metrics.done(opGet, nil)
}

// version stamps a local write.
func (s *Service) version() Version {
	return Version{HLC: s.cfg.Clock.Now(), Node: s.cfg.NodeID}
}

// validateWrite checks a value write against every limit.
func (s *Service) validateWrite(e Entry, now time.Time) error {
	if err := ValidateKey(e.Key); err != nil {
		return err
	}
	if err := ValidateValue(e.Value); err != nil {
		return err
	}
	if err := ValidateMetadata(e.Metadata); err != nil {
		return err
	}
	if e.Expiration < 0 {
		return fmt.Errorf("%w: expiration %d is negative", ErrInvalidExpiration, e.Expiration)
	}
	if e.Expiration != 0 && e.Expiration < now.Unix()+MinExpirationTTL-expirationSlack {
		return fmt.Errorf("%w: expiration %d must be at least %d seconds in the future", ErrInvalidExpiration, e.Expiration, MinExpirationTTL)
	}
	return nil
}

// commit stores entries durably in one Apply and publishes those that won.
// With WithReplicas in ctx it then waits (bounded by MaxReplicaWait) until
// that many nodes, this one included, hold them.
func (s *Service) commit(ctx context.Context, entries []Entry) error {
	replicas := replicasFrom(ctx)
	w, _ := s.cfg.Publisher.(replicaWatcher)
	if replicas > 1 {
		if w == nil || w.LivePeers() < replicas-1 {
			return fmt.Errorf("%w: %d replicas asked, %d nodes live", ErrTooFewReplicas, replicas, 1+livePeers(w))
		}
	}
	if len(entries) > 0 && !entries[0].Tombstone { // deletes always pass
		if err := s.quota.reserve(entries[0].Namespace, writeBytes(entries)); err != nil {
			return err
		}
	}
	applied, err := s.cfg.Storage.Apply(entries)
	if err != nil {
		return fmt.Errorf("kv apply: %w", err)
	}
	if s.cfg.Publisher == nil {
		return nil
	}
	won := entries
	if len(applied) == len(entries) {
		won = make([]Entry, 0, len(entries))
		for i, ok := range applied {
			if ok {
				won = append(won, entries[i])
			}
		}
	}
	if len(won) == 0 {
		return nil
	}
	wait := func(context.Context) error { return nil }
	if replicas > 1 {
		wait = w.Watch(won, replicas) // before Publish, so no ack is missed
	}
	s.cfg.Publisher.Publish(won)
	return wait(ctx)
}

// replicaWatcher is the side of the Replicator that ?replicas=N needs.
type replicaWatcher interface {
	LivePeers() int
	Watch(entries []Entry, replicas int) func(ctx context.Context) error
}

func livePeers(w replicaWatcher) int {
	if w == nil {
		return 0
	}
	return w.LivePeers()
}

// ErrTooFewReplicas is a write asking for more replicas than there are
// live nodes: refused before anything is written.
var ErrTooFewReplicas = errors.New("not enough live nodes for the replicas asked")

type replicasKey struct{}

// WithReplicas asks the writes made with ctx to wait until n nodes (this
// one included) hold them; n <= 1 waits for nothing.
func WithReplicas(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, replicasKey{}, n)
}

func replicasFrom(ctx context.Context) int {
	n, _ := ctx.Value(replicasKey{}).(int)
	return n
}
