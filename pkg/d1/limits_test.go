package d1

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/api/apitest"
)

func TestLimitsAtTheEdge(t *testing.T) {
	// The read limit is short for the test, yet long enough for a 2 MB
	// parameter under the race detector on a loaded machine.
	te := newTestEnv(t, Options{MaxDatabaseBytes: 256 << 10, QueryTimeout: time.Second})
	id := te.create("limits")
	q := dbsPath + "/" + id + "/query"
	te.sql(id, "CREATE TABLE t(v)")
	want := func(body, msg string) {
		t.Helper()
		env := apitest.WantError(t, te.do(http.MethodPost, q, body), http.StatusBadRequest, api.CodeD1SQL)
		if !strings.Contains(env.Errors[0].Message, msg) {
			t.Fatalf("message %q, want %q", env.Errors[0].Message, msg)
		}
	}
	body := func(sql string, params ...any) string {
		b, _ := json.Marshal(map[string]any{"sql": sql, "params": params})
		return string(b)
	}
	// Statement length: 100,000 bytes pass, one more does not.
	pad := func(n int) string {
		s := "SELECT '"
		return s + strings.Repeat("x", n-len(s)-1) + "'"
	}
	te.sql(id, pad(MaxStatementBytes))
	want(body(pad(MaxStatementBytes+1)), "statement too long")
	// Bound parameters: 100 pass, 101 do not.
	params := make([]any, MaxParams+1)
	for i := range params {
		params[i] = i
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", MaxParams), ",")
	te.sql(id, "SELECT "+marks, params[:MaxParams]...)
	want(body("SELECT "+marks+",?", params...), "too many SQL variables")
	// Values: a 2,000,000-byte parameter passes, one more does not; a
	// value built in SQL over the limit fails too.
	te.sql(id, "SELECT length(?) AS n", strings.Repeat("v", MaxValueBytes))
	want(body("SELECT length(?)", strings.Repeat("v", MaxValueBytes+1)), "SQLITE_TOOBIG")
	want(body("INSERT INTO t VALUES (zeroblob(2000001))"), "SQLITE_TOOBIG")
	// A read over the time limit is cancelled.
	start := time.Now()
	want(body("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c"), "timed out")
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the timed-out read answered after %v", took)
	}
	// ... and stopped, not left running on a read connection.
	d, err := te.m.database(id)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); d.r.Stats().InUse > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d read connections still busy after the timeout", d.r.Stats().InUse)
		}
	}
	// The database size cap.
	env := apitest.WantError(t, te.do(http.MethodPost, q, body("INSERT INTO t SELECT randomblob(1000) FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000) SELECT n FROM c)")),
		http.StatusBadRequest, api.CodeD1SQL)
	if !strings.Contains(env.Errors[0].Message, "full") {
		t.Fatalf("size cap message %q", env.Errors[0].Message)
	}
	te.sql(id, "INSERT INTO t VALUES (1)") // small writes still fit
	// The name of a database.
	apitest.WantError(t, te.do(http.MethodPost, dbsPath, `{"name":"`+strings.Repeat("n", MaxNameBytes+1)+`"}`), http.StatusBadRequest, api.CodeBadRequest)
	// A malformed bookmark.
	apitest.WantError(t, te.do(http.MethodPost, q, body("SELECT 1"), HeaderBookmark, "zz"), http.StatusBadRequest, api.CodeBadRequest)
}

func TestBookmarkFormat(t *testing.T) {
	prev := ""
	for _, i := range []uint64{0, 1, 9, 10, 255, 256, 1 << 40, 1<<64 - 1} {
		b := FormatBookmark(i)
		if b <= prev && prev != "" {
			t.Fatalf("%s does not sort after %s", b, prev)
		}
		got, err := ParseBookmark(b)
		if err != nil || got != i {
			t.Fatalf("parse %s = %d, %v", b, got, err)
		}
		prev = b
	}
}
