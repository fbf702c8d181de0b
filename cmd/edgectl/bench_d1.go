package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// d1BenchConfig holds the flags of `bench d1`.
type d1BenchConfig struct {
	duration    time.Duration
	concurrency int
	batch       int
	valueSize   int
	baseline    bool
	writeNode   string
	account     string
	keep        bool
	dir         string
}

// Write-node choices of `bench d1 --write-node`.
const (
	writeNodeLeader   = "leader"
	writeNodeFollower = "follower"
	writeNodeFirst    = "first"
)

func (c d1BenchConfig) validate() error {
	switch {
	case c.duration <= 0 || c.duration > time.Hour:
		return errors.New("bench d1: --duration must be positive and at most 1h")
	case c.concurrency < 1 || c.concurrency > 1024:
		return errors.New("bench d1: --concurrency must be 1..1024")
	case c.batch < 1 || c.batch > 1000:
		return errors.New("bench d1: --batch must be 1..1000")
	case c.valueSize < 0 || c.valueSize > 1<<20:
		return errors.New("bench d1: --value-size must be 0..1MiB")
	case c.writeNode != writeNodeLeader && c.writeNode != writeNodeFollower && c.writeNode != writeNodeFirst:
		return errors.New("bench d1: --write-node must be leader, follower or first")
	}
	return nil
}

// d1BenchReport is the output of `bench d1`.
type d1BenchReport struct {
	WriteEndpoint string  `json:"write_endpoint"`
	WriteNode     string  `json:"write_node"`
	WriteRole     string  `json:"write_role"`
	ReadEndpoint  string  `json:"read_endpoint"`
	ReadNode      string  `json:"read_node"`
	ReadRole      string  `json:"read_role"`
	Nodes         int     `json:"nodes"`
	Concurrency   int     `json:"concurrency"`
	BatchRows     int     `json:"batch_rows"`
	ValueBytes    int     `json:"value_bytes"`
	PhaseSecs     float64 `json:"phase_seconds"`
	// Results holds edgeplane's phases, then the plain SQLite file's.
	Results []d1PhaseResult `json:"results"`
	// Ratios is edgeplane's rate over plain SQLite's, phase by phase.
	Ratios []d1Ratio `json:"ratios,omitempty"`
}

