package main

import (
	"math/bits"
	"time"
)

// Latency histogram: HDR-style log-linear buckets over microseconds, so
// memory is fixed (histBuckets counters) whatever the run length and the
// relative error of a percentile is under 1/histSub (about 1.6%).
const (
	histSubBits = 6
	histSub     = 1 << histSubBits // sub-buckets per power of two
	histLinear  = 2 * histSub      // values below this are exact
	histMaxUS   = 1 << 36          // about 19 hours; larger values clamp
	histBuckets = histLinear + (36-histSubBits-1)*histSub
)

// latencyHist records latencies. It is not safe for concurrent use: each
// worker keeps its own and they are merged at the end.
type latencyHist struct {
	counts [histBuckets]uint64
	n      uint64
	max    time.Duration
}

// histIndex is the bucket of a latency in microseconds.
func histIndex(us uint64) int {
	if us >= histMaxUS {
		us = histMaxUS - 1
	}
	if us < histLinear {
		return int(us)
	}
	shift := bits.Len64(us) - (histSubBits + 1)
	top := us >> uint(shift)
	return histLinear + (shift-1)*histSub + int(top-histSub)
}

// histUpper is the largest latency in microseconds of bucket i.
func histUpper(i int) uint64 {
	if i < histLinear {
		return uint64(i)
	}
	shift := (i-histLinear)/histSub + 1
	top := uint64((i-histLinear)%histSub + histSub)
	return (top+1)<<uint(shift) - 1
}

// record adds one latency.
func (h *latencyHist) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[histIndex(uint64(d/time.Microsecond))]++
	h.n++
	if d > h.max {
		h.max = d
	}
}

// merge adds o's counts to h.
func (h *latencyHist) merge(o *latencyHist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	if o.max > h.max {
		h.max = o.max
	}
}

// quantile returns the latency at quantile q (0..1): the upper edge of the
// bucket holding the ceil(q*n)-th sample, never above the maximum seen.
func (h *latencyHist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.999999)
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			d := time.Duration(histUpper(i)) * time.Microsecond
			if d > h.max {
				d = h.max
			}
			return d
		}
	}
	return h.max
}
