package d1

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/consensus"
	"github.com/edgeplane/edgeplane/pkg/replication"
	"github.com/edgeplane/edgeplane/pkg/router"
	"github.com/edgeplane/edgeplane/pkg/service"
	"github.com/edgeplane/edgeplane/pkg/wire"
	"modernc.org/sqlite"
)

// Headers of D1's sessions.
const (
	// HeaderBookmark carries a bookmark: sent, the answer reflects state at
	// least that new; answered, the state the answer reflects.
	HeaderBookmark = "X-D1-Bookmark"
	// HeaderSession "first-primary" without a bookmark reads the newest
	// state (as consistency=strong: on the leader); with a bookmark, the
	// session goes on from it on any replica.
	HeaderSession = "X-D1-Session"
)

const dbBase = "/client/v4/accounts/{account_id}/d1/database/{database_id}"

// Database is the API shape of a D1 database.
type Database = wire.D1Database

// DatabaseKind is D1's catalog resource: databases with Cloudflare's shape;
// num_tables and file_size are this node's replica's.
func (m *Module) DatabaseKind() api.ResourceKind {
	return api.ResourceKind{
		Kind:            catalog.KindD1Database,
		Service:         serviceName,
		Path:            "d1/database",
		IDParam:         "database_id",
		NameField:       "name",
		MaxNameBytes:    MaxNameBytes,
		Attrs:           []string{"primary_location_hint"},
		NotFoundCode:    api.CodeD1DatabaseNotFound,
		NotFoundMessage: "The database could not be found",
		ExistsCode:      api.CodeD1NameExists,
		ExistsStatus:    http.StatusBadRequest,
		View:            m.view,
	}
}

func (m *Module) view(r catalog.Resource) any {
	v := Database{UUID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt.UTC().Format(time.RFC3339Nano),
		Version: "production", PrimaryLocationHint: r.Attrs["primary_location_hint"]}
	v.ReadReplication.Mode = readReplicationMode(r)
	path := dbPath(m.dir, r.ID)
	if st, err := os.Stat(path); err == nil {
		v.FileSize = st.Size()
		if d, err := m.database(r.ID); err == nil {
			v.NumTables, v.FileSize = d.stats()
		}
	}
	return v
}

// stats counts the user's tables and the file's size.
func (d *database) stats() (int, int64) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return 0, 0
	}
	var n int
	_ = d.r.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE '\_cf\_%' ESCAPE '\'`).Scan(&n)
	return n, d.readSize(context.Background())
}

// Routes implements service.Service: query and raw. Both are served where
// they arrive: reads by this replica, writes proposed through Raft (the
// proposer forwards them to the leader and waits until this node applied
// them, so the answer and the next read here see the write).
func (m *Module) Routes() []service.Route {
	return []service.Route{
		{Pattern: "POST " + dbBase + "/query", MaxBody: MaxBodyBytes, Placement: router.PerRequest(m.placeQuery), Handler: m.primaryReads(m.handler(false))},
		{Pattern: "POST " + dbBase + "/raw", MaxBody: MaxBodyBytes, Placement: router.PerRequest(m.placeQuery), Handler: m.primaryReads(m.handler(true))},
		// Export, import and read replication (export.go, import.go, readrepl.go).
		{Pattern: "POST " + dbBase + "/export", Access: service.AccessRead, Placement: router.Here(), Handler: http.HandlerFunc(m.exportHandler)},
		{Pattern: "POST " + dbBase + "/import", Placement: router.AtNearest(m.importHolder).Within(WriteWait), Handler: http.HandlerFunc(m.importHandler)},
		{Pattern: "PUT " + dbBase, Placement: router.Here(), Handler: http.HandlerFunc(m.readReplicationHandler)},
		{Pattern: "PATCH " + dbBase, Placement: router.Here(), Handler: http.HandlerFunc(m.readReplicationHandler)},
		{Pattern: downloadPattern, Access: api.AccessSigned, Placement: router.AtNearest(nodeHolder), Handler: http.HandlerFunc(m.downloadHandler)},
		{Pattern: uploadPattern, Access: api.AccessSigned, MaxBody: m.files.maxImport, Placement: router.AtNearest(nodeHolder), Handler: http.HandlerFunc(m.uploadHandler)},
	}
}

