package d1_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/internal/testcluster"
	"github.com/edgeplane/edgeplane/pkg/d1"
)

// TestFollowerWritesAnswerWithoutWaitingForTheCommitNotice: a write sent
// to a follower costs about a round trip more than one sent to the leader,
// not the wait until the follower hears of the commit; and the next read on
// that follower, without a bookmark, still sees it.
func TestFollowerWritesAnswerWithoutWaitingForTheCommitNotice(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	cl := client{t, c}
	acct := accountID(t, c)
	base := "/client/v4/accounts/" + acct + "/d1/database"
	leader := c.WaitLeader(30 * time.Second)
	var follower *testcluster.Member
	for _, m := range c.Members() {
		if m != leader {
			follower = m
			break
		}
	}
	var db d1.Database
	cl.must(follower, http.MethodPost, base, map[string]string{"name": "follower"}, &db)
	q := base + "/" + db.UUID + "/query"
	cl.must(follower, http.MethodPost, q, map[string]any{"sql": "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER)"}, nil)

	const n = 20
	var lat []time.Duration
	for i := range n {
		start := time.Now()
		cl.must(follower, http.MethodPost, q, map[string]any{"sql": "INSERT INTO t(v) VALUES (?)", "params": []any{i}}, nil)
		lat = append(lat, time.Since(start))
		var out []struct {
			Results []map[string]any `json:"results"`
		}
		cl.must(follower, http.MethodPost, q, map[string]any{"sql": "SELECT count(*) AS n FROM t"}, &out)
		if got := out[0].Results[0]["n"]; got != float64(i+1) {
			t.Fatalf("read after write %d on the follower: count %v, want %d", i, got, i+1)
		}
	}
	slices.Sort(lat)
	// Before: the follower answered once it applied the entry, which it
	// learns from the leader's next AppendEntries: 50-100 ms on an idle
	// cluster (p50 84 ms measured). Generous for a loaded machine.
	if p50 := lat[n/2]; p50 > 40*time.Millisecond {
		t.Fatalf("follower write p50 %v, want well under a commit-notice interval (latencies %v)", p50, lat)
	}
	t.Logf("follower write latencies: p50 %v, max %v", lat[n/2], lat[n-1])
}
