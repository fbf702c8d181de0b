package lease

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// errNoLeader stands for the proposer's answer while no Raft leader is
// reachable: it retries until its context ends.
var errNoLeader = errors.New("no raft leader reachable")

// TestRunStopsWhileRegistrationRetries stops a manager whose registration
// cannot succeed (no Raft leader, as on a node stopped right after its
// start, or whose Raft already stopped). Run must return as soon as its
// context ends, not when the registration's own deadline (a lease period)
// runs out, and start no round after that: edged's shutdown waits for it
// and gives up after 10 s.
func TestRunStopsWhileRegistrationRetries(t *testing.T) {
	const period = 6 * time.Second // the default: a stuck register outlives the test's bound
	for i := range 5 {
		var calls, late atomic.Int32
		var stopped atomic.Bool
		proposing := make(chan struct{}, 1)
		propose := func(ctx context.Context, _ []byte) ([]byte, error) {
			calls.Add(1)
			if stopped.Load() {
				late.Add(1)
			}
			select {
			case proposing <- struct{}{}:
			default:
			}
			<-ctx.Done()
			return nil, errNoLeader
		}
		m, err := NewManager(Config{Node: "a", Table: NewTable(), Propose: propose, Period: period})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); m.Run(ctx) }()
		<-proposing
		stopped.Store(true)
		start := time.Now()
		cancel()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("run %d: Run still running %v after its context ended (registration not cancelled)", i, time.Since(start))
		}
		if n := late.Load(); n > 0 {
			t.Fatalf("run %d: %d proposals started after the context ended", i, n)
		}
		if m.Status().Epoch != 0 {
			t.Fatalf("run %d: registered without a successful proposal", i)
		}
	}
}

// TestRunStartsNoRoundAfterCancel: a round that outlasted the renewal tick
// leaves a tick pending; when the context ended meanwhile, Run returns
// instead of picking the tick (select chooses at random among ready cases)
// and proposing once more.
func TestRunStartsNoRoundAfterCancel(t *testing.T) {
	const period = 300 * time.Millisecond // tick every 100 ms
	for i := range 20 {
		var late atomic.Int32
		var stopped atomic.Bool
		ctx, cancel := context.WithCancel(context.Background())
		propose := func(pctx context.Context, _ []byte) ([]byte, error) {
			if stopped.Load() {
				late.Add(1)
			}
			// Outlast a tick, then end the manager's context while
			// this (failing) proposal is still in flight.
			time.Sleep(period / 2)
			stopped.Store(true)
			cancel()
			return nil, errNoLeader
		}
		m, err := NewManager(Config{Node: "a", Table: NewTable(), Propose: propose, Period: period,
			MaxOffset: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); m.Run(ctx) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("run %d: Run did not return after its context ended", i)
		}
		if n := late.Load(); n > 0 {
			t.Fatalf("run %d: %d proposals started after the context ended", i, n)
		}
	}
}
