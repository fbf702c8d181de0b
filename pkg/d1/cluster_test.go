package d1_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/internal/testcluster"
	"github.com/edgeplane/edgeplane/pkg/d1"
)

// client speaks to one cluster's HTTP API.
type client struct {
	t testing.TB
	c *testcluster.Cluster
}

type reply struct {
	status int
	header http.Header
	env    struct {
		Success bool `json:"success"`
		Errors  []struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
		Result json.RawMessage `json:"result"`
	}
}

func (cl client) do(m *testcluster.Member, method, path string, body any, hdr ...string) (reply, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, m.URL()+path, rd)
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Authorization", "Bearer "+cl.c.Token())
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	hc := http.Client{Timeout: 15 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	var r reply
	r.status, r.header = resp.StatusCode, resp.Header
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &r.env); err != nil {
		return r, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return r, nil
}

func (cl client) must(m *testcluster.Member, method, path string, body any, out any) reply {
	cl.t.Helper()
	r, err := cl.do(m, method, path, body)
	// A cluster that just formed or lost its leader answers 503 for a
	// moment; only commands that are safe to repeat are retried.
	for deadline := time.Now().Add(10 * time.Second); err == nil && r.status == http.StatusServiceUnavailable && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		r, err = cl.do(m, method, path, body)
	}
	if err != nil {
		cl.t.Fatal(err)
	}
	if r.status != http.StatusOK || !r.env.Success {
		cl.t.Fatalf("%s %s via %s: %d %+v", method, path, m.ID, r.status, r.env.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(r.env.Result, out); err != nil {
			cl.t.Fatal(err)
		}
	}
	return r
}

func accountID(t *testing.T, c *testcluster.Cluster) string {
	t.Helper()
	id := c.Member(0).Node().AccountID()
	if id == "" {
		t.Fatal("no account")
	}
	return id
}

func module(m *testcluster.Member) *d1.Module { return m.Node().Service("d1").(*d1.Module) }

// waitConverged waits until every up node applied the same entries to db,
// then checks that their tables are identical.
func waitConverged(t *testing.T, c *testcluster.Cluster, db string) map[string]string {
	t.Helper()
	var sums []map[string]string
	c.WaitFor("every replica applied the same d1 entries", 15*time.Second, func() bool {
		sums = sums[:0]
		var idx []uint64
		for _, m := range c.Up() {
			at, s, err := module(m).Checksums(t.Context(), db)
			if err != nil {
				return false
			}
			idx = append(idx, at)
			sums = append(sums, s)
		}
		for _, i := range idx {
			if i != idx[0] {
				return false
			}
		}
		return true
	})
	for i, s := range sums[1:] {
		if fmt.Sprint(s) != fmt.Sprint(sums[0]) {
			t.Fatalf("replica %d differs:\n%v\n%v", i+1, s, sums[0])
		}
	}
	return sums[0]
}

