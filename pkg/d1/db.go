package d1

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
)

// SQLite settings every database file is opened with. WAL lets reads run
// beside the single writer. synchronous=NORMAL does not fsync each commit:
// the Raft log is the durable record, and each database stores the index of
// the last entry it applied (in the same transaction), so after a crash the
// entries it lost are applied again and those it kept are skipped.
const (
	journalMode = "WAL"
	synchronous = "NORMAL"
)

// metaTable holds, inside each database, the index of the last Raft entry
// applied to it and the clock of that entry (writes' 'now' never goes back).
const metaTable = internalPrefix + "edge_meta"

// database is one D1 database on this node: one SQLite file, one write
// connection used only by the Raft apply loop (and snapshots), and a pool of
// query_only connections for reads.
type database struct {
	id   string
	path string

	mu      sync.RWMutex // write-locked to close or replace the file
	closed  bool
	w       *sql.DB
	wc      *sql.Conn
	wcache  *stmtCache  // prepared statements of wc (apply loop only)
	budget  *stepBudget // counts the instructions of wc's commands
	r       *sql.DB
	applied atomic.Uint64 // index of the last entry applied
	// committing is the index of the newest transaction the apply loop
	// began to commit: stored before its COMMIT, so it is never older than
	// what a read transaction that began earlier sees (see read).
	committing atomic.Uint64
	// acked is the index of the newest write this node answered for the
	// database. A write sent to a follower is answered with the leader's
	// result, before this node applied it; reads here wait until applied
	// reaches acked, so the next read on this node still sees the write.
	acked   atomic.Uint64
	lastNow int64 // clock of that entry (apply loop only)
	// sizeBytes is the file's size after the last apply, for answers.
	sizeBytes atomic.Int64

	rmu    sync.Mutex
	rstmts map[string]*sql.Stmt // prepared statements of the read pool
}

func dbPath(dir, id string) string { return filepath.Join(dir, id+".sqlite") }

// removeFiles deletes a database's file and its WAL and shared-memory files.
func removeFiles(path string) error {
	var errs []error
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// openDatabase opens (creating) the file of database id in dir.
func openDatabase(wd *writeDriver, dir, id string, maxBytes int64) (*database, error) {
	d := &database{id: id, path: dbPath(dir, id)}
	pragmas := "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(" + journalMode +
		")&_pragma=synchronous(" + synchronous + ")"
	d.w = sql.OpenDB(wd.connector(d.path + pragmas))
	d.w.SetMaxOpenConns(1)
	ctx := context.Background()
	wc, err := d.w.Conn(ctx)
	if err != nil {
		_ = d.w.Close()
		return nil, fmt.Errorf("open d1 database %s: %w", id, err)
	}
	d.wc = wc
	d.wcache = newStmtCache(wc)
	d.budget = wd.budget
	fail := func(err error) (*database, error) {
		_ = d.wcache.close()
		_ = d.wc.Close()
		_ = d.w.Close()
		return nil, fmt.Errorf("open d1 database %s: %w", id, err)
	}
	if err := d.budget.install(wc); err != nil {
		return fail(err)
	}
	for _, l := range []struct{ id, v int }{
		{sqliteLimitLength, MaxValueBytes},
		{sqliteLimitSQLLength, MaxStatementBytes},
		{sqliteLimitVariableNumber, MaxParams},
		{sqliteLimitColumn, MaxColumns},
	} {
		if _, err := sqlite.Limit(wc, l.id, l.v); err != nil {
			return fail(err)
		}
	}
	var pageSize int64
	if err := wc.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return fail(err)
	}
	if _, err := wc.ExecContext(ctx, "PRAGMA max_page_count = "+strconv.FormatInt(maxBytes/pageSize, 10)); err != nil {
		return fail(err)
	}
	if _, err := wc.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+metaTable+" (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"); err != nil {
		return fail(err)
	}
	var applied, now int64
	if err := wc.QueryRowContext(ctx, "SELECT coalesce((SELECT v FROM "+metaTable+" WHERE k='applied'),0), "+
		"coalesce((SELECT v FROM "+metaTable+" WHERE k='now'),0)").Scan(&applied, &now); err != nil {
		return fail(err)
	}
	d.applied.Store(uint64(applied))
	d.committing.Store(uint64(applied))
	d.lastNow = now
	d.r, err = sql.Open("sqlite", d.path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)&_pragma=foreign_keys(1)")
	if err != nil {
		return fail(err)
	}
	// Every read connection stays open: closing one (2 idle of 8 before)
	// made busy readers open SQLite files and prepare statements again.
	d.r.SetMaxOpenConns(readConns)
	d.r.SetMaxIdleConns(readConns)
	d.rstmts = make(map[string]*sql.Stmt)
	d.sizeBytes.Store(d.size(ctx))
	return d, nil
}

// close closes the connections; the caller holds mu.
func (d *database) close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	d.rmu.Lock()
	var errs []error
	for k, st := range d.rstmts {
		errs = append(errs, st.Close())
		delete(d.rstmts, k)
	}
	d.rmu.Unlock()
	return errors.Join(append(errs, d.wcache.close(), d.r.Close(), d.wc.Close(), d.w.Close())...)
}

