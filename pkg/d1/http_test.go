package d1

import (
	"net/http"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/api/apitest"
	dto "github.com/prometheus/client_model/go"
)

func TestDatabaseLifecycle(t *testing.T) {
	te := newTestEnv(t, Options{})
	var db Database
	apitest.Result(t, te.do(http.MethodPost, dbsPath, `{"name":"shop","primary_location_hint":"weur"}`), &db)
	if db.UUID == "" || db.Name != "shop" || db.Version != "production" || db.PrimaryLocationHint != "weur" || db.CreatedAt == "" {
		t.Fatalf("created %+v", db)
	}
	apitest.WantError(t, te.do(http.MethodPost, dbsPath, `{"name":"shop"}`), http.StatusBadRequest, api.CodeD1NameExists)
	apitest.WantError(t, te.do(http.MethodPost, dbsPath, `{"name":"`+strings.Repeat("n", MaxNameBytes+1)+`"}`), http.StatusBadRequest, api.CodeBadRequest)

	te.sql(db.UUID, "CREATE TABLE a(x); CREATE TABLE b(y)")
	var got Database
	apitest.Result(t, te.do(http.MethodGet, dbsPath+"/"+db.UUID, ""), &got)
	if got.NumTables != 2 || got.FileSize == 0 {
		t.Fatalf("info %+v, want 2 tables and a size", got)
	}
	var list []Database
	apitest.Result(t, te.do(http.MethodGet, dbsPath+"?name=sh", ""), &list)
	if len(list) != 1 || list[0].UUID != db.UUID {
		t.Fatalf("list %+v", list)
	}

	path := dbPath(te.m.dir, db.UUID)
	apitest.Result(t, te.do(http.MethodDelete, dbsPath+"/"+db.UUID, ""), nil)
	apitest.WantError(t, te.do(http.MethodGet, dbsPath+"/"+db.UUID, ""), http.StatusNotFound, api.CodeD1DatabaseNotFound)
	apitest.WantError(t, te.do(http.MethodPost, dbsPath+"/"+db.UUID+"/query", `{"sql":"SELECT 1"}`), http.StatusNotFound, api.CodeD1DatabaseNotFound)
	te.m.dropDeleted() // what Run does on the catalog change
	if ids, _ := te.m.fileIDs(); len(ids) != 0 {
		t.Fatalf("files left after delete: %v (%s)", ids, path)
	}
	// A write that raced the delete is refused the same way on every node.
	if _, err := te.m.propose(t.Context(), command{Account: apitest.Account, DB: db.UUID, Stmts: []cmdStmt{{SQL: "CREATE TABLE c(z)"}}}); err == nil {
		t.Fatal("write to a deleted database applied")
	}
	if ids, _ := te.m.fileIDs(); len(ids) != 0 {
		t.Fatalf("a refused write created a file: %v", ids)
	}
}

func TestQueryShapes(t *testing.T) {
	te := newTestEnv(t, Options{})
	id := te.create("q")
	res := te.sql(id, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB); INSERT INTO t(name, score, data) VALUES ('a', 1.5, x'0102')")
	if len(res) != 2 || res[1].Meta.Changes != 1 || res[1].Meta.LastRowID != 1 || !res[1].Meta.ChangedDB || !res[1].Meta.ServedByPrimary {
		t.Fatalf("write results %+v", res)
	}
	if res[1].Meta.Bookmark == "" || res[1].Meta.ServedByNode != apitest.Node || res[1].Meta.ServedByRegion != "wnam" || res[1].Meta.SizeAfter == 0 {
		t.Fatalf("meta %+v", res[1].Meta)
	}
	res = te.sql(id, "INSERT INTO t(name, score) VALUES (?, ?), (?, ?)", "b", 2, "c", true)
	if res[0].Meta.Changes != 2 || res[0].Meta.LastRowID != 3 {
		t.Fatalf("insert meta %+v", res[0].Meta)
	}
	w := te.do(http.MethodPost, dbsPath+"/"+id+"/query", `{"sql":"SELECT id, name, score, data FROM t WHERE id <= ? ORDER BY id","params":[3]}`)
	var out []queryResult
	apitest.Result(t, w, &out)
	if len(out) != 1 || len(out[0].Results) != 3 {
		t.Fatalf("select %+v", out)
	}
	r0 := out[0].Results[0]
	if r0["name"] != "a" || r0["score"] != 1.5 || r0["id"] != float64(1) {
		t.Fatalf("row %+v", r0)
	}
	if d, ok := r0["data"].([]any); !ok || len(d) != 2 || d[1] != float64(2) {
		t.Fatalf("blob %#v", r0["data"])
	}
	if out[0].Results[2]["score"] != float64(1) { // true binds as 1
		t.Fatalf("bool param: %+v", out[0].Results[2])
	}
	if out[0].Meta.ServedByPrimary || out[0].Meta.Changes != 0 || out[0].Meta.RowsRead != 3 {
		t.Fatalf("read meta %+v", out[0].Meta)
	}
	if got := w.Header().Get(HeaderBookmark); got != out[0].Meta.Bookmark || got != res[0].Meta.Bookmark {
		t.Fatalf("bookmark header %q, meta %q, last write %q", got, out[0].Meta.Bookmark, res[0].Meta.Bookmark)
	}
	if !strings.Contains(w.Body.String(), `{"id":1,"name":"a","score":1.5,"data":[1,2]}`) {
		t.Fatalf("columns out of order: %s", w.Body)
	}

	// raw
	var raw []struct {
		Results RawResults `json:"results"`
		Meta    Meta       `json:"meta"`
	}
	apitest.Result(t, te.do(http.MethodPost, dbsPath+"/"+id+"/raw", `{"sql":"SELECT id, name FROM t ORDER BY id LIMIT 2"}`), &raw)
	if len(raw) != 1 || strings.Join(raw[0].Results.Columns, ",") != "id,name" || len(raw[0].Results.Rows) != 2 || raw[0].Results.Rows[1][1] != "b" {
		t.Fatalf("raw %+v", raw)
	}

	// batch: one result per statement, in order.
	out = te.query(id, `{"batch":[{"sql":"UPDATE t SET score = ? WHERE id = ?","params":[9,1]},{"sql":"SELECT score FROM t WHERE id = 1"}]}`)
	if len(out) != 2 || out[0].Meta.Changes != 1 || out[1].Results[0]["score"] != float64(9) {
		t.Fatalf("batch %+v", out)
	}
	// RETURNING rows come back from a write.
	out = te.sql(id, "INSERT INTO t(name) VALUES ('r') RETURNING id")
	if out[0].Results[0]["id"] != float64(4) {
		t.Fatalf("returning %+v", out)
	}
	// JSON functions and FTS5 work.
	out = te.sql(id, `SELECT json_extract('{"a":[1,2]}', '$.a[1]') AS v`)
	if out[0].Results[0]["v"] != float64(2) {
		t.Fatalf("json %+v", out)
	}
	te.sql(id, "CREATE VIRTUAL TABLE docs USING fts5(body); INSERT INTO docs VALUES ('the quick brown fox'), ('lazy dog')")
	out = te.sql(id, "SELECT body FROM docs WHERE docs MATCH 'quick'")
	if len(out[0].Results) != 1 {
		t.Fatalf("fts5 %+v", out)
	}
}