// placeQuery serves on the Raft leader (one hop through the router's
// forwarding) a strong request and every read of a database whose read
// replication is disabled, and every other request where it arrived.
func (m *Module) placeQuery(r *http.Request) router.Placement {
	if strongRequest(r) || !m.replicaReads(r.PathValue("account_id"), r.PathValue("database_id")) {
		return router.AtLeader().Within(WriteWait) // a write, or a strong read: StrongReadWait + MaxQueryDuration
	}
	return router.Here()
}

// strongRequest reports whether r asks for the newest state: ?consistency=
// strong, or a session's first query (X-D1-Session: first-primary without a
// bookmark; with one, the session continues from that bookmark, as the
// Sessions API does after its first query).
func strongRequest(r *http.Request) bool {
	if r.URL.Query().Get("consistency") == "strong" {
		return true
	}
	return strings.EqualFold(r.Header.Get(HeaderSession), "first-primary") && r.Header.Get(HeaderBookmark) == ""
}

// queryBody is {sql, params} or {batch: [{sql, params}...]}.
type queryBody struct {
	SQL    *string           `json:"sql"`
	Params []json.RawMessage `json:"params"`
	Batch  []struct {
		SQL    string            `json:"sql"`
		Params []json.RawMessage `json:"params"`
	} `json:"batch"`
}

// sqlError is a 400 with code 7500.
func sqlError(format string, args ...any) *api.HTTPError {
	return &api.HTTPError{Status: http.StatusBadRequest, Code: api.CodeD1SQL, Message: fmt.Sprintf(format, args...), Err: api.ErrBadRequest}
}

func dbNotFound() *api.HTTPError {
	return &api.HTTPError{Status: http.StatusNotFound, Code: api.CodeD1DatabaseNotFound,
		Message: "The database could not be found", Err: api.ErrNotFound}
}

// parsed is a request's statements, ready to read or propose.
type parsed struct {
	stmts []cmdStmt
	split []statement // each statement lexed, for rewriteCurrent
	args  [][]any
	write bool
}

// parseQuery splits and checks the statements of a request.
func parseQuery(r *http.Request) (parsed, error) {
	var body queryBody
	if err := api.DecodeJSON(r, &body); err != nil {
		return parsed{}, err
	}
	type item struct {
		sql    string
		params []json.RawMessage
	}
	var items []item
	switch {
	case body.SQL != nil && body.Batch != nil:
		return parsed{}, sqlError("send sql or batch, not both")
	case body.SQL != nil:
		items = append(items, item{*body.SQL, body.Params})
	case body.Batch != nil:
		if body.Params != nil {
			return parsed{}, sqlError("params belong inside each batch item")
		}
		if len(body.Batch) == 0 {
			return parsed{}, sqlError("the batch is empty: no SQL statements to run: SQLITE_ERROR")
		}
		for _, b := range body.Batch {
			items = append(items, item{b.SQL, b.Params})
		}
	default:
		return parsed{}, sqlError("sql or batch is required")
	}
	var p parsed
	for _, it := range items {
		stmts, err := splitStatements(it.sql)
		if err != nil {
			return parsed{}, sqlError("%v: SQLITE_ERROR", err)
		}
		if len(stmts) == 0 {
			return parsed{}, sqlError("no SQL statements to run: SQLITE_ERROR")
		}
		if len(it.params) > 0 && len(stmts) != 1 {
			return parsed{}, sqlError("params bind to one statement, but the SQL holds %d: SQLITE_ERROR", len(stmts))
		}
		for _, s := range stmts {
			if len(s.sql) > MaxStatementBytes {
				return parsed{}, sqlError("statement too long: %d bytes, the limit is %d: SQLITE_TOOBIG", len(s.sql), MaxStatementBytes)
			}
			if len(it.params) > MaxParams {
				return parsed{}, sqlError("too many SQL variables: %d parameters, the limit is %d: SQLITE_ERROR", len(it.params), MaxParams)
			}
			args, err := bindParams(it.params)
			if err != nil {
				return parsed{}, sqlError("%v", err)
			}
			kind, err := classify(s)
			if err != nil {
				return parsed{}, sqlError("%v: SQLITE_AUTH", err)
			}
			if kind == kindWrite {
				p.write = true
			}
			p.stmts = append(p.stmts, cmdStmt{SQL: s.sql, Params: it.params})
			p.split = append(p.split, s)
			p.args = append(p.args, args)
			if len(p.stmts) > MaxStatements {
				return parsed{}, sqlError("more than %d statements in one request", MaxStatements)
			}
		}
	}
	return p, nil
}

