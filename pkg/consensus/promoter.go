package consensus

import (
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	autopilot "github.com/hashicorp/raft-autopilot"
)

// Keys of autopilot.Server.Meta that KnownServers fills in.
const (
	metaRegion = "region"
	// metaDownSince is when the server was last seen live (Unix ns), set
	// only on servers that are not live.
	metaDownSince = "down_since"
)

// promoter is the autopilot.Promoter of Edgeplane: it keeps at most
// voters voters, spread over regions, and changes suffrage only on
// autopilot's judgement of health (contact with the leader, log caught up,
// stable for ServerStabilizationTime), never on gossip alone:
//
//   - a voter unhealthy for replaceAfter is demoted when a healthy, stable
//     non-voter can take its seat (the replacement is promoted in the same
//     round; autopilot demotes first when the voter count is odd);
//   - below the target, healthy stable non-voters are promoted, from the
//     region with the fewest voters first, never into an even count short
//     of the target while another server may yet become healthy (1 -> 3
//     voters in one round rather than through 2);
//   - above the target, a voter is demoted: an unhealthy one first, then one
//     from the most crowded region, never the leader;
//   - at the target, a stable non-voter from a region with no voter is
//     promoted when another region holds two voters (the next round demotes
//     the surplus from the crowded region);
//   - a failed server is removed only once it has been down for deadGrace.
type promoter struct {
	voters       int
	replaceAfter time.Duration
	deadGrace    time.Duration
	now          func() time.Time
	// current, when set, reads the latest Raft configuration (a local,
	// non-blocking read). Autopilot reconciles more often than it
	// refreshes its state; without it a promotion already made would be
	// asked again (a configuration entry each time) until the next state.
	current func() (raft.Configuration, bool)

	// marks is when each server's health last changed, as the promoter saw
	// it. raft-autopilot v0.3.0 sets ServerHealth.StableSince only when it
	// first sees a server (buildServerState compares the new health with a
	// pointer to itself), so "stable for ServerStabilizationTime" and
	// "unhealthy for replaceAfter" are measured here instead.
	mu    sync.Mutex
	marks map[raft.ServerID]healthMark
}

type healthMark struct {
	healthy bool
	since   time.Time
}

var _ autopilot.Promoter = (*promoter)(nil)

// GetServerExt is called with every server of each new state, its health
// computed: the promoter records health changes.
func (p *promoter) GetServerExt(_ *autopilot.Config, srv *autopilot.ServerState) interface{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.marks == nil {
		p.marks = make(map[raft.ServerID]healthMark)
	}
	if m, ok := p.marks[srv.Server.ID]; !ok || m.healthy != srv.Health.Healthy {
		p.marks[srv.Server.ID] = healthMark{healthy: srv.Health.Healthy, since: p.now()}
	}
	return nil
}

// GetStateExt forgets servers that left the state.
func (p *promoter) GetStateExt(_ *autopilot.Config, s *autopilot.State) interface{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id := range p.marks {
		if _, ok := s.Servers[id]; !ok {
			delete(p.marks, id)
		}
	}
	return nil
}

// reset forgets every health mark (leadership lost: a later autopilot run
// starts from scratch, as autopilot's own state does).
func (p *promoter) reset() {
	p.mu.Lock()
	clear(p.marks)
	p.mu.Unlock()
}

// GetNodeTypes makes every server a potential voter.
func (p *promoter) GetNodeTypes(_ *autopilot.Config, s *autopilot.State) map[raft.ServerID]autopilot.NodeType {
	types := make(map[raft.ServerID]autopilot.NodeType, len(s.Servers))
	for id := range s.Servers {
		types[id] = autopilot.NodeVoter
	}
	return types
}

func (p *promoter) IsPotentialVoter(t autopilot.NodeType) bool { return t == autopilot.NodeVoter }

func (p *promoter) CalculatePromotionsAndDemotions(c *autopilot.Config, s *autopilot.State) autopilot.RaftChanges {
	stable := s.ServerStabilizationTime(c)
	if p.current != nil {
		if conf, ok := p.current(); ok {
			s = withSuffrage(s, conf)
		}
	}
	return planVoters(p.withMarks(s), p.voters, stable, p.replaceAfter, p.now())
}

// withMarks returns a copy of s whose StableSince are the promoter's.
func (p *promoter) withMarks(s *autopilot.State) *autopilot.State {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := *s
	out.Servers = make(map[raft.ServerID]*autopilot.ServerState, len(s.Servers))
	for id, srv := range s.Servers {
		cp := *srv
		if m, ok := p.marks[id]; ok && m.healthy == cp.Health.Healthy {
			cp.Health.StableSince = m.since
		}
		out.Servers[id] = &cp
	}
	return &out
}

// withSuffrage returns a copy of s whose servers have the suffrage of conf,
// without those conf no longer holds.
func withSuffrage(s *autopilot.State, conf raft.Configuration) *autopilot.State {
	out := *s
	out.Servers = make(map[raft.ServerID]*autopilot.ServerState, len(s.Servers))
	for _, cs := range conf.Servers {
		srv, ok := s.Servers[cs.ID]
		if !ok {
			continue
		}
		cp := *srv
		switch {
		case cp.State == autopilot.RaftLeader:
		case cs.Suffrage == raft.Voter:
			cp.State = autopilot.RaftVoter
		case cs.Suffrage == raft.Nonvoter:
			cp.State = autopilot.RaftNonVoter
		}
		out.Servers[cs.ID] = &cp
	}
	return &out
}

