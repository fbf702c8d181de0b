package kv

import (
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// collectBatch bounds how many entries one Collect step locks and rewrites.
const collectBatch = 512

// DropNamespace removes every entry of ns (one synced range deletion) and
// its digest. Writes to ns wait for it; a write after it lands in an empty
// namespace (the caller stops writing to a deleted namespace).
func (s *Store) DropNamespace(ns string) error {
	s.dropMu.Lock()
	defer s.dropMu.Unlock()
	p := nsPrefix(ns)
	if err := s.db.DeleteRange(p, prefixEnd(p), pebble.Sync); err != nil {
		return s.writeFailed("drop namespace", err)
	}
	s.stateMu.Lock()
	delete(s.state, ns)
	s.stateMu.Unlock()
	return nil
}

// Collect removes what no reader may see again and returns how many
// entries it removed or rewrote:
//   - tombstones whose version time is older than now-tombstoneHorizon are
//     deleted;
//   - entries expired at now lose their value and metadata and become
//     tombstones of the same version (deleted outright when that version
//     is older than the horizon). Keeping the version keeps the digest
//     unchanged and stops an older write, still held by a peer, from
//     resurrecting the key through anti-entropy.
func (s *Store) Collect(now time.Time, tombstoneHorizon time.Duration) (int, error) {
	cutoff := now.Add(-tombstoneHorizon)
	total := 0
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{entryTag}, UpperBound: []byte{entryTag + 1}})
	if err != nil {
		return 0, fmt.Errorf("kv store: collect: %w", err)
	}
	var cands []Entry
	for ok := it.First(); ok; ok = it.Next() {
		e, err := decodeEntry(it.Key(), it.Value(), false)
		if err != nil {
			_ = it.Close()
			return total, err
		}
		if e.Tombstone && e.Version.HLC.Time().Before(cutoff) || !e.Tombstone && !e.Live(now) {
			cands = append(cands, e)
		}
		if len(cands) == collectBatch {
			n, err := s.collectSome(cands, now, cutoff)
			total += n
			if err != nil {
				_ = it.Close()
				return total, err
			}
			cands = cands[:0]
		}
	}
	err = it.Error()
	_ = it.Close()
	if err != nil {
		return total, fmt.Errorf("kv store: collect: %w", err)
	}
	n, err := s.collectSome(cands, now, cutoff)
	return total + n, err
}

// collectSome rechecks candidates under their key locks (a newer write may
// have replaced one since the scan) and removes or rewrites them in one
// synced batch.
func (s *Store) collectSome(cands []Entry, now, cutoff time.Time) (int, error) {
	if len(cands) == 0 {
		return 0, nil
	}
	s.dropMu.RLock()
	defer s.dropMu.RUnlock()
	unlock := s.lockKeys(cands)
	defer unlock()
	b := s.db.NewBatch()
	defer b.Close()
	var deleted []Entry
	n := 0
	for _, c := range cands {
		k := entryKey(c.Namespace, c.Key)
		cur, ok, err := s.getRaw(k, false)
		if err != nil {
			return 0, err
		}
		if !ok || cur.Version != c.Version {
			continue
		}
		old := cur.Version.HLC.Time().Before(cutoff)
		switch {
		case cur.Tombstone && old, !cur.Tombstone && !cur.Live(now) && old:
			err = b.Delete(k, nil)
			deleted = append(deleted, cur)
		case !cur.Tombstone && !cur.Live(now):
			err = b.Set(k, encodeValue(Entry{Version: cur.Version, Expiration: cur.Expiration, Tombstone: true}), nil)
		default:
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("kv store: collect batch: %w", err)
		}
		n++
	}
	if n == 0 {
		return 0, nil
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, s.writeFailed("collect commit", err)
	}
	s.stateMu.Lock()
	for _, e := range deleted {
		s.toggle(e.Namespace, e.Key, e.Version, -1)
	}
	s.stateMu.Unlock()
	return n, nil
}
