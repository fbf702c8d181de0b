package kv

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"

	"github.com/cockroachdb/pebble/v2"
)

// BucketOf is the anti-entropy bucket of key among buckets: a stable
// 64-bit hash (FNV-1a, then a mixer) modulo buckets, the same on every node
// and every build.
func BucketOf(key string, buckets int) int {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return int(mix64(h.Sum64()) % uint64(buckets))
}

// entryHash is hash(key, version), the unit a bucket digest XORs together.
// It ignores value and tombstone flag: two stores agree on a key when they
// hold the same version of it.
func entryHash(key string, v Version) uint64 {
	h := fnv.New64a()
	var buf [binary.MaxVarintLen64 + 8]byte
	n := binary.PutUvarint(buf[:], uint64(len(key)))
	_, _ = h.Write(buf[:n])
	_, _ = h.Write([]byte(key))
	binary.BigEndian.PutUint64(buf[:8], uint64(v.HLC))
	_, _ = h.Write(buf[:8])
	_, _ = h.Write([]byte(v.Node))
	return mix64(h.Sum64())
}

// mix64 is the splitmix64 finalizer: it spreads FNV's weak low bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// nsState is what the store keeps in memory per namespace: the bucket
// digests and the number of stored entries (tombstones included).
type nsState struct {
	digest []uint64
	count  int
}

// toggle XORs (key, v) into or out of ns's digest; delta adjusts the count.
// Callers hold s.stateMu.
func (s *Store) toggle(ns, key string, v Version, delta int) {
	st := s.state[ns]
	if st == nil {
		st = &nsState{digest: make([]uint64, s.buckets)}
		s.state[ns] = st
	}
	st.digest[BucketOf(key, s.buckets)] ^= entryHash(key, v)
	st.count += delta
	if st.count == 0 {
		delete(s.state, ns)
	}
}

// rebuildState scans every stored entry once (at open) to rebuild the
// in-memory digests and counts.
func (s *Store) rebuildState() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{entryTag}, UpperBound: []byte{entryTag + 1}})
	if err != nil {
		return fmt.Errorf("kv store: scan: %w", err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		e, err := decodeEntry(it.Key(), it.Value(), false)
		if err != nil {
			return err
		}
		s.toggle(e.Namespace, e.Key, e.Version, 1)
	}
	return it.Error()
}

// Digest returns ns's bucket digests (len == buckets): each is the XOR of
// hash(key, version) over the bucket's stored entries, tombstones
// included. Two stores with the same entries of ns have equal digests.
func (s *Store) Digest(ns string) ([]uint64, error) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	out := make([]uint64, s.buckets)
	if st := s.state[ns]; st != nil {
		copy(out, st.digest)
	}
	return out, nil
}

// BucketsVersions returns, for each requested bucket, the version of every
// stored entry of ns (tombstones and expired ones included) whose key falls
// in it: one scan of ns, however many buckets. The result has a (possibly
// empty) map for each requested bucket.
func (s *Store) BucketsVersions(ns string, buckets []int) (map[int]map[string]Version, error) {
	out := make(map[int]map[string]Version, len(buckets))
	for _, b := range buckets {
		if b < 0 || b >= s.buckets {
			return nil, fmt.Errorf("kv store: bucket %d out of range 0..%d", b, s.buckets-1)
		}
		out[b] = make(map[string]Version)
	}
	err := s.ForEach(ns, false, func(e Entry) error {
		if m, ok := out[BucketOf(e.Key, s.buckets)]; ok {
			m[e.Key] = e.Version
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
