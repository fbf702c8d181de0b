package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// d1BenchSchema is the table every phase writes and reads.
const d1BenchSchema = "CREATE TABLE IF NOT EXISTS bench (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v TEXT NOT NULL)"

// Statements of the phases.
const (
	d1InsertSQL = "INSERT INTO bench (id, k, v) VALUES (?, ?, ?)"
	d1SelectSQL = "SELECT k, v FROM bench WHERE id = ?"
)

// d1BenchTarget is what `bench d1` drives: a D1 database through edged, or
// a plain SQLite file.
type d1BenchTarget interface {
	name() string
	// open makes one client: a writer, or a reader (of the replica).
	open(ctx context.Context, write bool) (d1BenchConn, error)
	// replicaCaught waits until readers see rows rows.
	replicaCaught(ctx context.Context, rows int64) error
}

// d1BenchConn is one client.
type d1BenchConn interface {
	// insert writes one row.
	insert(ctx context.Context, id int64, value string) error
	// insertBatch writes rows first..first+n-1 as one request (one
	// transaction).
	insertBatch(ctx context.Context, first int64, n int, value string) error
	// get reads one row by id.
	get(ctx context.Context, id int64) error
	close() error
}

// d1Phase is one phase of the run.
type d1Phase struct {
	name    string
	clients int
	write   bool
	rows    int // rows per request
}

