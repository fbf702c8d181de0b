package storage

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
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
}

// withDefaults fills the zero fields.
func (c PebbleConfig) withDefaults() PebbleConfig {
	if c.CacheBytes == 0 {
		c.CacheBytes = DefaultPebbleCacheBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

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
	opts := &pebble.Options{
		Cache:        cache,
		Logger:       slogPebbleLogger{log: cfg.Logger.With("component", "pebble")},
		MemTableSize: DefaultMemTableBytes,
	}
	// Bloom filters let a point read skip every table that lacks its key;
	// without them each read seeks the index of every overlapping table.
	// Setting L0's policy sets it for every level below.
	opts.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	if cfg.EventListener != nil {
		opts.EventListener = cfg.EventListener
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
	log *slog.Logger
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

// Fatalf logs at error level and panics: pebble calls it only on
// corruption it cannot continue past, and the process must not go on
// writing; main (or the test) sees the panic.
func (l slogPebbleLogger) Fatalf(format string, args ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, args...))
	l.log.Error(msg, "fatal", true)
	panic("pebble: " + msg)
}
