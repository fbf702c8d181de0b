package d1

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"modernc.org/sqlite"
)

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
