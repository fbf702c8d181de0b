package objstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Object is the owner's handle on one object, from Open to Close. Its
// methods are safe for concurrent use; Commits apply in call order.
// After a Commit failed for any reason but ErrInvalid or ErrStorageFull,
// the Object is broken (its state may hold a write whose outcome is
// unknown): every later call returns that error, and the caller must Close
// it and Open the object again.
type Object struct {
	r        *Replicator
	obj      string
	ballot   Ballot
	replicas []string

	followers []*follower
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	// base is the state Open adopted (its accepted ballot and seq, before
	// it was written under ballot).
	base Meta

	mu     sync.Mutex // serializes commits
	seq    uint64
	broken error

	initial *commitWait
}

// commitWait collects the followers' acknowledgements of one commit.
type commitWait struct {
	ch chan error
	// done is set once the commit returned: its acknowledgements are no
	// longer awaited.
	done atomic.Bool
}

func newObject(r *Replicator, obj string, b Ballot, base Meta, replicas []string, known map[string]prepResult) *Object {
	ctx, cancel := context.WithCancel(context.Background())
	seq := base.Seq
	o := &Object{r: r, obj: obj, ballot: b, base: base, replicas: replicas, seq: seq, ctx: ctx, cancel: cancel}
	o.initial = &commitWait{ch: make(chan error, len(replicas))}
	for _, n := range replicas {
		if n == r.self {
			continue
		}
		f := &follower{node: n, o: o, wake: make(chan struct{}, 1)}
		if res, ok := known[n]; ok && res.err == nil && res.ok {
			f.known, f.hasKnown = res.meta, true
		}
		// The first job brings the replica to the adopted state under b.
		f.pending = []*job{{seq: seq, at: time.Now(), wait: o.initial}}
		o.followers = append(o.followers, f)
	}
	r.mu.Lock()
	r.open[o] = struct{}{}
	r.mu.Unlock()
	for _, f := range o.followers {
		o.wg.Add(1)
		go f.run()
		f.notify()
	}
	return o
}

// waitInitial waits until a majority of the replica set holds the adopted
// state under the new ballot.
func (o *Object) waitInitial(ctx context.Context) error {
	return o.await(ctx, o.initial, "open")
}

// await waits for a majority (this node included) to acknowledge w.
func (o *Object) await(ctx context.Context, w *commitWait, what string) error {
	defer w.done.Store(true)
	need := majority(len(o.replicas)) - 1
	for got := 0; got < need; {
		select {
		case err := <-w.ch:
			if err != nil {
				// One replica's ErrSuperseded closes the others: report the
				// cause, not the closing.
				if broken := o.check(); errors.Is(broken, ErrSuperseded) {
					return broken
				}
				return fmt.Errorf("do %s %q: %w", what, o.obj, err)
			}
			got++
		case <-ctx.Done():
			return fmt.Errorf("do %s %q: %d of %d replicas acknowledged: %w: %w", what, o.obj, got, need, ErrNoQuorum, ctx.Err())
		}
	}
	return nil
}

// Ballot is the ballot the object is written under.
func (o *Object) Ballot() Ballot { return o.ballot }

// Replicas is the replica set the object replicates to.
func (o *Object) Replicas() []string { return append([]string(nil), o.replicas...) }

// Seq is the sequence number of the last committed write.
func (o *Object) Seq() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seq
}

func (o *Object) check() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.broken
}

// Get returns the values of the present keys among keys (at most
// MaxKeysPerCall), read locally: the caller holds the object's lease.
func (o *Object) Get(keys []string) (map[string][]byte, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	return o.r.store.Get(o.obj, keys)
}

// List returns the entries selected by opts, read locally.
func (o *Object) List(opts ListOptions) ([]Entry, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	return o.r.store.List(o.obj, opts)
}

// Alarm returns the alarm time (ms since the epoch), 0 when none or when
// the object is broken.
func (o *Object) Alarm() int64 {
	if o.check() != nil {
		return 0
	}
	m, err := o.r.store.Meta(o.obj)
	if err != nil {
		return 0
	}
	return m.Alarm
}