func TestReplicasConvergeUnderMixedWrites(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	cl := client{t, c}
	acct := accountID(t, c)
	base := "/client/v4/accounts/" + acct + "/d1/database"
	var db d1.Database
	cl.must(c.Member(1), http.MethodPost, base, map[string]string{"name": "mixed"}, &db)
	q := base + "/" + db.UUID + "/query"
	cl.must(c.Member(2), http.MethodPost, q, map[string]any{"sql": `CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, r INTEGER DEFAULT (random()),
		ts TEXT DEFAULT CURRENT_TIMESTAMP, b BLOB DEFAULT (randomblob(8)), d TEXT DEFAULT (datetime('now')));
		CREATE TABLE u(x INTEGER CHECK (x > 0))`}, nil)

	rng := rand.New(rand.NewPCG(1, 2))
	failed := 0
	for i := range 60 {
		m := c.Member(i % 3)
		var body map[string]any
		switch rng.IntN(6) {
		case 0:
			body = map[string]any{"sql": "INSERT INTO t(v) VALUES (?)", "params": []any{i}}
		case 1:
			body = map[string]any{"sql": "INSERT INTO t(v, r, d) VALUES (?, random(), strftime('%Y-%m-%d %H:%M:%f', 'now'))", "params": []any{i}}
		case 2:
			body = map[string]any{"sql": "UPDATE t SET v = v + 1, r = abs(random() % 1000) WHERE id IN (SELECT id FROM t ORDER BY random() LIMIT 2)"}
		case 3:
			body = map[string]any{"sql": "DELETE FROM t WHERE id = (SELECT id FROM t ORDER BY random() LIMIT 1)"}
		case 4:
			body = map[string]any{"batch": []map[string]any{
				{"sql": "INSERT INTO t(v, b) VALUES (?, randomblob(4))", "params": []any{1000 + i}},
				{"sql": "INSERT INTO t(v) VALUES (?)", "params": []any{2000 + i}},
			}}
		case 5: // fails midway: nothing of it may stay
			body = map[string]any{"batch": []map[string]any{
				{"sql": "INSERT INTO t(v) VALUES (?)", "params": []any{-i}},
				{"sql": "INSERT INTO u VALUES (1)"},
				{"sql": "INSERT INTO u VALUES (0)"},
			}}
		}
		r, err := cl.do(m, http.MethodPost, q, body)
		if err != nil {
			t.Fatal(err)
		}
		if r.status == http.StatusServiceUnavailable {
			// Outcome unknown (leadership moved while committing, on a
			// loaded machine): applied everywhere or nowhere, which the
			// convergence check below covers either way.
			t.Logf("write %d: 503 %+v", i, r.env.Errors)
			continue
		}
		if r.status != http.StatusOK {
			if len(r.env.Errors) != 1 || r.env.Errors[0].Code != 7500 {
				t.Fatalf("write %d: %d %+v", i, r.status, r.env.Errors)
			}
			failed++
		}
		// Read your write on the node that took it, without a bookmark.
		if r.status == http.StatusOK && i%5 == 0 {
			var out []struct {
				Results []map[string]any `json:"results"`
			}
			cl.must(m, http.MethodPost, q, map[string]any{"sql": "SELECT max(id) AS m FROM t"}, &out)
		}
	}
	if failed == 0 {
		t.Fatal("no failing batch ran")
	}
	waitConverged(t, c, db.UUID)
	var out []struct {
		Results []map[string]any `json:"results"`
	}
	cl.must(c.Member(0), http.MethodPost, q, map[string]any{"sql": "SELECT (SELECT count(*) FROM t WHERE v < 0) + (SELECT count(*) FROM u) AS n"}, &out)
	if out[0].Results[0]["n"] != float64(0) {
		t.Fatalf("a failed batch left rows: %v", out[0].Results)
	}

	// Snapshot on every node, restart one: it restores the same tables.
	for _, m := range c.Members() {
		if err := m.Node().Snapshot(); err != nil {
			t.Fatal(err)
		}
	}
	want := waitConverged(t, c, db.UUID)
	c.Stop(1)
	cl.must(c.Member(0), http.MethodPost, q, map[string]any{"sql": "INSERT INTO t(v) VALUES (7)"}, nil)
	c.Restart(1)
	c.WaitReady(30 * time.Second)
	got := waitConverged(t, c, db.UUID)
	if got["t"] == want["t"] {
		t.Fatal("the write while node 1 was down is missing everywhere")
	}

	// Delete drops the file on every node.
	cl.must(c.Member(2), http.MethodDelete, base+"/"+db.UUID, nil, nil)
	c.WaitFor("every node dropped the database file", 10*time.Second, func() bool {
		for _, m := range c.Up() {
			if strings.Contains(strings.Join(listFiles(t, m), ","), db.UUID) {
				return false
			}
		}
		return true
	})
}

func listFiles(t *testing.T, m *testcluster.Member) []string {
	entries, _ := osReadDir(m.Dir)
	return entries
}

