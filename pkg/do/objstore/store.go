package objstore

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configures a Store.
type Options struct {
	// OnFatal receives storage faults the store cannot continue past (see
	// storage.PebbleConfig.OnFatal).
	OnFatal func(error)
	// Registerer receives the store's and the replicator's metrics; nil
	// registers nothing.
	Registerer prometheus.Registerer
	// Logger receives the store's logs; nil discards them.
	Logger *slog.Logger
	// StorageCap bounds the bytes (keys plus values) of one object; 0 is
	// DefaultStorageCap.
	StorageCap int64
}

// Store is this node's local copy of every object it holds (as owner or
// replica), in one pebble database.
type Store struct{}

// Open opens (creating) the store in dir.
func Open(dir string, opts Options) (*Store, error) {
	return nil, errors.New("objstore: not implemented")
}

// Close closes the database.
func (s *Store) Close() error { return nil }

// ObjectsWithAlarms lists the objects this node holds whose alarm is set.
func (s *Store) ObjectsWithAlarms() []ObjectAlarm { return nil }
