package consensus

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeplane/edgeplane/pkg/storage"
)

// openLog opens the raft-wal log in walDir after checking what raft-wal
// would otherwise trip over or hide: an unwritable or full directory (an
// error in milliseconds), a damaged bolt meta file (an error naming it,
// where bolt would fault on its memory map) and a damaged tail segment
// (raft-wal drops entries after the last readable commit without a word:
// logged as a WARN and counted in edge_storage_wal_tail_repairs_total).
// A memory fault inside raft-wal's open becomes an error too.
func openLog(walDir string, hlog hclog.Logger, meta *metadb.BoltMetaDB, log *slog.Logger, reg prometheus.Registerer) (*raftwal.WAL, error) {
	if err := storage.ProbeDir(walDir); err != nil {
		return nil, err
	}
	if err := storage.CheckRaftMeta(walDir); err != nil {
		return nil, err
	}
	tail, err := storage.CheckRaftWAL(walDir)
	if err != nil {
		return nil, err
	}
	if tail != nil {
		log.Warn("raft log ends in a damaged segment tail; opening drops the entries after the last intact commit "+
			"(peers resend what they hold)", tail.LogArgs()...)
	}
	if reg != nil {
		storage.CountWALTailRepair(reg, "raft", tail != nil)
	}
	var wal *raftwal.WAL
	err = storage.GuardFault(walDir, func() error {
		var err error
		wal, err = raftwal.Open(walDir, raftwal.WithLogger(hlog), raftwal.WithMetaStore(meta))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", walDir, err)
	}
	return wal, nil
}

// fatalLogStore raises the log store's write failures that mean the disk
// or the log is broken: Raft cannot go on without storing its log, and a
// node that keeps running after such a failure answers but never
// commits.
type fatalLogStore struct {
	raft.LogStore
	dir     string
	onFatal func(error)
}

// withFatal wraps logs when onFatal is set.
func withFatal(logs raft.LogStore, dir string, onFatal func(error)) raft.LogStore {
	if onFatal == nil {
		return logs
	}
	return fatalLogStore{LogStore: logs, dir: dir, onFatal: onFatal}
}

func (s fatalLogStore) StoreLog(l *raft.Log) error {
	return s.check(s.LogStore.StoreLog(l))
}

func (s fatalLogStore) StoreLogs(ls []*raft.Log) error {
	return s.check(s.LogStore.StoreLogs(ls))
}

func (s fatalLogStore) DeleteRange(min, max uint64) error {
	return s.check(s.LogStore.DeleteRange(min, max))
}

func (s fatalLogStore) check(err error) error {
	if err != nil && (storage.IsDiskFault(err) || errors.Is(err, raftwal.ErrCorrupt)) {
		s.onFatal(&storage.FatalError{Path: s.dir, Cause: fmt.Errorf("raft log write: %w", err)})
	}
	return err
}
