package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// newBenchCmd is `edgectl bench`: load generators.
func newBenchCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure the cluster's throughput and latency"}
	cmd.AddCommand(newBenchKVCmd(a), newBenchD1Cmd(a), newBenchDOCmd(a))
	return cmd
}

// benchConfig holds the flags of `bench kv`.
type benchConfig struct {
	keys        int
	valueSize   int
	duration    time.Duration
	concurrency int
	replication bool
	rate        int
	sample      int
	settle      time.Duration
	redis       string
	etcd        string
	account     string
	keep        bool
}

// validate checks the flags.
func (c benchConfig) validate() error {
	switch {
	case c.keys < 1 || c.keys > 10_000_000:
		return errors.New("bench kv: --keys must be 1..10000000")
	case c.valueSize < 0 || c.valueSize > 25<<20:
		return errors.New("bench kv: --value-size must be 0..25MiB")
	case c.duration <= 0 || c.duration > 24*time.Hour:
		return errors.New("bench kv: --duration must be positive and at most 24h")
	case c.concurrency < 1 || c.concurrency > 4096:
		return errors.New("bench kv: --concurrency must be 1..4096")
	case c.rate < 1 || c.rate > 1_000_000:
		return errors.New("bench kv: --rate must be 1..1000000")
	case c.sample < 1:
		return errors.New("bench kv: --sample must be at least 1")
	}
	return nil
}

// benchReport is the output of `bench kv`.
type benchReport struct {
	Endpoint    string        `json:"endpoint"`
	Concurrency int           `json:"concurrency"`
	Keys        int           `json:"keys"`
	ValueBytes  int           `json:"value_bytes"`
	PhaseSecs   float64       `json:"phase_seconds"`
	Results     []phaseResult `json:"results"`
	Ratios      []benchRatio  `json:"ratios,omitempty"`
	Replication *replResult   `json:"replication,omitempty"`
}

// benchRatio is edgeplane's throughput over a peer's for one operation.
type benchRatio struct {
	Peer  string  `json:"peer"`
	Op    string  `json:"op"`
	Ratio float64 `json:"ratio"`
}

func newBenchKVCmd(a *app) *cobra.Command {
	var cfg benchConfig
	cmd := &cobra.Command{
		Use:   "kv",
		Short: "Benchmark KV GET/PUT throughput, latency and replication lag",
		Long: "Preload --keys keys into a scratch namespace, then run a GET and a PUT phase of --duration each " +
			"at --concurrency keep-alive HTTP/1.1 connections against the first --endpoint, and report ops/s and " +
			"p50/p99/max latency. --redis and --etcd run the same workload against those stores and print " +
			"edgeplane/peer ratios. --replication (several endpoints) writes --rate keys/s to the first endpoint " +
			"and measures when sampled keys become readable at the others.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.validate(); err != nil {
				return err
			}
			rep, err := runBenchKV(cmd.Context(), a, cfg)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return writeJSON(a.stdout, rep)
			}
			return printBench(a, rep)
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.keys, "keys", 10_000, "keys to preload and to read and write")
	f.IntVar(&cfg.valueSize, "value-size", 256, "value size in bytes")
	f.DurationVar(&cfg.duration, "duration", 10*time.Second, "length of each phase")
	f.IntVar(&cfg.concurrency, "concurrency", 64, "concurrent keep-alive connections")
	f.BoolVar(&cfg.replication, "replication", false, "measure replication lag (needs several --endpoint)")
	f.IntVar(&cfg.rate, "rate", 2000, "writes per second for --replication")
	f.IntVar(&cfg.sample, "sample", 10, "track every Nth write for --replication")
	f.DurationVar(&cfg.settle, "settle", 30*time.Second, "how long --replication waits for late keys")
	f.StringVar(&cfg.redis, "redis", "", "also bench Redis at this host:port")
	f.StringVar(&cfg.etcd, "etcd", "", "also bench etcd's v3 HTTP gateway at this URL")
	f.StringVar(&cfg.account, "account", "", "account id (default: the cluster's, from status)")
	f.BoolVar(&cfg.keep, "keep", false, "keep the scratch namespace")
	return cmd
}

