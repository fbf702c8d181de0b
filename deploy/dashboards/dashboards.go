// Package dashboards defines Edgeplane's Grafana dashboards as Go values
// and renders them to the JSON committed in deploy/grafana/dashboards
// (`go run ./deploy/dashboards/gen`). Tests prove the committed JSON is
// current, that every panel query is valid PromQL, and (tests/observe) that
// every query returns data from a real Prometheus scraping a real cluster,
// except the ones whose metrics are listed in NotYetExported.
package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// NotYetExported lists metrics that dashboards, alerts and `edgectl lag`
// already use but no build exports yet. Panels reading them stay empty
// until the metric exists; the live test skips them (and fails once one of
// them does return data, so this list is kept honest).
var NotYetExported = []string{
	// D1 exports its replica lag in seconds; in Raft entries it needs the
	// leader's commit index, which the service seam does not give it yet.
	"edge_d1_replica_lag_entries",
}

// OnlyOnTrouble lists metrics whose series appear only after something went
// wrong (a dropped push, a broken stream, a failed forward, a 5xx): in a
// healthy run their panels are legitimately empty, so the live test does
// not require data from them.
var OnlyOnTrouble = []string{
	"edge_kv_replication_dropped_total",
	"edge_kv_replication_stream_errors_total",
	"edge_forward_failures_total",
}

// Dashboard is one Grafana dashboard.
type Dashboard struct {
	UID         string
	Title       string
	Description string
	File        string // file name under deploy/grafana/dashboards
	Rows        []Row
}

// Row is a titled group of panels laid out left to right.
type Row struct {
	Title  string
	Panels []Panel
}

// Panel kinds.
const (
	TimeSeries = "timeseries"
	Heatmap    = "heatmap"
	Table      = "table"
	Stat       = "stat"
)

// Panel is one Grafana panel.
type Panel struct {
	Title       string
	Description string
	Kind        string
	Unit        string // Grafana unit: s, reqps, short, percentunit, ...
	Width       int    // of 24 columns; 0 is 8
	Targets     []Target
	// Matrix, for a table, pivots the result: one row per value of the
	// first label, one column per value of the second.
	Matrix [2]string
}

// Target is one PromQL query of a panel.
type Target struct {
	Expr    string
	Legend  string
	Instant bool // table panels read the latest value
	Format  string
}

// Selector is the label matcher every panel applies for the dashboard
// variables. The node and region labels are Prometheus target labels
// (deploy/prometheus/prometheus.yml sets them).
const Selector = `region=~"$region", node=~"$node"`

// sel returns name{Selector, extra}.
func sel(name string, extra ...string) string {
	m := append([]string{Selector}, extra...)
	return name + "{" + strings.Join(m, ", ") + "}"
}

// All returns every dashboard.
func All() []Dashboard {
	return []Dashboard{Cluster(), Replication(), Requests()}
}