// Size returns the bytes of keys and values the object stores.
func (o *Object) Size() (int64, error) {
	if err := o.check(); err != nil {
		return 0, err
	}
	m, err := o.r.store.Meta(o.obj)
	return m.Size, err
}

// Commit applies ops atomically, in order: it writes them here, sends them
// to every replica, and returns once a majority of the replica set (this
// node included) applied them durably. ErrInvalid or ErrStorageFull: the
// ops were refused and nothing changed. ErrSuperseded: a newer ballot
// exists; the caller must stop serving the object. Any other error leaves
// the write's outcome unknown (see Object).
func (o *Object) Commit(ctx context.Context, ops []Op) error {
	start := time.Now()
	err := o.commit(ctx, ops)
	o.r.m.commits.WithLabelValues(commitResult(err)).Inc()
	if err == nil {
		o.r.m.commitDur.Observe(time.Since(start).Seconds())
	}
	return err
}

func commitResult(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrSuperseded):
		return "superseded"
	case errors.Is(err, ErrNoQuorum):
		return "no_quorum"
	case errors.Is(err, ErrInvalid):
		return "invalid"
	case errors.Is(err, ErrStorageFull):
		return "full"
	}
	return "error"
}

func (o *Object) commit(ctx context.Context, ops []Op) error {
	if err := ValidateOps(ops); err != nil {
		return fmt.Errorf("do commit %q: %w", o.obj, err)
	}
	// Followers send the ops after Commit returned (to replicas that lag):
	// they keep their own copy, so the caller may reuse its buffers.
	ops = cloneOps(ops)
	o.mu.Lock()
	if o.broken != nil {
		o.mu.Unlock()
		return o.broken
	}
	// Check the cap first, then send to the replicas and write here at
	// the same time: the write costs one disk sync and one round trip,
	// not two syncs in a row. Nothing else writes this object here under
	// this ballot, so the check holds for the write.
	if err := o.r.store.CheckCap(o.obj, ops); err != nil {
		o.mu.Unlock()
		return err
	}
	seq := o.seq + 1
	w := &commitWait{ch: make(chan error, len(o.followers))}
	for _, f := range o.followers {
		f.enqueue(&job{seq: seq, ops: ops, at: time.Now(), wait: w})
	}
	res, _, err := o.r.store.Accept(o.obj, AcceptRequest{Ballot: o.ballot, BaseBallot: o.ballot, BaseSeq: o.seq,
		Seq: seq, Ops: ops, Replicas: o.replicas})
	switch {
	case err != nil:
		// The replicas may hold the write: its outcome is unknown.
		o.breakLocked(fmt.Errorf("do commit %q: %w", o.obj, err))
		o.mu.Unlock()
		return err
	case res != Accepted:
		// A newer owner promised or installed here.
		err := fmt.Errorf("do commit %q: local state moved to a newer ballot: %w", o.obj, ErrSuperseded)
		o.breakLocked(err)
		o.mu.Unlock()
		return err
	}
	o.seq = seq
	o.mu.Unlock()
	if err := o.await(ctx, w, "commit"); err != nil {
		o.breakWith(err)
		return err
	}
	return nil
}

func (o *Object) breakLocked(err error) {
	if o.broken == nil {
		o.broken = err
		o.cancel()
	}
}

func (o *Object) breakWith(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.breakLocked(err)
}

// Close stops replicating the object from this node. Commits still waiting
// return ErrClosed. Close is idempotent.
func (o *Object) Close() {
	o.breakWith(fmt.Errorf("do object %q: %w", o.obj, ErrClosed))
	o.wg.Wait()
	o.r.mu.Lock()
	delete(o.r.open, o)
	o.r.mu.Unlock()
}

// cloneOps copies ops and their values into one allocation.
func cloneOps(ops []Op) []Op {
	n := 0
	for _, op := range ops {
		n += len(op.Value)
	}
	buf := make([]byte, 0, n)
	out := make([]Op, len(ops))
	for i, op := range ops {
		start := len(buf)
		buf = append(buf, op.Value...)
		out[i] = Op{Kind: op.Kind, Key: op.Key, Value: buf[start:len(buf):len(buf)]}
	}
	return out
}
