package kv

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// MaxReplicaWait bounds how long a write with ?replicas=N waits for its
// peers' acknowledgements.
const MaxReplicaWait = 10 * time.Second

// waitKey names one committed write: its namespace, key and version.
type waitKey struct {
	ns, key string
	v       Version
}

// replicaWait counts the peers that acknowledged every entry of one write.
type replicaWait struct {
	need    int // peers that must acknowledge (replicas - 1)
	entries int // entries of the write
	mu      sync.Mutex
	byPeer  map[string]int // acknowledged entries per peer
	reached int            // peers that acknowledged them all
	done    chan struct{}
}

// waits is the registry of writes waiting for replicas; active lets the
// push path skip it with one atomic load when nobody waits.
type waits struct {
	active atomic.Int64
	mu     sync.Mutex
	m      map[waitKey][]*replicaWait
}

// ErrReplicasNotReached is a write committed here whose replicas did not
// all acknowledge it in time: it is durable on this node and will still
// reach the others.
var ErrReplicasNotReached = fmt.Errorf("write not acknowledged by the requested replicas in time")

// LivePeers is how many peers this node pushes to now.
func (r *Replicator) LivePeers() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.senders)
}

// Watch registers a wait for entries (already committed and published) to
// be acknowledged by replicas-1 peers; call the returned function to wait,
// and always call it (it unregisters). Register before Publish: entries
// acknowledged before registration would be missed.
func (r *Replicator) Watch(entries []Entry, replicas int) func(ctx context.Context) error {
	need := replicas - 1
	if need <= 0 || len(entries) == 0 {
		return func(context.Context) error { return nil }
	}
	w := &replicaWait{need: need, entries: len(entries), byPeer: map[string]int{}, done: make(chan struct{})}
	keys := make([]waitKey, len(entries))
	r.waits.mu.Lock()
	if r.waits.m == nil {
		r.waits.m = map[waitKey][]*replicaWait{}
	}
	for i, e := range entries {
		keys[i] = waitKey{e.Namespace, e.Key, e.Version}
		r.waits.m[keys[i]] = append(r.waits.m[keys[i]], w)
	}
	r.waits.active.Add(1)
	r.waits.mu.Unlock()
	return func(ctx context.Context) error {
		defer func() {
			r.waits.mu.Lock()
			for _, k := range keys {
				list := r.waits.m[k]
				for i, x := range list {
					if x == w {
						list = append(list[:i], list[i+1:]...)
						break
					}
				}
				if len(list) == 0 {
					delete(r.waits.m, k)
				} else {
					r.waits.m[k] = list
				}
			}
			r.waits.active.Add(-1)
			r.waits.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(ctx, MaxReplicaWait)
		defer cancel()
		select {
		case <-w.done:
			return nil
		case <-ctx.Done():
			return ErrReplicasNotReached
		}
	}
}

// acked records that peer acknowledged entries (applied or already newer
// there: either way the peer holds the write or a later one).
func (r *Replicator) acked(peer string, entries []Entry) {
	if r.waits.active.Load() == 0 {
		return
	}
	r.waits.mu.Lock()
	defer r.waits.mu.Unlock()
	for _, e := range entries {
		for _, w := range r.waits.m[waitKey{e.Namespace, e.Key, e.Version}] {
			w.mu.Lock()
			w.byPeer[peer]++
			if w.byPeer[peer] == w.entries {
				w.reached++
				if w.reached == w.need {
					close(w.done)
				}
			}
			w.mu.Unlock()
		}
	}
}