// Cluster is membership, network and Raft.
func Cluster() Dashboard {
	return Dashboard{
		UID: "edgeplane-cluster", Title: "Edgeplane / Cluster", File: "cluster.json",
		Description: "Gossip membership by region and state, round trips between regions, Raft roles, term, indexes and voters.",
		Rows: []Row{
			{Title: "Membership", Panels: []Panel{
				{Title: "Nodes up by region", Kind: TimeSeries, Unit: "short",
					Description: "Scrape targets answering, by the region target label.",
					Targets:     []Target{{Expr: `sum by (region) (up{job="edged", region=~"$region"})`, Legend: "{{region}}"}}},
				{Title: "Members by state, as each node sees them", Kind: TimeSeries, Unit: "short",
					Description: "edge_cluster_members: gossip's member table on every node (alive, suspect, failed, left).",
					Targets:     []Target{{Expr: `sum by (region, node, state) (` + sel("edge_cluster_members") + `)`, Legend: "{{node}} ({{region}}) {{state}}"}}},
				{Title: "Members by region and state", Kind: Table, Unit: "short",
					Description: "Worst view per region: the most members any node of the region counts in each state.",
					Targets:     []Target{{Expr: `max by (region, state) (` + sel("edge_cluster_members") + `)`, Instant: true, Format: "table"}}},
			}},
			{Title: "Network", Panels: []Panel{
				{Title: "RTT matrix between regions", Kind: Table, Unit: "s", Width: 12, Matrix: [2]string{"region", "peer_region"},
					Description: "Round trip estimated from Vivaldi coordinates, from each region (rows) to each peer region (columns); recorded by edge:cluster_rtt_seconds:region_pair.",
					Targets:     []Target{{Expr: `max by (region, peer_region) (edge:cluster_rtt_seconds:region_pair{region=~"$region"})`, Instant: true, Format: "table"}}},
				{Title: "RTT between regions over time", Kind: TimeSeries, Unit: "s", Width: 12,
					Targets: []Target{{Expr: `max by (region, peer_region) (edge:cluster_rtt_seconds:region_pair{region=~"$region"})`, Legend: "{{region}} → {{peer_region}}"}}},
			}},
			{Title: "Raft", Panels: []Panel{
				{Title: "Raft role per node", Kind: Table, Unit: "short",
					Description: "edge_raft_state: the role each node reports (leader, follower, candidate, nonvoter).",
					Targets:     []Target{{Expr: sel("edge_raft_state") + ` == 1`, Instant: true, Format: "table"}}},
				{Title: "Raft term", Kind: TimeSeries, Unit: "short",
					Description: "A rising term means elections; several in minutes is leader flapping.",
					Targets:     []Target{{Expr: `max by (node) (` + sel("edge_raft_term") + `)`, Legend: "{{node}}"}}},
				{Title: "Voters and non-voters", Kind: TimeSeries, Unit: "short",
					Description: "edge_raft_servers: the Raft configuration as each node knows it; keep an odd number of voters.",
					Targets:     []Target{{Expr: `max by (suffrage) (` + sel("edge_raft_servers") + `)`, Legend: "{{suffrage}}"}}},
				{Title: "Commit and applied index", Kind: TimeSeries, Unit: "short", Width: 12,
					Targets: []Target{
						{Expr: `max by (node) (` + sel("edge_raft_commit_index") + `)`, Legend: "{{node}} commit"},
						{Expr: `max by (node) (` + sel("edge_raft_applied_index") + `)`, Legend: "{{node}} applied"},
					}},
				{Title: "Last contact with the leader", Kind: TimeSeries, Unit: "s", Width: 12,
					Targets: []Target{{Expr: `max by (node) (` + sel("edge_raft_last_contact_seconds") + `)`, Legend: "{{node}}"}}},
			}},
		},
	}
}