func TestBookmarksAndStrongReadsOnALaggingReplica(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	cl := client{t, c}
	acct := accountID(t, c)
	base := "/client/v4/accounts/" + acct + "/d1/database"
	var db d1.Database
	cl.must(c.Member(0), http.MethodPost, base, map[string]string{"name": "lag"}, &db)
	q := base + "/" + db.UUID + "/query"
	leader := c.WaitLeader(10 * time.Second)
	lag := (c.Index(leader) + 1) % 3
	writer := c.Member((lag + 1) % 3)
	cl.must(writer, http.MethodPost, q, map[string]any{"sql": "CREATE TABLE t(v)"}, nil)
	waitConverged(t, c, db.UUID)

	c.Isolate(lag)
	r := cl.must(writer, http.MethodPost, q, map[string]any{"sql": "INSERT INTO t VALUES (1)"}, nil)
	bm := r.header.Get(d1.HeaderBookmark)
	if bm == "" {
		t.Fatal("no bookmark")
	}
	// The isolated replica cannot reach the bookmark: 503 after the wait.
	start := time.Now()
	r2, err := cl.do(c.Member(lag), http.MethodPost, q, map[string]any{"sql": "SELECT count(*) AS n FROM t"}, d1.HeaderBookmark, bm)
	if err != nil {
		t.Fatal(err)
	}
	if r2.status != http.StatusServiceUnavailable || r2.env.Errors[0].Code != 7503 || time.Since(start) < d1.BookmarkWait {
		t.Fatalf("read past the replica: %d %+v after %v", r2.status, r2.env.Errors, time.Since(start))
	}
	// Without a bookmark it answers its own (older) state.
	var out []struct {
		Results []map[string]any `json:"results"`
		Meta    d1.Meta          `json:"meta"`
	}
	cl.must(c.Member(lag), http.MethodPost, q, map[string]any{"sql": "SELECT count(*) AS n FROM t"}, &out)
	if out[0].Results[0]["n"] != float64(0) || out[0].Meta.Bookmark >= bm {
		t.Fatalf("isolated replica answered %+v", out[0])
	}
	c.Heal()
	waitConverged(t, c, db.UUID) // a loaded machine may take seconds to resume replication after a heal
	// Slow links: the replica waits for the bookmark, then answers.
	c.SetLatency(c.Member(lag).Region, leader.Region, 150*time.Millisecond)
	r = cl.must(writer, http.MethodPost, q, map[string]any{"sql": "INSERT INTO t VALUES (2)"}, nil)
	bm = r.header.Get(d1.HeaderBookmark)
	r2, err = cl.do(c.Member(lag), http.MethodPost, q, map[string]any{"sql": "SELECT count(*) AS n FROM t"}, d1.HeaderBookmark, bm)
	if err != nil || r2.status != http.StatusOK {
		t.Fatalf("bookmarked read: %v %d %+v", err, r2.status, r2.env.Errors)
	}
	_ = json.Unmarshal(r2.env.Result, &out)
	if out[0].Results[0]["n"] != float64(2) || out[0].Meta.Bookmark < bm {
		t.Fatalf("bookmarked read answered %+v (bookmark %s)", out[0], bm)
	}
	// consistency=strong is served by the leader, from every node (the slow
	// link is gone: this part is about placement, not latency).
	c.SetLatency(c.Member(lag).Region, leader.Region, 0)
	for _, m := range c.Members() {
		r = cl.must(m, http.MethodPost, q+"?consistency=strong", map[string]any{"sql": "SELECT count(*) AS n FROM t"}, &out)
		if out[0].Results[0]["n"] != float64(2) || !out[0].Meta.ServedByPrimary {
			t.Fatalf("strong read via %s: %+v", m.ID, out[0])
		}
	}
}

