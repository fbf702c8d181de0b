package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// Metric names `edgectl lag` reads. The D1 and Durable Object ones are not
// exported yet (those services are not built): their columns print "-"
// (null in JSON) until a node exports them under these names.
const (
	metricKVLag          = "edge_kv_replication_lag_seconds"
	metricKVPending      = "edge_kv_replication_pending"
	metricD1LagSeconds   = "edge_d1_replica_lag_seconds"
	metricD1LagEntries   = "edge_d1_replica_lag_entries"
	metricDOLagSeconds   = "edge_do_replication_lag_seconds"
	metricHTTPRequests   = "edge_http_requests_total"
	maxMetricsBody       = 32 << 20
	defaultWatchInterval = 2 * time.Second
)

// newLagCmd is `edgectl lag`: replication lag per node and service, read
// from every node's /metrics.
func newLagCmd(a *app) *cobra.Command {
	var watch bool
	var interval, window time.Duration
	cmd := &cobra.Command{
		Use:   "lag",
		Short: "Show replication lag per node and service",
		Long: "Show replication lag per node and service, read from every cluster member's /metrics " +
			"(members come from the endpoint's GET /client/v4/cluster/members): KV apply lag p50/p99 " +
			"by source region (edge_kv_replication_lag_seconds), KV writes pending per peer " +
			"(edge_kv_replication_pending), D1 replica entries and seconds behind, Durable Object " +
			"replication lag (\"-\" while a node does not export them).\n\n" +
			"Without --window the quantiles cover every write since each node started; with --window D " +
			"(and on every --watch refresh after the first) they cover only the writes applied in that span.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if interval <= 0 {
				return fmt.Errorf("invalid --interval %v: must be positive", interval)
			}
			if window < 0 {
				return fmt.Errorf("invalid --window %v: must not be negative", window)
			}
			return runLag(cmd.Context(), a, watch, interval, window)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&watch, "watch", "w", false, "refresh every --interval until interrupted")
	f.DurationVar(&interval, "interval", defaultWatchInterval, "refresh interval with --watch")
	f.DurationVar(&window, "window", 0, "scrape twice this far apart and report the lag of writes applied in between (0: since start)")
	return cmd
}

// lagReport is the JSON form of `edgectl lag`.
type lagReport struct {
	Time  time.Time `json:"time"`
	Nodes []nodeLag `json:"nodes"`
}

// nodeLag is one node's replication state. Nil fields were not exported by
// the node (or it could not be scraped: then Error says why).
type nodeLag struct {
	Node   string `json:"node"`
	Region string `json:"region"`
	URL    string `json:"url"`
	Error  string `json:"error,omitempty"`
	// KV is the apply lag of remote KV writes on this node, by source region.
	KV []kvSourceLag `json:"kv"`
	// KVPending is the KV writes queued or unacknowledged per peer.
	KVPending map[string]float64 `json:"kv_pending"`
	// D1BehindEntries and D1BehindSeconds: how far this node's D1 replicas
	// trail the leader (worst database).
	D1BehindEntries *float64 `json:"d1_behind_entries"`
	D1BehindSeconds *float64 `json:"d1_behind_seconds"`
	// DOLagSeconds is the worst Durable Object replication lag.
	DOLagSeconds *float64 `json:"do_lag_seconds"`
}

// kvSourceLag is the KV lag of writes from one source region.
type kvSourceLag struct {
	SourceRegion string   `json:"source_region"`
	Writes       float64  `json:"writes"`
	P50Seconds   *float64 `json:"p50_seconds"`
	P99Seconds   *float64 `json:"p99_seconds"`
}