// Replication is KV, D1 and DO replication.
func Replication() Dashboard {
	return Dashboard{
		UID: "edgeplane-replication", Title: "Edgeplane / Replication", File: "replication.json",
		Description: "KV apply lag by source region and node against the 60 s promise, pending pushes, anti-entropy; D1 replica and DO replication lag.",
		Rows: []Row{
			{Title: "KV lag", Panels: []Panel{
				{Title: "KV replication lag (heatmap)", Kind: Heatmap, Unit: "s", Width: 24,
					Description: "Time from a remote write's HLC timestamp to its apply here, every write (edge_kv_replication_lag_seconds).",
					Targets:     []Target{{Expr: `sum by (le) (edge:kv_replication_lag_seconds_bucket:rate1m{` + Selector + `})`, Legend: "{{le}}", Format: "heatmap"}}},
				{Title: "KV lag p50 by source region and node", Kind: TimeSeries, Unit: "s", Width: 12,
					Targets: []Target{{Expr: `edge:kv_replication_lag_seconds:p50{` + Selector + `}`, Legend: "{{source_region}} → {{node}}"}}},
				{Title: "KV lag p99 by source region and node", Kind: TimeSeries, Unit: "s", Width: 12,
					Description: "The promise is 60 s; EdgeKVReplicationLagNearBudget fires at 45 s.",
					Targets:     []Target{{Expr: `edge:kv_replication_lag_seconds:p99{` + Selector + `}`, Legend: "{{source_region}} → {{node}}"}}},
			}},
			{Title: "KV push", Panels: []Panel{
				{Title: "KV writes pending per peer", Kind: TimeSeries, Unit: "short",
					Targets: []Target{{Expr: `max by (node, peer) (` + sel("edge_kv_replication_pending") + `)`, Legend: "{{node}} → {{peer}}"}}},
				{Title: "Age of the oldest unpushed KV write", Kind: TimeSeries, Unit: "s",
					Description: "Not yet exported (edge_kv_replication_oldest_pending_seconds).",
					Targets:     []Target{{Expr: `max by (node, peer) (` + sel("edge_kv_replication_oldest_pending_seconds") + `)`, Legend: "{{node}} → {{peer}}"}}},
				{Title: "KV pushes dropped and streams reopened", Kind: TimeSeries, Unit: "ops",
					Description: "Full queues drop entries (anti-entropy repairs them); broken streams are reopened. Empty while healthy.",
					Targets: []Target{
						{Expr: `sum by (node, peer) (rate(` + sel("edge_kv_replication_dropped_total") + `[$__rate_interval]))`, Legend: "{{node}} → {{peer}} dropped"},
						{Expr: `sum by (node, peer) (rate(` + sel("edge_kv_replication_stream_errors_total") + `[$__rate_interval]))`, Legend: "{{node}} → {{peer}} stream errors"},
					}},
			}},
			{Title: "KV anti-entropy", Panels: []Panel{
				{Title: "Anti-entropy rounds", Kind: TimeSeries, Unit: "ops", Width: 12,
					Targets: []Target{{Expr: `sum by (node, result) (rate(` + sel("edge_kv_antientropy_rounds_total") + `[$__rate_interval]))`, Legend: "{{node}} {{result}}"}}},
				{Title: "Keys repaired by anti-entropy", Kind: TimeSeries, Unit: "ops", Width: 12,
					Description: "Writes push replication missed; steady repairs mean pushes are being lost.",
					Targets:     []Target{{Expr: `sum by (node) (rate(` + sel("edge_kv_antientropy_repaired_keys_total") + `[$__rate_interval]))`, Legend: "{{node}}"}}},
			}},
			{Title: "D1 and Durable Objects", Panels: []Panel{
				{Title: "D1 replica lag", Kind: TimeSeries, Unit: "s",
					Description: "Not yet exported: D1 is not built (edge_d1_replica_lag_seconds).",
					Targets:     []Target{{Expr: `max by (node) (` + sel("edge_d1_replica_lag_seconds") + `)`, Legend: "{{node}}"}}},
				{Title: "D1 replica entries behind", Kind: TimeSeries, Unit: "short",
					Description: "Not yet exported: D1 is not built (edge_d1_replica_lag_entries).",
					Targets:     []Target{{Expr: `max by (node) (` + sel("edge_d1_replica_lag_entries") + `)`, Legend: "{{node}}"}}},
				{Title: "Durable Object replication lag", Kind: TimeSeries, Unit: "s",
					Description: "Per owner node and replica: age of the oldest Durable Object write the replica has not acknowledged yet; 0 when it holds every write (edge_do_replication_lag_seconds).",
					Targets:     []Target{{Expr: `max by (node) (` + sel("edge_do_replication_lag_seconds") + `)`, Legend: "{{node}}"}}},
			}},
		},
	}
}

