package d1

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/service"
	"google.golang.org/grpc"
	"modernc.org/sqlite"
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

	mu      sync.Mutex
	dbs     map[string]*database
	changed chan struct{} // closed when a database's applied index moves
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
	if opts.MaxDatabaseBytes == 0 {
		opts.MaxDatabaseBytes = DefaultMaxDatabaseBytes
	}
	if opts.QueryTimeout == 0 {
		opts.QueryTimeout = MaxQueryDuration
	}
	if err := os.MkdirAll(d.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("d1 data dir: %w", err)
	}
	wd, err := newWriteDriver()
	if err != nil {
		return nil, fmt.Errorf("d1 driver: %w", err)
	}
	m := &Module{deps: d, opts: opts, log: d.Logger.With("service", serviceName), dir: d.DataDir, wd: wd,
		dbs: make(map[string]*database), changed: make(chan struct{})}
	if m.metrics, err = newMetrics(d.Registerer, m); err != nil {
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
// deleted databases on every node.
func (m *Module) Run(ctx context.Context) {
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
	m.mu.Lock()
	d := m.dbs[id]
	delete(m.dbs, id)
	m.mu.Unlock()
	if d != nil {
		d.mu.Lock()
		_ = d.close()
		d.mu.Unlock()
	}
	if err := removeFiles(dbPath(m.dir, id)); err != nil {
		m.log.Error("drop deleted d1 database", "database", id, "err", err)
		return
	}
	m.log.Info("dropped file of deleted d1 database", "database", id)
}

// database returns the open database id, opening (creating) its file.
func (m *Module) database(id string) (*database, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
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

// notify wakes the waiters of applied indexes.
func (m *Module) notify() {
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

// CommandType implements service.StateMachine.
func (m *Module) CommandType() uint8 { return CommandType }

// ValidateCommand implements service.StateMachine.
func (m *Module) ValidateCommand(payload []byte) error {
	_, err := decodeCommand(payload)
	return err
}

// ApplyCommand implements service.StateMachine: the whole command is one
// SQLite transaction; a failing statement rolls all of it back. Only the
// database's applied index and clock are written then, the same way on
// every replica.
func (m *Module) ApplyCommand(index uint64, payload []byte) ([]byte, error) {
	c, err := decodeCommand(payload)
	if err != nil {
		return nil, err
	}
	res := m.apply(index, c)
	return json.Marshal(res)
}

func (m *Module) apply(index uint64, c command) applyResult {
	res := applyResult{Index: index}
	if _, ok := m.deps.Catalog.Resource(catalog.KindD1Database, c.Account, c.DB); !ok {
		res.NotFound = true
		return res
	}
	d, err := m.database(c.DB)
	if err != nil {
		m.fatal(err)
		res.Error = "database unavailable on this node: " + err.Error()
		return res
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		res.NotFound = true
		return res
	}
	if index <= d.applied.Load() {
		res.Skipped = true
		return res
	}
	now := max(c.Now, d.lastNow)
	m.wd.setEnv(newEnv(now, c.Seed, index))
	defer m.wd.setEnv(nil)
	ctx := context.Background()
	if _, err := d.wc.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		m.fatal(err)
		res.Error = err.Error()
		return res
	}
	for i, s := range c.Stmts {
		args, err := bindParams(s.Params)
		var r stmtResult
		if err == nil {
			r, err = execStatement(ctx, d.wc, s.SQL, args, true)
		}
		if err != nil {
			_, _ = d.wc.ExecContext(ctx, "ROLLBACK")
			res.Results, res.Error, res.Failed = nil, sqlMessage(err), i+1
			if _, err := d.wc.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
				m.fatal(err)
				return res
			}
			break
		}
		if r.Changes > 0 {
			res.ChangedDB = true
		}
		res.Results = append(res.Results, r)
	}
	if _, err := d.wc.ExecContext(ctx, "INSERT INTO "+metaTable+"(k, v) VALUES ('applied', ?), ('now', ?) "+
		"ON CONFLICT(k) DO UPDATE SET v = excluded.v", int64(index), now); err != nil {
		_, _ = d.wc.ExecContext(ctx, "ROLLBACK")
		m.fatal(err)
		res.Results, res.Error = nil, err.Error()
		return res
	}
	if _, err := d.wc.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = d.wc.ExecContext(ctx, "ROLLBACK")
		m.fatal(err)
		res.Results, res.Error = nil, err.Error()
		return res
	}
	d.applied.Store(index)
	d.lastNow = now
	if c.Now > 0 { // not part of the state: only this node's gauge
		m.metrics.lag.Set(max(0, time.Since(time.UnixMilli(c.Now)).Seconds()))
	}
	res.SizeAfter = d.size(ctx)
	m.notify()
	return res
}

