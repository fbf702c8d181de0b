package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// serverCost is what a node spent during a phase, read from its
// Prometheus counters: CPU is less noisy than throughput on a shared
// machine, so it shows whether a change made requests cheaper.
type serverCost struct {
	CPUSeconds float64
	AllocBytes float64
	GCCycles   float64
}

// sub is c minus an earlier reading.
func (c serverCost) sub(before serverCost) serverCost {
	return serverCost{
		CPUSeconds: c.CPUSeconds - before.CPUSeconds,
		AllocBytes: c.AllocBytes - before.AllocBytes,
		GCCycles:   c.GCCycles - before.GCCycles,
	}
}

// costMetrics maps the metrics scraped to the serverCost field they fill.
var costMetrics = map[string]func(*serverCost, float64){
	"process_cpu_seconds_total":     func(c *serverCost, v float64) { c.CPUSeconds = v },
	"go_memstats_alloc_bytes_total": func(c *serverCost, v float64) { c.AllocBytes = v },
	"go_gc_duration_seconds":        func(c *serverCost, v float64) { c.GCCycles = v },
}

// scrapeCost reads a node's cost counters from its /metrics.
func scrapeCost(ctx context.Context, hc *http.Client, endpoint string) (serverCost, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(endpoint, "/")+"/metrics", nil)
	if err != nil {
		return serverCost{}, fmt.Errorf("scrape %s: %w", endpoint, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return serverCost{}, fmt.Errorf("scrape %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return serverCost{}, fmt.Errorf("scrape %s: HTTP %d", endpoint, resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return serverCost{}, fmt.Errorf("scrape %s: %w", endpoint, err)
	}
	var c serverCost
	for name, set := range costMetrics {
		f, ok := fams[name]
		if !ok || len(f.GetMetric()) == 0 {
			return serverCost{}, fmt.Errorf("scrape %s: no %s", endpoint, name)
		}
		m := f.GetMetric()[0]
		switch {
		case m.GetCounter() != nil:
			set(&c, m.GetCounter().GetValue())
		case m.GetSummary() != nil:
			set(&c, float64(m.GetSummary().GetSampleCount()))
		case m.GetUntyped() != nil:
			set(&c, m.GetUntyped().GetValue())
		case m.GetGauge() != nil:
			set(&c, m.GetGauge().GetValue())
		}
	}
	return c, nil
}