// answer is what a query or write produced, before rendering.
type answer struct {
	results   []stmtResult
	bookmark  uint64
	sizeAfter int64
	changedDB bool
	primary   bool
}

func (m *Module) handler(raw bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		account := r.PathValue("account_id")
		if _, ok := m.deps.Catalog.Account(account); !ok {
			api.WriteFailure(w, r, api.AccountNotFound(r))
			return
		}
		id := r.PathValue("database_id")
		if !m.known(r.Context(), account, id) {
			api.WriteFailure(w, r, dbNotFound())
			return
		}
		p, err := parseQuery(r)
		if err != nil {
			api.WriteFailure(w, r, err)
			return
		}
		var bookmark uint64
		if b := r.Header.Get(HeaderBookmark); b != "" {
			if bookmark, err = ParseBookmark(b); err != nil {
				api.WriteFailure(w, r, api.BadRequest(api.CodeBadRequest, "%s: %v", HeaderBookmark, err))
				return
			}
		}
		strong := strongRequest(r)
		var ans answer
		kind := "read"
		if !p.write {
			ans, err = m.serveRead(r.Context(), account, id, p, bookmark, strong)
			if errors.Is(err, errReadOnly) {
				p.write = true // the classifier took a write for a read
			}
		}
		if p.write {
			kind = "write"
			ans, err = m.serveWrite(r.Context(), account, id, p)
		}
		if err != nil {
			api.WriteFailure(w, r, err)
			return
		}
		m.metrics.observe(id, kind, ans.primary, time.Since(start))
		if kind == "write" && api.ForwardedFrom(r.Context()) == "" && !m.deps.Raft.IsLeader() {
			m.metrics.forwarded.Inc() // proposed through the leader's Apply RPC
		}
		w.Header().Set(HeaderBookmark, FormatBookmark(ans.bookmark))
		api.WriteResult(w, http.StatusOK, m.render(ans, raw), nil)
	}
}

var errReadOnly = errors.New("statement writes")

// known reports whether the catalog holds the database. A database just
// created through another node may not have reached this node's catalog
// yet: on a miss, a barrier through the Raft log brings this node up to
// date (Propose returns once it applied the barrier), then it looks again.
func (m *Module) known(ctx context.Context, account, id string) bool {
	if _, ok := m.deps.Catalog.Resource(catalog.KindD1Database, account, id); ok {
		return true
	}
	_, _ = m.propose(ctx, command{Account: account, DB: id, Now: time.Now().UnixMilli()})
	_, ok := m.deps.Catalog.Resource(catalog.KindD1Database, account, id)
	return ok
}

// StrongReadWait bounds how long a strong read waits for the leader's
// quorum check and for this node to apply the read index.
const StrongReadWait = 5 * time.Second

// serveRead runs reads on this replica: when strong, on the leader once it
// applied its read index (linearizable, see strongIndex); else once this
// replica reached bookmark.
func (m *Module) serveRead(ctx context.Context, account, id string, p parsed, bookmark uint64, strong bool) (answer, error) {
	primary := false
	if strong {
		if err := m.strongIndex(ctx); err != nil {
			return answer{}, err
		}
		primary = true
	}
	d, err := m.database(id)
	if err != nil {
		return answer{}, err
	}
	bookmark = max(bookmark, d.acked.Load()) // this node's answered writes (serveWrite)
	if bookmark > 0 {
		wctx, cancel := context.WithTimeout(ctx, BookmarkWait)
		err := m.waitApplied(wctx, d, bookmark)
		cancel()
		if err != nil {
			return answer{}, &api.HTTPError{Status: http.StatusServiceUnavailable, Code: api.CodeD1Behind,
				Message: fmt.Sprintf("this replica has not reached bookmark %s yet; retry, or read with consistency=strong", FormatBookmark(bookmark)),
				Err:     api.ErrUnavailable}
		}
	}
	qctx, cancel := context.WithTimeout(ctx, m.opts.QueryTimeout)
	defer cancel()
	results, at, err := d.read(qctx, p)
	if err != nil {
		if errors.Is(err, errReadOnly) {
			return answer{}, err
		}
		if errors.Is(err, errClosed) {
			return answer{}, dbNotFound()
		}
		if qctx.Err() != nil && ctx.Err() == nil {
			return answer{}, sqlError("D1 DB query timed out after %s: SQLITE_INTERRUPT", m.opts.QueryTimeout)
		}
		return answer{}, sqlError("%s", sqlMessage(err))
	}
	return answer{results: results, bookmark: at, sizeAfter: d.readSize(ctx), primary: primary}, nil
}

