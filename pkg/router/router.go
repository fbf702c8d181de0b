package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/cluster"
	"github.com/prometheus/client_golang/prometheus"
)

// Membership is the cluster as the router sees it: *cluster.Cluster.
type Membership interface {
	// Members lists every known member with its state.
	Members() []cluster.Member
	// Member returns one member by id.
	Member(id string) (cluster.Member, bool)
	// RTT is the estimated round-trip time to a member.
	RTT(id string) (time.Duration, bool)
}

// Config configures a Router.
type Config struct {
	// NodeID and Region describe this node. Required: NodeID.
	NodeID string
	Region string
	// Members is the membership view. Required.
	Members Membership
	// Leader returns the current Raft leader's id, "" when none is known.
	// Required.
	Leader func() string
	// WaitApplied blocks until this node applied the Raft log up to index.
	// Leader-placed requests served elsewhere wait for it before answering,
	// so the caller's next read on this node sees its write. Required.
	WaitApplied func(ctx context.Context, index uint64) error
	// AppliedIndex is this node's applied Raft index; a forwarded request
	// carries it, and the node serving it catches up to it first. Nil
	// sends none.
	AppliedIndex func() uint64
	// Pool provides the connections to other nodes. Required.
	Pool *Pool
	// MaxBodyBytes bounds a forwarded request body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Timeout is the deadline of a forwarded request whose context has none.
	Timeout time.Duration
	// Registerer receives edge_forwarded_requests_total and
	// edge_forward_failures_total; nil keeps them unexported.
	Registerer prometheus.Registerer
	// Logger receives failed forwards; nil discards.
	Logger *slog.Logger
}

// Router serves each route where its Placement says: locally, or forwarded
// once over gRPC to the leader, the key's owner or the nearest holder.
type Router struct {
	cfg Config
	fwd *Forwarder
	log *slog.Logger
}

// New returns a Router.
func New(cfg Config) (*Router, error) {
	switch {
	case cfg.NodeID == "":
		return nil, errors.New("router config: node id is required")
	case cfg.Members == nil:
		return nil, errors.New("router config: members are required")
	case cfg.Leader == nil:
		return nil, errors.New("router config: leader func is required")
	case cfg.WaitApplied == nil:
		return nil, errors.New("router config: wait-applied func is required")
	}
	fwd, err := NewForwarder(ForwarderConfig{
		NodeID: cfg.NodeID, Pool: cfg.Pool, MaxBodyBytes: cfg.MaxBodyBytes, Timeout: cfg.Timeout,
		Registerer: cfg.Registerer, Logger: cfg.Logger, AppliedIndex: cfg.AppliedIndex,
	})
	if err != nil {
		return nil, err
	}
	return &Router{cfg: cfg, fwd: fwd, log: fwd.log}, nil
}

// Place wraps h so that it runs on the node route names (for each request,
// when the route's placement is PerRequest); service labels the
// forwarding metrics. Every answer carries X-Edge-Served-By. A request that
// was already forwarded is served where it lands (one hop at most).
func (rt *Router) Place(service string, route Placement, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := route.For(r)
		if p.Kind() == PlaceHere || api.ForwardedFrom(r.Context()) != "" {
			rt.serveHere(w, r, h)
			return
		}
		target, err := rt.Target(r, p)
		if err != nil {
			api.WriteFailure(w, r, err)
			return
		}
		if target.NodeID == rt.cfg.NodeID {
			rt.serveHere(w, r, h)
			return
		}
		rt.fwd.forward(w, r, target, service, string(p.Kind()), p.timeout, rt.afterForward(p))
	})
}

func (rt *Router) serveHere(w http.ResponseWriter, r *http.Request, h http.Handler) {
	w.Header().Set(HeaderServedBy, rt.cfg.NodeID)
	h.ServeHTTP(w, r)
}

