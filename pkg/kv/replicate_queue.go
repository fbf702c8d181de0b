package kv

import (
	"sync"
)

// pushQueue is one peer's bounded FIFO of entries to push. When full, the
// oldest entry is dropped: anti-entropy repairs what the peer misses.
type pushQueue struct {
	max    int
	notify chan struct{} // signalled (non-blocking) on every push

	mu      sync.Mutex
	entries []Entry
	head    int // entries[head:] are queued
}

func newPushQueue(max int) *pushQueue {
	return &pushQueue{max: max, notify: make(chan struct{}, 1)}
}

// push appends es and returns how many old entries were dropped.
func (q *pushQueue) push(es []Entry) (dropped int) {
	q.mu.Lock()
	q.entries = append(q.entries, es...)
	dropped = q.trimLocked()
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return dropped
}

// requeue puts es back at the front (entries sent but never acknowledged)
// and returns how many of the oldest were dropped to stay within max.
func (q *pushQueue) requeue(es []Entry) (dropped int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	rest := q.entries[q.head:]
	merged := make([]Entry, 0, len(es)+len(rest))
	merged = append(append(merged, es...), rest...)
	q.entries, q.head = merged, 0
	return q.trimLocked()
}

func (q *pushQueue) trimLocked() int {
	n := len(q.entries) - q.head - q.max
	if n <= 0 {
		return 0
	}
	clear(q.entries[q.head : q.head+n])
	q.head += n
	return n
}

// take removes and returns up to maxN entries weighing up to maxBytes
// (always at least one entry when any is queued).
func (q *pushQueue) take(maxN, maxBytes int) []Entry {
	q.mu.Lock()
	defer q.mu.Unlock()
	avail := q.entries[q.head:]
	n, bytes := 0, 0
	for n < len(avail) && n < maxN {
		s := entrySize(avail[n])
		if n > 0 && bytes+s > maxBytes {
			break
		}
		bytes += s
		n++
	}
	out := make([]Entry, n)
	copy(out, avail[:n])
	clear(avail[:n])
	q.head += n
	if q.head == len(q.entries) {
		q.entries, q.head = q.entries[:0], 0
	} else if q.head > 4096 && q.head > len(q.entries)/2 {
		q.entries = append([]Entry(nil), q.entries[q.head:]...)
		q.head = 0
	}
	return out
}

// len is the number of queued entries.
func (q *pushQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.entries) - q.head
}

// oldest is the HLC of the entry at the head of the queue, 0 when empty.
func (q *pushQueue) oldest() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.entries) {
		return 0
	}
	return uint64(q.entries[q.head].Version.HLC)
}
