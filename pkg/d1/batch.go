package d1

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/replication"
)

// Batched apply. Raft hands the state machine every entry committed since
// its last call at once; D1 applies a run of its commands in one SQLite
// transaction per database, each command inside a SAVEPOINT, and writes the
// database's applied index and clock once, in the same transaction, before
// COMMIT. A failing command rolls back to its savepoint: nothing of it
// stays, the commands before and after it in the batch are kept. A command's
// result is what it would be alone: the same statements on the same state
// with the same clock and seed, whatever the batch's length.
//
// SQLite rolls a whole transaction back by itself on some errors (an
// interrupt, which the write budget raises; OR ROLLBACK; RAISE(ROLLBACK) in
// a trigger). Then the savepoint is gone, and the batch's earlier commands
// on that database are applied again, in order, in a new transaction, with
// their own clock and seed: the same effects as the first time.

// savepoint names each command's savepoint; user statements cannot name it
// (names starting with the internal prefix are refused).
const savepoint = internalPrefix + "edge_cmd"

// batch is one ApplyCommands call.
type batch struct {
	m    *Module
	ctx  context.Context
	txns map[string]*txn // by database id
	open []*txn          // in the order they were opened
}

// txn is the batch's transaction on one database.
type txn struct {
	d       *database
	begun   bool
	now     int64     // clock of the last command applied in it
	last    uint64    // index of that command
	done    []applied // commands applied in it, to replay
	results []int     // positions of its commands' results in the batch
}

// applied is a command applied in a transaction.
type applied struct {
	index uint64
	c     command
	now   int64
}

// ApplyCommands implements replication.BatchApplier.
func (m *Module) ApplyCommands(entries []replication.Entry) []replication.Result {
	b := &batch{m: m, ctx: context.Background(), txns: make(map[string]*txn)}
	res := make([]applyResult, len(entries))
	out := make([]replication.Result, len(entries))
	for i, e := range entries {
		c, err := decodeCommand(e.Payload)
		if err != nil {
			out[i].Err = err
			continue
		}
		res[i] = b.apply(e.Index, c, i)
	}
	b.commit(res)
	for i := range entries {
		if out[i].Err == nil {
			out[i].Data, out[i].Err = json.Marshal(res[i])
		}
	}
	return out
}

// txn returns the batch's transaction on database id, nil when the
// database was closed (deleted) meanwhile. The database stays read-locked
// (not closed or replaced) until the batch commits.
func (b *batch) txn(id string) (*txn, error) {
	if t, ok := b.txns[id]; ok {
		return t, nil
	}
	d, err := b.m.database(id)
	if err != nil {
		return nil, err
	}
	d.mu.RLock()
	if d.closed {
		d.mu.RUnlock()
		b.txns[id] = nil
		return nil, nil
	}
	t := &txn{d: d, now: d.lastNow, last: d.applied.Load()}
	b.txns[id] = t
	b.open = append(b.open, t)
	return t, nil
}

// apply applies one command in the batch.
func (b *batch) apply(index uint64, c command, pos int) applyResult {
	m := b.m
	res := applyResult{Index: index}
	if _, ok := m.deps.Catalog.Resource(catalog.KindD1Database, c.Account, c.DB); !ok {
		res.NotFound = true
		return res
	}
	t, err := b.txn(c.DB)
	if err != nil {
		m.fatal(err)
		res.Error = "database unavailable on this node: " + err.Error()
		return res
	}
	if t == nil {
		res.NotFound = true
		return res
	}
	if index <= t.last {
		res.Skipped = true
		return res
	}
	if !t.begun {
		if err := t.d.budget.install(t.d.wc); err != nil {
			res.Error = err.Error()
			return res
		}
		if err := t.d.exec(b.ctx, "BEGIN IMMEDIATE"); err != nil {
			m.fatal(err)
			res.Error = err.Error()
			return res
		}
		t.begun = true
	}
	now := max(c.Now, t.now)
	res.Results, res.Error, res.Failed = b.run(t, index, c, now)
	for _, r := range res.Results {
		if r.Changes > 0 {
			res.ChangedDB = true
		}
	}
	t.now, t.last = now, index
	t.results = append(t.results, pos)
	if c.Now > 0 { // not part of the state: only this node's gauge
		m.metrics.lag.Set(max(0, time.Since(time.UnixMilli(c.Now)).Seconds()))
	}
	res.SizeAfter = t.d.size(b.ctx)
	return res
}