// afterForward is what runs between a forwarded answer and writing it: for
// leader-placed requests, waiting until this node applied the entry the
// leader committed, so a read here right after sees the write.
func (rt *Router) afterForward(p Placement) func(ctx context.Context, h http.Header) {
	if p.Kind() != PlaceLeader {
		return nil
	}
	return func(ctx context.Context, h http.Header) {
		raw := h.Get(headerRaftIndex)
		h.Del(headerRaftIndex)
		index, err := strconv.ParseUint(raw, 10, 64)
		if err != nil || index == 0 {
			return
		}
		if err := rt.cfg.WaitApplied(ctx, index); err != nil {
			rt.log.Debug("forwarded write not yet applied here", "index", index, "err", err)
		}
	}
}

// ErrNoTarget means no live node can serve a request with this placement
// (no leader, no live owner or holder); it answers 503.
var ErrNoTarget = fmt.Errorf("no node can serve this request now: %w", api.ErrUnavailable)

// Target returns the node that should serve r under p.
func (rt *Router) Target(r *http.Request, p Placement) (Target, error) {
	switch p.Kind() {
	case PlaceLeader:
		id := rt.cfg.Leader()
		if id == "" {
			return Target{}, fmt.Errorf("no raft leader: %w", ErrNoTarget)
		}
		return rt.member(id)
	case PlaceOwner:
		if p.owner != nil {
			id, err := p.owner(r)
			if err != nil {
				return Target{}, badPlacement(err)
			}
			return rt.member(id)
		}
		key, err := p.key(r)
		if err != nil {
			return Target{}, badPlacement(err)
		}
		owner := Owner(key, rt.liveIDs(nil))
		if owner == "" {
			return Target{}, ErrNoTarget
		}
		return rt.member(owner)
	case PlaceNearest:
		holders, err := p.holders(r)
		if err != nil {
			return Target{}, badPlacement(err)
		}
		return rt.nearest(holders)
	default:
		return Target{NodeID: rt.cfg.NodeID}, nil
	}
}

// badPlacement turns a key extraction error into a 400 unless it already
// carries its own status.
func badPlacement(err error) error {
	var he *api.HTTPError
	if errors.As(err, &he) {
		return err
	}
	return api.BadRequest(api.CodeBadRequest, "%v", err)
}

// member resolves a node id to a forwarding target; the node itself needs
// no address.
func (rt *Router) member(id string) (Target, error) {
	if id == rt.cfg.NodeID {
		return Target{NodeID: id}, nil
	}
	m, ok := rt.cfg.Members.Member(id)
	if !ok || !m.Live() || m.GRPCAddr == "" {
		return Target{}, fmt.Errorf("node %s is not reachable: %w", id, ErrNoTarget)
	}
	return Target{NodeID: id, GRPCAddr: m.GRPCAddr}, nil
}

// liveIDs lists the ids of live members (self included), restricted to
// only when it is not nil.
func (rt *Router) liveIDs(only map[string]bool) []string {
	var ids []string
	for _, m := range rt.cfg.Members.Members() {
		if (m.Live() || m.ID == rt.cfg.NodeID) && (only == nil || only[m.ID]) {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// nearest picks this node when it holds the data, else the live holder
// with the lowest estimated RTT (region as the fallback).
func (rt *Router) nearest(holders []string) (Target, error) {
	set := make(map[string]bool, len(holders))
	for _, h := range holders {
		set[h] = true
	}
	if set[rt.cfg.NodeID] {
		return Target{NodeID: rt.cfg.NodeID}, nil
	}
	var cands []Candidate
	for _, id := range rt.liveIDs(set) {
		m, _ := rt.cfg.Members.Member(id)
		rtt, known := rt.cfg.Members.RTT(id)
		cands = append(cands, Candidate{NodeID: id, Region: m.Region, RTT: rtt, RTTKnown: known})
	}
	if len(cands) == 0 {
		return Target{}, ErrNoTarget
	}
	best := Nearest(Candidate{NodeID: rt.cfg.NodeID, Region: rt.cfg.Region}, cands)[0]
	return rt.member(best.NodeID)
}
