package kv

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/edgeplane/edgeplane/pkg/hlc"
	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// firstBackoff is the wait before the first reconnection of a push stream.
const firstBackoff = 50 * time.Millisecond

// pushSender pushes one peer's queue over a Push stream, reconnecting with
// backoff. Batches sent but not acknowledged when a stream fails go back to
// the front of the queue and are sent again on the next stream (applying
// twice is harmless under last-writer-wins); only queue overflow is left to
// anti-entropy.
type pushSender struct {
	r      *Replicator
	peer   Peer
	q      *pushQueue
	cancel context.CancelFunc
	done   chan struct{}
	// inflightOldest is the HLC of the oldest entry sent and not yet
	// acknowledged (0 when none), for the oldest-pending gauge.
	inflightOldest atomic.Uint64
}

type inflightBatch struct {
	seq     uint64
	entries []Entry
}

type ackOrErr struct {
	ack *edgev1.PushAck
	err error
}

func (s *pushSender) run(ctx context.Context) {
	defer close(s.done)
	log := s.r.log.With("peer", s.peer.ID, "addr", s.peer.GRPCAddr)
	backoff := firstBackoff
	for ctx.Err() == nil {
		if s.q.len() == 0 {
			select {
			case <-ctx.Done():
				return
			case <-s.q.notify:
				continue
			}
		}
		progressed, err := s.stream(ctx)
		if ctx.Err() != nil {
			return
		}
		if progressed {
			backoff = firstBackoff
		}
		s.r.metrics.reconnects.WithLabelValues(s.peer.ID).Inc()
		log.Debug("kv push stream ended; reconnecting", "err", err, "backoff", backoff, "pending", s.q.len())
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, s.r.cfg.MaxBackoff)
	}
}

// stream runs one Push stream until it fails or ctx ends. progressed
// reports whether the peer acknowledged anything on it.
func (s *pushSender) stream(ctx context.Context) (progressed bool, err error) {
	cfg := s.r.cfg
	conn, err := cfg.Pool.Conn(s.peer.GRPCAddr)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := edgev1.NewKVClient(conn).Push(sctx)
	if err != nil {
		return false, fmt.Errorf("open push stream: %w", err)
	}
	acks := make(chan ackOrErr, cfg.Inflight+1)
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		for {
			a, err := st.Recv()
			select {
			case acks <- ackOrErr{a, err}:
			case <-sctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var inflight []inflightBatch
	defer func() {
		cancel()
		<-recvDone
		var back []Entry
		for _, b := range inflight {
			back = append(back, b.entries...)
		}
		s.drop(s.q.requeue(back))
		s.inflightOldest.Store(0)
		s.updatePending(0)
	}()

	inflightN := 0
	var seq uint64
	send := func() error {
		// Entries were checked once when published (Publish).
		batch := s.q.take(cfg.BatchMax, cfg.BatchBytes)
		if len(batch) == 0 {
			return nil
		}
		seq++
		inflight = append(inflight, inflightBatch{seq: seq, entries: batch})
		inflightN += len(batch)
		if err := st.Send(&edgev1.PushBatch{Seq: seq, OriginNode: cfg.NodeID, Entries: entriesToProto(batch)}); err != nil {
			return fmt.Errorf("send batch %d: %w", seq, err)
		}
		return nil
	}
	// A batch leaves when BatchMax entries are queued, or FlushEvery after
	// the first entry was seen, whichever comes first.
	var flush *time.Timer
	defer func() {
		if flush != nil {
			flush.Stop()
		}
	}()
	for {
		if len(inflight) > 0 && len(inflight[0].entries) > 0 {
			s.inflightOldest.Store(uint64(inflight[0].entries[0].Version.HLC))
		} else {
			s.inflightOldest.Store(0)
		}
		s.updatePending(inflightN)
		room := len(inflight) < cfg.Inflight
		queued := s.q.len()
		if room && queued >= cfg.BatchMax {
			if err := send(); err != nil {
				return progressed, err
			}
			continue
		}
		var flushC <-chan time.Time
		if room && queued > 0 {
			if flush == nil {
				flush = time.NewTimer(cfg.FlushEvery)
			}
			flushC = flush.C
		}
		select {
		case <-ctx.Done():
			return progressed, ctx.Err()
		case a := <-acks:
			if a.err != nil {
				return progressed, fmt.Errorf("receive ack: %w", a.err)
			}
			for len(inflight) > 0 && inflight[0].seq <= a.ack.GetSeq() {
				inflightN -= len(inflight[0].entries)
				s.r.acked(s.peer.ID, inflight[0].entries)
				inflight = inflight[1:]
				progressed = true
			}
		case <-s.q.notify:
		case <-flushC:
			flush = nil
			if err := send(); err != nil {
				return progressed, err
			}
		}
	}
}

func (s *pushSender) drop(n int) {
	if n > 0 {
		s.r.metrics.dropped.WithLabelValues(s.peer.ID).Add(float64(n))
	}
}

func (s *pushSender) updatePending(inflight int) {
	s.r.metrics.pending.WithLabelValues(s.peer.ID).Set(float64(s.q.len() + inflight))
	s.updateOldest()
}

// updateOldest sets the oldest-pending gauge of the peer: the age of the
// oldest write sent and unacknowledged, or else queued (queued entries are
// in commit order, so the head is the oldest).
func (s *pushSender) updateOldest() {
	oldest := s.inflightOldest.Load()
	if oldest == 0 {
		oldest = s.q.oldest()
	}
	age := 0.0
	if oldest != 0 {
		age = max(s.r.now().Sub(hlc.Timestamp(oldest).Time()).Seconds(), 0)
	}
	s.r.metrics.oldest.WithLabelValues(s.peer.ID).Set(age)
}
