package d1

import (
	"strings"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want []string
	}{
		{"SELECT 1; SELECT 2;", []string{"SELECT 1", "SELECT 2"}},
		{"SELECT ';' AS a; -- c; d\nSELECT \"x;y\" FROM [a;b] /* ; */", []string{"SELECT ';' AS a", "SELECT \"x;y\" FROM [a;b]"}},
		{";;  ;\n", nil},
		{"SELECT 'it''s;'; SELECT `q;`", []string{"SELECT 'it''s;'", "SELECT `q;`"}},
		{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO l VALUES (1); UPDATE c SET n = n + 1; END; SELECT 1",
			[]string{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO l VALUES (1); UPDATE c SET n = n + 1; END", "SELECT 1"}},
		{"create temp trigger x before delete on t begin select raise(abort, 'no'); end", []string{"create temp trigger x before delete on t begin select raise(abort, 'no'); end"}},
		{"CREATE TRIGGER a AFTER INSERT ON t BEGIN UPDATE c SET n = CASE WHEN n > 0 THEN n ELSE 0 END; END; SELECT 2",
			[]string{"CREATE TRIGGER a AFTER INSERT ON t BEGIN UPDATE c SET n = CASE WHEN n > 0 THEN n ELSE 0 END; END", "SELECT 2"}},
	} {
		got, err := splitStatements(tc.sql)
		if err != nil {
			t.Fatalf("%q: %v", tc.sql, err)
		}
		var texts []string
		for _, s := range got {
			texts = append(texts, s.sql)
		}
		if strings.Join(texts, "|") != strings.Join(tc.want, "|") {
			t.Errorf("split %q = %q, want %q", tc.sql, texts, tc.want)
		}
	}
	for _, bad := range []string{"SELECT 'x", `SELECT "x`, "SELECT [x"} {
		if _, err := splitStatements(bad); err == nil {
			t.Errorf("%q split without error", bad)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want stmtKind
		bad  bool
	}{
		{sql: "SELECT * FROM t", want: kindRead},
		{sql: "  select 1", want: kindRead},
		{sql: "VALUES (1), (2)", want: kindRead},
		{sql: "EXPLAIN QUERY PLAN DELETE FROM t", want: kindRead},
		{sql: "WITH x AS (SELECT 1) SELECT * FROM x", want: kindRead},
		{sql: "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 5) SELECT n FROM c", want: kindRead},
		{sql: "WITH x AS (SELECT 1 AS v) INSERT INTO t SELECT v FROM x", want: kindWrite},
		{sql: "WITH x(a) AS (VALUES (1)) DELETE FROM t WHERE id IN x", want: kindWrite},
		{sql: "INSERT INTO t VALUES (1)", want: kindWrite},
		{sql: "REPLACE INTO t VALUES (1)", want: kindWrite},
		{sql: "update t set v = 1", want: kindWrite},
		{sql: "CREATE TABLE t(x)", want: kindWrite},
		{sql: "DROP INDEX i", want: kindWrite},
		{sql: "SAVEPOINT a", want: kindWrite},
		{sql: "ROLLBACK TO a", want: kindWrite},
		{sql: "ROLLBACK TRANSACTION TO SAVEPOINT a", want: kindWrite},
		{sql: "PRAGMA table_info(t)", want: kindRead},
		{sql: "PRAGMA main.table_list", want: kindRead},
		{sql: "PRAGMA defer_foreign_keys = on", want: kindWrite},
		{sql: "PRAGMA foreign_keys = off", bad: true},
		{sql: "PRAGMA journal_mode", bad: true},
		{sql: "BEGIN", bad: true},
		{sql: "COMMIT", bad: true},
		{sql: "ROLLBACK", bad: true},
		{sql: "ATTACH 'f' AS f", bad: true},
		{sql: "VACUUM", bad: true},
		{sql: "CREATE TEMP TABLE x(y)", bad: true},
		{sql: "create temporary view v as select 1", bad: true},
		{sql: "DELETE FROM _cf_edge_meta", bad: true},
		{sql: `UPDATE "_CF_EDGE_META" SET v = 0`, bad: true},
		{sql: "SELECT * FROM _cf_edge_meta", want: kindRead},
	} {
		st, err := splitStatements(tc.sql)
		if err != nil || len(st) != 1 {
			t.Fatalf("%q: %v %d", tc.sql, err, len(st))
		}
		got, err := classify(st[0])
		if tc.bad != (err != nil) {
			t.Errorf("%q: err %v, want error %v", tc.sql, err, tc.bad)
			continue
		}
		if !tc.bad && got != tc.want {
			t.Errorf("%q: kind %d, want %d", tc.sql, got, tc.want)
		}
	}
}

func TestRewriteCurrent(t *testing.T) {
	for in, want := range map[string]string{
		"CREATE TABLE t(ts TEXT DEFAULT CURRENT_TIMESTAMP, d DEFAULT current_date)": "CREATE TABLE t(ts TEXT DEFAULT (datetime('now')), d DEFAULT (date('now')))",
		"INSERT INTO t VALUES (CURRENT_TIME, 'CURRENT_TIME', \"current_time\")":     "INSERT INTO t VALUES ((time('now')), 'CURRENT_TIME', \"current_time\")",
		"INSERT INTO t VALUES (1)": "INSERT INTO t VALUES (1)",
	} {
		st, _ := splitStatements(in)
		if got := rewriteCurrent(st[0]); got != want {
			t.Errorf("rewrite %q = %q, want %q", in, got, want)
		}
	}
}
