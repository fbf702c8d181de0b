package kv

import (
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// List returns the live entries (not tombstoned, not expired at now) of ns
// whose key starts with prefix and sorts strictly after startAfter by key
// bytes, at most limit of them in key order, and whether more live ones
// follow. Value is left nil: listing never returns values and one can be
// 25 MiB (use Get or GetMany for them).
func (s *Store) List(ns, prefix, startAfter string, limit int, now time.Time) ([]Entry, bool, error) {
	if limit <= 0 {
		return nil, false, fmt.Errorf("kv store: list limit %d", limit)
	}
	p := nsPrefix(ns)
	lower := append(slices.Clone(p), prefix...)
	upper := prefixEnd(lower)
	if startAfter >= prefix {
		// The smallest key after startAfter is startAfter + 0x00.
		after := append(append(slices.Clone(p), startAfter...), 0)
		if string(after) > string(lower) {
			lower = after
		}
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, false, fmt.Errorf("kv store: list: %w", err)
	}
	defer it.Close()
	var out []Entry
	for ok := it.First(); ok; ok = it.Next() {
		e, err := decodeEntry(it.Key(), it.Value(), false)
		if err != nil {
			return nil, false, err
		}
		if !e.Live(now) {
			continue
		}
		if len(out) == limit {
			return out, true, nil
		}
		out = append(out, e)
	}
	if err := it.Error(); err != nil {
		return nil, false, fmt.Errorf("kv store: list: %w", err)
	}
	return out, false, nil
}

// ForEach calls fn with every stored entry of ns in key order, raw
// (tombstones and expired entries included), with values when withValue.
// It stops at fn's first error and returns it. Meant for anti-entropy and
// for tests that compare full dumps of two nodes.
func (s *Store) ForEach(ns string, withValue bool, fn func(Entry) error) error {
	p := nsPrefix(ns)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return fmt.Errorf("kv store: scan: %w", err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		e, err := decodeEntry(it.Key(), it.Value(), withValue)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("kv store: scan: %w", err)
	}
	return nil
}

// Namespaces returns, sorted, the namespaces that have any stored entry
// (tombstones included).
func (s *Store) Namespaces() ([]string, error) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	out := make([]string, 0, len(s.state))
	for ns := range s.state {
		out = append(out, ns)
	}
	slices.Sort(out)
	return out, nil
}

// Count is the number of stored entries of ns, tombstones and expired
// ones not yet collected included: an approximation of its key count, for
// the edge_kv_keys gauge.
func (s *Store) Count(ns string) int {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if st := s.state[ns]; st != nil {
		return st.count
	}
	return 0
}
