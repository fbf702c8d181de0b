package objstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"
)

// maxOpenAttempts bounds how many ballots one Open tries when replicas
// promised higher ones (a previous owner's, or a competitor's).
const maxOpenAttempts = 8

// prepResult is one node's answer to Prepare.
type prepResult struct {
	node string
	ok   bool
	meta Meta
	err  error
}

// Open makes this node the writer of obj for a new ballot over replicas
// (node ids; this node must be one of them):
//
//  1. it asks every replica for a promise of a new ballot, higher than
//     any it saw, and waits for a majority of them (and a short grace for
//     the rest);
//  2. it also asks a majority of the replica set recorded with the newest
//     state found, until that set is covered (a changed replica set
//     cannot hide an acknowledged write that lives on the old set);
//  3. it adopts the newest state (highest accepted ballot, then highest
//     sequence), fetched from a node that holds it when this node does not;
//  4. it writes that state under the new ballot to a majority of replicas
//     (a no-op Accept where a replica holds it already, the whole state
//     otherwise), and returns. Replicas that did not answer yet are
//     brought up to date in the background.
//
// A replica that promised a higher ballot makes Open retry with a higher
// one, up to a few times; ErrSuperseded when it keeps losing.
func (r *Replicator) Open(ctx context.Context, obj string, replicas []string) (*Object, error) {
	if err := ValidateObj(obj); err != nil {
		return nil, fmt.Errorf("do open: %w", err)
	}
	if err := ValidateReplicas(replicas); err != nil {
		return nil, fmt.Errorf("do open %q: %w", obj, err)
	}
	if !slices.Contains(replicas, r.self) {
		return nil, fmt.Errorf("do open %q: this node %q is not in the replica set %v: %w", obj, r.self, replicas, ErrInvalid)
	}
	replicas = slices.Clone(replicas)
	var floor uint64
	for attempt := 0; ; attempt++ {
		o, higher, err := r.openOnce(ctx, obj, replicas, floor)
		if err == nil {
			r.m.opens.WithLabelValues("ok").Inc()
			return o, nil
		}
		if !errors.Is(err, ErrSuperseded) || attempt+1 >= maxOpenAttempts || ctx.Err() != nil {
			r.m.opens.WithLabelValues(openResult(err)).Inc()
			return nil, err
		}
		floor = max(floor, higher)
		// Two nodes opening at once would outbid each other forever
		// without a random pause.
		select {
		case <-time.After(time.Duration(rand.Int64N(int64(20*time.Millisecond) << attempt))):
		case <-ctx.Done():
			r.m.opens.WithLabelValues("error").Inc()
			return nil, fmt.Errorf("do open %q: %w", obj, ctx.Err())
		}
	}
}

func openResult(err error) string {
	switch {
	case errors.Is(err, ErrSuperseded):
		return "superseded"
	case errors.Is(err, ErrNoQuorum):
		return "no_quorum"
	}
	return "error"
}

