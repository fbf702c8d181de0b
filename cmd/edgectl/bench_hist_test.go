package main

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

func TestHistBucketsCoverEveryValue(t *testing.T) {
	prev := -1
	for _, us := range []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, histMaxUS - 1, histMaxUS, 1 << 40} {
		i := histIndex(us)
		if i < prev || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d (prev %d, buckets %d)", us, i, prev, histBuckets)
		}
		if us < histMaxUS && histUpper(i) < us {
			t.Fatalf("bucket %d upper %d below its value %d", i, histUpper(i), us)
		}
		if us < histMaxUS && i > 0 && histUpper(i-1) >= us {
			t.Fatalf("value %d also fits bucket %d", us, i-1)
		}
		prev = i
	}
}

func TestHistQuantilesMatchSortedSamples(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h, a, b latencyHist
	samples := make([]time.Duration, 0, 100_000)
	for i := 0; i < 100_000; i++ {
		d := time.Duration(r.ExpFloat64()*2000) * time.Microsecond
		samples = append(samples, d)
		if i%2 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	h.merge(&a)
	h.merge(&b)
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := samples[int(q*float64(len(samples)))-1]
		got := h.quantile(q)
		if diff := float64(got-want) / float64(want); diff < -0.001 || diff > 0.035 {
			t.Errorf("q%.3f = %v, sorted samples say %v", q, got, want)
		}
	}
	if h.quantile(1) != samples[len(samples)-1] || h.max != samples[len(samples)-1] {
		t.Errorf("max = %v / %v, want %v", h.quantile(1), h.max, samples[len(samples)-1])
	}
	var empty latencyHist
	if empty.quantile(0.99) != 0 {
		t.Error("empty histogram has a p99")
	}
	var one latencyHist
	one.record(5 * time.Millisecond)
	if one.quantile(0.5) != 5*time.Millisecond {
		t.Errorf("single sample p50 = %v", one.quantile(0.5))
	}
}
