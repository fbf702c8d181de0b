package kv

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Quota defaults. 1,000 namespaces per account is Cloudflare's; Cloudflare
// caps storage per account (1 GB free), Edgeplane per namespace.
const (
	DefaultMaxNamespacesPerAccount = 1000
	DefaultNamespaceQuotaBytes     = 1 << 30
)

// ErrStorageQuota is a write that would take its namespace past its
// storage quota.
var ErrStorageQuota = errors.New("namespace storage quota exceeded")

// quotaRefresh is how long a namespace's measured disk usage is trusted;
// bytes written since are added to it.
const quotaRefresh = 5 * time.Second

// nsQuota approximates each namespace's stored bytes: pebble's estimate of
// the disk its key range uses (sstables, so compressed and without the
// memtable), refreshed every quotaRefresh, plus the key, value and
// metadata bytes written through this node since. Overwrites count again
// until the next refresh, and replicated writes count only once flushed,
// so the cap is approximate: it may refuse slightly early or let a
// namespace pass by what a few seconds of writes add.
type nsQuota struct {
	limit   int64
	measure func(ns string) (int64, error)
	now     func() time.Time

	mu sync.Mutex
	m  map[string]*nsUsage
}

type nsUsage struct {
	disk, since int64
	at          time.Time
}

func newNSQuota(limit int64, measure func(ns string) (int64, error)) *nsQuota {
	return &nsQuota{limit: limit, measure: measure, now: time.Now, m: map[string]*nsUsage{}}
}

// reserve admits adding bytes to ns, or returns ErrStorageQuota.
func (q *nsQuota) reserve(ns string, bytes int64) error {
	if q == nil || q.limit <= 0 {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	u := q.m[ns]
	now := q.now()
	if u == nil || now.Sub(u.at) > quotaRefresh {
		disk, err := q.measure(ns)
		if err != nil {
			return fmt.Errorf("kv quota: %w", err)
		}
		u = &nsUsage{disk: disk, at: now}
		q.m[ns] = u
	}
	if used := u.disk + u.since; used+bytes > q.limit {
		return fmt.Errorf("%w: about %d bytes stored, %d more asked, the quota is %d", ErrStorageQuota, used, bytes, q.limit)
	}
	u.since += bytes
	return nil
}

// forget drops what is known of ns (a deleted namespace).
func (q *nsQuota) forget(ns string) {
	if q == nil {
		return
	}
	q.mu.Lock()
	delete(q.m, ns)
	q.mu.Unlock()
}

// diskUsage is pebble's estimate of the bytes ns's key range takes on disk.
func (s *Store) diskUsage(ns string) (int64, error) {
	p := nsPrefix(ns)
	n, err := s.db.EstimateDiskUsage(p, prefixEnd(p))
	return int64(n), err
}

// writeBytes is what entries add to a namespace's quota.
func writeBytes(entries []Entry) int64 {
	var n int64
	for _, e := range entries {
		n += int64(len(e.Key) + len(e.Value) + len(e.Metadata))
	}
	return n
}
