package objstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxPendingOps is how many commits a follower keeps while its replica
// does not acknowledge them. Past it, the follower drops the operations it
// holds and forgets the commits already acknowledged by a majority (their
// oldest time is kept, for the lag): the replica gets the whole state when
// it is back. Memory stays bounded however long a replica is away.
const maxPendingOps = 64

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
	// backlogSeq is the highest seq of the commits forgotten past
	// maxPendingOps (0: none), backlogAt the time of the oldest of them.
	backlogSeq uint64
	backlogAt  time.Time
}

func (f *follower) notify() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *follower) enqueue(j *job) {
	f.mu.Lock()
	f.pending = append(f.pending, j)
	if len(f.pending) > maxPendingOps {
		// The replica is away or slow: it will get the whole state.
		kept := make([]*job, 0, len(f.pending))
		for _, p := range f.pending {
			if p.wait.done.Load() {
				if f.backlogSeq == 0 || p.at.Before(f.backlogAt) {
					f.backlogAt = p.at
				}
				f.backlogSeq = max(f.backlogSeq, p.seq)
				continue
			}
			p.ops = nil
			kept = append(kept, p)
		}
		f.pending = kept
	}
	f.mu.Unlock()
	f.notify()
}

// lag is the age of the oldest unacknowledged job.
func (f *follower) lag(now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var oldest time.Time
	if f.backlogSeq != 0 {
		oldest = f.backlogAt
	}
	if len(f.pending) > 0 && (oldest.IsZero() || f.pending[0].at.Before(oldest)) {
		oldest = f.pending[0].at
	}
	if oldest.IsZero() {
		return 0
	}
	return now.Sub(oldest)
}

// ackUpTo acknowledges the jobs up to seq.
func (f *follower) ackUpTo(seq uint64) {
	f.mu.Lock()
	f.acked = max(f.acked, seq)
	if f.backlogSeq != 0 && f.backlogSeq <= f.acked {
		f.backlogSeq, f.backlogAt = 0, time.Time{}
	}
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
	backlog := f.backlogSeq > f.acked
	if len(f.pending) == 0 && !backlog {
		f.mu.Unlock()
		return false, nil
	}
	var next *job
	if len(f.pending) > 0 {
		next = f.pending[0]
	}
	synced := f.synced && !backlog && next != nil && next.ops != nil && next.seq == f.acked+1
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
	// Cheap adoption: the replica holds the state this owner adopted,
	// which is this owner's state at that seq under its ballot; the
	// commits after it follow one by one.
	if hasKnown && known.Accepted == o.base.Accepted && known.Seq == o.base.Seq && !backlog && next != nil &&
		next.seq == o.base.Seq {
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
