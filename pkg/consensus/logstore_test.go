package consensus

import (
	"errors"
	"testing"

	"github.com/hashicorp/raft"
)

// leakyLog serves entries below its first index, as raft-wal does for
// entries compacted inside the segment it writes.
type leakyLog struct {
	*raft.InmemStore
	first uint64
}

func (l *leakyLog) FirstIndex() (uint64, error) { return l.first, nil }
func (l *leakyLog) IsMonotonic() bool           { return true }

func TestTrimmedLogHidesCompactedEntriesAndKeepsMonotonic(t *testing.T) {
	base := &leakyLog{InmemStore: raft.NewInmemStore()}
	for i := uint64(1); i <= 10; i++ {
		if err := base.StoreLog(&raft.Log{Index: i, Term: 1}); err != nil {
			t.Fatal(err)
		}
	}
	base.first = 6
	l := newTrimmedLog(base, base)
	var e raft.Log
	if err := l.GetLog(5, &e); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("compacted entry 5: %v", err)
	}
	if err := l.GetLog(6, &e); err != nil || e.Index != 6 {
		t.Fatalf("entry 6: %v %d", err, e.Index)
	}
	if !l.IsMonotonic() {
		t.Fatal("monotonic store reported as not monotonic")
	}
	if newTrimmedLog(raft.NewInmemStore(), raft.NewInmemStore()).IsMonotonic() {
		t.Fatal("in-memory store reported monotonic")
	}
}
