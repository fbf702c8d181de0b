package objstore

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// newDiskCluster is newCluster with stores on the real disk (fsync costs
// what it costs on this machine).
func newDiskCluster(b *testing.B, ids ...string) *tcluster {
	c := &tcluster{t: b, addrs: map[string]string{}, nodes: map[string]*tnode{}}
	for _, id := range ids {
		dir := b.TempDir()
		c.startDir(id, dir)
	}
	b.Cleanup(func() {
		for _, id := range ids {
			c.stop(id)
		}
	})
	return c
}

// startDir starts node id with its store in dir on the OS file system.
func (c *tcluster) startDir(id, dir string) {
	c.t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	c.startFS(id, dir, vfs.Default)
}

// BenchmarkCommit3Replicas measures Commit with 3 replicas on loopback
// gRPC and stores on the real disk: one small put per commit. It reports
// p50 and p99 latency of one writer, and with -cpu style parallelism
// (b.SetParallelism) the throughput of many objects committing at once.
func BenchmarkCommit3Replicas(b *testing.B) {
	ids := []string{"a", "b", "c"}
	c := newDiskCluster(b, ids...)
	b.Run("serial", func(b *testing.B) {
		o := c.mustOpen("a", objID(100), ids...)
		defer o.Close()
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			start := time.Now()
			if err := commit(o, put(fmt.Sprintf("k%d", i%1000), "value-of-some-bytes")); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		b.StopTimer()
		reportLatency(b, lat)
	})
	b.Run("64objects", func(b *testing.B) {
		const objects = 64
		objs := make([]*Object, objects)
		for i := range objs {
			objs[i] = c.mustOpen("a", objID(200+i), ids...)
			defer objs[i].Close()
		}
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		b.ResetTimer()
		start := time.Now()
		for w := range objects {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for i := w; i < b.N; i += objects {
					s := time.Now()
					if err := commit(objs[w], put(fmt.Sprintf("k%d", i%1000), "value-of-some-bytes")); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(s))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		reportLatency(b, lat)
		b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "commits/s")
	})
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
