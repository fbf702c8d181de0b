package objstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxPendingOps is how many commits a follower keeps with their operations
// while its replica is unreachable; past it they are dropped and the
// replica gets the whole state when it is back.
const maxPendingOps = 64

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

// job is one commit a follower must get acknowledged by its replica.
type job struct {
	seq  uint64
	ops  []Op // nil: the replica needs the whole state up to seq
	at   time.Time
	wait *commitWait
}

// follower brings one replica of an object up to date, in commit order:
// one Accept per commit while the replica follows, the whole state when it
// missed something.
type follower struct {
	node string
	o    *Object
	wake chan struct{}

	mu       sync.Mutex
	pending  []*job
	synced   bool // the replica holds (ballot, acked)
	acked    uint64
	known    Meta // what the replica said it holds (from Prepare or an answer)
	hasKnown bool
}

func (f *follower) notify() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *follower) enqueue(j *job) {
	f.mu.Lock()
	if !f.synced && len(f.pending) >= maxPendingOps {
		// The replica is away: it will get the whole state.
		for _, p := range f.pending {
			p.ops = nil
		}
		j.ops = nil
	}
	f.pending = append(f.pending, j)
	f.mu.Unlock()
	f.notify()
}

// lag is the age of the oldest unacknowledged job.
func (f *follower) lag(now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pending) == 0 {
		return 0
	}
	return now.Sub(f.pending[0].at)
}

// ackUpTo acknowledges the jobs up to seq.
func (f *follower) ackUpTo(seq uint64) {
	f.mu.Lock()
	f.acked = max(f.acked, seq)
	i := 0
	for ; i < len(f.pending) && f.pending[i].seq <= seq; i++ {
		f.pending[i].wait.ch <- nil
	}
	f.pending = f.pending[i:]
	f.mu.Unlock()
}

// failAll answers every pending job with err.
func (f *follower) failAll(err error) {
	f.mu.Lock()
	for _, p := range f.pending {
		p.wait.ch <- err
	}
	f.pending = nil
	f.mu.Unlock()
}

func (f *follower) run() {
	defer f.o.wg.Done()
	ctx := f.o.ctx
	backoff := 20 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			f.failAll(fmt.Errorf("do replica %s of %q: %w", f.node, f.o.obj, ErrClosed))
			return
		case <-f.wake:
		}
		for ctx.Err() == nil {
			progressed, err := f.step(ctx)
			if errors.Is(err, ErrSuperseded) {
				f.failAll(ErrSuperseded)
				f.o.breakWith(fmt.Errorf("do object %q: replica %s: %w", f.o.obj, f.node, ErrSuperseded))
				return
			}
			if err != nil {
				f.o.r.log.Debug("do replica call failed; retrying", "obj", f.o.obj, "replica", f.node, "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, 2*time.Second)
				continue
			}
			backoff = 20 * time.Millisecond
			if !progressed {
				break
			}
		}
	}
}

// step sends the next thing the replica needs. It reports whether there
// was anything to send.
func (f *follower) step(ctx context.Context) (bool, error) {
	o := f.o
	f.mu.Lock()
	// Jobs a whole state already covered.
	for f.synced && len(f.pending) > 0 && f.pending[0].seq <= f.acked {
		f.pending[0].wait.ch <- nil
		f.pending = f.pending[1:]
	}
	if len(f.pending) == 0 {
		f.mu.Unlock()
		return false, nil
	}
	next := f.pending[0]
	synced := f.synced && next.ops != nil && next.seq == f.acked+1
	known, hasKnown := f.known, f.hasKnown
	f.mu.Unlock()

	if synced {
		res, m, err := o.r.acceptOn(ctx, f.node, o.obj, AcceptRequest{Ballot: o.ballot, BaseBallot: o.ballot,
			BaseSeq: next.seq - 1, Seq: next.seq, Ops: next.ops, Replicas: o.replicas})
		if err != nil {
			return true, err
		}
		return true, f.answer(res, m, next.seq)
	}
	// Cheap adoption: the replica already holds the state this owner
	// adopted, and this node has written nothing since.
	local, err := o.r.store.Meta(o.obj)
	if err != nil {
		return true, err
	}
	if hasKnown && known.Accepted == o.base.Accepted && known.Seq == o.base.Seq &&
		local.Accepted == o.ballot && local.Seq == o.base.Seq && next.seq == o.base.Seq {
		res, m, err := o.r.acceptOn(ctx, f.node, o.obj, AcceptRequest{Ballot: o.ballot, BaseBallot: known.Accepted,
			BaseSeq: known.Seq, Seq: known.Seq, Replicas: o.replicas})
		if err != nil {
			return true, err
		}
		if res == Accepted {
			f.mu.Lock()
			f.synced = true
			f.mu.Unlock()
			f.ackUpTo(known.Seq)
			return true, nil
		}
		if res == Superseded {
			return true, ErrSuperseded
		}
		f.mu.Lock()
		f.known = m
		f.mu.Unlock()
	}
	res, sent, err := o.r.installOn(ctx, f.node, o.obj, o.ballot, o.replicas)
	if err != nil {
		f.mu.Lock()
		f.hasKnown = false
		f.mu.Unlock()
		return true, err
	}
	if res == Superseded {
		return true, ErrSuperseded
	}
	if res != Accepted {
		return true, fmt.Errorf("do install %q on %s: refused", o.obj, f.node)
	}
	f.mu.Lock()
	f.synced = true
	f.mu.Unlock()
	f.ackUpTo(sent)
	return true, nil
}

// answer handles a replica's answer to an Accept of seq.
func (f *follower) answer(res AcceptResult, m Meta, seq uint64) error {
	switch res {
	case Accepted:
		f.ackUpTo(seq)
		return nil
	case Superseded:
		return ErrSuperseded
	}
	// Mismatch: the replica lost track (it restarted from an older state,
	// or a timed-out Accept did land). If it holds exactly this write, it
	// is acknowledged; otherwise it gets the whole state.
	f.mu.Lock()
	if m.Accepted == f.o.ballot && m.Seq == seq {
		f.mu.Unlock()
		f.ackUpTo(seq)
		return nil
	}
	f.synced = false
	f.known, f.hasKnown = m, true
	f.mu.Unlock()
	return nil
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
