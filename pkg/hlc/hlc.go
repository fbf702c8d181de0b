// Package hlc is a hybrid logical clock: timestamps that follow wall time
// closely (milliseconds) yet never go backwards on a node and always move
// past any timestamp the node has seen from another, so "later" is
// consistent with causality across the cluster. KV orders writes by it.
package hlc

import (
	"fmt"
	"sync"
	"time"
)

// Timestamp packs wall milliseconds in the high 48 bits and a logical
// counter in the low 16; comparing two Timestamps as integers orders them.
type Timestamp uint64

const logicalBits = 16

// New builds a Timestamp from wall milliseconds and a logical counter.
func New(wallMillis int64, logical uint16) Timestamp {
	return Timestamp(uint64(wallMillis)<<logicalBits | uint64(logical))
}

// WallMillis is the physical part, in Unix milliseconds.
func (t Timestamp) WallMillis() int64 { return int64(t >> logicalBits) }

// Logical is the counter part.
func (t Timestamp) Logical() uint16 { return uint16(t) }

// Time is the physical part as a time.Time.
func (t Timestamp) Time() time.Time { return time.UnixMilli(t.WallMillis()) }

func (t Timestamp) String() string { return fmt.Sprintf("%d.%d", t.WallMillis(), t.Logical()) }

// Clock issues Timestamps. It is safe for concurrent use.
type Clock struct {
	mu   sync.Mutex
	now  func() time.Time
	last Timestamp
}

// NewClock returns a clock reading now (time.Now when nil).
func NewClock(now func() time.Time) *Clock {
	if now == nil {
		now = time.Now
	}
	return &Clock{now: now}
}

// Now returns a Timestamp greater than every one this clock issued or
// observed before.
func (c *Clock) Now() Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := New(c.now().UnixMilli(), 0)
	if wall > c.last {
		c.last = wall
	} else {
		c.last++
	}
	return c.last
}

// Observe moves the clock past a timestamp received from another node.
func (c *Clock) Observe(t Timestamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t > c.last {
		c.last = t
	}
}
