package d1

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// maxCachedStmts bounds the prepared statements kept per connection: a
// workload repeats a few statements, and parsing one costs as much as
// running a single-row INSERT.
const maxCachedStmts = 128

// stmtCache keeps prepared statements of one connection by SQL text. It is
// not safe for concurrent use: the write connection's cache is used by the
// apply loop only.
type stmtCache struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
}

func newStmtCache(conn *sql.Conn) *stmtCache {
	return &stmtCache{conn: conn, stmts: make(map[string]*sql.Stmt)}
}

// get returns the prepared statement of text, preparing it on a miss. A
// full cache is emptied first (simpler than LRU, and a workload with more
// distinct statements than the cache pays parsing either way).
func (c *stmtCache) get(ctx context.Context, text string) (*sql.Stmt, error) {
	if s := c.stmts[text]; s != nil {
		return s, nil
	}
	if len(c.stmts) >= maxCachedStmts {
		if err := c.close(); err != nil {
			return nil, err
		}
	}
	s, err := c.conn.PrepareContext(ctx, text)
	if err != nil {
		return nil, err
	}
	c.stmts[text] = s
	return s, nil
}

// close closes every cached statement.
func (c *stmtCache) close() error {
	var errs []error
	for k, s := range c.stmts {
		errs = append(errs, s.Close())
		delete(c.stmts, k)
	}
	return errors.Join(errs...)
}

// Statements of the apply loop itself.
const (
	countsQuery = "SELECT total_changes(), last_insert_rowid()"
	metaUpsert  = "INSERT INTO " + metaTable + "(k, v) VALUES ('applied', ?), ('now', ?) " +
		"ON CONFLICT(k) DO UPDATE SET v = excluded.v"
)

// execWrite runs one statement of a write on the write connection through
// its statement cache, and collects its rows and counts. Counts come from
// total_changes(), so triggers' rows count too.
func (d *database) execWrite(ctx context.Context, text string, args []any) (stmtResult, error) {
	start := time.Now()
	counts, err := d.wcache.get(ctx, countsQuery)
	if err != nil {
		return stmtResult{}, err
	}
	var before, rowid int64
	if err := counts.QueryRowContext(ctx).Scan(&before, &rowid); err != nil {
		return stmtResult{}, err
	}
	st, err := d.wcache.get(ctx, text)
	if err != nil {
		return stmtResult{}, err
	}
	d.budget.counting = true
	rows, err := st.QueryContext(ctx, args...)
	var res stmtResult
	if err == nil {
		res, err = collectRows(rows)
	}
	d.budget.counting = false
	if err != nil {
		return stmtResult{}, err
	}
	var after, rowidAfter int64
	if err := counts.QueryRowContext(ctx).Scan(&after, &rowidAfter); err != nil {
		return stmtResult{}, err
	}
	// last_insert_rowid() is the connection's, left by whatever inserted
	// last on it (an earlier command, a replay, nothing since a restart):
	// only a rowid this statement inserted is reported, so the result is
	// the same on every replica.
	if rowidAfter != rowid {
		res.LastRowID = rowidAfter
	}
	res.Changes = after - before
	res.RowsWritten = res.Changes
	res.Duration = float64(time.Since(start).Microseconds()) / 1000
	return res, nil
}

// collectRows reads and closes rows, bounded by MaxResultBytes.
func collectRows(rows *sql.Rows) (stmtResult, error) {
	res := stmtResult{Rows: [][]any{}}
	var err error
	if res.Columns, err = rows.Columns(); err != nil {
		rows.Close()
		return stmtResult{}, err
	}
	if res.Columns == nil {
		res.Columns = []string{}
	}
	size := 0
	for rows.Next() {
		vals := make([]any, len(res.Columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return stmtResult{}, err
		}
		for i, v := range vals {
			vals[i], size = jsonValue(v, size)
		}
		if size > MaxResultBytes {
			rows.Close()
			return stmtResult{}, fmt.Errorf("result is over %d bytes: SQLITE_TOOBIG", MaxResultBytes)
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return stmtResult{}, err
	}
	if err := rows.Close(); err != nil {
		return stmtResult{}, err
	}
	res.RowsRead = int64(len(res.Rows))
	return res, nil
}