// strongIndex makes a strong read linearizable without a Raft log entry:
// this node must lead and confirm it with a quorum (ReadIndex), then apply
// the log up to the read index it got, so the read that follows reflects
// every write acknowledged before the request. A node that does not lead
// (leadership moved after the router forwarded the request) answers 503:
// serving from its own state could miss acknowledged writes.
func (m *Module) strongIndex(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, StrongReadWait)
	defer cancel()
	unavailable := func(msg string, err error) error {
		return &api.HTTPError{Status: http.StatusServiceUnavailable, Code: api.CodeUnavailable,
			Message: msg, Err: fmt.Errorf("%w: %w", api.ErrUnavailable, err)}
	}
	index, err := m.deps.Raft.ReadIndex(ctx)
	if err != nil {
		if errors.Is(err, consensus.ErrNotLeader) {
			return unavailable("this node no longer leads the cluster; retry the strong read", err)
		}
		return unavailable("the leader could not confirm its leadership; retry the strong read", err)
	}
	if err := m.deps.Raft.WaitApplied(ctx, index); err != nil {
		return unavailable("the leader did not apply its read index in time; retry the strong read", err)
	}
	return nil
}

var errClosed = errors.New("database closed")

// read runs statements in one read transaction and returns the answer's
// bookmark: an index at least as new as the state the answer reflects,
// never older, so that a session continuing from it never reads older state
// (its next read waits for that index at most a commit's time longer). It is
// the committing index after the statements ran: a transaction visible to
// this read committed before the read's snapshot was taken, and stored its
// index there before its COMMIT. Reading the exact index inside the
// transaction took a statement of its own, about a tenth of a point read's
// server CPU; checksums and exports, which need it exact, still do.
func (d *database) read(ctx context.Context, p parsed) ([]stmtResult, uint64, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, 0, errClosed
	}
	tx, err := d.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var out []stmtResult
	for i, s := range p.stmts {
		r, err := d.query(ctx, tx, s.SQL, p.args[i])
		if err != nil {
			var se *sqlite.Error
			if errors.As(err, &se) && se.Code()&0xff == 8 { // SQLITE_READONLY
				return nil, 0, errReadOnly
			}
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, d.committing.Load(), nil
}

// serveWrite proposes the request as one command and answers its result.
func (m *Module) serveWrite(ctx context.Context, account, id string, p parsed) (answer, error) {
	c := command{Account: account, DB: id, Now: time.Now().UnixMilli(), Seed: rand.Uint64()}
	c.Stmts = make([]cmdStmt, len(p.stmts))
	for i, s := range p.stmts {
		c.Stmts[i] = cmdStmt{SQL: rewriteCurrent(p.split[i]), Params: s.Params}
	}
	// The leader's result, without waiting for this node's apply: the
	// answer's bookmark, and reads on this node waiting for it, keep
	// read-your-writes (see router.LeaderResult).
	wctx, cancel := context.WithTimeout(ctx, WriteWait)
	defer cancel()
	res, err := m.propose(router.LeaderResult(wctx), c)
	if err != nil {
		return answer{}, err
	}
	if d, err := m.database(id); err == nil {
		casMax(&d.acked, res.Index)
	}
	if res.Error != "" {
		if len(c.Stmts) > 1 {
			return answer{}, sqlError("%s (statement %d of %d; nothing was applied)", res.Error, res.Failed, len(c.Stmts))
		}
		return answer{}, sqlError("%s", res.Error)
	}
	return answer{results: res.Results, bookmark: res.Index, sizeAfter: res.SizeAfter, changedDB: res.ChangedDB, primary: true}, nil
}

// propose commits c through Raft and returns this node's apply result.
func (m *Module) propose(ctx context.Context, c command) (applyResult, error) {
	payload := c.encode()
	if len(payload)+2 > replication.MaxCommandBytes {
		return applyResult{}, sqlError("request is %d bytes, over the %d byte limit of one write", len(payload), replication.MaxCommandBytes)
	}
	return m.proposePayload(ctx, payload)
}

// proposePayload proposes an encoded command and decodes its result.
func (m *Module) proposePayload(ctx context.Context, payload []byte) (applyResult, error) {
	out, err := m.deps.Propose(ctx, replication.EncodeCommand(replication.CommandType(CommandType), payload))
	if err != nil {
		return applyResult{}, err
	}
	var res applyResult
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil {
		return applyResult{}, fmt.Errorf("d1 apply result: %w", err)
	}
	if res.NotFound {
		return applyResult{}, dbNotFound()
	}
	return res, nil
}

// Meta is the meta object of one statement's result.
type Meta = wire.D1Meta

// QueryResult is one statement's result.
type QueryResult struct {
	Results any  `json:"results"`
	Success bool `json:"success"`
	Meta    Meta `json:"meta"`
}

// RawResults is the results of /raw.
type RawResults = wire.D1RawResults

func (m *Module) render(a answer, raw bool) []QueryResult {
	out := make([]QueryResult, len(a.results))
	for i, r := range a.results {
		meta := Meta{ChangedDB: r.Changes > 0, Changes: r.Changes, Duration: r.Duration, LastRowID: r.LastRowID,
			RowsRead: r.RowsRead, RowsWritten: r.RowsWritten, SizeAfter: a.sizeAfter, ServedByPrimary: a.primary,
			ServedByRegion: m.deps.Region, ServedByNode: m.deps.NodeID, Bookmark: FormatBookmark(a.bookmark)}
		meta.Timings.SQLDurationMS = r.Duration
		q := QueryResult{Success: true, Meta: meta}
		if raw {
			q.Results = RawResults{Columns: r.Columns, Rows: r.Rows}
		} else {
			objs := make([]orderedRow, len(r.Rows))
			for j, row := range r.Rows {
				objs[j] = orderedRow{cols: r.Columns, vals: row}
			}
			q.Results = objs
		}
		out[i] = q
	}
	return out
}

// orderedRow is a row as a JSON object with its columns in order (a
// repeated column name keeps its first place and its last value).
type orderedRow struct {
	cols []string
	vals []any
}

func (o orderedRow) MarshalJSON() ([]byte, error) {
	last := make(map[string]int, len(o.cols))
	for i, c := range o.cols {
		last[c] = i
	}
	var b bytes.Buffer
	b.WriteByte('{')
	seen := make(map[string]bool, len(o.cols))
	for _, c := range o.cols {
		if seen[c] {
			continue
		}
		seen[c] = true
		if len(seen) > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c)
		v, err := json.Marshal(o.vals[last[c]])
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// FormatBookmark renders an applied index as a bookmark: fixed-width hex,
// so bookmarks sort as their indexes do.
func FormatBookmark(index uint64) string { return fmt.Sprintf("%016x", index) }

var bookmarkRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

// ParseBookmark reads a bookmark FormatBookmark wrote.
func ParseBookmark(s string) (uint64, error) {
	if !bookmarkRE.MatchString(s) {
		return 0, fmt.Errorf("malformed bookmark %q", s)
	}
	return strconv.ParseUint(s, 16, 64)
}

// sqlCodeNames names SQLite's primary result codes as D1's messages do.
var sqlCodeNames = map[int]string{
	1: "SQLITE_ERROR", 2: "SQLITE_INTERNAL", 3: "SQLITE_PERM", 4: "SQLITE_ABORT", 5: "SQLITE_BUSY",
	6: "SQLITE_LOCKED", 7: "SQLITE_NOMEM", 8: "SQLITE_READONLY", 9: "SQLITE_INTERRUPT", 10: "SQLITE_IOERR",
	11: "SQLITE_CORRUPT", 13: "SQLITE_FULL", 18: "SQLITE_TOOBIG", 19: "SQLITE_CONSTRAINT",
	20: "SQLITE_MISMATCH", 21: "SQLITE_MISUSE", 23: "SQLITE_AUTH", 25: "SQLITE_RANGE",
}

var codeSuffix = regexp.MustCompile(` \(\d+\)$`)

// sqlMessage renders an error as D1 does: SQLite's message, then the name
// of its result code.
func sqlMessage(err error) string {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err.Error()
	}
	msg := codeSuffix.ReplaceAllString(se.Error(), "")
	// The driver prefixes sqlite3_errstr's text ("SQL logic error: ...").
	if i := strings.Index(msg, ": "); i > 0 && i+2 < len(msg) {
		msg = msg[i+2:]
	}
	name := sqlCodeNames[se.Code()&0xff]
	if name == "" {
		name = "SQLITE_ERROR"
	}
	return msg + ": " + name
}

var _ = sql.ErrNoRows