// openOnce tries one ballot above floor. On ErrSuperseded it returns the
// highest counter a replica promised.
func (r *Replicator) openOnce(ctx context.Context, obj string, replicas []string, floor uint64) (*Object, uint64, error) {
	local, err := r.store.Meta(obj)
	if err != nil {
		return nil, 0, err
	}
	b := Ballot{Counter: max(floor, local.Promised.Counter, local.Accepted.Counter) + 1, Node: r.self}

	ch := make(chan prepResult, 4*MaxReplicas)
	asked := map[string]bool{}
	results := map[string]prepResult{}
	ask := func(nodes []string) {
		for _, n := range nodes {
			if asked[n] {
				continue
			}
			asked[n] = true
			go func() {
				ok, m, err := r.prepareOn(ctx, n, obj, b)
				ch <- prepResult{node: n, ok: ok, meta: m, err: err}
			}()
		}
	}
	var highest uint64
	collect := func(res prepResult) {
		results[res.node] = res
		if res.err == nil && !res.ok {
			highest = max(highest, res.meta.Promised.Counter)
		}
	}
	// waitFor waits until a majority of set promised, or that cannot
	// happen any more, then up to the grace for the rest of set.
	waitFor := func(set []string) error {
		okCount := func() (ok, failed int) {
			for _, n := range set {
				if res, done := results[n]; done {
					if res.err == nil && res.ok {
						ok++
					} else {
						failed++
					}
				}
			}
			return ok, failed
		}
		need := majority(len(set))
		for {
			ok, failed := okCount()
			if highest > 0 {
				return ErrSuperseded
			}
			if ok >= need {
				break
			}
			if len(set)-failed < need {
				return r.noQuorum("prepare", obj, set, results)
			}
			select {
			case res := <-ch:
				collect(res)
			case <-ctx.Done():
				return fmt.Errorf("do open %q: prepare: %w: %w", obj, ErrNoQuorum, ctx.Err())
			}
		}
		grace := time.NewTimer(r.prepareGrace)
		defer grace.Stop()
		for {
			ok, failed := okCount()
			if ok+failed == len(set) {
				break
			}
			select {
			case res := <-ch:
				collect(res)
				if highest > 0 {
					return ErrSuperseded
				}
			case <-grace.C:
				return nil
			case <-ctx.Done():
				return nil
			}
		}
		return nil
	}

	// This node promises first, synchronously: it is part of every quorum.
	ok, m, err := r.prepareOn(ctx, r.self, obj, b)
	asked[r.self] = true
	collect(prepResult{node: r.self, ok: ok, meta: m, err: err})
	if err != nil {
		return nil, 0, fmt.Errorf("do open %q: local promise: %w", obj, err)
	}
	if !ok {
		return nil, highest, ErrSuperseded
	}
	ask(replicas)
	if err := waitFor(replicas); err != nil {
		return nil, highest, err
	}
	newest := func() (Meta, []string) {
		var best Meta
		var holders []string
		for _, n := range slices.Sorted(maps.Keys(results)) {
			res := results[n]
			if res.err != nil || !res.ok {
				continue
			}
			switch {
			case res.meta.newer(best):
				best, holders = res.meta, []string{n}
			case res.meta.Accepted == best.Accepted && res.meta.Seq == best.Seq:
				holders = append(holders, n)
			}
		}
		return best, holders
	}
	best, holders := newest()
	// Cover the replica set recorded with the newest state; a newer state
	// found there may name yet another set.
	for round := 0; len(best.Replicas) > 0 && !covered(best.Replicas, results); round++ {
		if round >= 4 {
			return nil, 0, fmt.Errorf("do open %q: replica sets keep changing: %w", obj, ErrNoQuorum)
		}
		set := best.Replicas
		ask(set)
		if err := waitFor(set); err != nil {
			return nil, highest, err
		}
		best, holders = newest()
	}

	// Adopt the newest state locally, under b.
	self := results[r.self].meta
	if self.Accepted == best.Accepted && self.Seq == best.Seq {
		res, _, err := r.store.Accept(obj, AcceptRequest{Ballot: b, BaseBallot: best.Accepted, BaseSeq: best.Seq,
			Seq: best.Seq, Replicas: replicas})
		if err != nil {
			return nil, 0, fmt.Errorf("do open %q: adopt: %w", obj, err)
		}
		if res != Accepted {
			return nil, b.Counter, fmt.Errorf("do open %q: adopt: %w", obj, ErrSuperseded)
		}
	} else if err := r.adoptFrom(ctx, obj, b, best, holders, replicas); err != nil {
		return nil, b.Counter, err
	}

	o := newObject(r, obj, b, best, replicas, results)
	if err := o.waitInitial(ctx); err != nil {
		o.Close()
		return nil, b.Counter, err
	}
	r.log.Debug("do object opened", "obj", obj, "ballot", b.String(), "seq", best.Seq, "replicas", replicas)
	return o, 0, nil
}

// adoptFrom fetches the newest state from one of its holders and installs
// it here under b.
func (r *Replicator) adoptFrom(ctx context.Context, obj string, b Ballot, best Meta, holders, replicas []string) error {
	var errs []error
	for _, h := range holders {
		st, err := r.fetchFrom(ctx, h, obj, b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if st.Meta.Accepted != best.Accepted || st.Meta.Seq != best.Seq {
			errs = append(errs, fmt.Errorf("do open %q: %s now holds %s/%d, promised %s/%d", obj, h,
				st.Meta.Accepted, st.Meta.Seq, best.Accepted, best.Seq))
			continue
		}
		st.Meta.Replicas = replicas
		res, _, err := r.store.Install(obj, b, st)
		if err != nil {
			return fmt.Errorf("do open %q: install the newest state: %w", obj, err)
		}
		if res != Accepted {
			return fmt.Errorf("do open %q: install the newest state: %w", obj, ErrSuperseded)
		}
		return nil
	}
	return fmt.Errorf("do open %q: fetch the newest state from %v: %w: %w", obj, holders, ErrNoQuorum, errors.Join(errs...))
}

// covered reports whether a majority of set promised.
func covered(set []string, results map[string]prepResult) bool {
	ok := 0
	for _, n := range set {
		if res, done := results[n]; done && res.err == nil && res.ok {
			ok++
		}
	}
	return ok >= majority(len(set))
}

func (r *Replicator) noQuorum(step, obj string, set []string, results map[string]prepResult) error {
	var errs []error
	for _, n := range set {
		if res, ok := results[n]; ok && res.err != nil {
			errs = append(errs, res.err)
		}
	}
	return fmt.Errorf("do open %q: %s on %v: %w: %w", obj, step, set, ErrNoQuorum, errors.Join(errs...))
}