// Requests is the public API's traffic.
func Requests() Dashboard {
	errs := `(sum by (service) (edge:http_requests:rate1m{` + Selector + `, code=~"5.."}) or sum by (service) (edge:http_requests:rate1m{` + Selector + `}) * 0)`
	return Dashboard{
		UID: "edgeplane-requests", Title: "Edgeplane / Requests", File: "requests.json",
		Description: "Public API request rate, errors and latency per service and operation; forwarded requests by reason.",
		Rows: []Row{
			{Title: "Traffic", Panels: []Panel{
				{Title: "Requests per service", Kind: TimeSeries, Unit: "reqps",
					Targets: []Target{{Expr: `sum by (service) (edge:http_requests:rate1m{` + Selector + `})`, Legend: "{{service}}"}}},
				{Title: "Requests per node", Kind: TimeSeries, Unit: "reqps",
					Targets: []Target{{Expr: `sum by (node) (edge:http_requests:rate1m{` + Selector + `})`, Legend: "{{node}}"}}},
				{Title: "Requests per service and operation", Kind: TimeSeries, Unit: "reqps",
					Targets: []Target{{Expr: `sum by (service, operation) (edge:http_requests:rate1m{` + Selector + `})`, Legend: "{{service}} {{operation}}"}}},
			}},
			{Title: "Errors", Panels: []Panel{
				{Title: "5xx per service", Kind: TimeSeries, Unit: "reqps",
					Targets: []Target{{Expr: errs, Legend: "{{service}}"}}},
				{Title: "5xx ratio per service", Kind: TimeSeries, Unit: "percentunit",
					Description: "EdgeRequestErrorRatioHigh fires above 5% for 5 minutes.",
					Targets:     []Target{{Expr: errs + ` / sum by (service) (edge:http_requests:rate1m{` + Selector + `})`, Legend: "{{service}}"}}},
				{Title: "4xx per service and operation", Kind: TimeSeries, Unit: "reqps",
					Targets: []Target{{Expr: `(sum by (service, operation) (edge:http_requests:rate1m{` + Selector + `, code=~"4.."}) or sum by (service, operation) (edge:http_requests:rate1m{` + Selector + `}) * 0)`, Legend: "{{service}} {{operation}}"}}},
			}},
			{Title: "Latency", Panels: []Panel{
				{Title: "Latency p50 per service and operation", Kind: TimeSeries, Unit: "s", Width: 12,
					Targets: []Target{{Expr: `histogram_quantile(0.5, sum by (service, operation, le) (edge:http_request_duration_seconds_bucket:rate1m{` + Selector + `}))`, Legend: "{{service}} {{operation}}"}}},
				{Title: "Latency p99 per service and operation", Kind: TimeSeries, Unit: "s", Width: 12,
					Targets: []Target{{Expr: `histogram_quantile(0.99, sum by (service, operation, le) (edge:http_request_duration_seconds_bucket:rate1m{` + Selector + `}))`, Legend: "{{service}} {{operation}}"}}},
			}},
			{Title: "Forwarding and KV", Panels: []Panel{
				{Title: "Forwarded requests by reason", Kind: TimeSeries, Unit: "reqps",
					Description: "Requests a node passed to another over gRPC (to the Raft leader, an owner, ...).",
					Targets:     []Target{{Expr: `sum by (service, reason) (rate(` + sel("edge_forwarded_requests_total") + `[$__rate_interval]))`, Legend: "{{service}} {{reason}}"}}},
				{Title: "Forward failures by cause", Kind: TimeSeries, Unit: "reqps",
					Description: "Empty while healthy.",
					Targets:     []Target{{Expr: `sum by (service, cause) (rate(` + sel("edge_forward_failures_total") + `[$__rate_interval]))`, Legend: "{{service}} {{cause}}"}}},
				{Title: "KV operations by result", Kind: TimeSeries, Unit: "ops",
					Targets: []Target{{Expr: `sum by (op, result) (rate(` + sel("edge_kv_ops_total") + `[$__rate_interval])) > 0`, Legend: "{{op}} {{result}}"}}},
			}},
		},
	}
}

// Query is one panel query with where it comes from, for tests.
type Query struct {
	Dashboard, Panel string
	Expr             string
}

// Queries lists every panel query of every dashboard.
func Queries() []Query {
	var out []Query
	for _, d := range All() {
		for _, r := range d.Rows {
			for _, p := range r.Panels {
				for _, t := range p.Targets {
					out = append(out, Query{Dashboard: d.Title, Panel: p.Title, Expr: t.Expr})
				}
			}
		}
	}
	return out
}

var metricName = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)

// Uses reports whether expr mentions any of the metric names.
func Uses(expr string, names []string) bool {
	for _, tok := range metricName.FindAllString(expr, -1) {
		if slices.Contains(names, tok) {
			return true
		}
	}
	return false
}

// Expand substitutes Grafana's variables the way a dashboard showing every
// region and node over a short range would.
func Expand(expr, rateInterval string) string {
	return strings.NewReplacer(`$region`, `.*`, `$node`, `.*`, `$__rate_interval`, rateInterval).Replace(expr)
}

