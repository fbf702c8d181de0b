package d1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// Export: POST .../export writes a SQL dump of the database, taken from one
// read transaction on this node, to a file under <data-dir>/d1/io/export
// (streamed row by row, so memory stays bounded whatever the size), and
// answers "complete" with a signed URL of this node to download it. An
// export always completes within the request, so polling it again
// (Cloudflare's output_format "polling") just makes a new one.

// ExportPragma is the first line of every dump: foreign keys are checked at
// the end of the import, so tables may come in any order.
const ExportPragma = "PRAGMA defer_foreign_keys=TRUE;"

// schemaObject is one row of sqlite_schema a dump may hold.
type schemaObject struct {
	typ, name, table, sql string
	kind                  string // pragma_table_list's type: table, virtual, shadow, view
	withoutRowid          bool
}

// internalName reports whether a schema object is SQLite's or D1's own.
func internalName(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "sqlite_") || strings.HasPrefix(n, internalPrefix)
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// dump writes database d as SQL text to w, from one read transaction, and
// returns the applied index (the bookmark) it reflects: the tables in
// creation order, their rows, then sqlite_sequence's rows for them, then
// indexes, triggers and views (after the rows, so triggers do not fire on
// the import). Internal tables (sqlite_*, _cf_*) and virtual tables' shadow
// tables are left out; a virtual table's rows are inserted through it.
func (d *database) dump(ctx context.Context, w io.Writer, opts wire.D1DumpOptions) (uint64, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return 0, errClosed
	}
	tx, err := d.r.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	at, err := d.readApplied(ctx, tx)
	if err != nil {
		return 0, err
	}
	objs, err := schemaObjects(ctx, tx)
	if err != nil {
		return 0, err
	}
	want := map[string]bool{}
	for _, t := range opts.Tables {
		want[strings.ToLower(t)] = true
	}
	found := map[string]bool{}
	var tables, later []schemaObject
	for _, o := range objs {
		if internalName(o.name) || internalName(o.table) || o.kind == "shadow" {
			continue
		}
		if len(want) > 0 {
			if o.typ == "view" || !want[strings.ToLower(o.table)] {
				continue
			}
			found[strings.ToLower(o.table)] = true
		}
		if o.typ == "table" {
			tables = append(tables, o)
		} else {
			later = append(later, o)
		}
	}
	for _, t := range opts.Tables {
		if !found[strings.ToLower(t)] {
			return 0, sqlError("no such table: %s: SQLITE_ERROR", t)
		}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintln(bw, ExportPragma)
	if !opts.NoSchema {
		// Every table before any row: a row's foreign key needs its
		// parent table to exist, whatever the order they were created in.
		for _, t := range tables {
			fmt.Fprintf(bw, "%s;\n", t.sql)
		}
	}
	for _, t := range tables {
		if !opts.NoData {
			if err := dumpRows(ctx, tx, bw, t); err != nil {
				return 0, fmt.Errorf("dump rows of %s: %w", t.name, err)
			}
		}
	}
	if !opts.NoData {
		if err := dumpSequences(ctx, tx, bw, tables); err != nil {
			return 0, err
		}
	}
	if !opts.NoSchema {
		for _, o := range later {
			fmt.Fprintf(bw, "%s;\n", o.sql)
		}
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	return uint64(at), nil
}

// schemaObjects lists the main schema's objects that have SQL, in creation
// order, with each table's kind.
func schemaObjects(ctx context.Context, q queryer) ([]schemaObject, error) {
	rows, err := q.QueryContext(ctx, `SELECT s.type, s.name, s.tbl_name, s.sql, coalesce(l.type, ''), coalesce(l.wr, 0)
		FROM sqlite_schema AS s LEFT JOIN pragma_table_list AS l ON l.schema = 'main' AND l.name = s.name
		WHERE s.sql IS NOT NULL ORDER BY s.rowid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []schemaObject
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.typ, &o.name, &o.table, &o.sql, &o.kind, &o.withoutRowid); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// dumpRows writes one INSERT per row of table t, its values as SQLite's
// quote() renders them (text with quotes doubled, blobs as X'..', reals
// with every digit they need), into the columns that take values
// (generated and hidden columns are computed again).
func dumpRows(ctx context.Context, q queryer, w io.Writer, t schemaObject) error {
	rows, err := q.QueryContext(ctx, "SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0 ORDER BY cid", t.name)
	if err != nil {
		return err
	}
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(cols) == 0 {
		return nil
	}
	quoted := make([]string, len(cols))
	values := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quoteIdent(c)
		values[i] = "quote(" + quoteIdent(c) + ")"
	}
	prefix := "INSERT INTO " + quoteIdent(t.name) + " (" + strings.Join(quoted, ",") + ") VALUES("
	order := " ORDER BY rowid"
	if t.withoutRowid || t.kind == "virtual" {
		order = ""
	}
	sel := "SELECT " + strings.Join(values, " || ',' || ") + " FROM " + quoteIdent(t.name) + order
	rows, err = q.QueryContext(ctx, sel)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		if _, err := io.WriteString(w, prefix+v+");\n"); err != nil {
			return err
		}
	}
	return rows.Err()
}

// dumpSequences writes the AUTOINCREMENT counters of the dumped tables, so
// that the imported tables do not reuse ids of deleted rows.
func dumpSequences(ctx context.Context, q queryer, w io.Writer, tables []schemaObject) error {
	var has int
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_sequence'").Scan(&has); err != nil || has == 0 {
		return err
	}
	dumped := map[string]bool{}
	for _, t := range tables {
		dumped[t.name] = true
	}
	rows, err := q.QueryContext(ctx, "SELECT name, quote(name), seq FROM sqlite_sequence ORDER BY rowid")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name, lit string
		var seq int64
		if err := rows.Scan(&name, &lit, &seq); err != nil {
			return err
		}
		if !dumped[name] {
			continue
		}
		if _, err := fmt.Fprintf(w, "DELETE FROM sqlite_sequence WHERE name = %s;\nINSERT INTO sqlite_sequence (name, seq) VALUES(%s, %d);\n", lit, lit, seq); err != nil {
			return err
		}
	}
	return rows.Err()
}

// exportHandler serves POST .../export.
func (m *Module) exportHandler(w http.ResponseWriter, r *http.Request) {
	account, id, ok := m.target(w, r)
	if !ok {
		return
	}
	var req wire.D1ExportRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	if req.OutputFormat != "polling" {
		api.WriteFailure(w, r, api.BadRequest(api.CodeBadRequest, `output_format must be "polling"`))
		return
	}
	if len(req.DumpOptions.Tables) > MaxStatements {
		api.WriteFailure(w, r, api.BadRequest(api.CodeBadRequest, "dump_options.tables names %d tables, the limit is %d", len(req.DumpOptions.Tables), MaxStatements))
		return
	}
	d, err := m.readyDatabase(r.Context(), account, id, req.CurrentBookmark)
	if err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	name, err := newFileName()
	if err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	start := time.Now()
	at, err := m.writeDump(r.Context(), d, name, req.DumpOptions)
	if err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	path := "/d1/files/" + m.deps.NodeID + "/export/" + name
	resp := wire.D1ExportResponse{Success: true, Type: "export", Status: "complete", AtBookmark: FormatBookmark(at),
		Messages: []string{fmt.Sprintf("Generated %s in %s", name, time.Since(start).Round(time.Millisecond))}}
	resp.Result.Filename = name
	resp.Result.SignedURL = m.files.signedURL(baseURL(r), path)
	m.log.Info("d1 export", "database", id, "file", name, "bookmark", resp.AtBookmark)
	api.WriteResult(w, http.StatusOK, resp, nil)
}

// writeDump dumps d into the export file name (through a temporary file,
// so a download never sees half a dump).
func (m *Module) writeDump(ctx context.Context, d *database, name string, opts wire.D1DumpOptions) (uint64, error) {
	final := m.files.path("export", name)
	tmp := final + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return 0, fmt.Errorf("d1 export %s: %w", d.id, err)
	}
	at, err := d.dump(ctx, f, opts)
	err = errors.Join(err, f.Close())
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		_ = os.Remove(tmp)
		var he *api.HTTPError
		if errors.As(err, &he) {
			return 0, err
		}
		if errors.Is(err, errClosed) {
			return 0, dbNotFound()
		}
		return 0, fmt.Errorf("d1 export %s: %w", d.id, err)
	}
	return at, nil
}

// downloadHandler serves a signed export URL: the dump, with range support.
func (m *Module) downloadHandler(w http.ResponseWriter, r *http.Request) {
	name, err := m.files.verify(r)
	if err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	f, err := os.Open(m.files.path("export", name))
	if err != nil {
		api.WriteFailure(w, r, &api.HTTPError{Status: http.StatusNotFound, Code: api.CodeD1SignedURL,
			Message: "the export file is gone (it is kept for an hour, on the node that made it)", Err: api.ErrNotFound})
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		api.WriteFailure(w, r, fmt.Errorf("d1 export download %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "application/sql; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	http.ServeContent(w, r, name, st.ModTime(), f)
}

// target returns the request's account and database ids, or answers 404.
func (m *Module) target(w http.ResponseWriter, r *http.Request) (string, string, bool) {
	account := r.PathValue("account_id")
	if _, ok := m.deps.Catalog.Account(account); !ok {
		api.WriteFailure(w, r, api.AccountNotFound(r))
		return "", "", false
	}
	id := r.PathValue("database_id")
	if !m.known(r.Context(), account, id) {
		api.WriteFailure(w, r, dbNotFound())
		return "", "", false
	}
	return account, id, true
}

// readyDatabase opens database id once this replica reached bookmark (and,
// when the database's read replication is disabled, every write committed
// before the call: a barrier through the leader's log).
func (m *Module) readyDatabase(ctx context.Context, account, id, bookmark string) (*database, error) {
	var at uint64
	if bookmark != "" {
		b, err := ParseBookmark(bookmark)
		if err != nil {
			return nil, api.BadRequest(api.CodeBadRequest, "current_bookmark: %v", err)
		}
		at = b
	}
	if !m.replicaReads(account, id) {
		res, err := m.propose(ctx, command{Account: account, DB: id, Now: time.Now().UnixMilli()})
		if err != nil {
			return nil, err
		}
		at = max(at, res.Index)
	}
	d, err := m.database(id)
	if err != nil {
		return nil, fmt.Errorf("d1 open %s: %w", id, err)
	}
	if at > 0 {
		wctx, cancel := context.WithTimeout(ctx, BookmarkWait)
		err := m.waitApplied(wctx, d, at)
		cancel()
		if err != nil {
			return nil, &api.HTTPError{Status: http.StatusServiceUnavailable, Code: api.CodeD1Behind,
				Message: fmt.Sprintf("this replica has not reached bookmark %s yet; retry", FormatBookmark(at)), Err: api.ErrUnavailable}
		}
	}
	return d, nil
}