func TestSQLErrorsAndAtomicBatches(t *testing.T) {
	te := newTestEnv(t, Options{})
	id := te.create("e")
	te.sql(id, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT UNIQUE)")
	env := apitest.WantError(t, te.do(http.MethodPost, dbsPath+"/"+id+"/query", `{"sql":"SELECT * FROM nope"}`), http.StatusBadRequest, api.CodeD1SQL)
	if msg := env.Errors[0].Message; msg != "no such table: nope: SQLITE_ERROR" {
		t.Fatalf("message %q", msg)
	}
	// A batch failing midway applies nothing.
	env = apitest.WantError(t, te.do(http.MethodPost, dbsPath+"/"+id+"/query",
		`{"batch":[{"sql":"INSERT INTO t(v) VALUES ('a')"},{"sql":"INSERT INTO t(v) VALUES ('b')"},{"sql":"INSERT INTO t(v) VALUES ('a')"}]}`),
		http.StatusBadRequest, api.CodeD1SQL)
	if msg := env.Errors[0].Message; !strings.Contains(msg, "UNIQUE constraint failed: t.v") || !strings.Contains(msg, "SQLITE_CONSTRAINT") {
		t.Fatalf("message %q", msg)
	}
	// Multi-statement sql is one transaction too.
	apitest.WantError(t, te.do(http.MethodPost, dbsPath+"/"+id+"/query", `{"sql":"INSERT INTO t(v) VALUES ('c'); INSERT INTO nope VALUES (1)"}`),
		http.StatusBadRequest, api.CodeD1SQL)
	if n := te.sql(id, "SELECT count(*) AS n FROM t")[0].Results[0]["n"]; n != float64(0) {
		t.Fatalf("%v rows after failed batches", n)
	}
	for _, body := range []string{
		`{"sql":"BEGIN TRANSACTION"}`,
		`{"sql":"ATTACH 'x.db' AS x"}`,
		`{"sql":"PRAGMA journal_mode = DELETE"}`,
		`{"sql":"DROP TABLE _cf_edge_meta"}`,
		`{"sql":"SELECT 1; SELECT 2","params":[1]}`,
		`{"sql":""}`,
		`{"sql":"SELECT ?","params":[{"a":1}]}`,
		`{"sql":"SELECT 'unterminated"}`,
	} {
		apitest.WantError(t, te.do(http.MethodPost, dbsPath+"/"+id+"/query", body), http.StatusBadRequest, api.CodeD1SQL)
	}
	apitest.WantError(t, te.do(http.MethodPost, dbsPath+"/"+id+"/query", `{"sql":"SELECT 1","extra":1}`), http.StatusBadRequest, api.CodeMalformedJSON)
	apitest.WantError(t, te.do(http.MethodPost, dbsPath+"/nope/query", `{"sql":"SELECT 1"}`), http.StatusNotFound, api.CodeD1DatabaseNotFound)
	apitest.WantError(t, te.do(http.MethodPost, "/client/v4/accounts/nobody/d1/database/"+id+"/query", `{"sql":"SELECT 1"}`), http.StatusNotFound, api.CodeInvalidIdentifier)
	// Reads of the internal table are harmless; PRAGMA reads are allowed.
	te.sql(id, "PRAGMA table_info(t)")

	// Metrics: a database id only in the database label of the series
	// that carry one (capped, see metrics.go).
	withDB := map[string]bool{"edge_d1_queries_total": true, "edge_d1_query_duration_seconds": true, "edge_d1_database_bytes": true}
	mfs, err := te.m.deps.Registerer.(interface {
		Gather() ([]*dto.MetricFamily, error)
	}).Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		seen[mf.GetName()] = true
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == id && (!withDB[mf.GetName()] || l.GetName() != "database") {
					t.Fatalf("%s has a database id label", mf.GetName())
				}
			}
		}
	}
	for _, name := range []string{"edge_d1_queries_total", "edge_d1_query_duration_seconds", "edge_d1_replica_lag_seconds", "edge_d1_database_bytes"} {
		if !seen[name] {
			t.Errorf("metric %s missing", name)
		}
	}
}