// JSON renders d as Grafana dashboard JSON (schema 39), indented, with a
// trailing newline.
func JSON(d Dashboard) ([]byte, error) {
	var panels []any
	id, y := 1, 0
	for _, r := range d.Rows {
		panels = append(panels, map[string]any{
			"type": "row", "title": r.Title, "id": id, "collapsed": false,
			"gridPos": grid(24, 1, 0, y), "panels": []any{},
		})
		id++
		y++
		x, rowH := 0, 0
		for _, p := range r.Panels {
			w := p.Width
			if w == 0 {
				w = 8
			}
			h := 8
			if x+w > 24 {
				x = 0
				y += rowH
			}
			panels = append(panels, panelJSON(p, id, grid(w, h, x, y)))
			id++
			x += w
			rowH = max(rowH, h)
		}
		y += rowH
	}
	doc := map[string]any{
		"uid": d.UID, "title": d.Title, "description": d.Description,
		"tags": []string{"edgeplane"}, "timezone": "utc", "schemaVersion": 39, "version": 1,
		"editable": true, "graphTooltip": 1, "refresh": "10s",
		"time":        map[string]any{"from": "now-30m", "to": "now"},
		"annotations": map[string]any{"list": []any{}},
		"links":       []any{map[string]any{"type": "dashboards", "tags": []string{"edgeplane"}, "title": "Edgeplane", "asDropdown": true}},
		"templating":  map[string]any{"list": variables()},
		"panels":      panels,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("dashboard %s: %w", d.UID, err)
	}
	return buf.Bytes(), nil
}

var datasource = map[string]any{"type": "prometheus", "uid": "${datasource}"}

func grid(w, h, x, y int) map[string]any {
	return map[string]any{"w": w, "h": h, "x": x, "y": y}
}

func variables() []any {
	query := func(name, label, q string) map[string]any {
		return map[string]any{
			"name": name, "label": label, "type": "query", "datasource": datasource,
			"query": map[string]any{"query": q, "refId": name}, "definition": q,
			"includeAll": true, "multi": true, "allValue": ".*",
			"current": map[string]any{"text": "All", "value": "$__all"}, "refresh": 2, "sort": 1, "hide": 0,
		}
	}
	return []any{
		map[string]any{"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus", "current": map[string]any{}, "hide": 0},
		query("region", "Region", `label_values(up{job="edged"}, region)`),
		query("node", "Node", `label_values(up{job="edged", region=~"$region"}, node)`),
	}
}

func panelJSON(p Panel, id int, gridPos map[string]any) map[string]any {
	var targets []any
	for i, t := range p.Targets {
		tj := map[string]any{
			"refId": string(rune('A' + i)), "datasource": datasource, "expr": t.Expr,
			"legendFormat": t.Legend, "range": !t.Instant, "instant": t.Instant,
		}
		if t.Format != "" {
			tj["format"] = t.Format
		}
		targets = append(targets, tj)
	}
	out := map[string]any{
		"type": p.Kind, "title": p.Title, "description": p.Description, "id": id, "gridPos": gridPos,
		"datasource": datasource, "targets": targets,
		"fieldConfig": map[string]any{"defaults": map[string]any{"unit": p.Unit}, "overrides": []any{}},
	}
	switch p.Kind {
	case TimeSeries:
		out["options"] = map[string]any{
			"legend":  map[string]any{"displayMode": "table", "placement": "bottom", "showLegend": true, "calcs": []string{"lastNotNull", "max"}},
			"tooltip": map[string]any{"mode": "multi", "sort": "desc"},
		}
	case Heatmap:
		out["options"] = map[string]any{
			"calculate": false, "cellGap": 1, "color": map[string]any{"mode": "scheme", "scheme": "Oranges", "exponent": 0.5},
			"yAxis": map[string]any{"unit": p.Unit}, "rowsFrame": map[string]any{"layout": "auto"},
		}
	case Table:
		out["options"] = map[string]any{"showHeader": true}
		out["transformations"] = []any{map[string]any{"id": "organize", "options": map[string]any{
			"excludeByName": map[string]any{"Time": true, "__name__": true, "job": true, "instance": true},
		}}}
		if p.Matrix[0] != "" {
			out["transformations"] = []any{map[string]any{"id": "groupingToMatrix", "options": map[string]any{
				"rowField": p.Matrix[0], "columnField": p.Matrix[1], "valueField": "Value",
			}}}
		}
	}
	return out
}
