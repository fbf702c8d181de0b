package storage

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// ServiceDir holds the data of the service named name (Workers KV's pebble
// database is ServiceDir("kv")).
func (l Layout) ServiceDir(name string) string { return filepath.Join(l.Root, name) }

// DefaultPebbleCacheBytes is the block cache size OpenPebble uses.
const DefaultPebbleCacheBytes = 64 << 20

// DefaultMemTableBytes is the memtable size OpenPebble uses: large enough
// that a burst of writes is absorbed in memory (pebble's default of 4 MiB
// flushes every few seconds under load, and reads then search more
// tables), small enough that replaying the WAL after a crash stays brief.
const DefaultMemTableBytes = 32 << 20

// PebbleConfig tunes OpenPebbleWith. Zero fields take the defaults.
type PebbleConfig struct {
	// Dir is the database directory; it is created when missing.
	Dir string
	// Logger receives pebble's log lines (component=pebble); nil discards them.
	Logger *slog.Logger
	// CacheBytes is the shared block cache size (default 64 MiB).
	CacheBytes int64
	// EventListener, when set, receives pebble's events (flushes,
	// compactions, WAL creation...) for metrics.
	EventListener *pebble.EventListener
	// OnFatal receives the errors the database cannot continue past:
	// pebble's fatal log calls (a WAL or MANIFEST write that failed, a broken
	// invariant), background errors caused by the disk (no space, I/O
	// error, read-only) and detected corruption. After a fatal log call the
	// calling goroutine blocks forever (pebble must not go on); the caller
	// is expected to exit the process. Nil keeps pebble's behaviour: a panic.
	OnFatal FatalFunc
	// Registerer receives edge_storage_wal_tail_repairs_total; nil
	// registers nothing.
	Registerer prometheus.Registerer
	// DiskStallLimit is how long one disk write or sync may take before the
	// disk counts as stalled, a fatal error (default 60 s). pebble's disk
	// health check reports writes slower than 5 s, which are logged.
	DiskStallLimit time.Duration
	// FS replaces the file system (tests inject faults); nil is the OS.
	// The directory probe and the WAL tail check run only on the OS.
	FS vfs.FS
}

