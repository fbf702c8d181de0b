package kv

import (
	"context"
	"fmt"
)

// PutMany writes items (Key, Value, Metadata and Expiration are read; the
// rest is ignored) to ns as one durable Apply. Every item is validated
// first: one bad item refuses the whole call and nothing is written. Later
// items win over earlier ones with the same key.
func (s *Service) PutMany(ctx context.Context, ns string, items []Entry) error {
	return s.metrics.done(opPutMany, s.putMany(ctx, ns, items))
}

func (s *Service) putMany(ctx context.Context, ns string, items []Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(items) > MaxBulkWrite {
		return fmt.Errorf("%w: %d pairs, the limit is %d", ErrTooManyKeys, len(items), MaxBulkWrite)
	}
	now := s.cfg.Now()
	entries := make([]Entry, len(items))
	for i, it := range items {
		e := Entry{Namespace: ns, Key: it.Key, Value: it.Value, Metadata: it.Metadata, Expiration: it.Expiration}
		if err := s.validateWrite(e, now); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
		entries[i] = e
	}
	if len(entries) == 0 {
		return nil
	}
	for i := range entries {
		entries[i].Version = s.version()
	}
	return s.commit(ctx, entries)
}

// DeleteMany deletes keys from ns as one durable Apply of tombstones. Every
// key is validated first: one bad key refuses the whole call.
func (s *Service) DeleteMany(ctx context.Context, ns string, keys []string) error {
	return s.metrics.done(opDeleteMany, s.deleteMany(ctx, ns, keys))
}

func (s *Service) deleteMany(ctx context.Context, ns string, keys []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(keys) > MaxBulkWrite {
		return fmt.Errorf("%w: %d keys, the limit is %d", ErrTooManyKeys, len(keys), MaxBulkWrite)
	}
	for i, k := range keys {
		if err := ValidateKey(k); err != nil {
			return fmt.Errorf("key %d: %w", i, err)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	entries := make([]Entry, len(keys))
	for i, k := range keys {
		entries[i] = Entry{Namespace: ns, Key: k, Tombstone: true, Version: s.version()}
	}
	return s.commit(ctx, entries)
}

// GetMany returns the live entries of ns among keys (at most MaxBulkGet),
// in the order of keys; missing, deleted and expired keys are left out.
func (s *Service) GetMany(ctx context.Context, ns string, keys []string) ([]Entry, error) {
	out, err := s.getMany(ctx, ns, keys)
	return out, s.metrics.done(opGetMany, err)
}

func (s *Service) getMany(ctx context.Context, ns string, keys []string) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(keys) > MaxBulkGet {
		return nil, fmt.Errorf("%w: %d keys, the limit is %d", ErrTooManyKeys, len(keys), MaxBulkGet)
	}
	for i, k := range keys {
		if err := ValidateKey(k); err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
	}
	if len(keys) == 0 {
		return []Entry{}, nil
	}
	found, err := s.cfg.Storage.GetMany(ns, keys)
	if err != nil {
		return nil, fmt.Errorf("kv get many: %w", err)
	}
	// Index by key rather than trusting positions, so a store that skips
	// missing keys and one that returns zero entries for them both work.
	now := s.cfg.Now()
	byKey := make(map[string]Entry, len(found))
	for _, e := range found {
		if e.Key != "" && e.Live(now) {
			byKey[e.Key] = e
		}
	}
	out := make([]Entry, 0, len(byKey))
	for _, k := range keys {
		if e, ok := byKey[k]; ok {
			out = append(out, e)
			delete(byKey, k) // a key asked twice is answered once
		}
	}
	return out, nil
}

// ApplyRemote applies entries replicated from other nodes: the clock
// observes each version first (so later local writes order after them),
// then the store applies them by last-writer-wins. It reports, per entry,
// whether it replaced what was stored. Remote entries are not published
// again.
func (s *Service) ApplyRemote(entries []Entry) ([]bool, error) {
	for _, e := range entries {
		s.cfg.Clock.Observe(e.Version.HLC)
	}
	applied, err := s.cfg.Storage.Apply(entries)
	if err != nil {
		err = fmt.Errorf("kv apply remote: %w", err)
	}
	return applied, s.metrics.done(opApplyRemote, err)
}