// d1PhaseResult is one phase on one target.
type d1PhaseResult struct {
	Target     string  `json:"target"`
	Phase      string  `json:"phase"`
	Clients    int     `json:"clients"`
	Requests   uint64  `json:"requests"`
	Rows       uint64  `json:"rows"`
	Errors     uint64  `json:"errors"`
	Seconds    float64 `json:"seconds"`
	ReqPerSec  float64 `json:"requests_per_sec"`
	RowsPerSec float64 `json:"rows_per_sec"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	FirstError string  `json:"first_error,omitempty"`
	// ServerCPUPerRowUS is the CPU every node of the cluster spent per row
	// (from their /metrics), when they report it: a figure that depends
	// less on what else the machine runs than the rates do.
	ServerCPUPerRowUS float64 `json:"server_cpu_us_per_row,omitempty"`
}

// d1Ratio is edgeplane's rows/s over plain SQLite's for one phase.
type d1Ratio struct {
	Phase   string  `json:"phase"`
	Clients int     `json:"clients"`
	Ratio   float64 `json:"ratio"`
}

func newBenchD1Cmd(a *app) *cobra.Command {
	cfg := d1BenchConfig{}
	cmd := &cobra.Command{
		Use:   "d1",
		Short: "Benchmark D1 writes, batches and replica reads, beside a plain SQLite file",
		Long: "Create a scratch D1 database, then run four phases of --duration each: single-row INSERT with one " +
			"client (latency), single-row INSERT with --concurrency clients (throughput), batches of --batch rows " +
			"(each batch one /query with \"batch\") with --concurrency clients, and point SELECTs by primary key " +
			"with --concurrency clients on a replica (a node that is not the Raft leader, when the --endpoint list " +
			"has one). Writes go to the leader, a follower or the first endpoint (--write-node). With --baseline " +
			"(the default) the same work runs on a plain local SQLite file (WAL, synchronous=NORMAL) and the " +
			"ratios are printed.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.validate(); err != nil {
				return err
			}
			rep, err := runBenchD1(cmd.Context(), a, cfg)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return writeJSON(a.stdout, rep)
			}
			return printBenchD1(a, rep)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&cfg.duration, "duration", 5*time.Second, "length of each phase")
	f.IntVar(&cfg.concurrency, "concurrency", 16, "concurrent clients of the throughput phases")
	f.IntVar(&cfg.batch, "batch", 100, "rows per batch")
	f.IntVar(&cfg.valueSize, "value-size", 100, "bytes of the text value of each row")
	f.BoolVar(&cfg.baseline, "baseline", true, "also run the work on a plain local SQLite file and print the ratios")
	f.StringVar(&cfg.writeNode, "write-node", writeNodeLeader, "where writes go: leader, follower (a non-leader endpoint) or first (the first endpoint)")
	f.StringVar(&cfg.account, "account", "", "account id (default: the cluster's, from status)")
	f.BoolVar(&cfg.keep, "keep", false, "keep the scratch database")
	f.StringVar(&cfg.dir, "dir", "", "directory of the baseline's SQLite file (default: a temporary one)")
	return cmd
}

// d1Node is one endpoint and what its status says about it.
type d1Node struct {
	endpoint string
	id       string
	leader   bool
}

func (n d1Node) role(nodes int) string {
	switch {
	case nodes == 1:
		return "single node"
	case n.leader:
		return "leader"
	}
	return "follower"
}

// d1Nodes asks every endpoint for its status.
func d1Nodes(ctx context.Context, a *app, eps []string) ([]d1Node, string, error) {
	var nodes []d1Node
	account := ""
	for _, ep := range eps {
		c, err := client.New([]string{ep}, a.token, client.WithTimeout(a.timeout), client.WithHTTPClient(a.httpClient()))
		if err != nil {
			return nil, "", err
		}
		if err := a.trustCA(a.httpClient()); err != nil {
			return nil, "", err
		}
		st, err := c.Status(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("bench d1: status of %s: %w", ep, err)
		}
		account = st.AccountID
		nodes = append(nodes, d1Node{endpoint: ep, id: st.NodeID, leader: st.Raft.LeaderID == st.NodeID})
	}
	return nodes, account, nil
}

// pickNode returns the first node that is (leader) or is not (!leader) the
// leader, else the first one.
func pickNode(nodes []d1Node, leader bool) d1Node {
	for _, n := range nodes {
		if n.leader == leader {
			return n
		}
	}
	return nodes[0]
}

// runBenchD1 runs every phase on the cluster, then on the baseline.
func runBenchD1(ctx context.Context, a *app, cfg d1BenchConfig) (d1BenchReport, error) {
	eps := client.SplitEndpoints(a.endpoints)
	if len(eps) == 0 {
		return d1BenchReport{}, errors.New("bench d1: no --endpoint")
	}
	for i, ep := range eps {
		n, err := client.NormalizeEndpoint(ep)
		if err != nil {
			return d1BenchReport{}, err
		}
		eps[i] = n
	}
	nodes, acc, err := d1Nodes(ctx, a, eps)
	if err != nil {
		return d1BenchReport{}, err
	}
	if cfg.account != "" {
		acc = cfg.account
	}
	writer := nodes[0]
	switch cfg.writeNode {
	case writeNodeLeader:
		writer = pickNode(nodes, true)
	case writeNodeFollower:
		writer = pickNode(nodes, false)
	}
	reader := pickNode(nodes, false)
	hc := newBenchHTTPClient(4, a.timeout)
	defer hc.CloseIdleConnections()
	if err := a.trustCA(hc); err != nil {
		return d1BenchReport{}, err
	}
	tlsCfg, _ := a.tlsConfig()
	c, err := client.New([]string{writer.endpoint}, a.token, client.WithHTTPClient(hc))
	if err != nil {
		return d1BenchReport{}, err
	}
	d1 := c.D1(acc)
	db, err := d1.Create(ctx, "edgectl-bench-"+strconv.FormatInt(time.Now().UnixNano(), 36), "")
	if err != nil {
		return d1BenchReport{}, err
	}
	if !cfg.keep {
		defer func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.timeout)
			defer cancel()
			_ = d1.Delete(dctx, db.UUID)
		}()
	}
	if _, err := d1.Raw(ctx, db.UUID, d1BenchSchema); err != nil {
		return d1BenchReport{}, err
	}
	rep := d1BenchReport{WriteEndpoint: writer.endpoint, WriteNode: writer.id, WriteRole: writer.role(len(nodes)),
		ReadEndpoint: reader.endpoint, ReadNode: reader.id, ReadRole: reader.role(len(nodes)), Nodes: len(nodes),
		Concurrency: cfg.concurrency, BatchRows: cfg.batch, ValueBytes: cfg.valueSize, PhaseSecs: cfg.duration.Seconds()}
	edge := &d1EdgeTarget{token: a.token, account: acc, db: db.UUID, timeout: a.timeout, tls: tlsCfg, all: eps, scrape: a.httpClient(),
		writeEP: writer.endpoint, readEP: reader.endpoint,
		caught: func(ctx context.Context, rows int64) error {
			return waitReplicaRows(ctx, a, reader.endpoint, acc, db.UUID, rows)
		}}
	res, err := runD1Phases(ctx, edge, cfg)
	if err != nil {
		return d1BenchReport{}, err
	}
	rep.Results = append(rep.Results, res...)
	if cfg.baseline {
		dir := cfg.dir
		if dir == "" {
			if dir, err = os.MkdirTemp("", "edgectl-bench-d1-"); err != nil {
				return d1BenchReport{}, fmt.Errorf("bench d1: %w", err)
			}
			defer os.RemoveAll(dir)
		}
		plain, err := openSQLiteTarget(dir, cfg.concurrency)
		if err != nil {
			return d1BenchReport{}, err
		}
		base, err := runD1Phases(ctx, plain, cfg)
		_ = plain.closeAll()
		if err != nil {
			return d1BenchReport{}, err
		}
		rep.Results = append(rep.Results, base...)
		for i, r := range base {
			if r.RowsPerSec > 0 {
				rep.Ratios = append(rep.Ratios, d1Ratio{Phase: r.Phase, Clients: r.Clients, Ratio: res[i].RowsPerSec / r.RowsPerSec})
			}
		}
	}
	return rep, nil
}

// waitReplicaRows waits until the replica at ep holds at least rows rows of
// the bench table, so the read phase reads rows that exist there.
func waitReplicaRows(ctx context.Context, a *app, ep, acc, db string, rows int64) error {
	c, err := client.New([]string{ep}, a.token, client.WithTimeout(a.timeout), client.WithHTTPClient(a.httpClient()))
	if err != nil {
		return err
	}
	if err := a.trustCA(a.httpClient()); err != nil {
		return err
	}
	d1 := c.D1(acc)
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := d1.Raw(ctx, db, "SELECT count(*) FROM bench")
		if err == nil && len(res) == 1 && len(res[0].Results.Rows) == 1 {
			if n, ok := toInt64(res[0].Results.Rows[0][0]); ok && n >= rows {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench d1: replica %s did not reach %d rows within 30s (last error: %v)", ep, rows, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		return int64(x), true
	case int64:
		return x, true
	case interface{ Int64() (int64, error) }:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

// printBenchD1 prints the report as tables.
func printBenchD1(a *app, rep d1BenchReport) error {
	fmt.Fprintf(a.stdout, "D1 bench: %d node(s); writes to %s (%s, %s), reads on %s (%s, %s); %d clients, batches of %d rows, %d-byte values, %gs per phase\n\n",
		rep.Nodes, rep.WriteEndpoint, rep.WriteNode, rep.WriteRole, rep.ReadEndpoint, rep.ReadNode, rep.ReadRole,
		rep.Concurrency, rep.BatchRows, rep.ValueBytes, rep.PhaseSecs)
	t := newTable(a.stdout, "TARGET", "PHASE", "CLIENTS", "REQ/S", "ROWS/S", "P50", "P99", "MAX", "REQUESTS", "ERRORS", "SRV CPU/ROW")
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) + "ms" }
	for _, r := range rep.Results {
		cpu := "-"
		if r.ServerCPUPerRowUS > 0 {
			cpu = strconv.FormatFloat(r.ServerCPUPerRowUS, 'f', 1, 64) + "us"
		}
		t.row(r.Target, r.Phase, strconv.Itoa(r.Clients), strconv.FormatFloat(r.ReqPerSec, 'f', 0, 64),
			strconv.FormatFloat(r.RowsPerSec, 'f', 0, 64), f(r.P50Ms), f(r.P99Ms), f(r.MaxMs),
			strconv.FormatUint(r.Requests, 10), strconv.FormatUint(r.Errors, 10), cpu)
	}
	if err := t.flush(); err != nil {
		return err
	}
	for _, r := range rep.Results {
		if r.FirstError != "" {
			fmt.Fprintf(a.stdout, "%s %s: first error: %s\n", r.Target, r.Phase, r.FirstError)
		}
	}
	if len(rep.Ratios) > 0 {
		fmt.Fprintln(a.stdout)
		t = newTable(a.stdout, "PHASE", "CLIENTS", "EDGEPLANE/SQLITE")
		for _, r := range rep.Ratios {
			t.row(r.Phase, strconv.Itoa(r.Clients), strconv.FormatFloat(r.Ratio, 'f', 3, 64))
		}
		return t.flush()
	}
	return nil
}
