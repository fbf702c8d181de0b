package kv

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/hlc"
	"github.com/edgeplane/edgeplane/pkg/storage"
)

// BenchmarkApplyParallel measures durable single-entry Applies from many
// goroutines (b.SetParallelism scales them: 32 per GOMAXPROCS). It reports
// ops/s and writes per WAL fsync, which stays far above 1 when group
// commit works.
//
//	go test -run '^$' -bench ApplyParallel -benchtime 20000x ./pkg/kv/
func BenchmarkApplyParallel(b *testing.B) {
	s, err := OpenStore(StoreConfig{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	value := make([]byte, 100)
	var seq atomic.Int64
	b.SetParallelism(32)
	syncs0 := storage.WALSyncs(s.db)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			e := Entry{Namespace: "bench", Key: fmt.Sprintf("key-%d", n%100_000), Value: value,
				Version: Version{HLC: hlc.New(n, 0), Node: "n"}}
			if _, err := s.Apply([]Entry{e}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	elapsed := time.Since(start)
	syncs := storage.WALSyncs(s.db) - syncs0
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(b.N)/float64(max(syncs, 1)), "writes/fsync")
}

// BenchmarkGet measures local reads of one stored key.
func BenchmarkGet(b *testing.B) {
	s, err := OpenStore(StoreConfig{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range 1000 {
		if _, err := s.Apply([]Entry{{Namespace: "bench", Key: fmt.Sprint(i), Value: make([]byte, 100), Version: Version{HLC: 1}}}); err != nil {
			b.Fatal(err)
		}
	}
	var seq atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok, err := s.Get("bench", fmt.Sprint(seq.Add(1)%1000)); err != nil || !ok {
				b.Error("get failed", err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
