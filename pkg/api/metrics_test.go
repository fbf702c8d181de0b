package api

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetricsLabels(t *testing.T) {
	env := newEnv(t, nil)
	env.srv.Mount("GET /client/v4/accounts/{account_id}/storage/kv/namespaces", "kv", 0,
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { WriteResult(w, http.StatusOK, nil, nil) }))
	for _, acc := range []string{"a1", "a2", "a3"} {
		result(t, env.get("/client/v4/accounts/"+acc+"/storage/kv/namespaces"), nil)
	}
	env.get("/nope")
	env.serve(request(http.MethodGet, "/client/v4/cluster/members", "bad", nil))

	counts := map[string]float64{}
	durations := map[string]uint64{}
	mfs, err := env.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var key []string
			for _, l := range m.GetLabel() {
				key = append(key, l.GetName()+"="+l.GetValue())
			}
			k := strings.Join(key, ",")
			switch mf.GetName() {
			case "edge_http_requests_total":
				counts[k] = m.GetCounter().GetValue()
			case "edge_http_request_duration_seconds":
				durations[k] = m.GetHistogram().GetSampleCount()
			}
		}
	}
	want := map[string]float64{
		"code=200,operation=GET /client/v4/accounts/{account_id}/storage/kv/namespaces,service=kv": 3,
		"code=401,operation=GET /client/v4/cluster/members,service=cluster":                        1,
		"code=404,operation=unmatched,service=api":                                                 1,
	}
	if len(counts) != len(want) {
		t.Fatalf("request series = %v, want %v", counts, want)
	}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("requests{%s} = %v, want %v", k, counts[k], v)
		}
		if durations[k] != uint64(v) {
			t.Errorf("duration{%s} count = %v, want %v", k, durations[k], v)
		}
	}
}

func TestMetricsEndpoint(t *testing.T) {
	env := newEnv(t, nil)
	env.get("/client/v4/cluster/status")
	w := env.serve(request(http.MethodGet, "/metrics", "", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d", w.Code)
	}
	body, _ := io.ReadAll(w.Body)
	for _, s := range []string{
		`edge_http_requests_total{code="200",operation="GET /client/v4/cluster/status",service="cluster"} 1`,
		`edge_http_request_duration_seconds_bucket{code="200",operation="GET /client/v4/cluster/status",service="cluster",le="0.001"}`,
	} {
		if !strings.Contains(string(body), s) {
			t.Errorf("/metrics lacks %s", s)
		}
	}
}

func TestMetricsReuseRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := Config{NodeID: testNode}
	if _, err := New(cfg, &fakeCluster{}, &fakeIdentity{}, reg, reg, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, &fakeCluster{}, &fakeIdentity{}, reg, reg, nil); err != nil {
		t.Fatalf("second New on the same registry: %v", err)
	}
	// A different collector under the same name is a real conflict.
	reg2 := prometheus.NewRegistry()
	reg2.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "edge_http_requests_total", Help: "x"}))
	if _, err := New(cfg, &fakeCluster{}, &fakeIdentity{}, reg2, reg2, nil); err == nil {
		t.Fatal("New accepted a conflicting collector")
	}
}
