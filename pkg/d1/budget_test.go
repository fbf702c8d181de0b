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

// runaway is a write that never ends by itself.
const runaway = "INSERT INTO t SELECT n FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT n FROM c)"

// bounded is a write of a known, fixed amount of work.
const bounded = "INSERT INTO t SELECT n FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000) SELECT n FROM c)"

// stepsOf applies sql on a fresh database with an unbounded budget and
// returns the instructions it took.
func stepsOf(t *testing.T, sql string) int64 {
	t.Helper()
	te := newTestEnv(t, Options{})
	id := te.create("steps")
	te.sql(id, "CREATE TABLE t(v)")
	te.sql(id, sql)
	return te.m.wd.budget.used
}

// The write budget at its edge: a write of exactly the budget's
// instructions passes, with one instruction less of budget it fails with
// 7500, is rolled back, and the next write works. The count is the same on
// a second, separate module (deterministic).
func TestWriteBudgetAtTheEdge(t *testing.T) {
	steps := stepsOf(t, bounded)
	if again := stepsOf(t, bounded); again != steps || steps < 1000 {
		t.Fatalf("instructions of the same write: %d then %d", steps, again)
	}
	pass := newTestEnv(t, Options{MaxWriteSteps: steps})
	id := pass.create("edge")
	pass.sql(id, "CREATE TABLE t(v)")
	pass.sql(id, bounded)

	fail := newTestEnv(t, Options{MaxWriteSteps: steps - 1})
	id = fail.create("edge")
	fail.sql(id, "CREATE TABLE t(v)")
	fail.sql(id, "INSERT INTO t VALUES (0)")
	body, _ := json.Marshal(map[string]any{"batch": []map[string]any{{"sql": "INSERT INTO t VALUES (-1)"}, {"sql": bounded}}})
	env := apitest.WantError(t, fail.do(http.MethodPost, dbsPath+"/"+id+"/query", string(body)), http.StatusBadRequest, api.CodeD1SQL)
	if msg := env.Errors[0].Message; !strings.Contains(msg, "exceeded its limit") || !strings.Contains(msg, "SQLITE_INTERRUPT") {
		t.Fatalf("message %q", msg)
	}
	if n := fail.sql(id, "SELECT count(*) AS n FROM t")[0].Results[0]["n"]; n != float64(1) {
		t.Fatalf("%v rows after the failed write, want 1", n)
	}
	fail.sql(id, "INSERT INTO t VALUES (2)")
	if n := fail.sql(id, "SELECT count(*) AS n FROM t")[0].Results[0]["n"]; n != float64(2) {
		t.Fatalf("%v rows after the next write, want 2", n)
	}
}

// A runaway write stops at the budget, in about the time the budget
// stands for, and changes nothing. It also gives the measure behind
// DefaultWriteSteps (instructions per second, logged).
func TestRunawayWriteStops(t *testing.T) {
	const budget = 1_000_000 // small: the race detector slows SQLite down about 60 times
	te := newTestEnv(t, Options{MaxWriteSteps: budget})
	id := te.create("runaway")
	te.sql(id, "CREATE TABLE t(v)")
	start := time.Now()
	body, _ := json.Marshal(map[string]any{"sql": runaway})
	apitest.WantError(t, te.do(http.MethodPost, dbsPath+"/"+id+"/query", string(body)), http.StatusBadRequest, api.CodeD1SQL)
	took := time.Since(start)
	t.Logf("%d instructions in %v: %.0f million a second", budget, took, budget/took.Seconds()/1e6)
	if took > 60*time.Second {
		t.Fatalf("the runaway write ran %v", took)
	}
	if n := te.sql(id, "SELECT count(*) AS n FROM t")[0].Results[0]["n"]; n != float64(0) {
		t.Fatalf("%v rows after the runaway write", n)
	}
}
