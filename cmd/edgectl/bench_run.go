package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// maxOpsPerWorker bounds each worker's loop besides the phase's duration.
const maxOpsPerWorker = 50_000_000

// benchConn is one worker's connection to a store under test.
type benchConn interface {
	put(ctx context.Context, key string, value []byte) error
	get(ctx context.Context, key string) error
	close() error
}

// benchTarget is a store under test: edgeplane, Redis or etcd.
type benchTarget interface {
	name() string
	open(ctx context.Context) (benchConn, error)
}

// costReader is a target that reports what the server spent (edged,
// through /metrics).
type costReader interface {
	cost(ctx context.Context) (serverCost, error)
}

// phaseResult is the outcome of one phase (GET or PUT) on one target.
type phaseResult struct {
	Target    string  `json:"target"`
	Op        string  `json:"op"`
	Ops       uint64  `json:"ops"`
	Errors    uint64  `json:"errors"`
	Seconds   float64 `json:"seconds"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	// Server is what the server spent per operation, when it reports it.
	Server *phaseCost `json:"server,omitempty"`
}

// phaseCost is the server's CPU, allocation and GC per operation of a phase.
type phaseCost struct {
	CPUMicros  float64 `json:"cpu_us_per_op"`
	AllocBytes float64 `json:"alloc_bytes_per_op"`
	GCCycles   float64 `json:"gc_cycles"`
}

// benchKey names key i of the workload.
func benchKey(i int) string { return fmt.Sprintf("bench/%08d", i) }

// openConns opens n connections to t.
func openConns(ctx context.Context, t benchTarget, n int) ([]benchConn, error) {
	conns := make([]benchConn, 0, n)
	for i := 0; i < n; i++ {
		c, err := t.open(ctx)
		if err != nil {
			closeConns(conns)
			return nil, fmt.Errorf("%s: connect: %w", t.name(), err)
		}
		conns = append(conns, c)
	}
	return conns, nil
}

// closeConns closes every connection.
func closeConns(conns []benchConn) {
	for _, c := range conns {
		_ = c.close()
	}
}

// preload writes keys 0..keys-1 with value, spread over the connections.
func preload(ctx context.Context, conns []benchConn, keys int, value []byte) error {
	var wg sync.WaitGroup
	errs := make([]error, len(conns))
	for w, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < keys; i += len(conns) {
				if err := c.put(ctx, benchKey(i), value); err != nil {
					errs[w] = fmt.Errorf("preload %s: %w", benchKey(i), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// runPhase runs op ("GET" or "PUT") on random keys of 0..keys-1 on every
// connection at once for d, and measures it.
func runPhase(ctx context.Context, target string, conns []benchConn, op string, keys int, value []byte, d time.Duration) phaseResult {
	hists := make([]latencyHist, len(conns))
	errCounts := make([]uint64, len(conns))
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
				key := benchKey(r.IntN(keys))
				t0 := time.Now()
				if t0.After(deadline) {
					return
				}
				var err error
				if op == "PUT" {
					err = c.put(ctx, key, value)
				} else {
					err = c.get(ctx, key)
				}
				if err != nil {
					errCounts[w]++
					continue
				}
				h.record(time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all latencyHist
	res := phaseResult{Target: target, Op: op, Seconds: elapsed.Seconds()}
	for w := range hists {
		all.merge(&hists[w])
		res.Errors += errCounts[w]
	}
	res.Ops = all.n
	res.OpsPerSec = float64(all.n) / elapsed.Seconds()
	res.P50Ms = ms(all.quantile(0.50))
	res.P99Ms = ms(all.quantile(0.99))
	res.MaxMs = ms(all.max)
	return res
}

// ms renders a duration in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchTargetRun preloads a target and runs its GET then PUT phases.
func benchTargetRun(ctx context.Context, t benchTarget, cfg benchConfig) ([]phaseResult, error) {
	conns, err := openConns(ctx, t, cfg.concurrency)
	if err != nil {
		return nil, err
	}
	defer closeConns(conns)
	value := make([]byte, cfg.valueSize)
	for i := range value {
		value[i] = 'a' + byte(i%26)
	}
	if err := preload(ctx, conns, cfg.keys, value); err != nil {
		return nil, fmt.Errorf("%s: %w", t.name(), err)
	}
	get := measuredPhase(ctx, t, conns, "GET", cfg, value)
	put := measuredPhase(ctx, t, conns, "PUT", cfg, value)
	return []phaseResult{get, put}, nil
}

// measuredPhase is runPhase with the server's cost read around it, when
// the target reports it. A failed reading leaves the cost out.
func measuredPhase(ctx context.Context, t benchTarget, conns []benchConn, op string, cfg benchConfig, value []byte) phaseResult {
	cr, ok := t.(costReader)
	var before serverCost
	var err error
	if ok {
		before, err = cr.cost(ctx)
	}
	res := runPhase(ctx, t.name(), conns, op, cfg.keys, value, cfg.duration)
	if !ok || err != nil || res.Ops == 0 {
		return res
	}
	after, err := cr.cost(ctx)
	if err != nil {
		return res
	}
	d := after.sub(before)
	n := float64(res.Ops)
	res.Server = &phaseCost{CPUMicros: d.CPUSeconds * 1e6 / n, AllocBytes: d.AllocBytes / n, GCCycles: d.GCCycles}
	return res
}
