package d1

import (
	"fmt"
	"github.com/edgeplane/edgeplane/pkg/service/servicetest"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gather returns the series of one metric family from reg.
func gather(t *testing.T, reg prometheus.Gatherer, name string) []*dto.Metric {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f.GetMetric()
		}
	}
	return nil
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// The database label is capped: the first 50 databases keep their id, the
// 51st and later share "other"; bytes report the 50 largest and the rest
// summed.
func TestDatabaseLabelsAreCapped(t *testing.T) {
	te := newTestEnv(t, Options{})
	reg := te.m.deps.Registerer.(*prometheus.Registry)
	var ids []string
	for i := range maxDatabaseSeries + 2 {
		id := te.create(fmt.Sprint("db", i))
		ids = append(ids, id)
		te.sql(id, "SELECT 1")
	}
	byDB := map[string]float64{}
	for _, m := range gather(t, reg, "edge_d1_queries_total") {
		if label(m, "kind") == "read" && label(m, "served_by") == "replica" {
			byDB[label(m, "database")] += m.GetCounter().GetValue()
		}
	}
	if len(byDB) != maxDatabaseSeries+1 || byDB[otherDatabases] != 2 || byDB[ids[0]] != 1 || byDB[ids[len(ids)-1]] != 0 {
		t.Fatalf("query series: %d databases, other=%v", len(byDB), byDB[otherDatabases])
	}
	sizes := gather(t, reg, "edge_d1_database_bytes")
	if len(sizes) != maxDatabaseSeries+1 {
		t.Fatalf("%d edge_d1_database_bytes series", len(sizes))
	}
	var other float64
	for _, m := range sizes {
		if label(m, "database") == otherDatabases {
			other = m.GetGauge().GetValue()
		}
	}
	if other <= 0 {
		t.Fatalf("other databases' bytes: %v", other)
	}
}

// Strong reads count as served by the primary, writes as writes; the lag
// gauges are zero on a leader that applied everything.
func TestQueryMetricsAndLagOnTheLeader(t *testing.T) {
	te := newTestEnv(t, Options{})
	reg := te.m.deps.Registerer.(*prometheus.Registry)
	id := te.create("m")
	te.sql(id, "CREATE TABLE t(v)")
	te.query(id, `{"sql":"SELECT count(*) FROM t"}`)
	w := te.do(http.MethodPost, dbsPath+"/"+id+"/query?consistency=strong", `{"sql":"SELECT count(*) FROM t"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("strong read: %d %s", w.Code, w.Body)
	}
	got := map[string]float64{}
	for _, m := range gather(t, reg, "edge_d1_queries_total") {
		got[label(m, "kind")+"/"+label(m, "served_by")] = m.GetCounter().GetValue()
	}
	if got["write/primary"] != 1 || got["read/replica"] != 1 || got["read/primary"] != 1 {
		t.Fatalf("queries: %v", got)
	}
	for _, name := range []string{"edge_d1_replica_lag_entries", "edge_d1_replica_lag_seconds"} {
		ms := gather(t, reg, name)
		if len(ms) != 1 || ms[0].GetGauge().GetValue() != 0 {
			t.Fatalf("%s on the leader: %v", name, ms)
		}
	}
}

// On a replica, lag in seconds grows from the last time it had applied
// everything it knew committed; lag in entries is what it has not applied.
func TestReplicaLagGauges(t *testing.T) {
	te := newTestEnv(t, Options{})
	r := &replicaRaft{commit: 10, applied: 10, contact: 50 * time.Millisecond}
	te.m.deps.Raft = r
	now := time.Now()
	te.m.metrics.caughtUp.Store(now.Add(-time.Hour).UnixNano())
	te.m.trackCaughtUp(now)
	if lag := te.m.lagSeconds(now); lag < 40*time.Millisecond || lag > 60*time.Millisecond {
		t.Fatalf("caught-up replica: lag %v, want its last contact", lag)
	}
	r.commit = 15
	if e := te.m.lagEntries(); e != 5 {
		t.Fatalf("lag entries %d, want 5", e)
	}
	later := now.Add(3 * time.Second)
	if lag := te.m.lagSeconds(later); lag < 3*time.Second {
		t.Fatalf("replica behind for 3 s: lag %v", lag)
	}
}

// replicaRaft is a follower's Raft view with settable indexes.
type replicaRaft struct {
	servicetest.Leader
	commit, applied uint64
	contact         time.Duration
}

func (r *replicaRaft) LeaderID() string           { return "other" }
func (r *replicaRaft) IsLeader() bool             { return false }
func (r *replicaRaft) CommitIndex() uint64        { return r.commit }
func (r *replicaRaft) AppliedIndex() uint64       { return r.applied }
func (r *replicaRaft) LastContact() time.Duration { return r.contact }
