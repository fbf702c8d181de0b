package d1

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/api/apitest"
	"github.com/edgeplane/edgeplane/pkg/catalog"
)

// Two replicas applying the same commands get the same rows, even from
// random(), randomblob(), 'now' and CURRENT_TIMESTAMP, in defaults and in
// ORDER BY; a later command's clock never goes back.
func TestApplyIsDeterministic(t *testing.T) {
	a, b := newTestEnv(t, Options{}), newTestEnv(t, Options{})
	// The same database id in both catalogs.
	id := a.create("det")
	res, ok := a.env.Cat.Resource("d1_database", apitest.Account, id)
	if !ok {
		t.Fatal("no resource")
	}
	b.env.Cat.Catalog.Apply(100, catalogCreate(res))

	stmts := []string{
		"CREATE TABLE t(id INTEGER PRIMARY KEY, r INTEGER DEFAULT (random()), b BLOB DEFAULT (randomblob(16)), ts TEXT DEFAULT CURRENT_TIMESTAMP, " +
			"d TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ')), j REAL DEFAULT (julianday('now')), u INTEGER DEFAULT (unixepoch()))",
		"INSERT INTO t(id) VALUES (1), (2), (3)",
		"INSERT INTO t(id, r) SELECT id + 10, random() FROM t ORDER BY random()",
		"UPDATE t SET b = randomblob(3) WHERE id IN (SELECT id FROM t ORDER BY random() LIMIT 2)",
		"INSERT INTO t(id, ts) VALUES (100, datetime('now', '+1 day')), (101, date()), (102, time('now'))",
	}
	clocks := []int64{1_700_000_000_000, 1_700_000_100_000, 1_600_000_000_000, 1_700_000_200_000, 1_700_000_300_000}
	for i, s := range stmts {
		st, _ := splitStatements(s)
		c := command{Account: apitest.Account, DB: id, Now: clocks[i], Seed: uint64(i * 7919),
			Stmts: []cmdStmt{{SQL: rewriteCurrent(st[0])}}}
		payload, _ := json.Marshal(c)
		ra, err := a.m.ApplyCommand(uint64(i+1), payload)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := b.m.ApplyCommand(uint64(i+1), payload)
		if err != nil {
			t.Fatal(err)
		}
		var ares applyResult
		_ = json.Unmarshal(ra, &ares)
		if ares.Error != "" {
			t.Fatalf("%s: %s", s, ares.Error)
		}
		_ = rb
	}
	ia, sa, err := a.m.Checksums(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	ib, sb, err := b.m.Checksums(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if ia != 5 || ib != 5 || fmt.Sprint(sa) != fmt.Sprint(sb) {
		t.Fatalf("replicas differ: %d %v / %d %v", ia, sa, ib, sb)
	}
	// The clock went back for command 3; its rows carry command 2's.
	rows := a.sql(id, "SELECT id, ts, u FROM t WHERE id IN (1, 11, 100, 101) ORDER BY id")[0].Results
	want1 := time.UnixMilli(clocks[1]).UTC().Format("2006-01-02 15:04:05")
	if rows[0]["ts"] != time.UnixMilli(clocks[1]).UTC().Format("2006-01-02 15:04:05") || rows[1]["ts"] != want1 {
		t.Fatalf("timestamps %v, want %s", rows, want1)
	}
	if rows[2]["ts"] != time.UnixMilli(clocks[4]).UTC().Add(24*time.Hour).Format("2006-01-02 15:04:05") ||
		rows[3]["ts"] != time.UnixMilli(clocks[4]).UTC().Format("2006-01-02") {
		t.Fatalf("date functions %v", rows)
	}
	// Reads use the real clock and random.
	r := a.sql(id, "SELECT unixepoch('now') AS n")[0].Results[0]["n"].(float64)
	if d := time.Since(time.Unix(int64(r), 0)); d < 0 || d > time.Minute {
		t.Fatalf("read's now is %v", r)
	}
	// Time-zone modifiers are refused in writes.
	a.index = 5 // the entries applied above
	env := apitest.WantError(t, a.do(http.MethodPost, dbsPath+"/"+id+"/query", `{"sql":"INSERT INTO t(id, ts) VALUES (200, datetime('now', 'localtime'))"}`),
		http.StatusBadRequest, api.CodeD1SQL)
	if !strings.Contains(env.Errors[0].Message, "time zone") {
		t.Fatalf("message %q", env.Errors[0].Message)
	}
}

// A replayed entry (an index the database already holds) changes nothing.
func TestApplySkipsReplayedEntries(t *testing.T) {
	te := newTestEnv(t, Options{})
	id := te.create("replay")
	te.sql(id, "CREATE TABLE t(x)")
	te.sql(id, "INSERT INTO t VALUES (1)")
	payload, _ := json.Marshal(command{Account: apitest.Account, DB: id, Stmts: []cmdStmt{{SQL: "INSERT INTO t VALUES (2)"}}})
	out, err := te.m.ApplyCommand(2, payload)
	if err != nil {
		t.Fatal(err)
	}
	var res applyResult
	_ = json.Unmarshal(out, &res)
	if !res.Skipped {
		t.Fatalf("replay applied: %+v", res)
	}
	if n := te.sql(id, "SELECT count(*) AS n FROM t")[0].Results[0]["n"]; n != float64(1) {
		t.Fatalf("%v rows", n)
	}
}

func catalogCreate(r catalog.Resource) catalog.Op {
	return catalog.Op{Type: catalog.OpCreateResource, Resource: &r, At: r.CreatedAt}
}
