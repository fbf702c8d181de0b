package d1

import (
	"cmp"
	"context"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// maxDatabaseSeries caps how many databases get a series of their own in a
// metric with a database label; the rest share database="other", so an
// account creating thousands of databases cannot blow up the scrape.
const maxDatabaseSeries = 50

// otherDatabases is the database label of the databases past the cap.
const otherDatabases = "other"

// metrics are D1's series.
type metrics struct {
	queries   *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	forwarded prometheus.Counter
	// lag is the time from a write's proposal to its apply here, at the
	// last write applied (set by the apply loop).
	lag prometheus.Gauge
	// commits counts the apply loop's transactions, restored the databases
	// snapshot restores kept or replaced.
	commits  prometheus.Counter
	restored *prometheus.CounterVec
	labels   labelCap
	// caughtUp is when this node last knew it had applied everything
	// committed (unix nanoseconds), for edge_d1_replica_lag_seconds.
	caughtUp atomic.Int64
}

func newMetrics(reg prometheus.Registerer, m *Module) (*metrics, error) {
	x := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edge_d1_queries_total",
			Help: "D1 requests answered on this node, by database (the first 50 seen here, then \"other\"), kind (read, write) and whether the answer reflects the primary's newest state (served_by: primary) or this replica's (replica)."},
			[]string{"database", "kind", "served_by"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "edge_d1_query_duration_seconds",
			Help:    "Duration of D1 requests on this node, by database (capped as edge_d1_queries_total), kind and served_by.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"database", "kind", "served_by"}),
		forwarded: prometheus.NewCounter(prometheus.CounterOpts{Name: "edge_d1_forwarded_writes_total",
			Help: "D1 writes this node received while another node led, and so proposed through the leader."}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "edge_d1_apply_delay_seconds",
			Help: "Time from a D1 write's proposal to its apply on this node, at the last write applied here (includes clock skew between the proposer and this node)."}),
		commits: prometheus.NewCounter(prometheus.CounterOpts{Name: "edge_d1_apply_commits_total",
			Help: "Transactions the D1 apply loop committed on this node (one per Raft entry it applied; entries a database had already applied, as after a restart, are skipped without one)."}),
		restored: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edge_d1_snapshot_restored_databases_total",
			Help: "Databases Raft snapshot restores handled on this node, by action: replaced by the snapshot's file, or kept (this node already held them at or past the snapshot)."},
			[]string{"action"}),
		labels: labelCap{max: maxDatabaseSeries, seen: make(map[string]bool)},
	}
	x.caughtUp.Store(time.Now().UnixNano())
	lagEntries := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "edge_d1_replica_lag_entries",
		Help: "Raft entries this node knows committed but has not applied yet. Every D1 database here applies the one log in order, so this is each database's distance from the commit index this node knows (a partitioned node does not learn new commits: watch edge_d1_replica_lag_seconds too)."},
		func() float64 { return float64(m.lagEntries()) })
	lagSeconds := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "edge_d1_replica_lag_seconds",
		Help: "How stale this node's D1 state may be: 0 on the leader; elsewhere the time since this node last had applied every entry committed as of its last contact with the leader."},
		func() float64 { return m.lagSeconds(time.Now()).Seconds() })
	bytes := newBytesCollector(m)
	for _, c := range []prometheus.Collector{x.queries, x.duration, x.forwarded, x.lag, x.commits, x.restored, lagEntries, lagSeconds, bytes} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// observe counts one answered request.
func (x *metrics) observe(database, kind string, primary bool, d time.Duration) {
	by := "replica"
	if primary {
		by = "primary"
	}
	label := x.labels.label(database)
	x.queries.WithLabelValues(label, kind, by).Inc()
	x.duration.WithLabelValues(label, kind, by).Observe(d.Seconds())
}

// labelCap hands out database label values: the first max databases keep
// their id, later ones share "other" (counters cannot move a database
// between series without breaking rates, so first come keeps its series).
type labelCap struct {
	max  int
	mu   sync.Mutex
	seen map[string]bool
}

func (c *labelCap) label(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[id] {
		return id
	}
	if len(c.seen) >= c.max {
		return otherDatabases
	}
	c.seen[id] = true
	return id
}

// lagEntries is the commit index this node knows minus its applied index.
func (m *Module) lagEntries() uint64 {
	commit, applied := m.deps.Raft.CommitIndex(), m.deps.Raft.AppliedIndex()
	if applied >= commit {
		return 0
	}
	return commit - applied
}

// lagSeconds is how stale this node's D1 state may be at now.
func (m *Module) lagSeconds(now time.Time) time.Duration {
	m.trackCaughtUp(now)
	if m.deps.Raft.IsLeader() {
		return 0
	}
	return max(0, now.Sub(time.Unix(0, m.metrics.caughtUp.Load())))
}

// trackCaughtUp records when this node was last caught up: if it applied
// everything it knows committed, its state is as fresh as its last contact
// with the leader.
func (m *Module) trackCaughtUp(now time.Time) {
	r := m.deps.Raft
	if r.IsLeader() {
		m.metrics.caughtUp.Store(now.UnixNano())
		return
	}
	if r.LeaderID() == "" || r.AppliedIndex() < r.CommitIndex() {
		return
	}
	casMax(&m.metrics.caughtUp, now.Add(-r.LastContact()).UnixNano())
}

// lagInterval is how often the lag tracker samples the Raft indexes.
const lagInterval = 100 * time.Millisecond

// trackLag samples the Raft indexes until ctx ends, so that the lag gauge
// knows when this node was last caught up between scrapes.
func (m *Module) trackLag(ctx context.Context) {
	t := time.NewTicker(lagInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			m.trackCaughtUp(now)
		}
	}
}

// bytesCollector reports edge_d1_database_bytes per database at scrape
// time: the 50 largest databases, the rest summed under "other".
type bytesCollector struct {
	m    *Module
	desc *prometheus.Desc
}

func newBytesCollector(m *Module) *bytesCollector {
	return &bytesCollector{m: m, desc: prometheus.NewDesc("edge_d1_database_bytes",
		"Bytes of each D1 database file (with its WAL) on this node: the 50 largest databases, the rest summed under database=\"other\".",
		[]string{"database"}, nil)}
}

func (c *bytesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *bytesCollector) Collect(ch chan<- prometheus.Metric) {
	ids, err := c.m.fileIDs()
	if err != nil {
		return
	}
	type size struct {
		id string
		n  int64
	}
	sizes := make([]size, 0, len(ids))
	for _, id := range ids {
		var n int64
		for _, p := range []string{dbPath(c.m.dir, id), dbPath(c.m.dir, id) + "-wal"} {
			if st, err := os.Stat(p); err == nil {
				n += st.Size()
			}
		}
		sizes = append(sizes, size{id, n})
	}
	slices.SortFunc(sizes, func(a, b size) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.id, b.id)) })
	var other int64
	for i, s := range sizes {
		if i < maxDatabaseSeries {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(s.n), s.id)
		} else {
			other += s.n
		}
	}
	if len(sizes) > maxDatabaseSeries {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(other), otherDatabases)
	}
}
