package d1

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/service"
	"google.golang.org/grpc"
)

// serviceName is D1's name: its metrics label, data directory and snapshot
// section.
const serviceName = "d1"

// Options tunes D1; zero values take the defaults.
type Options struct {
	// MaxDatabaseBytes caps each database (default DefaultMaxDatabaseBytes).
	MaxDatabaseBytes int64
	// QueryTimeout bounds a read request (default MaxQueryDuration).
	QueryTimeout time.Duration
	// MaxWriteSteps bounds the SQLite instructions of one write command
	// (default DefaultWriteSteps): the deterministic time limit of writes.
	MaxWriteSteps int64
	// MaxImportBytes bounds one import upload (default
	// DefaultMaxImportBytes).
	MaxImportBytes int64
}

// Module is D1 as a service of the node: SQLite databases, one file each,
// written through Raft (service.StateMachine) and read on any replica.
type Module struct {
	deps    service.Deps
	opts    Options
	log     *slog.Logger
	dir     string
	wd      *writeDriver
	metrics *metrics
	files   *ioFiles // export dumps and import uploads (import_files.go)

	mu      sync.Mutex
	dbs     map[string]*database
	changed chan struct{} // closed when a database's applied index moves
	// swapping holds the databases whose file is being replaced (restore)
	// or removed (drop), each with a channel closed when that ends:
	// database waits for it rather than open the file meanwhile.
	swapping map[string]chan struct{}

	// swapHook, when set (tests only), runs while restore replaces a
	// database's file: its handle closed, the old file not yet removed.
	swapHook func(id string)
}

var (
	_ service.Service      = (*Module)(nil)
	_ service.StateMachine = (*Module)(nil)
)

// Factory returns the service.Factory of D1 with opts.
func Factory(opts Options) service.Factory {
	return service.Factory{Name: serviceName, New: func(d service.Deps) (service.Service, error) { return New(d, opts) }}
}

// New builds D1 over d.DataDir.
func New(d service.Deps, opts Options) (*Module, error) {
	if d.Raft == nil || d.Propose == nil || d.Catalog == nil {
		return nil, errors.New("d1: deps need Raft, Propose and Catalog")
	}
	if opts.MaxDatabaseBytes == 0 {
		opts.MaxDatabaseBytes = DefaultMaxDatabaseBytes
	}
	if opts.QueryTimeout == 0 {
		opts.QueryTimeout = MaxQueryDuration
	}
	if err := os.MkdirAll(d.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("d1 data dir: %w", err)
	}
	if opts.MaxWriteSteps <= 0 {
		opts.MaxWriteSteps = DefaultWriteSteps
	}
	wd, err := newWriteDriver(opts.MaxWriteSteps)
	if err != nil {
		return nil, fmt.Errorf("d1 driver: %w", err)
	}
	m := &Module{deps: d, opts: opts, log: d.Logger.With("service", serviceName), dir: d.DataDir, wd: wd,
		dbs: make(map[string]*database), changed: make(chan struct{}), swapping: make(map[string]chan struct{})}
	if m.metrics, err = newMetrics(d.Registerer, m); err != nil {
		_ = wd.close()
		return nil, err
	}
	if m.files, err = newIOFiles(d.DataDir, opts.MaxImportBytes); err != nil {
		_ = wd.close()
		return nil, err
	}
	return m, nil
}

// Name implements service.Service.
func (m *Module) Name() string { return serviceName }

// Resources implements service.Service: D1 databases.
func (m *Module) Resources() []api.ResourceKind { return []api.ResourceKind{m.DatabaseKind()} }

// RegisterGRPC implements service.Service: D1 has no RPCs of its own
// (writes travel as Raft commands).
func (m *Module) RegisterGRPC(*grpc.Server) {}

// Run implements service.Service: the janitor that drops the files of
// deleted databases on every node, and the replica lag tracker.
func (m *Module) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait() // Close finds nothing running
	wg.Add(2)
	go func() { defer wg.Done(); m.trackLag(ctx) }()
	go func() { defer wg.Done(); m.files.sweepLoop(ctx, m.log) }()
	m.dropDeleted()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.deps.Catalog.Changed():
			m.dropDeleted()
		}
	}
}