// runBenchKV runs every phase asked for.
func runBenchKV(ctx context.Context, a *app, cfg benchConfig) (benchReport, error) {
	eps := client.SplitEndpoints(a.endpoints)
	if len(eps) == 0 {
		return benchReport{}, errors.New("bench kv: no --endpoint")
	}
	if cfg.replication && len(eps) < 2 {
		return benchReport{}, errors.New("bench kv: --replication needs at least two --endpoint")
	}
	for i, ep := range eps {
		n, err := client.NormalizeEndpoint(ep)
		if err != nil {
			return benchReport{}, err
		}
		eps[i] = n
	}
	hc := newBenchHTTPClient(cfg.concurrency, a.timeout)
	defer hc.CloseIdleConnections()
	if err := a.trustCA(hc); err != nil {
		return benchReport{}, err
	}
	tlsCfg, _ := a.tlsConfig()
	acc := cfg.account
	if acc == "" {
		c, err := client.New(eps[:1], a.token, client.WithHTTPClient(hc))
		if err != nil {
			return benchReport{}, err
		}
		if acc, err = c.AccountID(ctx); err != nil {
			return benchReport{}, err
		}
	}
	kv, err := newEdgeKV(eps[0], a.token, acc, hc)
	if err != nil {
		return benchReport{}, err
	}
	ns, err := kv.CreateNamespace(ctx, "edgectl-bench-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err != nil {
		return benchReport{}, err
	}
	if !cfg.keep {
		defer func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.timeout)
			defer cancel()
			_ = kv.DeleteNamespace(dctx, ns.ID)
		}()
	}
	rep := benchReport{Endpoint: eps[0], Concurrency: cfg.concurrency, Keys: cfg.keys, ValueBytes: cfg.valueSize,
		PhaseSecs: cfg.duration.Seconds()}
	edge, err := benchTargetRun(ctx, &edgeTarget{label: "edgeplane", endpoint: eps[0], token: a.token, account: acc, ns: ns.ID, timeout: a.timeout,
		scrape: a.httpClient(), tls: tlsCfg}, cfg)
	if err != nil {
		return benchReport{}, err
	}
	rep.Results = append(rep.Results, edge...)
	var peers []benchTarget
	if cfg.redis != "" {
		peers = append(peers, &redisTarget{addr: cfg.redis})
	}
	if cfg.etcd != "" {
		peers = append(peers, &etcdTarget{base: etcdBase(cfg.etcd), timeout: a.timeout})
	}
	for _, p := range peers {
		res, err := benchTargetRun(ctx, p, cfg)
		if err != nil {
			return benchReport{}, err
		}
		rep.Results = append(rep.Results, res...)
		for i, r := range res {
			if r.OpsPerSec > 0 {
				rep.Ratios = append(rep.Ratios, benchRatio{Peer: p.name(), Op: r.Op, Ratio: edge[i].OpsPerSec / r.OpsPerSec})
			}
		}
	}
	if cfg.replication {
		readers := make([]*client.KV, 0, len(eps)-1)
		for _, ep := range eps[1:] {
			r, err := newEdgeKV(ep, a.token, acc, newBenchHTTPClient(8, a.timeout))
			if err != nil {
				return benchReport{}, err
			}
			readers = append(readers, r)
		}
		value := make([]byte, cfg.valueSize)
		res := runReplication(ctx, kv, readers, eps[1:], ns.ID, cfg.rate, cfg.sample, cfg.duration, cfg.settle, value)
		rep.Replication = &res
	}
	return rep, nil
}

// printBench prints the report as tables.
func printBench(a *app, rep benchReport) error {
	fmt.Fprintf(a.stdout, "KV bench: %s, %d connections, %d keys of %d bytes, %gs per phase\n\n",
		rep.Endpoint, rep.Concurrency, rep.Keys, rep.ValueBytes, rep.PhaseSecs)
	t := newTable(a.stdout, "TARGET", "OP", "OPS/S", "P50", "P99", "MAX", "OPS", "ERRORS", "SRV CPU/OP", "SRV ALLOC/OP")
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) + "ms" }
	for _, r := range rep.Results {
		cpu, alloc := "-", "-"
		if r.Server != nil {
			cpu = strconv.FormatFloat(r.Server.CPUMicros, 'f', 1, 64) + "us"
			alloc = strconv.FormatFloat(r.Server.AllocBytes, 'f', 0, 64) + "B"
		}
		t.row(r.Target, r.Op, strconv.FormatFloat(r.OpsPerSec, 'f', 0, 64), f(r.P50Ms), f(r.P99Ms), f(r.MaxMs),
			strconv.FormatUint(r.Ops, 10), strconv.FormatUint(r.Errors, 10), cpu, alloc)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if len(rep.Ratios) > 0 {
		fmt.Fprintln(a.stdout)
		t = newTable(a.stdout, "RATIO", "OP", "EDGEPLANE/PEER")
		for _, r := range rep.Ratios {
			t.row("edgeplane/"+r.Peer, r.Op, strconv.FormatFloat(r.Ratio, 'f', 2, 64))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if r := rep.Replication; r != nil {
		fmt.Fprintf(a.stdout, "\nReplication: %d writes (%d errors) at %.0f/s (target %d/s); %s\n",
			r.Writes, r.WriteErrors, r.AchievedRate, r.TargetRate, r.Method)
		t = newTable(a.stdout, "ENDPOINT", "TRACKED", "SEEN", "LAG P50", "LAG P99", "LAG MAX")
		for _, e := range r.Endpoints {
			t.row(e.Endpoint, strconv.Itoa(e.Tracked), strconv.Itoa(e.Seen), f(e.P50Ms), f(e.P99Ms), f(e.MaxMs))
		}
		return t.flush()
	}
	return nil
}