// FilterFailedServerRemovals keeps only the failed servers down for at
// least the grace period; a restart or a short outage keeps its seat.
func (p *promoter) FilterFailedServerRemovals(_ *autopilot.Config, _ *autopilot.State, f *autopilot.FailedServers) *autopilot.FailedServers {
	return filterRemovals(f, p.deadGrace, p.now())
}

func filterRemovals(f *autopilot.FailedServers, grace time.Duration, now time.Time) *autopilot.FailedServers {
	keep := func(list []*autopilot.Server) []*autopilot.Server {
		var out []*autopilot.Server
		for _, srv := range list {
			if since, ok := downSince(srv); ok && now.Sub(since) >= grace {
				out = append(out, srv)
			}
		}
		return out
	}
	return &autopilot.FailedServers{
		// KnownServers reports every server of the configuration, so none
		// is stale; if one were, it waits like any other failed server.
		FailedNonVoters: keep(f.FailedNonVoters),
		FailedVoters:    keep(f.FailedVoters),
	}
}

func downSince(srv *autopilot.Server) (time.Time, bool) {
	v, ok := srv.Meta[metaDownSince]
	if !ok {
		return time.Time{}, false
	}
	ns, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

func regionOf(s *autopilot.ServerState) string { return s.Server.Meta[metaRegion] }

// planVoters is the promoter's decision, a pure function of autopilot's
// state: which non-voters to promote and which voters to demote now.
func planVoters(s *autopilot.State, target int, stable, replaceAfter time.Duration, now time.Time) autopilot.RaftChanges {
	ids := make([]raft.ServerID, 0, len(s.Servers))
	for id := range s.Servers {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })

	var voters, failed, candidates []*autopilot.ServerState
	regionVoters := make(map[string]int)
	for _, id := range ids {
		srv := s.Servers[id]
		switch {
		case srv.HasVotingRights():
			if srv.State != autopilot.RaftLeader && !srv.Health.Healthy && now.Sub(srv.Health.StableSince) >= replaceAfter {
				failed = append(failed, srv)
				continue
			}
			voters = append(voters, srv)
			regionVoters[regionOf(srv)]++
		case srv.State == autopilot.RaftNonVoter && srv.Server.NodeStatus == autopilot.NodeAlive &&
			srv.Health.IsStable(now, stable):
			candidates = append(candidates, srv)
		}
	}
	// pick takes the best candidate: from the region with the fewest
	// voters, then the one healthy the longest, then by id.
	pick := func(onlyEmptyRegion bool) *autopilot.ServerState {
		best := -1
		for i, c := range candidates {
			if onlyEmptyRegion && regionVoters[regionOf(c)] > 0 {
				continue
			}
			if best < 0 {
				best = i
				continue
			}
			b := candidates[best]
			rc, rb := regionVoters[regionOf(c)], regionVoters[regionOf(b)]
			if rc < rb || rc == rb && c.Health.StableSince.Before(b.Health.StableSince) {
				best = i
			}
		}
		if best < 0 {
			return nil
		}
		c := candidates[best]
		candidates = append(candidates[:best:best], candidates[best+1:]...)
		regionVoters[regionOf(c)]++
		return c
	}

	var ch autopilot.RaftChanges
	// Replace failed voters, one healthy candidate each.
	for _, f := range failed {
		c := pick(false)
		if c == nil {
			break
		}
		ch.Demotions = append(ch.Demotions, f.Server.ID)
		ch.Promotions = append(ch.Promotions, c.Server.ID)
	}
	// Fill up to the target. Seats of failed voters without a replacement
	// still count: demoting them would not make the cluster any safer.
	held := len(voters) + len(failed) - len(ch.Demotions) + len(ch.Promotions)
	filled := 0
	for ; held < target; held++ {
		c := pick(false)
		if c == nil {
			break
		}
		ch.Promotions = append(ch.Promotions, c.Server.ID)
		filled++
	}
	// Do not grow into an even voter count short of the target while
	// another server may still become a candidate: two voters need both
	// (a slow one makes the leader step down), where one voter needs one
	// and three need two. Wait to promote two together instead.
	if filled > 0 && held%2 == 0 && held < target && len(s.Servers) > held {
		ch.Promotions = ch.Promotions[:len(ch.Promotions)-1]
	}
	if len(ch.Promotions) > 0 {
		return ch
	}
	// Above the target: demote one, a failed voter first, else one from
	// the most crowded region (largest id on ties), never the leader.
	if len(voters)+len(failed) > target {
		if len(failed) > 0 {
			ch.Demotions = append(ch.Demotions, failed[0].Server.ID)
			return ch
		}
		var worst *autopilot.ServerState
		for _, v := range voters {
			if v.State == autopilot.RaftLeader {
				continue
			}
			if worst == nil || regionVoters[regionOf(v)] > regionVoters[regionOf(worst)] ||
				regionVoters[regionOf(v)] == regionVoters[regionOf(worst)] && v.Server.ID > worst.Server.ID {
				worst = v
			}
		}
		if worst != nil {
			ch.Demotions = append(ch.Demotions, worst.Server.ID)
		}
		return ch
	}
	// At the target: move a seat into a region without voters when
	// another region holds two.
	crowded := false
	for _, n := range regionVoters {
		if n >= 2 {
			crowded = true
		}
	}
	if crowded && len(failed) == 0 {
		if c := pick(true); c != nil {
			ch.Promotions = append(ch.Promotions, c.Server.ID)
		}
	}
	return ch
}
