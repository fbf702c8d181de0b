package kv

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"

	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// Replicator spreads this node's KV writes to every live peer and repairs
// what it missed from them. Publish queues local writes for each peer's push
// stream; Run keeps one sender per live peer and runs anti-entropy; Register
// serves the peers' side.
type Replicator struct {
	cfg     ReplicatorConfig
	log     *slog.Logger
	metrics *replMetrics
	now     func() time.Time
	// answerKeys bounds the keys of one BucketVersions answer
	// (bucketAnswerKeys; tests lower it).
	answerKeys int

	mu      sync.RWMutex
	senders map[string]*pushSender // by peer id

	waits waits // writes waiting for ?replicas=N
}

// NewReplicator returns a replicator, or an error if cfg (after Defaults)
// is invalid or its metrics cannot be registered.
func NewReplicator(cfg ReplicatorConfig) (*Replicator, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newReplMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Replicator{
		cfg:        cfg,
		log:        cfg.Logger.With("component", "kv-replication"),
		metrics:    m,
		now:        time.Now,
		answerKeys: bucketAnswerKeys,
		senders:    make(map[string]*pushSender),
	}, nil
}

// Publish queues entries committed on this node for every live peer. It
// never blocks on the network; a full queue drops its oldest entries (and
// counts them), which anti-entropy repairs. The caller must not modify the
// entries afterwards.
func (r *Replicator) Publish(entries []Entry) {
	// An entry a peer would refuse is dropped here, once for every peer:
	// resending it forever would stall the queues. filterReplicated reuses
	// its argument's array, which is the caller's.
	entries = r.filterReplicated(slices.Clone(entries), "publish", "")
	if len(entries) == 0 {
		return
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, s := range r.senders {
		s.drop(s.q.push(entries))
		r.metrics.pending.WithLabelValues(s.peer.ID).Set(float64(s.q.len()))
	}
}

// Register serves the KV gRPC service on s.
func (r *Replicator) Register(s *grpc.Server) {
	edgev1.RegisterKVServer(s, &replServer{r: r})
}

// Run keeps one push sender per live peer (started and stopped as peers
// come and go) and runs anti-entropy, until ctx ends; it returns once every
// goroutine it started has stopped.
func (r *Replicator) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.antiEntropyLoop(ctx)
	}()
	r.refreshPeers(ctx)
	t := time.NewTicker(r.cfg.PeerRefreshEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.stopAll()
			wg.Wait()
			return
		case <-t.C:
			r.refreshPeers(ctx)
			r.updateOldest()
		}
	}
}

// refreshPeers starts a sender for every new live peer and stops those of
// peers that left (their queues are discarded: anti-entropy repairs them
// once they are back). A peer whose address changed gets a new sender.
func (r *Replicator) refreshPeers(ctx context.Context) {
	live := make(map[string]Peer)
	for _, p := range r.cfg.Peers() {
		if p.ID != "" && p.ID != r.cfg.NodeID && p.GRPCAddr != "" {
			live[p.ID] = p
		}
	}
	var stopped []*pushSender
	r.mu.Lock()
	for id, s := range r.senders {
		if p, ok := live[id]; !ok || p.GRPCAddr != s.peer.GRPCAddr {
			stopped = append(stopped, s)
			delete(r.senders, id)
		}
	}
	for id, p := range live {
		if _, ok := r.senders[id]; ok {
			continue
		}
		sctx, cancel := context.WithCancel(ctx)
		s := &pushSender{r: r, peer: p, q: newPushQueue(r.cfg.QueueMax), cancel: cancel, done: make(chan struct{})}
		r.senders[id] = s
		r.metrics.pending.WithLabelValues(id).Set(0)
		r.metrics.oldest.WithLabelValues(id).Set(0)
		// The peer's other series exist from the start, at zero.
		r.metrics.dropped.WithLabelValues(id)
		r.metrics.reconnects.WithLabelValues(id)
		r.metrics.lag.WithLabelValues(id, p.Region)
		go s.run(sctx)
		r.log.Info("kv push to peer started", "peer", id, "addr", p.GRPCAddr)
	}
	r.mu.Unlock()
	for _, s := range stopped {
		s.cancel()
		<-s.done
		r.metrics.pending.DeleteLabelValues(s.peer.ID)
		r.metrics.oldest.DeleteLabelValues(s.peer.ID)
		r.log.Info("kv push to peer stopped", "peer", s.peer.ID, "discarded", s.q.len())
	}
}

func (r *Replicator) stopAll() {
	r.mu.Lock()
	senders := r.senders
	r.senders = make(map[string]*pushSender)
	r.mu.Unlock()
	for _, s := range senders {
		s.cancel()
	}
	for _, s := range senders {
		<-s.done
	}
}

// updateOldest refreshes every peer's oldest-pending gauge, so that it
// keeps growing while a stream is down and nothing else happens.
func (r *Replicator) updateOldest() {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, s := range r.senders {
		s.updateOldest()
	}
}
