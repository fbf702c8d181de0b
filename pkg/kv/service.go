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
	return &Service{cfg: cfg, log: cfg.Logger.With("component", "kv"), metrics: m}, nil
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
	if err := s.commit([]Entry{e}); err != nil {
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
	return s.metrics.done(opDelete, s.commit([]Entry{e}))
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
func (s *Service) commit(entries []Entry) error {
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
	if len(won) > 0 {
		s.cfg.Publisher.Publish(won)
	}
	return nil
}