// withDefaults fills the zero fields.
func (c PebbleConfig) withDefaults() PebbleConfig {
	if c.CacheBytes == 0 {
		c.CacheBytes = DefaultPebbleCacheBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.DiskStallLimit == 0 {
		c.DiskStallLimit = DefaultDiskStallLimit
	}
	return c
}

// DefaultDiskStallLimit is PebbleConfig.DiskStallLimit's default.
const DefaultDiskStallLimit = 60 * time.Second

// Validate reports a config OpenPebbleWith cannot use.
func (c PebbleConfig) Validate() error {
	if c.Dir == "" {
		return errors.New("pebble: empty directory")
	}
	if c.CacheBytes < 0 {
		return fmt.Errorf("pebble: negative cache size %d", c.CacheBytes)
	}
	return nil
}

// OpenPebble opens (creating) a pebble database at dir with the settings
// a node uses: pebble's log routed to log, a 64 MiB block cache, a 32 MiB
// memtable and bloom filters on every level.
//
// Writes that must survive a crash once acknowledged use pebble.Sync.
// pebble's commit pipeline coalesces the WAL fsyncs of concurrent synced
// batches (group commit), so durability does not cost one fsync per write
// under load; WALSyncs counts the fsyncs, and the tests prove the
// coalescing.
func OpenPebble(dir string, log *slog.Logger) (*pebble.DB, error) {
	return OpenPebbleWith(PebbleConfig{Dir: dir, Logger: log})
}

// OpenPebbleWith is OpenPebble with every setting explicit.
func OpenPebbleWith(cfg PebbleConfig) (*pebble.DB, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cache := pebble.NewCache(cfg.CacheBytes)
	// The DB holds its own reference; ours is dropped once Open returns.
	defer cache.Unref()
	plog := cfg.Logger.With("component", "pebble")
	opts := &pebble.Options{
		Cache:        cache,
		Logger:       slogPebbleLogger{log: plog, dir: cfg.Dir, onFatal: cfg.OnFatal},
		MemTableSize: DefaultMemTableBytes,
		FS:           cfg.FS,
	}
	// Bloom filters let a point read skip every table that lacks its key;
	// without them each read seeks the index of every overlapping table.
	// Setting L0's policy sets it for every level below.
	opts.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	faults := faultListener(cfg.Dir, plog, cfg.OnFatal, cfg.DiskStallLimit)
	if cfg.EventListener != nil {
		faults = pebble.TeeEventListener(faults, *cfg.EventListener)
	}
	opts.EventListener = &faults
	// Wrap the file system with pebble's disk health check (it reports
	// writes that take too long through EventListener.DiskSlow).
	opts.WithFSDefaults()
	if cfg.FS == nil {
		// An unwritable or full directory makes pebble retry forever inside
		// Open; find out first.
		if err := ProbeDir(cfg.Dir); err != nil {
			return nil, err
		}
		tail, err := CheckPebbleWAL(cfg.Dir)
		if err != nil {
			return nil, err
		}
		if tail != nil {
			cfg.Logger.Warn("kv write-ahead log ends in a damaged record; opening drops it (a write that was "+
				"interrupted, or lost data if it had been acknowledged)", tail.LogArgs()...)
		}
		if cfg.Registerer != nil {
			CountWALTailRepair(cfg.Registerer, "kv", tail != nil)
		}
	}
	db, err := pebble.Open(cfg.Dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open pebble at %s: %w", cfg.Dir, err)
	}
	return db, nil
}

// WALSyncs returns how many times db has fsynced its write-ahead log since
// it was opened (the sample count of pebble's WAL fsync latency histogram).
// pebble records an fsync just after waking the writers it covered, so the
// count may trail a returned synced write by a moment.
func WALSyncs(db *pebble.DB) uint64 {
	h := db.Metrics().LogWriter.FsyncLatency
	if h == nil {
		return 0
	}
	var m dto.Metric
	if err := h.Write(&m); err != nil || m.Histogram == nil {
		return 0
	}
	return m.Histogram.GetSampleCount()
}

// slogPebbleLogger routes pebble's printf-style logging into slog.
type slogPebbleLogger struct {
	log     *slog.Logger
	dir     string
	onFatal FatalFunc
}

var _ pebble.Logger = slogPebbleLogger{}

// Infof logs at debug level: pebble is chatty about flushes and compactions.
func (l slogPebbleLogger) Infof(format string, args ...any) {
	l.log.Debug(strings.TrimSpace(fmt.Sprintf(format, args...)))
}

// Errorf logs at error level.
func (l slogPebbleLogger) Errorf(format string, args ...any) {
	l.log.Error(strings.TrimSpace(fmt.Sprintf(format, args...)))
}

// Fatalf logs at error level and stops the calling goroutine: pebble
// calls it when it cannot continue (a WAL write failed on a full disk,
// corruption), and nothing may go on writing. With an OnFatal handler the
// error goes there and the goroutine blocks until the process exits (a
// panic would be recovered by an HTTP handler and leave pebble's locks
// held, so every later write would hang); without one it panics.
func (l slogPebbleLogger) Fatalf(format string, args ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, args...))
	l.log.Error(msg, "fatal", true, "dir", l.dir)
	if l.onFatal == nil {
		panic("pebble: " + msg)
	}
	l.onFatal(&FatalError{Path: l.dir, Cause: errors.New(msg)})
	select {}
}

// faultListener turns pebble's events that mean the disk failed into
// fatal errors, and logs the rest of its errors.
func faultListener(dir string, log *slog.Logger, onFatal FatalFunc, stallLimit time.Duration) pebble.EventListener {
	fatal := func(path string, err error) {
		if onFatal != nil {
			onFatal(&FatalError{Path: path, Cause: err})
		}
	}
	return pebble.EventListener{
		BackgroundError: func(err error) {
			if IsDiskFault(err) {
				log.Error("pebble background error: the disk failed", "dir", dir, "err", err)
				fatal(dir, err)
				return
			}
			log.Error("pebble background error", "dir", dir, "err", err)
		},
		DataCorruption: func(info pebble.DataCorruptionInfo) {
			log.Error("pebble found corrupted data", "file", info.Path, "err", info.Details)
			fatal(info.Path, fmt.Errorf("corrupted data: %v", info.Details))
		},
		// DiskSlow runs on the health checker's goroutine and must not do
		// I/O or block: a log line and a non-blocking handler only.
		DiskSlow: func(info pebble.DiskSlowInfo) {
			// The log may live on the stalled disk: report from a goroutine
			// of our own, so the health checker never blocks.
			go func() {
				if info.Duration >= stallLimit {
					fatal(info.Path, fmt.Errorf("disk stalled: a %s has not finished after %v", info.OpType,
						info.Duration.Round(time.Second)))
					log.Error("disk stalled", "file", info.Path, "op", info.OpType.String(), "stalled", info.Duration)
					return
				}
				log.Warn("slow disk", "file", info.Path, "op", info.OpType.String(), "duration", info.Duration)
			}()
		},
		WriteStallBegin: func(info pebble.WriteStallBeginInfo) {
			log.Warn("pebble write stall", "reason", info.Reason)
		},
	}
}
