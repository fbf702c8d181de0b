package d1_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/internal/testcluster"
	"github.com/edgeplane/edgeplane/pkg/d1"
	"github.com/edgeplane/edgeplane/pkg/service"
)

// TestRunawayWriteAtThreeNodes: a write that would never end answers 7500
// on the node that took it, changes nothing on any node, and the next write
// applies everywhere: every replica stopped it at the same instruction.
func TestRunawayWriteAtThreeNodes(t *testing.T) {
	var services []service.Factory
	for _, f := range testcluster.FastServices() {
		if f.Name == "d1" {
			f = d1.Factory(d1.Options{MaxWriteSteps: 100_000})
		}
		services = append(services, f)
	}
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Services: services})
	c.WaitLeader(30 * time.Second)
	c.WaitReady(30 * time.Second)
	cl := client{t, c}
	acct := accountID(t, c)
	base := "/client/v4/accounts/" + acct + "/d1/database"
	var db d1.Database
	cl.must(c.Member(0), http.MethodPost, base, map[string]string{"name": "runaway"}, &db)
	q := base + "/" + db.UUID + "/query"
	cl.must(c.Member(1), http.MethodPost, q, map[string]any{"sql": "CREATE TABLE t(v INTEGER)"}, nil)
	cl.must(c.Member(1), http.MethodPost, q, map[string]any{"sql": "INSERT INTO t VALUES (1)"}, nil)
	before := waitConverged(t, c, db.UUID)

	start := time.Now()
	r, err := cl.do(c.Member(2), http.MethodPost, q, map[string]any{"batch": []map[string]any{
		{"sql": "INSERT INTO t VALUES (2)"},
		{"sql": "INSERT INTO t SELECT n FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT n FROM c)"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusBadRequest || len(r.env.Errors) != 1 || r.env.Errors[0].Code != 7500 ||
		!strings.Contains(r.env.Errors[0].Message, "exceeded its limit") {
		t.Fatalf("runaway write after %v: %d %+v", time.Since(start), r.status, r.env.Errors)
	}
	t.Logf("runaway write answered in %v: %s", time.Since(start), r.env.Errors[0].Message)
	if after := waitConverged(t, c, db.UUID); after["t"] != before["t"] {
		t.Fatalf("the runaway write changed t: %v -> %v", before, after)
	}
	cl.must(c.Member(0), http.MethodPost, q, map[string]any{"sql": "INSERT INTO t VALUES (3)"}, nil)
	sums := waitConverged(t, c, db.UUID)
	if sums["t"] == before["t"] {
		t.Fatal("the write after the runaway one is missing")
	}
	for _, m := range c.Members() {
		var out []struct {
			Results []map[string]any `json:"results"`
		}
		cl.must(m, http.MethodPost, q, map[string]any{"sql": "SELECT group_concat(v) AS vs FROM (SELECT v FROM t ORDER BY v)"}, &out)
		if got := out[0].Results[0]["vs"]; got != "1,3" {
			t.Fatalf("node %s holds %v, want 1,3", m.ID, got)
		}
	}
}
