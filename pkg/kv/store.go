package kv

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeplane/edgeplane/pkg/storage"
)

// DefaultBuckets is the number of anti-entropy buckets per namespace.
const DefaultBuckets = 256

// lockStripes is the number of key-striped mutexes serializing the
// read-compare-write of Apply.
const lockStripes = 1024

// StoreConfig configures OpenStore.
type StoreConfig struct {
	// Dir is the pebble directory (storage.Layout.ServiceDir("kv") on a node).
	Dir string
	// Buckets is the number of anti-entropy buckets (default 256). Every
	// node of a cluster must use the same number.
	Buckets int
	// Logger receives the store's and pebble's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the store's collectors; nil registers none.
	Registerer prometheus.Registerer
	// OnFatal receives the storage faults the store cannot continue past
	// (see storage.PebbleConfig.OnFatal): a write the disk refused, a
	// damaged file. Nil keeps pebble's panic.
	OnFatal storage.FatalFunc
}

// withDefaults fills the zero fields.
func (c StoreConfig) withDefaults() StoreConfig {
	if c.Buckets == 0 {
		c.Buckets = DefaultBuckets
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports a config OpenStore cannot use.
func (c StoreConfig) Validate() error {
	if c.Dir == "" {
		return errors.New("kv store: empty directory")
	}
	if c.Buckets < 1 || c.Buckets > 1<<20 {
		return fmt.Errorf("kv store: buckets %d out of range 1..%d", c.Buckets, 1<<20)
	}
	return nil
}

// Store is a node's local KV data on pebble: every entry of every
// namespace with its version, last-writer-wins on write, and the bucket
// digests anti-entropy compares. It is safe for concurrent use.
type Store struct {
	db      *pebble.DB
	dir     string
	log     *slog.Logger
	onFatal storage.FatalFunc
	buckets int
	metrics *storeMetrics
	closed  atomic.Bool

	// dropMu is held shared by writers and exclusively by DropNamespace, so
	// a namespace's digest is never reset under a write in flight.
	dropMu  sync.RWMutex
	stripes [lockStripes]sync.Mutex

	stateMu sync.Mutex
	state   map[string]*nsState
}

// OpenStore opens (creating) the store in cfg.Dir and rebuilds the bucket
// digests with one scan.
func OpenStore(cfg StoreConfig) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger.With("component", "kv-store")
	db, err := storage.OpenPebbleWith(storage.PebbleConfig{
		Dir: cfg.Dir, Logger: cfg.Logger, OnFatal: cfg.OnFatal, Registerer: cfg.Registerer,
	})
	if err != nil {
		return nil, err // names the directory; the caller says it is the KV store
	}
	s := &Store{db: db, dir: cfg.Dir, log: log, buckets: cfg.Buckets, state: make(map[string]*nsState),
		onFatal: cfg.OnFatal}
	if err := s.rebuildState(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("kv store: rebuild digests: %w", err)
	}
	if cfg.Registerer != nil {
		m, err := newStoreMetrics(cfg.Registerer, db)
		if err != nil {
			_ = db.Close()
			return nil, err
		}
		s.metrics = m
	}
	log.Info("kv store open", "dir", cfg.Dir, "namespaces", len(s.state), "buckets", s.buckets)
	return s, nil
}

// Close closes the database; later calls do nothing. The store must not
// be used afterwards.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("kv store: close: %w", err)
	}
	return nil
}

// stripe is the mutex index guarding (ns, key).
func stripe(ns, key string) int {
	return int(entryHash(key, Version{Node: ns}) % lockStripes)
}

// lockKeys locks the stripes of entries in ascending order (no deadlock
// between concurrent Applies) and returns the unlock.
func (s *Store) lockKeys(entries []Entry) func() {
	idx := make([]int, 0, len(entries))
	for _, e := range entries {
		idx = append(idx, stripe(e.Namespace, e.Key))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		s.stripes[i].Lock()
	}
	return func() {
		for _, i := range idx {
			s.stripes[i].Unlock()
		}
	}
}

// Apply writes entries durably (one synced batch) under last-writer-wins
// against what is stored: won[i] says whether entries[i] replaced the
// stored entry (or an earlier entry for the same key in this call). Losing
// entries change nothing. When Apply returns nil, a crash loses none of
// the winners. Concurrent Applies to the same key serialize, so the
// highest version is what stays.
func (s *Store) Apply(entries []Entry) ([]bool, error) {
	won := make([]bool, len(entries))
	if len(entries) == 0 {
		return won, nil
	}
	s.dropMu.RLock()
	defer s.dropMu.RUnlock()
	unlock := s.lockKeys(entries)
	defer unlock()

	type slot struct {
		stored Version
		had    bool
		winner int // index into entries, -1 when the stored one stays
		pebKey []byte
		nsKey  [2]string
	}
	slots := make(map[[2]string]*slot, len(entries))
	order := make([]*slot, 0, len(entries))
	for i := range entries {
		e := &entries[i]
		k := [2]string{e.Namespace, e.Key}
		sl := slots[k]
		if sl == nil {
			sl = &slot{winner: -1, pebKey: entryKey(e.Namespace, e.Key), nsKey: k}
			cur, found, err := s.getRaw(sl.pebKey, false)
			if err != nil {
				return nil, err
			}
			sl.had, sl.stored = found, cur.Version
			slots[k] = sl
			order = append(order, sl)
		}
		best := sl.stored
		if sl.winner >= 0 {
			best = entries[sl.winner].Version
		}
		if (!sl.had && sl.winner < 0) || e.Version.Compare(best) > 0 {
			sl.winner = i
			won[i] = true
		}
	}
	b := s.db.NewBatch()
	defer b.Close()
	changed := 0
	for _, sl := range order {
		if sl.winner < 0 {
			continue
		}
		if err := b.Set(sl.pebKey, encodeValue(entries[sl.winner]), nil); err != nil {
			return nil, fmt.Errorf("kv store: batch: %w", err)
		}
		changed++
	}
	if changed > 0 {
		if err := b.Commit(pebble.Sync); err != nil {
			return nil, s.writeFailed("commit", err)
		}
		s.stateMu.Lock()
		for _, sl := range order {
			if sl.winner < 0 {
				continue
			}
			if sl.had {
				s.toggle(sl.nsKey[0], sl.nsKey[1], sl.stored, -1)
			}
			s.toggle(sl.nsKey[0], sl.nsKey[1], entries[sl.winner].Version, 1)
		}
		s.stateMu.Unlock()
	}
	s.metrics.applied(won)
	return won, nil
}

// getRaw reads one stored entry by pebble key.
func (s *Store) getRaw(k []byte, withValue bool) (Entry, bool, error) {
	v, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("kv store: get: %w", err)
	}
	defer closer.Close()
	e, err := decodeEntry(k, v, withValue)
	if err != nil {
		return Entry{}, false, err
	}
	return e, true, nil
}

// Get returns the stored entry of (ns, key) raw: tombstones and expired
// entries included (check Entry.Live).
func (s *Store) Get(ns, key string) (Entry, bool, error) {
	return s.getRaw(entryKey(ns, key), true)
}

// GetMany returns the stored entries of ns among keys, raw, in the order
// of keys, leaving out the ones not found.
func (s *Store) GetMany(ns string, keys []string) ([]Entry, error) {
	out := make([]Entry, 0, len(keys))
	for _, k := range keys {
		e, ok, err := s.Get(ns, k)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, e)
		}
	}
	return out, nil
}
