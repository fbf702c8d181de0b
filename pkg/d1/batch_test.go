package d1

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/api/apitest"
	"github.com/edgeplane/edgeplane/pkg/replication"
)

// Commands applied as one batch give the same results and the same
// database as applied one by one: a failing command leaves nothing and
// keeps its neighbours, even when SQLite rolls the whole transaction back
// by itself (OR ROLLBACK, RAISE(ROLLBACK) in a trigger), which makes the
// batch apply its earlier commands again.
func TestBatchApplyEqualsOneByOne(t *testing.T) {
	one, all := newTestEnv(t, Options{}), newTestEnv(t, Options{})
	id := one.create("batch")
	res, ok := one.env.Cat.Resource("d1_database", apitest.Account, id)
	if !ok {
		t.Fatal("no resource")
	}
	all.env.Cat.Catalog.Apply(100, catalogCreate(res))

	texts := [][]string{
		{"CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER UNIQUE, r INTEGER DEFAULT (random()), ts TEXT DEFAULT (datetime('now')))",
			"CREATE TABLE guard(x INTEGER)",
			"CREATE TRIGGER g BEFORE INSERT ON guard WHEN new.x < 0 BEGIN SELECT RAISE(ROLLBACK, 'negative'); END"},
		{"INSERT INTO t(v) VALUES (1)"},
		{"INSERT INTO t(v) VALUES (2)", "INSERT INTO t(v) VALUES (1)"}, // fails: nothing of it stays
		{"INSERT INTO t(v) VALUES (3)"},
		{"INSERT OR ROLLBACK INTO t(v) VALUES (3)"}, // rolls the whole transaction back
		{"INSERT INTO t(v, r) VALUES (4, random())"},
		{}, // a barrier
		{"INSERT INTO guard VALUES (1)", "INSERT INTO guard VALUES (-1)"}, // RAISE(ROLLBACK)
		{"UPDATE t SET v = v * 10 WHERE v > 1"},
		{"INSERT INTO t(v) VALUES (5)"},
	}
	var entries []replication.Entry
	var want []applyResult
	for i, stmts := range texts {
		c := command{Account: apitest.Account, DB: id, Now: 1_700_000_000_000 + int64(i)*1000, Seed: uint64(i*31 + 7)}
		for _, s := range stmts {
			c.Stmts = append(c.Stmts, cmdStmt{SQL: s})
		}
		payload, _ := json.Marshal(c)
		index := uint64(i + 1)
		entries = append(entries, replication.Entry{Index: index, Payload: payload})
		out, err := one.m.ApplyCommand(index, payload)
		if err != nil {
			t.Fatal(err)
		}
		var r applyResult
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatal(err)
		}
		want = append(want, r)
	}
	results := all.m.ApplyCommands(entries)
	if len(results) != len(entries) {
		t.Fatalf("%d results for %d entries", len(results), len(entries))
	}
	failed := 0
	for i, r := range results {
		if r.Err != nil {
			t.Fatalf("entry %d: %v", i+1, r.Err)
		}
		var got applyResult
		if err := json.Unmarshal(r.Data, &got); err != nil {
			t.Fatal(err)
		}
		for j := range got.Results { // wall-clock durations differ
			got.Results[j].Duration = 0
		}
		for j := range want[i].Results {
			want[i].Results[j].Duration = 0
		}
		if fmt.Sprint(got) != fmt.Sprint(want[i]) {
			t.Fatalf("entry %d: batch result %+v, one by one %+v", i+1, got, want[i])
		}
		if got.Error != "" {
			failed++
		}
	}
	if failed != 3 {
		t.Fatalf("%d commands failed, want 3 (duplicate, OR ROLLBACK, RAISE(ROLLBACK))", failed)
	}
	i1, s1, err := one.m.Checksums(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	i2, s2, err := all.m.Checksums(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if i1 != uint64(len(texts)) || i1 != i2 || fmt.Sprint(s1) != fmt.Sprint(s2) {
		t.Fatalf("one by one %d %v, batch %d %v", i1, s1, i2, s2)
	}
	rows := all.sql(id, "SELECT group_concat(v) AS vs FROM (SELECT v FROM t ORDER BY v)")[0].Results[0]["vs"]
	if rows != "1,5,30,40" {
		t.Fatalf("rows %v, want 1,5,30,40", rows)
	}
	// A replayed batch (entries the database holds) changes nothing.
	for _, r := range all.m.ApplyCommands(entries) {
		var got applyResult
		_ = json.Unmarshal(r.Data, &got)
		if !got.Skipped {
			t.Fatalf("replayed entry applied: %+v", got)
		}
	}
}