// runD1Phases runs the four phases on t: single-row INSERT with one client,
// with cfg.concurrency clients, batches, then point SELECTs.
func runD1Phases(ctx context.Context, t d1BenchTarget, cfg d1BenchConfig) ([]d1PhaseResult, error) {
	value := strings.Repeat("v", cfg.valueSize)
	phases := []d1Phase{
		{name: "insert", clients: 1, write: true, rows: 1},
		{name: "insert", clients: cfg.concurrency, write: true, rows: 1},
		{name: "batch" + strconv.Itoa(cfg.batch), clients: cfg.concurrency, write: true, rows: cfg.batch},
		{name: "select", clients: cfg.concurrency, rows: 1},
	}
	var next atomic.Int64 // the last id written
	var out []d1PhaseResult
	for _, p := range phases {
		if !p.write {
			if err := t.replicaCaught(ctx, next.Load()); err != nil {
				return nil, err
			}
		}
		conns := make([]d1BenchConn, 0, p.clients)
		for range p.clients {
			c, err := t.open(ctx, p.write)
			if err != nil {
				for _, c := range conns {
					_ = c.close()
				}
				return nil, fmt.Errorf("bench d1: %s: %w", t.name(), err)
			}
			conns = append(conns, c)
		}
		written := next.Load()
		cr, ok := t.(costReader)
		var before serverCost
		var costErr error
		if ok {
			before, costErr = cr.cost(ctx)
		}
		res := runD1Phase(ctx, t.name(), p, conns, cfg.duration, func(ctx context.Context, c d1BenchConn, r *rand.Rand) error {
			switch {
			case !p.write:
				return c.get(ctx, 1+r.Int64N(max(written, 1)))
			case p.rows == 1:
				return c.insert(ctx, next.Add(1), value)
			default:
				return c.insertBatch(ctx, next.Add(int64(p.rows))-int64(p.rows)+1, p.rows, value)
			}
		})
		for _, c := range conns {
			_ = c.close()
		}
		if ok && costErr == nil && res.Rows > 0 {
			if after, err := cr.cost(ctx); err == nil {
				d := after.sub(before)
				res.ServerCPUPerRowUS = d.CPUSeconds * 1e6 / float64(res.Rows)
			}
		}
		out = append(out, res)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return out, nil
}

// runD1Phase runs op on every client at once for d and measures it.
func runD1Phase(ctx context.Context, target string, p d1Phase, conns []d1BenchConn, d time.Duration,
	op func(ctx context.Context, c d1BenchConn, r *rand.Rand) error) d1PhaseResult {
	hists := make([]latencyHist, len(conns))
	errCounts := make([]uint64, len(conns))
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			h := &hists[w]
			for n := 0; n < maxOpsPerWorker && ctx.Err() == nil; n++ {
				t0 := time.Now()
				if t0.After(deadline) {
					return
				}
				if err := op(ctx, c, r); err != nil {
					errCounts[w]++
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				h.record(time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all latencyHist
	res := d1PhaseResult{Target: target, Phase: p.name, Clients: len(conns), Seconds: elapsed.Seconds()}
	for w := range hists {
		all.merge(&hists[w])
		res.Errors += errCounts[w]
	}
	if e, ok := firstErr.Load().(string); ok {
		res.FirstError = e
	}
	res.Requests = all.n
	res.Rows = all.n * uint64(p.rows)
	res.ReqPerSec = float64(res.Requests) / elapsed.Seconds()
	res.RowsPerSec = float64(res.Rows) / elapsed.Seconds()
	res.P50Ms = ms(all.quantile(0.50))
	res.P99Ms = ms(all.quantile(0.99))
	res.MaxMs = ms(all.max)
	return res
}

// d1EdgeTarget is a D1 database through edged's /query: writes to one
// node, reads on another.
type d1EdgeTarget struct {
	token, account, db string
	all                []string     // every node's endpoint, for the CPU they spend
	scrape             *http.Client // for /metrics
	timeout            time.Duration
	tls                *tls.Config
	writeEP, readEP    string
	caught             func(ctx context.Context, rows int64) error
}

func (t *d1EdgeTarget) name() string { return "edgeplane" }

// cost sums the CPU every node of the cluster reports: writes cost CPU on
// every replica.
func (t *d1EdgeTarget) cost(ctx context.Context) (serverCost, error) {
	var sum serverCost
	for _, ep := range t.all {
		c, err := scrapeCost(ctx, t.scrape, ep)
		if err != nil {
			return serverCost{}, err
		}
		sum.CPUSeconds += c.CPUSeconds
		sum.AllocBytes += c.AllocBytes
		sum.GCCycles += c.GCCycles
	}
	return sum, nil
}

func (t *d1EdgeTarget) replicaCaught(ctx context.Context, rows int64) error {
	return t.caught(ctx, rows)
}

func (t *d1EdgeTarget) open(_ context.Context, write bool) (d1BenchConn, error) {
	ep := t.readEP
	if write {
		ep = t.writeEP
	}
	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer "+t.token)
	hc, err := newHTTPConn(ep, hdr, t.timeout)
	if err != nil {
		return nil, err
	}
	if hc.tls != nil && t.tls != nil {
		hc.tls.RootCAs = t.tls.RootCAs
	}
	path := strings.TrimRight(ep, "/")
	if u, err := url.Parse(path); err == nil {
		path = u.EscapedPath()
	}
	path += "/client/v4/accounts/" + url.PathEscape(t.account) + "/d1/database/" + url.PathEscape(t.db) + "/query"
	return &d1EdgeConn{hc: hc, path: path}, nil
}

// d1EdgeConn is one client's keep-alive connection; it builds each body in
// one reused buffer.
type d1EdgeConn struct {
	hc   *httpConn
	path string
	buf  []byte
}

func (c *d1EdgeConn) post(ctx context.Context) error {
	status, err := c.hc.do(ctx, http.MethodPost, c.path, "application/json", c.buf)
	return expect2xx("POST", c.path, status, err)
}

// appendInsert appends one INSERT as {"sql":...,"params":[...]}.
func appendInsert(b []byte, id int64, value string) []byte {
	b = append(b, `{"sql":`...)
	b = strconv.AppendQuote(b, d1InsertSQL)
	b = append(b, `,"params":[`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"k`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `",`...)
	b = strconv.AppendQuote(b, value)
	return append(b, "]}"...)
}

func (c *d1EdgeConn) insert(ctx context.Context, id int64, value string) error {
	c.buf = appendInsert(c.buf[:0], id, value)
	return c.post(ctx)
}

func (c *d1EdgeConn) insertBatch(ctx context.Context, first int64, n int, value string) error {
	b := append(c.buf[:0], `{"batch":[`...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInsert(b, first+int64(i), value)
	}
	c.buf = append(b, "]}"...)
	return c.post(ctx)
}

func (c *d1EdgeConn) get(ctx context.Context, id int64) error {
	b := append(c.buf[:0], `{"sql":`...)
	b = strconv.AppendQuote(b, d1SelectSQL)
	b = append(b, `,"params":[`...)
	b = strconv.AppendInt(b, id, 10)
	c.buf = append(b, "]}"...)
	return c.post(ctx)
}

func (c *d1EdgeConn) close() error { return c.hc.close() }