// run runs a command's statements inside its savepoint: their results, or
// SQLite's message and the failing statement's position, with nothing of
// the command left.
func (b *batch) run(t *txn, index uint64, c command, now int64) ([]stmtResult, string, int) {
	if len(c.Stmts) == 0 {
		return nil, "", 0
	}
	m, d, ctx := b.m, t.d, b.ctx
	m.wd.setEnv(newEnv(now, c.Seed, index))
	defer m.wd.setEnv(nil)
	if err := d.exec(ctx, "SAVEPOINT "+savepoint); err != nil {
		m.fatal(err)
		return nil, err.Error(), 1
	}
	d.budget.start()
	var results []stmtResult
	for i, s := range c.Stmts {
		args, err := bindParams(s.Params)
		var r stmtResult
		if err == nil {
			r, err = d.execWrite(ctx, s.SQL, args)
		}
		if err != nil {
			exceeded := d.budget.exceeded
			m.fatal(err)
			b.undo(t)
			if exceeded {
				return nil, fmt.Sprintf("D1 write exceeded its limit of %d SQLite instructions and was rolled back: SQLITE_INTERRUPT",
					d.budget.limit), i + 1
			}
			return nil, sqlMessage(err), i + 1
		}
		results = append(results, r)
	}
	if err := d.exec(ctx, "RELEASE "+savepoint); err != nil {
		// The savepoint is gone: the statements ended the transaction.
		b.undo(t)
		return nil, fmt.Sprintf("%s: the statements ended the transaction: SQLITE_ERROR", err), len(c.Stmts)
	}
	t.done = append(t.done, applied{index: index, c: c, now: now})
	return results, "", 0
}

// undo rolls the current command back to its savepoint; when SQLite
// already rolled the whole transaction back, it begins a new one and
// applies the batch's earlier commands on this database again.
func (b *batch) undo(t *txn) {
	d, ctx := t.d, b.ctx
	if err := d.exec(ctx, "ROLLBACK TO "+savepoint); err == nil {
		if err := d.exec(ctx, "RELEASE "+savepoint); err != nil {
			b.m.fatal(err)
		}
		return
	}
	_ = d.exec(ctx, "ROLLBACK") // whatever is left of it
	if err := d.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
		b.m.fatal(err)
		b.m.log.Error("d1 cannot begin a transaction to replay a batch", "database", d.id, "err", err)
		return
	}
	for _, a := range t.done {
		b.replay(t, a)
	}
}

// replay applies again a command that was applied before in this batch.
func (b *batch) replay(t *txn, a applied) {
	m, d, ctx := b.m, t.d, b.ctx
	m.wd.setEnv(newEnv(a.now, a.c.Seed, a.index))
	defer m.wd.setEnv(nil)
	d.budget.start() // it kept within the budget the first time
	err := d.exec(ctx, "SAVEPOINT "+savepoint)
	for _, s := range a.c.Stmts {
		if err != nil {
			break
		}
		var args []any
		if args, err = bindParams(s.Params); err == nil {
			_, err = d.execWrite(ctx, s.SQL, args)
		}
	}
	if err == nil {
		err = d.exec(ctx, "RELEASE "+savepoint)
	}
	if err != nil { // it succeeded the first time on the same state
		m.fatal(err)
		m.log.Error("d1 replay of a batch's command failed", "database", d.id, "index", a.index, "err", err)
	}
}

// commit writes each transaction's applied index and clock and commits
// it; a failed commit turns its commands' results into errors.
func (b *batch) commit(res []applyResult) {
	m, ctx := b.m, b.ctx
	moved := false
	for _, t := range b.open {
		if t.begun {
			t.d.committing.Store(t.last) // before COMMIT: see database.read
			err := t.d.exec(ctx, metaUpsert, int64(t.last), t.now)
			if err == nil {
				err = t.d.exec(ctx, "COMMIT")
			}
			if err != nil {
				_ = t.d.exec(ctx, "ROLLBACK")
				m.fatal(err)
				for _, pos := range t.results {
					res[pos].Results, res[pos].Error = nil, err.Error()
				}
			} else {
				t.d.applied.Store(t.last)
				t.d.lastNow = t.now
				t.d.sizeBytes.Store(t.d.size(ctx))
				moved = true
			}
		}
		t.d.mu.RUnlock()
	}
	if moved {
		m.notify()
	}
}

// exec runs a statement of the apply loop on the write connection, through
// its statement cache.
func (d *database) exec(ctx context.Context, text string, args ...any) error {
	st, err := d.wcache.get(ctx, text)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}