func runLag(ctx context.Context, a *app, watch bool, interval, window time.Duration) error {
	var prev map[string]scrape
	if window > 0 {
		first, err := scrapeCluster(ctx, a)
		if err != nil {
			return err
		}
		prev = first
		if err := sleepCtx(ctx, window); err != nil {
			return err
		}
	}
	for {
		cur, err := scrapeCluster(ctx, a)
		if err != nil {
			return err
		}
		rep := buildLagReport(cur, prev, time.Now())
		if watch && !a.jsonOutput() {
			fmt.Fprint(a.stdout, "\033[H\033[2J")
		}
		if err := printLag(a, rep); err != nil {
			return err
		}
		if !watch {
			return nil
		}
		prev = cur
		if err := sleepCtx(ctx, interval); err != nil {
			return nil // interrupted: a normal end of --watch
		}
	}
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// scrape is one node's /metrics at one time.
type scrape struct {
	member   wire.Member
	url      string
	at       time.Time
	families map[string]*dto.MetricFamily
	err      error
}

// scrapeCluster lists the members through the endpoint and reads every
// member's /metrics in parallel. It fails only when the members cannot be
// listed; a node that cannot be scraped carries its error.
func scrapeCluster(ctx context.Context, a *app) (map[string]scrape, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	lctx, cancel := a.withTimeout(ctx)
	members, err := c.Members(lctx)
	cancel()
	if err != nil {
		return nil, err
	}
	if len(members) == 0 {
		return nil, errNoMembers
	}
	scheme := "http"
	if u, err := url.Parse(c.Endpoint()); err == nil && u.Scheme != "" {
		scheme = u.Scheme
	}
	hc := a.httpClient()
	out := make(map[string]scrape, len(members))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range members {
		wg.Go(func() {
			s := scrape{member: m, url: metricsURL(scheme, m.HTTPAddr)}
			s.families, s.err = fetchMetrics(ctx, hc, s.url)
			s.at = time.Now()
			mu.Lock()
			out[m.ID] = s
			mu.Unlock()
		})
	}
	wg.Wait()
	return out, nil
}

// metricsURL is the /metrics URL of a member's HTTP address.
func metricsURL(scheme, httpAddr string) string {
	if strings.Contains(httpAddr, "://") {
		return strings.TrimSuffix(httpAddr, "/") + "/metrics"
	}
	return scheme + "://" + httpAddr + "/metrics"
}

// fetchMetrics GETs and parses a Prometheus text exposition.
func fetchMetrics(ctx context.Context, hc *http.Client, u string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return parseMetrics(io.LimitReader(resp.Body, maxMetricsBody))
}

// parseMetrics parses the Prometheus text format.
func parseMetrics(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	return fams, nil
}

// label returns the value of label name on m, "" when absent.
func label(m *dto.Metric, name string) string {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}

// bucketCounts is a cumulative histogram: upper bounds and counts.
type bucketCounts struct {
	bounds []float64
	counts []float64
	count  float64
}

// histogramsBy sums the histogram family's series by one label.
func histogramsBy(fam *dto.MetricFamily, by string) map[string]*bucketCounts {
	out := map[string]*bucketCounts{}
	if fam == nil {
		return out
	}
	for _, m := range fam.GetMetric() {
		h := m.GetHistogram()
		if h == nil {
			continue
		}
		k := label(m, by)
		b := out[k]
		if b == nil {
			b = &bucketCounts{}
			for _, bk := range h.GetBucket() {
				b.bounds = append(b.bounds, bk.GetUpperBound())
			}
			b.counts = make([]float64, len(b.bounds))
			out[k] = b
		}
		for i, bk := range h.GetBucket() {
			if i < len(b.counts) && bk.GetUpperBound() == b.bounds[i] {
				b.counts[i] += float64(bk.GetCumulativeCount())
			}
		}
		b.count += float64(h.GetSampleCount())
	}
	return out
}

// minus is b - prev (the observations in between); prev nil returns b.
// A counter reset (fewer observations than before) returns b as is.
func (b *bucketCounts) minus(prev *bucketCounts) *bucketCounts {
	if prev == nil || prev.count > b.count || !slices.Equal(prev.bounds, b.bounds) {
		return b
	}
	d := &bucketCounts{bounds: b.bounds, counts: make([]float64, len(b.counts)), count: b.count - prev.count}
	for i := range b.counts {
		d.counts[i] = b.counts[i] - prev.counts[i]
	}
	return d
}

// quantile estimates quantile q by linear interpolation inside the bucket
// that holds it, as PromQL's histogram_quantile does: the lowest bucket
// starts at 0, and a quantile in the +Inf bucket is the highest finite
// bound. ok is false without observations.
func (b *bucketCounts) quantile(q float64) (v float64, ok bool) {
	if b == nil || b.count == 0 {
		return 0, false
	}
	rank := q * b.count
	lower, below := 0.0, 0.0
	for i, ub := range b.bounds {
		c := b.counts[i]
		if c >= rank {
			if math.IsInf(ub, 1) {
				return lower, true
			}
			if c == below {
				return ub, true
			}
			return lower + (ub-lower)*(rank-below)/(c-below), true
		}
		lower, below = ub, c
	}
	// Every observation above the last finite bound (no +Inf bucket listed).
	return lower, true
}

// gaugesBy returns the family's gauge (or untyped/counter) values by one
// label; by "" keys every series under "".
func gaugesBy(fam *dto.MetricFamily, by string) map[string]float64 {
	out := map[string]float64{}
	if fam == nil {
		return out
	}
	for _, m := range fam.GetMetric() {
		var v float64
		switch {
		case m.Gauge != nil:
			v = m.GetGauge().GetValue()
		case m.Untyped != nil:
			v = m.GetUntyped().GetValue()
		case m.Counter != nil:
			v = m.GetCounter().GetValue()
		default:
			continue
		}
		out[label(m, by)] += v
	}
	return out
}

// maxGauge is the largest value of a gauge family, nil when it is absent.
func maxGauge(fam *dto.MetricFamily) *float64 {
	vals := gaugesByEach(fam)
	if len(vals) == 0 {
		return nil
	}
	m := slices.Max(vals)
	return &m
}

// gaugesByEach lists every series' value of a gauge family.
func gaugesByEach(fam *dto.MetricFamily) []float64 {
	if fam == nil {
		return nil
	}
	var out []float64
	for _, m := range fam.GetMetric() {
		switch {
		case m.Gauge != nil:
			out = append(out, m.GetGauge().GetValue())
		case m.Untyped != nil:
			out = append(out, m.GetUntyped().GetValue())
		}
	}
	return out
}

// buildLagReport turns the scrapes into the report; with prev, KV quantiles
// cover only the writes applied since prev.
func buildLagReport(cur, prev map[string]scrape, now time.Time) lagReport {
	rep := lagReport{Time: now.UTC(), Nodes: []nodeLag{}}
	for _, id := range sortedKeys(cur) {
		s := cur[id]
		n := nodeLag{Node: id, Region: s.member.Region, URL: s.url, KV: []kvSourceLag{}, KVPending: map[string]float64{}}
		if s.err != nil {
			n.Error = oneLine(s.err.Error())
			rep.Nodes = append(rep.Nodes, n)
			continue
		}
		hs := histogramsBy(s.families[metricKVLag], "source_region")
		var before map[string]*bucketCounts
		if p, ok := prev[id]; ok && p.err == nil {
			before = histogramsBy(p.families[metricKVLag], "source_region")
		}
		for _, region := range sortedKeys(hs) {
			h := hs[region].minus(before[region])
			l := kvSourceLag{SourceRegion: region, Writes: h.count}
			if v, ok := h.quantile(0.5); ok {
				l.P50Seconds = &v
			}
			if v, ok := h.quantile(0.99); ok {
				l.P99Seconds = &v
			}
			n.KV = append(n.KV, l)
		}
		n.KVPending = gaugesBy(s.families[metricKVPending], "peer")
		n.D1BehindEntries = maxGauge(s.families[metricD1LagEntries])
		n.D1BehindSeconds = maxGauge(s.families[metricD1LagSeconds])
		n.DOLagSeconds = maxGauge(s.families[metricDOLagSeconds])
		rep.Nodes = append(rep.Nodes, n)
	}
	return rep
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// printLag prints the report: JSON, or one row per node with a p99 column
// per source region.
func printLag(a *app, rep lagReport) error {
	if a.jsonOutput() {
		return writeJSON(a.stdout, rep)
	}
	var regions []string
	for _, n := range rep.Nodes {
		for _, l := range n.KV {
			if !slices.Contains(regions, l.SourceRegion) {
				regions = append(regions, l.SourceRegion)
			}
		}
	}
	sort.Strings(regions)
	header := []string{"NODE", "REGION"}
	for _, r := range regions {
		header = append(header, "KV P99<-"+orDash(r))
	}
	header = append(header, "KV PENDING", "D1 BEHIND", "D1 LAG", "DO LAG")
	t := newTable(a.stdout, header...)
	var errs []error
	for _, n := range rep.Nodes {
		row := []string{n.Node, orDash(n.Region)}
		if n.Error != "" {
			for range len(header) - 2 {
				row = append(row, "?")
			}
			t.row(row...)
			errs = append(errs, fmt.Errorf("%s: %s", n.Node, n.Error))
			continue
		}
		for _, r := range regions {
			cell := "-"
			for _, l := range n.KV {
				if l.SourceRegion == r && l.P99Seconds != nil {
					cell = fmtSeconds(*l.P99Seconds)
				}
			}
			row = append(row, cell)
		}
		row = append(row, fmtPending(n.KVPending), fmtFloatPtr(n.D1BehindEntries), fmtSecondsPtr(n.D1BehindSeconds),
			fmtSecondsPtr(n.DOLagSeconds))
		t.row(row...)
	}
	if err := t.flush(); err != nil {
		return err
	}
	for _, err := range errs {
		fmt.Fprintf(a.stderr, "edgectl: scrape %v\n", err)
	}
	return nil
}

// fmtSeconds renders a duration in seconds compactly: 850µs, 42.1ms, 1.50s.
func fmtSeconds(s float64) string {
	switch {
	case s < 0.001:
		return strconv.FormatFloat(s*1e6, 'f', 0, 64) + "µs"
	case s < 1:
		return strconv.FormatFloat(s*1e3, 'f', 1, 64) + "ms"
	default:
		return strconv.FormatFloat(s, 'f', 2, 64) + "s"
	}
}

func fmtSecondsPtr(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmtSeconds(*v)
}

func fmtFloatPtr(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

// fmtPending renders pending writes per peer: total, then peer=n for the
// peers with any ("0" when nothing is pending, "-" when not exported).
func fmtPending(p map[string]float64) string {
	if len(p) == 0 {
		return "-"
	}
	total := 0.0
	var parts []string
	for _, peer := range sortedKeys(p) {
		total += p[peer]
		if p[peer] > 0 {
			parts = append(parts, peer+"="+strconv.FormatFloat(p[peer], 'f', -1, 64))
		}
	}
	s := strconv.FormatFloat(total, 'f', -1, 64)
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ",") + ")"
	}
	return s
}

// errNoMembers is returned when the endpoint lists no member to scrape.
var errNoMembers = errors.New("the endpoint lists no cluster members")
