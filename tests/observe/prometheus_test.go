package observe

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/edgeplane/edgeplane/deploy/dashboards"
	"github.com/edgeplane/edgeplane/deploy/deploytest"
	"github.com/edgeplane/edgeplane/internal/testcluster"
)

// rateInterval stands in for Grafana's $__rate_interval: with a 1s scrape
// interval, 30s holds every sample of the load.
const rateInterval = "30s"

// pollTimeout bounds the wait for every required query to return data.
const pollTimeout = 20 * time.Second

const noPrometheus = "prometheus not found on PATH: run scripts/install-prometheus.sh (Debian's prometheus package)"

// lookPrometheus finds the prometheus binary; under CI=true a missing one
// fails the test.
func lookPrometheus(t *testing.T) (string, bool) {
	t.Helper()
	p, err := exec.LookPath("prometheus")
	if err == nil {
		return p, true
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(noPrometheus + " (CI=true: required)")
	}
	return "", false
}

func skipNoPrometheus(t *testing.T) {
	t.Helper()
	t.Skip(noPrometheus)
}

// prometheus is a running Prometheus server.
type prometheus struct {
	base string
}

// startPrometheus runs prometheus on 127.0.0.1 with the project's recording
// and alert rules, scraping every node every second with the node and
// region target labels the dashboards expect.
func startPrometheus(t *testing.T, bin string, c *testcluster.Cluster) *prometheus {
	t.Helper()
	dir := t.TempDir()
	port, err := testcluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	var targets strings.Builder
	for _, m := range c.Members() {
		fmt.Fprintf(&targets, "      - targets: [%q]\n        labels: {node: %q, region: %q}\n", m.HTTPAddr(), m.ID, m.Region)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %q
  - %q
scrape_configs:
  - job_name: edged
    static_configs:
%s`, deploytest.Path(t, "prometheus", "rules.yml"), deploytest.Path(t, "prometheus", "alerts.yml"), targets.String())
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("prometheus log:\n%s", b)
		}
	})
	p := &prometheus{base: "http://" + addr}
	c.WaitFor("prometheus ready", 20*time.Second, func() bool {
		resp, err := httpClient.Get(p.base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return p
}

// sample is one series of an instant query's result.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s sample) float() float64 {
	str, _ := s.Value[1].(string)
	v, err := strconv.ParseFloat(str, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// query runs an instant PromQL query and returns the vector's samples.
func (p *prometheus) query(ctx context.Context, q string) ([]sample, error) {
	u := p.base + "/api/v1/query?query=" + url.QueryEscape(q)
	req, _ := httpNewRequest(ctx, u)
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", q, body.Error)
	}
	if body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: result type %s, want vector", q, body.Data.ResultType)
	}
	var out []sample
	if err := json.Unmarshal(body.Data.Result, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// check is one query that must (or must not) return data.
type check struct {
	what, expr string
	wantData   bool
	optional   bool // OnlyOnTrouble: either way is fine
}

func testPrometheus(t *testing.T, p *prometheus, c *testcluster.Cluster) {
	var checks []check
	for _, q := range dashboards.Queries() {
		ck := check{what: q.Dashboard + " / " + q.Panel, expr: dashboards.Expand(q.Expr, rateInterval), wantData: true}
		switch {
		case dashboards.Uses(q.Expr, dashboards.NotYetExported):
			ck.wantData = false
		case dashboards.Uses(q.Expr, dashboards.OnlyOnTrouble):
			ck.optional = true
		}
		checks = append(checks, ck)
	}
	for _, r := range recordingRules(t) {
		checks = append(checks, check{what: "recording rule " + r, expr: r, wantData: true})
	}

	// Recording rules and rates need a few scrapes and evaluations after the
	// load: poll until every query that must return data does.
	start := time.Now()
	pollCtx, cancelPoll := context.WithTimeout(context.Background(), pollTimeout)
	defer cancelPoll()
	pending := map[int]string{}
	for i, ck := range checks {
		if ck.wantData && !ck.optional {
			pending[i] = ""
		}
	}
	for len(pending) > 0 && pollCtx.Err() == nil {
		for i := range pending {
			s, err := p.query(pollCtx, checks[i].expr)
			switch {
			case err != nil:
				pending[i] = err.Error()
			case len(s) == 0:
				pending[i] = "no data"
			default:
				delete(pending, i)
			}
		}
		if len(pending) > 0 {
			time.Sleep(500 * time.Millisecond)
		}
	}
	t.Logf("%d queries checked; polled %v for the required ones", len(checks), time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, i := range sortedInts(pending) {
		t.Errorf("%s: %s\n  query: %s", checks[i].what, pending[i], checks[i].expr)
	}
	for _, ck := range checks {
		if ck.wantData {
			if ck.optional {
				s, err := p.query(ctx, ck.expr)
				t.Logf("only on trouble: %s: %d series (err %v)", ck.what, len(s), err)
			}
			continue
		}
		s, err := p.query(ctx, ck.expr)
		if err != nil {
			t.Errorf("%s: %v", ck.what, err)
		} else if len(s) > 0 {
			t.Errorf("%s returns data although its metric is listed in dashboards.NotYetExported: remove it from the list\n  query: %s", ck.what, ck.expr)
		}
	}

	t.Run("KVLagPlausible", func(t *testing.T) { testKVLag(t, ctx, p, c) })
	t.Run("RulesHealthy", func(t *testing.T) { testRulesHealthy(t, ctx, p) })
}

// testKVLag: the p50 and p99 of KV lag exist for every node from each of
// the two other regions, are finite, above zero (the simulated latency
// shows) and well under the 60s promise.
func testKVLag(t *testing.T, ctx context.Context, p *prometheus, c *testcluster.Cluster) {
	for _, q := range []string{"edge:kv_replication_lag_seconds:p50", "edge:kv_replication_lag_seconds:p99"} {
		s, err := p.query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		want := len(c.Members()) * (len(c.Members()) - 1)
		if len(s) != want {
			t.Errorf("%s: %d series, want %d (every node from each other region): %v", q, len(s), want, s)
		}
		for _, x := range s {
			v := x.float()
			t.Logf("%s{node=%s, source_region=%s} = %.4fs", q, x.Metric["node"], x.Metric["source_region"], v)
			if x.Metric["source_region"] == x.Metric["region"] {
				t.Errorf("%s: lag from a node's own region: %v", q, x.Metric)
			}
			if math.IsNaN(v) || v <= 0 || v >= 60 {
				t.Errorf("%s{%v} = %v: want 0 < lag < 60s", q, x.Metric, v)
			}
			// Every remote write crosses the simulated one-way latency.
			if strings.HasSuffix(q, "p50") && v < oneWayLatency.Seconds()/2 {
				t.Errorf("%s{%v} = %v: below half the simulated %v latency between regions", q, x.Metric, v, oneWayLatency)
			}
		}
	}
}

// testRulesHealthy: every recording and alert rule evaluates without error.
func testRulesHealthy(t *testing.T, ctx context.Context, p *prometheus) {
	req, _ := httpNewRequest(ctx, p.base+"/api/v1/rules")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
					Type      string `json:"type"`
					State     string `json:"state"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range body.Data.Groups {
		for _, r := range g.Rules {
			n++
			if r.Health != "ok" {
				t.Errorf("rule %s (%s): health %q: %s", r.Name, g.Name, r.Health, r.LastError)
			}
			if r.Type == "alerting" && r.State == "firing" {
				t.Logf("alert %s is firing on the test cluster", r.Name)
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d rules loaded", n)
	}
}

// recordingRules lists the series rules.yml records.
func recordingRules(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(deploytest.Path(t, "prometheus", "rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Record string `yaml:"record"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				out = append(out, r.Record)
			}
		}
	}
	return out
}

func sortedInts[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}