// fatal reports errors that mean the disk failed, not the SQL.
func (m *Module) fatal(err error) {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case 10, 11, 13, 26: // SQLITE_IOERR, CORRUPT, FULL (the disk, not max_page_count), NOTADB
			if se.Code()&0xff == 13 && strings.Contains(se.Error(), "database or disk is full") {
				return // max_page_count reached: the SQL error of a full database
			}
			if m.deps.OnFatal != nil {
				m.deps.OnFatal(fmt.Errorf("d1: %w", err))
			}
		}
	}
}

// sizeQuery is the database's size in bytes.
const sizeQuery = "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"

// size is the database's size in bytes, from the write connection: the
// apply loop only.
func (d *database) size(ctx context.Context) int64 {
	var n int64
	_ = d.wc.QueryRowContext(ctx, sizeQuery).Scan(&n)
	return n
}

// readSize is the size as the read connections see it, for requests
// (which must not use the apply loop's connection).
func (d *database) readSize(ctx context.Context) int64 {
	var n int64
	_ = d.r.QueryRowContext(ctx, sizeQuery).Scan(&n)
	return n
}

// snapshotVersion is the version of D1's snapshot section.
const snapshotVersion = 1

// Snapshot implements service.StateMachine: the version, then for each
// database of the catalog (by id) its id and a consistent image of its file
// (sqlite3_serialize on the write connection, between two applies).
func (m *Module) Snapshot(w io.Writer) error {
	ids, err := m.fileIDs()
	if err != nil {
		return err
	}
	live := m.catalogIDs()
	var keep []string
	for _, id := range ids {
		if live[id] {
			keep = append(keep, id)
		}
	}
	buf := binary.AppendUvarint(nil, snapshotVersion)
	buf = binary.AppendUvarint(buf, uint64(len(keep)))
	if _, err := w.Write(buf); err != nil {
		return err
	}
	for _, id := range keep {
		d, err := m.database(id)
		if err != nil {
			return err
		}
		image, err := d.serialize()
		if err != nil {
			return fmt.Errorf("snapshot d1 database %s: %w", id, err)
		}
		head := binary.AppendUvarint(nil, uint64(len(id)))
		head = append(head, id...)
		head = binary.AppendUvarint(head, uint64(len(image)))
		if _, err := w.Write(head); err != nil {
			return err
		}
		if _, err := w.Write(image); err != nil {
			return err
		}
	}
	return nil
}

func (d *database) serialize() ([]byte, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var image []byte
	err := d.wc.Raw(func(dc any) error {
		s, ok := dc.(interface{ Serialize() ([]byte, error) })
		if !ok {
			return fmt.Errorf("driver connection %T cannot serialize", dc)
		}
		var err error
		image, err = s.Serialize()
		return err
	})
	return image, err
}

// Restore implements service.StateMachine: every database is replaced by
// the snapshot's image; databases it lacks are removed.
func (m *Module) Restore(r io.Reader) error {
	br := byteReader{r: r}
	version, err := binary.ReadUvarint(&br)
	if err != nil {
		return fmt.Errorf("d1 restore: %w", err)
	}
	if version != snapshotVersion {
		return fmt.Errorf("d1 restore: snapshot version %d is not %d", version, snapshotVersion)
	}
	count, err := binary.ReadUvarint(&br)
	if err != nil {
		return fmt.Errorf("d1 restore: %w", err)
	}
	ids, err := m.fileIDs()
	if err != nil {
		return err
	}
	for _, id := range ids {
		m.drop(id)
	}
	for range count {
		n, err := binary.ReadUvarint(&br)
		if err != nil || n > 256 {
			return fmt.Errorf("d1 restore: database id: %v", err)
		}
		id := make([]byte, n)
		if _, err := io.ReadFull(&br, id); err != nil {
			return fmt.Errorf("d1 restore: %w", err)
		}
		if strings.ContainsAny(string(id), "/\\.") || len(id) == 0 {
			return fmt.Errorf("d1 restore: bad database id %q", id)
		}
		size, err := binary.ReadUvarint(&br)
		if err != nil {
			return fmt.Errorf("d1 restore: %w", err)
		}
		path := dbPath(m.dir, string(id))
		tmp, err := os.CreateTemp(m.dir, "restore-*")
		if err != nil {
			return err
		}
		_, err = io.CopyN(tmp, &br, int64(size))
		err = errors.Join(err, tmp.Sync(), tmp.Close())
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			_ = os.Remove(tmp.Name())
			return fmt.Errorf("d1 restore %s: %w", id, err)
		}
	}
	m.notify()
	return syncDir(m.dir)
}

func syncDir(dir string) error {
	f, err := os.Open(filepath.Clean(dir))
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// byteReader adapts an io.Reader to io.ByteReader without reading ahead.
type byteReader struct{ r io.Reader }

func (b *byteReader) ReadByte() (byte, error) {
	var c [1]byte
	_, err := io.ReadFull(b.r, c[:])
	return c[0], err
}

func (b *byteReader) Read(p []byte) (int, error) { return b.r.Read(p) }