// Close implements service.Service.
func (m *Module) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for id, d := range m.dbs {
		d.mu.Lock()
		errs = append(errs, d.close())
		d.mu.Unlock()
		delete(m.dbs, id)
	}
	errs = append(errs, m.wd.close())
	return errors.Join(errs...)
}

// catalogIDs is the set of database ids in the catalog.
func (m *Module) catalogIDs() map[string]bool {
	set := make(map[string]bool)
	for _, a := range m.deps.Catalog.Accounts() {
		for _, r := range m.deps.Catalog.Resources(catalog.KindD1Database, a.ID) {
			set[r.ID] = true
		}
	}
	return set
}

// fileIDs lists the database ids that have a file here.
func (m *Module) fileIDs() ([]string, error) {
	entries, err := os.ReadDir(m.dir)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if id, ok := strings.CutSuffix(e.Name(), ".sqlite"); ok && !e.IsDir() {
			ids = append(ids, id)
		}
	}
	sort(ids)
	return ids, nil
}

func sort(s []string) { slices.Sort(s) }

// dropDeleted closes and removes the databases the catalog no longer has.
func (m *Module) dropDeleted() {
	ids, err := m.fileIDs()
	if err != nil {
		m.log.Error("list d1 databases", "err", err)
		return
	}
	live := m.catalogIDs()
	for _, id := range ids {
		if !live[id] {
			m.drop(id)
		}
	}
}

func (m *Module) drop(id string) {
	end := m.swap(id)
	err := removeFiles(dbPath(m.dir, id))
	end()
	if err != nil {
		m.log.Error("drop deleted d1 database", "database", id, "err", err)
		return
	}
	m.log.Info("dropped file of deleted d1 database", "database", id)
}

// swap takes database id out of use while its file is replaced or
// removed: it closes the database's handle, and until end is called,
// database(id) waits instead of opening the file. A handle opened in
// between (by a read, a checksum, the API's view) would hold the old file,
// or an empty one it created, and keep reading and writing that inode
// after the new file is renamed into place: the apply loop would apply the
// next entries to the replaced file, and the replica would report the
// same applied index as the others with different rows.
func (m *Module) swap(id string) (end func()) {
	m.mu.Lock()
	m.waitSwapLocked(id) // one swap of a database at a time
	d := m.dbs[id]
	delete(m.dbs, id)
	done := make(chan struct{})
	m.swapping[id] = done
	m.mu.Unlock()
	if d != nil {
		d.mu.Lock()
		_ = d.close()
		d.mu.Unlock()
	}
	return func() {
		m.mu.Lock()
		delete(m.swapping, id)
		m.mu.Unlock()
		close(done)
	}
}

// waitSwapLocked waits, with m.mu held (released while it waits), until no
// swap of database id is under way.
func (m *Module) waitSwapLocked(id string) {
	for m.swapping[id] != nil {
		ch := m.swapping[id]
		m.mu.Unlock()
		<-ch
		m.mu.Lock()
	}
}

// database returns the open database id, opening (creating) its file; while
// the file is being replaced or removed (swap), it waits for that to end.
func (m *Module) database(id string) (*database, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.waitSwapLocked(id)
	if d := m.dbs[id]; d != nil {
		return d, nil
	}
	d, err := openDatabase(m.wd, m.dir, id, m.opts.MaxDatabaseBytes)
	if err != nil {
		return nil, err
	}
	m.dbs[id] = d
	return d, nil
}

// notify wakes the waiters of applied indexes. The apply loop calls it
// once per transaction it commits (edge_d1_apply_commits_total counts them;
// an entry a database had already applied is skipped without one).
func (m *Module) notify() {
	m.metrics.commits.Inc()
	m.wake()
}

// wake wakes the waiters of applied indexes.
func (m *Module) wake() {
	m.mu.Lock()
	close(m.changed)
	m.changed = make(chan struct{})
	m.mu.Unlock()
}

func (m *Module) changedCh() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// waitApplied waits until database d applied index.
func (m *Module) waitApplied(ctx context.Context, d *database, index uint64) error {
	for {
		ch := m.changedCh()
		if d.applied.Load() >= index {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}
