package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// replPollInterval is how often a follower's pending keys are re-read.
const replPollInterval = 5 * time.Millisecond

// replWriters is how many workers send the paced writes.
const replWriters = 32

// replEndpoint is the replication lag seen at one other endpoint.
type replEndpoint struct {
	Endpoint string  `json:"endpoint"`
	Tracked  int     `json:"tracked"`
	Seen     int     `json:"seen"`
	P50Ms    float64 `json:"p50_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
}

// replResult is the outcome of a replication run.
type replResult struct {
	Method       string         `json:"method"`
	TargetRate   int            `json:"target_rate"`
	Writes       uint64         `json:"writes"`
	WriteErrors  uint64         `json:"write_errors"`
	AchievedRate float64        `json:"achieved_rate"`
	Sample       int            `json:"sample"`
	Endpoints    []replEndpoint `json:"endpoints"`
}

// replMethod states how lag is measured.
const replMethod = "client-observed: from the 200 of a PUT at the first endpoint to the first GET that finds the key " +
	"at another, polled every 5ms (every Nth key is tracked, N = sample)"

// tracked is a key whose arrival at the followers is being watched.
type tracked struct {
	key string
	ack time.Time
}

// runReplication writes rate keys/s to writer for d and measures when
// every sample-th key becomes visible through each of readers.
func runReplication(ctx context.Context, writer *client.KV, readers []*client.KV, names []string, ns string,
	rate, sample int, d, settle time.Duration, value []byte) replResult {
	total := int(float64(rate) * d.Seconds())
	feeds := make([]chan tracked, len(readers))
	results := make([]replEndpoint, len(readers))
	var wg sync.WaitGroup
	for i, r := range readers {
		feeds[i] = make(chan tracked, total/sample+1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = watchFollower(ctx, r, names[i], ns, feeds[i], settle)
		}()
	}
	var writes, errs atomic.Uint64
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	jobs := make(chan int, replWriters)
	var ww sync.WaitGroup
	for w := 0; w < replWriters; w++ {
		ww.Add(1)
		go func() {
			defer ww.Done()
			for i := range jobs {
				key := fmt.Sprintf("repl/%s/%08d", run, i)
				if err := writer.PutValue(ctx, ns, key, value, client.KVPutOptions{}); err != nil {
					errs.Add(1)
					continue
				}
				writes.Add(1)
				if i%sample == 0 {
					t := tracked{key: key, ack: time.Now()}
					for _, f := range feeds {
						f <- t
					}
				}
			}
		}()
	}
	start := time.Now()
	for i := 0; i < total && ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait) // pacing the load, not waiting for a condition
		}
		jobs <- i
	}
	close(jobs)
	ww.Wait()
	elapsed := time.Since(start)
	for _, f := range feeds {
		close(f)
	}
	wg.Wait()
	return replResult{
		Method: replMethod, TargetRate: rate, Writes: writes.Load(), WriteErrors: errs.Load(),
		AchievedRate: float64(writes.Load()) / elapsed.Seconds(), Sample: sample, Endpoints: results,
	}
}

// watchFollower polls one follower for the tracked keys fed to it until
// the feed is closed and every key was seen, or settle passed after the
// feed closed.
func watchFollower(ctx context.Context, kv *client.KV, name, ns string, feed <-chan tracked, settle time.Duration) replEndpoint {
	var h latencyHist
	res := replEndpoint{Endpoint: name}
	var pending []tracked
	open := true
	var giveUp time.Time
	ticker := time.NewTicker(replPollInterval)
	defer ticker.Stop()
	for ctx.Err() == nil {
		for drained := false; open && !drained; {
			select {
			case t, ok := <-feed:
				if !ok {
					open = false
					giveUp = time.Now().Add(settle)
					break
				}
				res.Tracked++
				pending = append(pending, t)
			default:
				drained = true
			}
		}
		kept := pending[:0]
		for _, t := range pending {
			if _, err := kv.GetValue(ctx, ns, t.key); err == nil {
				h.record(time.Since(t.ack))
				res.Seen++
				continue
			}
			kept = append(kept, t)
		}
		pending = kept
		if !open && (len(pending) == 0 || time.Now().After(giveUp)) {
			break
		}
		select {
		case <-ctx.Done():
		case <-ticker.C:
		}
	}
	res.P50Ms, res.P99Ms, res.MaxMs = ms(h.quantile(0.5)), ms(h.quantile(0.99)), ms(h.max)
	return res
}
