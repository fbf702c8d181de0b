// Package observe tests Edgeplane's observability against a running
// cluster: the metric hygiene of /metrics on busy nodes, and every Grafana
// panel query and recording rule evaluated by a real Prometheus scraping a
// three-region cluster with simulated latency between regions.
//
// The Prometheus part needs /usr/bin/prometheus (Debian's prometheus
// package; scripts/install-prometheus.sh): it is skipped without it, except
// under CI=true where it fails.
package observe

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/internal/testcluster"
	"github.com/edgeplane/edgeplane/pkg/client"
)

// oneWayLatency between every pair of regions: KV lag must reflect it.
const oneWayLatency = 20 * time.Millisecond

// loadDuration bounds the KV write load.
const loadDuration = 8 * time.Second

// TestObservability starts one three-region cluster (and a Prometheus
// scraping it every second when the binary exists), puts a bounded KV write
// load on every node, then checks the metrics.
func TestObservability(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster and a Prometheus")
	}
	start := time.Now()
	c := testcluster.Start(t, testcluster.Options{})
	c.SetLatency("us-east", "eu-west", oneWayLatency)
	c.SetLatency("us-east", "ap-south", oneWayLatency)
	c.SetLatency("eu-west", "ap-south", oneWayLatency)
	t.Logf("cluster ready in %v", time.Since(start).Round(time.Millisecond))

	var prom *prometheus
	if path, ok := lookPrometheus(t); ok {
		prom = startPrometheus(t, path, c)
	}

	stats := kvLoad(t, c)
	t.Logf("load: %d writes (%d failed) in %v, %d namespaces", stats.ok, stats.failed, loadDuration, stats.namespaces)
	if stats.ok < 100 {
		t.Fatalf("only %d writes succeeded", stats.ok)
	}

	t.Run("MetricHygiene", func(t *testing.T) { testMetricHygiene(t, c, stats) })
	t.Run("Prometheus", func(t *testing.T) {
		if prom == nil {
			skipNoPrometheus(t)
		}
		testPrometheus(t, prom, c)
	})
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

type loadStats struct {
	ok, failed int64
	namespaces int
	keys       int
	// ids are values that must never appear in a label: the account and
	// namespace ids and the key prefix of the load.
	ids []string
}

// kvLoad creates a namespace through every node (the followers forward it
// to the Raft leader), then writes distinct keys through every node for
// loadDuration, a few writers per node at a bounded rate.
func kvLoad(t *testing.T, c *testcluster.Cluster) loadStats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), loadDuration+30*time.Second)
	defer cancel()
	var st loadStats
	var nss []string
	var kvs []*client.KV
	for _, m := range c.Members() {
		cl, err := client.New([]string{m.URL()}, c.Token(), client.WithTimeout(30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		acct, err := cl.AccountID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		kv := cl.KV(acct)
		id, err := createNamespace(ctx, kv, "observe-"+m.ID)
		if err != nil {
			t.Fatalf("create namespace through %s: %v", m.ID, err)
		}
		nss = append(nss, id)
		st.ids = append(st.ids, id, acct)
		kvs = append(kvs, kv)
	}
	st.namespaces = len(nss)
	// A namespace created on one node reaches the others through Raft:
	// wait until every node knows every namespace.
	c.WaitFor("namespaces on every node", 20*time.Second, func() bool {
		for _, kv := range kvs {
			for _, ns := range nss {
				if _, err := kv.GetNamespace(ctx, ns); err != nil {
					return false
				}
			}
		}
		return true
	})

	var ok, failed, keys atomic.Int64
	deadline := time.Now().Add(loadDuration)
	var wg sync.WaitGroup
	for i, kv := range kvs {
		for w := range 3 {
			wg.Go(func() {
				tick := time.NewTicker(20 * time.Millisecond) // <= 50 writes/s per writer
				defer tick.Stop()
				for n := 0; time.Now().Before(deadline); n++ {
					<-tick.C
					key := fmt.Sprintf("node%d/w%d/key-%05d", i, w, n)
					err := kv.PutValue(ctx, nss[(i+n)%len(nss)], key, []byte("v"), client.KVPutOptions{})
					if err != nil {
						failed.Add(1)
						continue
					}
					ok.Add(1)
					keys.Add(1)
					if n%10 == 0 { // some reads, including misses, for the request panels
						_, _ = kv.GetValue(ctx, nss[(i+n)%len(nss)], key+"-missing")
					}
				}
			})
		}
	}
	wg.Wait()
	st.ok, st.failed, st.keys = ok.Load(), failed.Load(), int(keys.Load())
	st.ids = append(st.ids, "key-0")
	return st
}

// httpClient bounds every request of the checks.
var httpClient = &http.Client{Timeout: 10 * time.Second}

// httpNewRequest is a GET bound to ctx.
func httpNewRequest(ctx context.Context, u string) (*http.Request, error) {
	return http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
}

// createNamespace creates a namespace titled title, or finds it when a
// retried request already created it (slow runs under -race).
func createNamespace(ctx context.Context, kv *client.KV, title string) (string, error) {
	ns, err := kv.CreateNamespace(ctx, title)
	if err == nil {
		return ns.ID, nil
	}
	all, lerr := kv.ListAllNamespaces(ctx)
	if lerr != nil {
		return "", err
	}
	for _, n := range all {
		if n.Title == title {
			return n.ID, nil
		}
	}
	return "", err
}
