package d1_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/internal/testcluster"
)

// BenchmarkClusterRead reads one row through a 3-node cluster: from the
// replica that receives it, and strong (ReadIndex on the leader, one
// forwarding hop from a follower); it reports p50 and p99.
func BenchmarkClusterRead(b *testing.B) {
	c := testcluster.Start(b, testcluster.Options{Nodes: 3})
	leader := c.WaitLeader(10 * time.Second)
	follower := c.Member((c.Index(leader) + 1) % 3)
	cl := client{t: b, c: c}
	base := "/client/v4/accounts/" + c.Member(0).Node().AccountID() + "/d1/database"
	var db struct {
		UUID string `json:"uuid"`
	}
	cl.must(leader, http.MethodPost, base, map[string]string{"name": "readbench"}, &db)
	q := base + "/" + db.UUID + "/query"
	cl.must(leader, http.MethodPost, q, map[string]any{"sql": "CREATE TABLE IF NOT EXISTS kv(k INTEGER PRIMARY KEY, v INTEGER)"}, nil)
	cl.must(leader, http.MethodPost, q, map[string]any{"sql": "INSERT OR REPLACE INTO kv VALUES (1, 1)"}, nil)
	for _, run := range []struct {
		name string
		m    *testcluster.Member
		path string
	}{
		{"replica", follower, q},
		{"strong-leader", leader, q + "?consistency=strong"},
		{"strong-follower", follower, q + "?consistency=strong"},
	} {
		b.Run(run.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for range b.N {
				start := time.Now()
				r, err := cl.do(run.m, http.MethodPost, run.path, map[string]any{"sql": "SELECT v FROM kv WHERE k = 1"})
				if err != nil || r.status != http.StatusOK {
					b.Fatalf("read: %v %d", err, r.status)
				}
				lat = append(lat, time.Since(start))
			}
			sortDurations(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-us")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-us")
		})
	}
}
