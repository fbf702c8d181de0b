package hlc

import (
	"sync"
	"testing"
	"time"
)

func TestClockIsMonotonicWhenWallTimeStandsStillOrGoesBack(t *testing.T) {
	wall := time.UnixMilli(1_000_000)
	c := NewClock(func() time.Time { return wall })
	a := c.Now()
	b := c.Now()
	if b <= a || b.WallMillis() != a.WallMillis() || b.Logical() != a.Logical()+1 {
		t.Fatalf("same wall time: %v then %v", a, b)
	}
	wall = wall.Add(-time.Second) // clock stepped back
	if d := c.Now(); d <= b {
		t.Fatalf("went backwards: %v after %v", d, b)
	}
	wall = wall.Add(time.Hour)
	if e := c.Now(); e.Logical() != 0 || e.WallMillis() != wall.UnixMilli() {
		t.Fatalf("did not follow wall time: %v", e)
	}
}

func TestObserveMovesPastRemoteTimestamps(t *testing.T) {
	c := NewClock(func() time.Time { return time.UnixMilli(5) })
	remote := New(10_000, 7)
	c.Observe(remote)
	if got := c.Now(); got <= remote {
		t.Fatalf("%v not after observed %v", got, remote)
	}
	c.Observe(New(1, 0)) // older: no effect
	if got := c.Now(); got <= remote {
		t.Fatalf("older observation moved the clock back: %v", got)
	}
}

func TestConcurrentTimestampsAreUnique(t *testing.T) {
	c := NewClock(nil)
	var mu sync.Mutex
	seen := make(map[Timestamp]bool)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				ts := c.Now()
				mu.Lock()
				if seen[ts] {
					t.Errorf("duplicate %v", ts)
				}
				seen[ts] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}