func TestKillLeaderDuringWrites(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	cl := client{t, c}
	acct := accountID(t, c)
	base := "/client/v4/accounts/" + acct + "/d1/database"
	var db d1.Database
	cl.must(c.Member(0), http.MethodPost, base, map[string]string{"name": "kill"}, &db)
	q := base + "/" + db.UUID + "/query"
	cl.must(c.Member(0), http.MethodPost, q, map[string]any{"sql": "CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY)"}, nil)
	leader := c.WaitLeader(10 * time.Second)
	li := c.Index(leader)
	var others []*testcluster.Member
	for i, m := range c.Members() {
		if i != li {
			others = append(others, m)
		}
	}

	var mu sync.Mutex
	acked := map[int]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w, m := range others {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 400; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := w*100000 + i*10
				batch := []map[string]any{
					{"sql": "INSERT INTO t VALUES (?)", "params": []any{k}},
					{"sql": "INSERT INTO t VALUES (?)", "params": []any{k + 1}},
				}
				if i%7 == 3 { // fails after two inserts: none may stay
					batch = append(batch, map[string]any{"sql": "INSERT INTO t VALUES (?)", "params": []any{k}})
				}
				r, err := cl.do(m, http.MethodPost, q, map[string]any{"batch": batch})
				if err == nil && r.status == http.StatusOK {
					if i%7 == 3 {
						t.Errorf("failing batch %d acknowledged", k)
					}
					mu.Lock()
					acked[k] = true
					mu.Unlock()
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	time.Sleep(700 * time.Millisecond)
	c.Kill(li)
	killed := time.Now()
	c.WaitFor("a new leader", 10*time.Second, func() bool {
		l := c.Leader()
		return l != nil && l.ID != leader.ID
	})
	if elected := time.Since(killed); elected > 10*time.Second {
		t.Fatalf("new leader after %v", elected)
	} else {
		t.Logf("new leader after %v", elected)
	}
	// Writes go on under the new leader, until enough were acknowledged to
	// judge (bounded: a loaded machine answers slowly).
	time.Sleep(1500 * time.Millisecond)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 40 {
			break
		}
	}
	close(stop)
	wg.Wait()
	waitConverged(t, c, db.UUID)

	var out []struct {
		Results RawResultsT `json:"results"`
	}
	cl.must(others[0], http.MethodPost, base+"/"+db.UUID+"/raw", map[string]any{"sql": "SELECT k FROM t ORDER BY k"}, &out)
	have := map[int]bool{}
	for _, row := range out[0].Results.Rows {
		have[int(row[0].(float64))] = true
	}
	mu.Lock()
	defer mu.Unlock()
	for k := range acked {
		if !have[k] || !have[k+1] {
			t.Fatalf("acknowledged batch %d missing", k)
		}
	}
	for k := range have {
		base := k - k%10
		if !have[base] || !have[base+1] || k%10 > 1 || (base%100000/10)%7 == 3 {
			t.Fatalf("row %d: half-applied or failed batch", k)
		}
	}
	if len(acked) < 20 {
		t.Fatalf("only %d writes acknowledged", len(acked))
	}
	t.Logf("%d batches acknowledged, %d rows", len(acked), len(have))

	// The killed leader comes back from its own files and log: it ends
	// with the same tables, every acknowledged batch included.
	c.Restart(li)
	c.WaitReady(30 * time.Second)
	waitConverged(t, c, db.UUID)
	cl.must(c.Member(li), http.MethodPost, base+"/"+db.UUID+"/raw", map[string]any{"sql": "SELECT k FROM t ORDER BY k"}, &out)
	if len(out[0].Results.Rows) != len(have) {
		t.Fatalf("restarted old leader holds %d rows, the others %d", len(out[0].Results.Rows), len(have))
	}
}

type RawResultsT struct {
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// BenchmarkClusterInsert writes single rows through a 3-node cluster's
// Raft log, from a follower and from the leader, and reports p50 and p99.
func BenchmarkClusterInsert(b *testing.B) {
	c := testcluster.Start(b, testcluster.Options{Nodes: 3})
	leader := c.WaitLeader(10 * time.Second)
	follower := c.Member((c.Index(leader) + 1) % 3)
	acct := c.Member(0).Node().AccountID()
	base := "/client/v4/accounts/" + acct + "/d1/database"
	post := func(m *testcluster.Member, path string, body any) (reply, error) {
		return client{c: c}.do(m, http.MethodPost, path, body)
	}
	var r reply
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if r, err = post(leader, base, map[string]string{"name": "bench"}); err == nil && r.status == http.StatusOK {
			break
		}
	}
	var db d1.Database
	if err != nil || json.Unmarshal(r.env.Result, &db) != nil {
		b.Fatalf("create: %v %+v", err, r.env)
	}
	q := base + "/" + db.UUID + "/query"
	if _, err := post(leader, q, map[string]any{"sql": "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"}); err != nil {
		b.Fatal(err)
	}
	for _, via := range []struct {
		name string
		m    *testcluster.Member
	}{{"leader", leader}, {"follower", follower}} {
		b.Run(via.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for i := range b.N {
				start := time.Now()
				r, err := post(via.m, q, map[string]any{"sql": "INSERT INTO t(v) VALUES (?)", "params": []any{i}})
				if err != nil || r.status != http.StatusOK {
					b.Fatalf("insert: %v %d", err, r.status)
				}
				lat = append(lat, time.Since(start))
			}
			sortDurations(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-us")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-us")
		})
	}
}

func sortDurations(d []time.Duration) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}
