package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	_ "modernc.org/sqlite" // the baseline's driver, the one D1 runs on
)

// sqliteTarget is the baseline of `bench d1`: the same work on a plain
// local SQLite file with D1's settings (WAL, synchronous=NORMAL), through
// database/sql in this process: one write connection that every writer
// shares (SQLite has one writer at a time) and a pool of query_only
// connections for the readers.
type sqliteTarget struct {
	w, r *sql.DB
}

// openSQLiteTarget creates bench.sqlite in dir with the bench table.
func openSQLiteTarget(dir string, readers int) (*sqliteTarget, error) {
	path := filepath.Join(dir, "bench.sqlite")
	dsn := path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("bench d1 baseline: %w", err)
	}
	w.SetMaxOpenConns(1)
	if _, err := w.Exec(d1BenchSchema); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("bench d1 baseline: %w", err)
	}
	r, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("bench d1 baseline: %w", err)
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	return &sqliteTarget{w: w, r: r}, nil
}

func (t *sqliteTarget) name() string { return "sqlite" }

func (t *sqliteTarget) replicaCaught(context.Context, int64) error { return nil }

func (t *sqliteTarget) open(context.Context, bool) (d1BenchConn, error) { return t, nil }

func (t *sqliteTarget) insert(ctx context.Context, id int64, value string) error {
	_, err := t.w.ExecContext(ctx, d1InsertSQL, id, "k"+strconv.FormatInt(id, 10), value)
	return err
}

func (t *sqliteTarget) insertBatch(ctx context.Context, first int64, n int, value string) error {
	tx, err := t.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for i := range int64(n) {
		if _, err := tx.ExecContext(ctx, d1InsertSQL, first+i, "k"+strconv.FormatInt(first+i, 10), value); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (t *sqliteTarget) get(ctx context.Context, id int64) error {
	var k, v string
	return t.r.QueryRowContext(ctx, d1SelectSQL, id).Scan(&k, &v)
}

// close is a no-op per client; closeAll closes the files.
func (t *sqliteTarget) close() error { return nil }

func (t *sqliteTarget) closeAll() error {
	return errors.Join(t.r.Close(), t.w.Close())
}
