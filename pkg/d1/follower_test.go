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
	c.WaitReady(30 * time.Second)
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

	// Writes alternate between the leader and the follower, so that both
	// meet the same load; each is followed by a read on the node that took
	// it, without a bookmark.
	const n = 30
	var onLeader, onFollower []time.Duration
	for i := range 2 * n {
		m, lat := follower, &onFollower
		if i%2 == 1 {
			m, lat = leader, &onLeader
		}
		start := time.Now()
		cl.must(m, http.MethodPost, q, map[string]any{"sql": "INSERT INTO t(v) VALUES (?)", "params": []any{i}}, nil)
		*lat = append(*lat, time.Since(start))
		var out []struct {
			Results []map[string]any `json:"results"`
		}
		// (must retries a 503, which a loaded machine's leader change can
		// give for a write that then commits: count this write's rows.)
		cl.must(m, http.MethodPost, q, map[string]any{"sql": "SELECT count(*) AS n FROM t WHERE v = ?", "params": []any{i}}, &out)
		if got := out[0].Results[0]["n"]; got == float64(0) {
			t.Fatalf("read after write %d on %s: the write is not there", i, m.ID)
		}
	}
	slices.Sort(onLeader)
	slices.Sort(onFollower)
	// Before: the follower answered once it applied the entry, which it
	// learns from the leader's next AppendEntries: 50-100 ms later on an
	// idle cluster (p50 84 ms measured, against 4 ms on the leader).
	lp50, fp50 := onLeader[n/2], onFollower[n/2]
	if fp50 > lp50+40*time.Millisecond {
		t.Fatalf("follower write p50 %v, leader %v: want about one round trip more (follower %v)", fp50, lp50, onFollower)
	}
	t.Logf("write p50: leader %v, follower %v", lp50, fp50)
}
