package consensus

import "github.com/hashicorp/raft"

// trimmedLog makes a compaction of the log visible to reads. raft-wal
// deletes whole segments only: after Raft compacts the log up to an index
// inside the segment being written, raft-wal moves its first index but
// still serves the entries below it from that segment. Raft would then
// replicate entries it compacted away to a follower far behind, instead of
// sending it a snapshot, and TrailingLogs would not bound how far back a
// follower can catch up from the log. With this wrapper, an entry below the
// first index is gone, as Raft expects.
//
// It also tells Raft whether the store underneath is monotonic (raft-wal
// is: it cannot append after a gap, so Raft must empty it after installing
// a snapshot). A wrapper that hid it would leave a follower that installed
// a snapshot unable to append the entries after it.
type trimmedLog struct {
	raft.LogStore
	monotonic bool
}

// newTrimmedLog wraps logs (itself possibly a wrapper of base, the store
// that decides monotonicity).
func newTrimmedLog(logs, base raft.LogStore) trimmedLog {
	m, ok := base.(raft.MonotonicLogStore)
	return trimmedLog{LogStore: logs, monotonic: ok && m.IsMonotonic()}
}

var _ raft.MonotonicLogStore = trimmedLog{}

// GetLog implements raft.LogStore.
func (l trimmedLog) GetLog(index uint64, log *raft.Log) error {
	if first, err := l.FirstIndex(); err == nil && index < first {
		return raft.ErrLogNotFound
	}
	return l.LogStore.GetLog(index, log)
}

// IsMonotonic implements raft.MonotonicLogStore.
func (l trimmedLog) IsMonotonic() bool { return l.monotonic }
