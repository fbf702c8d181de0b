package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/spf13/cobra"
)

// metricHTTPDuration is the request latency histogram `edgectl top` reads.
const metricHTTPDuration = "edge_http_request_duration_seconds"

// newTopCmd is `edgectl top`: live request rates and errors per node and
// service, from the deltas of edge_http_requests_total between two scrapes
// of every member's /metrics.
func newTopCmd(a *app) *cobra.Command {
	var watch bool
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "top",
		Short: "Show live request rates and errors per node and service",
		Long: "Scrape every cluster member's /metrics twice, --interval apart, and show per node and " +
			"service the request rate, the 4xx and 5xx rates, the error ratio (5xx) and the latency p99 " +
			"of the requests answered in between (edge_http_requests_total, " +
			"edge_http_request_duration_seconds). --watch keeps refreshing.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if interval <= 0 {
				return fmt.Errorf("invalid --interval %v: must be positive", interval)
			}
			return runTop(cmd.Context(), a, watch, interval)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&watch, "watch", "w", false, "refresh every --interval until interrupted")
	f.DurationVar(&interval, "interval", defaultWatchInterval, "time between the two scrapes (and between refreshes)")
	return cmd
}

// topReport is the JSON form of `edgectl top`.
type topReport struct {
	Time            time.Time `json:"time"`
	IntervalSeconds float64   `json:"interval_seconds"`
	Rows            []topRow  `json:"rows"`
	Errors          []string  `json:"errors,omitempty"`
}

// topRow is one node and service over the interval.
type topRow struct {
	Node          string   `json:"node"`
	Region        string   `json:"region"`
	Service       string   `json:"service"`
	RequestsPerS  float64  `json:"requests_per_second"`
	ClientErrPerS float64  `json:"client_errors_per_second"`
	ServerErrPerS float64  `json:"server_errors_per_second"`
	ErrorRatio    float64  `json:"error_ratio"`
	P99Seconds    *float64 `json:"p99_seconds"`
}

func runTop(ctx context.Context, a *app, watch bool, interval time.Duration) error {
	prev, err := scrapeCluster(ctx, a)
	if err != nil {
		return err
	}
	for {
		if err := sleepCtx(ctx, interval); err != nil {
			if watch {
				return nil
			}
			return err
		}
		cur, err := scrapeCluster(ctx, a)
		if err != nil {
			return err
		}
		rep := buildTopReport(prev, cur, time.Now())
		if watch && !a.jsonOutput() {
			fmt.Fprint(a.stdout, "\033[H\033[2J")
		}
		if err := printTop(a, rep); err != nil {
			return err
		}
		if !watch {
			return nil
		}
		prev = cur
	}
}

// requestCounts sums edge_http_requests_total by service and status class.
type requestCounts struct{ total, c4xx, c5xx float64 }

func countsByService(fam *dto.MetricFamily) map[string]requestCounts {
	out := map[string]requestCounts{}
	if fam == nil {
		return out
	}
	for _, m := range fam.GetMetric() {
		if m.Counter == nil {
			continue
		}
		v := m.GetCounter().GetValue()
		svc := label(m, "service")
		rc := out[svc]
		rc.total += v
		if code := label(m, "code"); len(code) == 3 {
			switch code[0] {
			case '4':
				rc.c4xx += v
			case '5':
				rc.c5xx += v
			}
		}
		out[svc] = rc
	}
	return out
}

// buildTopReport computes the rates between two scrapes of each node.
func buildTopReport(prev, cur map[string]scrape, now time.Time) topReport {
	rep := topReport{Time: now.UTC(), Rows: []topRow{}}
	for _, id := range sortedKeys(cur) {
		c := cur[id]
		p, ok := prev[id]
		switch {
		case c.err != nil:
			rep.Errors = append(rep.Errors, fmt.Sprintf("%s: %s", id, oneLine(c.err.Error())))
			continue
		case !ok || p.err != nil:
			continue // no earlier scrape to compare with: next refresh
		}
		secs := c.at.Sub(p.at).Seconds()
		if secs <= 0 {
			continue
		}
		if rep.IntervalSeconds == 0 {
			rep.IntervalSeconds = secs
		}
		before, after := countsByService(p.families[metricHTTPRequests]), countsByService(c.families[metricHTTPRequests])
		hb, ha := histogramsBy(p.families[metricHTTPDuration], "service"), histogramsBy(c.families[metricHTTPDuration], "service")
		for _, svc := range sortedKeys(after) {
			b, a := before[svc], after[svc]
			if a.total < b.total { // restarted in between
				b = requestCounts{}
			}
			row := topRow{Node: id, Region: c.member.Region, Service: svc,
				RequestsPerS:  (a.total - b.total) / secs,
				ClientErrPerS: (a.c4xx - b.c4xx) / secs,
				ServerErrPerS: (a.c5xx - b.c5xx) / secs,
			}
			if row.RequestsPerS > 0 {
				row.ErrorRatio = row.ServerErrPerS / row.RequestsPerS
			}
			if h := ha[svc]; h != nil {
				if v, ok := h.minus(hb[svc]).quantile(0.99); ok {
					row.P99Seconds = &v
				}
			}
			rep.Rows = append(rep.Rows, row)
		}
	}
	sort.SliceStable(rep.Rows, func(i, j int) bool {
		if rep.Rows[i].Node != rep.Rows[j].Node {
			return rep.Rows[i].Node < rep.Rows[j].Node
		}
		return rep.Rows[i].Service < rep.Rows[j].Service
	})
	return rep
}

// printTop prints the report as JSON or as a table.
func printTop(a *app, rep topReport) error {
	if a.jsonOutput() {
		return writeJSON(a.stdout, rep)
	}
	rate := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	t := newTable(a.stdout, "NODE", "REGION", "SERVICE", "REQ/S", "4XX/S", "5XX/S", "ERR%", "P99")
	for _, r := range rep.Rows {
		t.row(r.Node, orDash(r.Region), orDash(r.Service), rate(r.RequestsPerS), rate(r.ClientErrPerS),
			rate(r.ServerErrPerS), strconv.FormatFloat(100*r.ErrorRatio, 'f', 2, 64), fmtSecondsPtr(r.P99Seconds))
	}
	if err := t.flush(); err != nil {
		return err
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(a.stderr, "edgectl: scrape %s\n", e)
	}
	return nil
}