// SQLite limit ids (sqlite3_limit).
const (
	sqliteLimitLength         = 0
	sqliteLimitSQLLength      = 1
	sqliteLimitColumn         = 2
	sqliteLimitVariableNumber = 9
)

// stmtResult is the outcome of one statement.
type stmtResult struct {
	Columns     []string `json:"columns"`
	Rows        [][]any  `json:"rows"`
	Changes     int64    `json:"changes"`
	LastRowID   int64    `json:"last_row_id"`
	RowsRead    int64    `json:"rows_read"`
	RowsWritten int64    `json:"rows_written"`
	Duration    float64  `json:"duration"` // milliseconds
}

// queryer is a *sql.Conn or *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// jsonValue converts a SQLite value to what D1 answers in JSON (a blob is
// an array of byte values) and adds its size to size.
func jsonValue(v any, size int) (any, int) {
	switch x := v.(type) {
	case []byte:
		out := make([]int, len(x))
		for i, c := range x {
			out[i] = int(c)
		}
		return out, size + 4*len(x)
	case string:
		return x, size + len(x)
	case time.Time: // a column declared DATE or DATETIME
		return x.Format(time.RFC3339Nano), size + 32
	default:
		return x, size + 8
	}
}

// bindParams converts JSON parameters to SQLite values: strings, integers
// (a number without fraction or exponent that fits 64 bits), reals, null,
// and booleans as 1 and 0. Arrays and objects are refused.
func bindParams(raw []json.RawMessage) ([]any, error) {
	out := make([]any, len(raw))
	for i, p := range raw {
		s := strings.TrimSpace(string(p))
		switch {
		case s == "null":
			out[i] = nil
		case s == "true":
			out[i] = int64(1)
		case s == "false":
			out[i] = int64(0)
		case strings.HasPrefix(s, `"`):
			var v string
			if err := json.Unmarshal(p, &v); err != nil {
				return nil, fmt.Errorf("parameter %d: %v", i+1, err)
			}
			if len(v) > MaxValueBytes {
				return nil, fmt.Errorf("parameter %d is %d bytes, over the %d byte limit: string or blob too big: SQLITE_TOOBIG", i+1, len(v), MaxValueBytes)
			}
			out[i] = v
		case s != "" && (s[0] == '-' || s[0] >= '0' && s[0] <= '9'):
			if !strings.ContainsAny(s, ".eE") {
				if n, err := strconv.ParseInt(s, 10, 64); err == nil {
					out[i] = n
					continue
				}
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("parameter %d: %v", i+1, err)
			}
			out[i] = f
		default:
			return nil, fmt.Errorf("parameter %d: type not supported (use a string, number, boolean or null)", i+1)
		}
	}
	return out, nil
}

// casMax raises v to x unless it is already higher.
func casMax[T interface{ ~int64 | ~uint64 }, A interface {
	Load() T
	CompareAndSwap(old, new T) bool
}](v A, x T) {
	for {
		cur := v.Load()
		if x <= cur || v.CompareAndSwap(cur, x) {
			return
		}
	}
}

// readConns is the size of each database's pool of query_only connections.
const readConns = 8

// readStmt returns the read pool's prepared statement of text, preparing
// it on first use; nil when the cache is full or preparing failed (the
// caller then runs the text directly, and meets the error there). Cached
// statements are never evicted while the database is open: a reader may be
// using one.
func (d *database) readStmt(ctx context.Context, text string) *sql.Stmt {
	d.rmu.Lock()
	defer d.rmu.Unlock()
	if st := d.rstmts[text]; st != nil {
		return st
	}
	if len(d.rstmts) >= maxCachedStmts {
		return nil
	}
	st, err := d.r.PrepareContext(ctx, text)
	if err != nil {
		return nil
	}
	d.rstmts[text] = st
	return st
}

// query runs one read statement in tx (a transaction of the read pool)
// and collects its rows.
func (d *database) query(ctx context.Context, tx *sql.Tx, text string, args []any) (stmtResult, error) {
	start := time.Now()
	var rows *sql.Rows
	var err error
	if st := d.readStmt(ctx, text); st != nil {
		rows, err = tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	} else {
		rows, err = tx.QueryContext(ctx, text, args...)
	}
	if err != nil {
		return stmtResult{}, err
	}
	res, err := collectRows(rows)
	if err != nil {
		return stmtResult{}, err
	}
	res.Duration = float64(time.Since(start).Microseconds()) / 1000
	return res, nil
}

// appliedQuery reads the applied index inside a read transaction.
const appliedQuery = "SELECT coalesce((SELECT v FROM " + metaTable + " WHERE k = 'applied'), 0)"

// readApplied is the applied index the read transaction tx sees.
func (d *database) readApplied(ctx context.Context, tx *sql.Tx) (uint64, error) {
	var at int64
	var err error
	if st := d.readStmt(ctx, appliedQuery); st != nil {
		err = tx.StmtContext(ctx, st).QueryRowContext(ctx).Scan(&at)
	} else {
		err = tx.QueryRowContext(ctx, appliedQuery).Scan(&at)
	}
	return uint64(at), err
}
