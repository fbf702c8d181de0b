package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestScrapeCost reads the three cost counters from a Prometheus text
// page, and refuses a page that lacks one.
func TestScrapeCost(t *testing.T) {
	page := `# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.5
# TYPE go_memstats_alloc_bytes_total counter
go_memstats_alloc_bytes_total 4096
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0.5"} 0.0001
go_gc_duration_seconds_sum 0.01
go_gc_duration_seconds_count 7
`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(page))
	}))
	defer srv.Close()
	c, err := scrapeCost(t.Context(), srv.Client(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if c != (serverCost{CPUSeconds: 12.5, AllocBytes: 4096, GCCycles: 7}) {
		t.Fatalf("cost = %+v", c)
	}
	if d := (serverCost{CPUSeconds: 13, AllocBytes: 5096, GCCycles: 9}).sub(c); d != (serverCost{0.5, 1000, 2}) {
		t.Fatalf("sub = %+v", d)
	}
	if _, err := scrapeCost(t.Context(), srv.Client(), srv.URL+"/nothing"); err == nil {
		t.Fatal("a 404 page was read as metrics")
	}
	short := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.SplitN(page, "# TYPE go_gc", 2)[0]))
	}))
	defer short.Close()
	if _, err := scrapeCost(t.Context(), short.Client(), short.URL); err == nil || !strings.Contains(err.Error(), "go_gc_duration_seconds") {
		t.Fatalf("page without the GC summary: %v", err)
	}
}
