package consensus

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	autopilot "github.com/hashicorp/raft-autopilot"
)

// srvState builds one server of an autopilot state: its region, suffrage
// (leader, voter, non-voter), health and since when.
func srvState(id, region string, st autopilot.RaftState, healthy bool, stableFor time.Duration) *autopilot.ServerState {
	return &autopilot.ServerState{
		Server: autopilot.Server{
			ID: raft.ServerID(id), Address: raft.ServerAddress(id + ":8789"), NodeStatus: autopilot.NodeAlive,
			Meta: map[string]string{metaRegion: region},
		},
		State:  st,
		Health: autopilot.ServerHealth{Healthy: healthy, StableSince: now.Add(-stableFor)},
	}
}

func dead(s *autopilot.ServerState) *autopilot.ServerState {
	s.Server.NodeStatus = autopilot.NodeFailed
	return s
}

func stateOf(servers ...*autopilot.ServerState) *autopilot.State {
	s := &autopilot.State{Servers: map[raft.ServerID]*autopilot.ServerState{}}
	for _, srv := range servers {
		s.Servers[srv.Server.ID] = srv
	}
	return s
}

func ids(v []raft.ServerID) []string {
	out := make([]string, len(v))
	for i, id := range v {
		out[i] = string(id)
	}
	return out
}

func TestPlanVoters(t *testing.T) {
	const (
		L  = autopilot.RaftLeader
		V  = autopilot.RaftVoter
		NV = autopilot.RaftNonVoter
	)
	stable, replace := 10*time.Second, 10*time.Second
	long := time.Minute
	tests := []struct {
		name            string
		state           *autopilot.State
		voters          int
		promote, demote []string
	}{
		{
			name:    "healthy stable non-voters promoted up to the target",
			state:   stateOf(srvState("a", "us", L, true, long), srvState("b", "eu", NV, true, long), srvState("c", "ap", NV, true, long)),
			promote: []string{"b", "c"},
		},
		{
			name: "an unhealthy non-voter is never promoted, even if gossip calls it alive (the issue-7 bug); nor a lone one into two voters",
			state: stateOf(srvState("a", "us", L, true, long), srvState("b", "eu", NV, true, long),
				srvState("c", "ap", NV, false, 2*time.Second)),
		},
		{
			name:    "two servers in all: the second becomes a voter",
			state:   stateOf(srvState("a", "us", L, true, long), srvState("b", "eu", NV, true, long)),
			promote: []string{"b"},
		},
		{
			name: "three voters, target five, one candidate and one unhealthy: wait rather than four voters",
			state: stateOf(srvState("a", "us", L, true, long), srvState("b", "eu", V, true, long), srvState("c", "ap", V, true, long),
				srvState("d", "us", NV, true, long), srvState("e", "eu", NV, false, long)),
			voters: 5,
		},
		{
			name: "three voters, target five, two candidates: both",
			state: stateOf(srvState("a", "us", L, true, long), srvState("b", "eu", V, true, long), srvState("c", "ap", V, true, long),
				srvState("d", "us", NV, true, long), srvState("e", "eu", NV, true, long)),
			voters: 5, promote: []string{"d", "e"},
		},
		{
			name:  "a healthy non-voter not yet stable waits",
			state: stateOf(srvState("a", "us", L, true, long), srvState("b", "eu", NV, true, 3*time.Second)),
		},
		{
			name: "the promotion that replaces a failed voter is kept",
			state: stateOf(srvState("a", "us", L, true, long), dead(srvState("b", "eu", V, false, long)),
				srvState("c", "eu", NV, true, long), dead(srvState("d", "ap", NV, false, long))),
			promote: []string{"c"}, demote: []string{"b"},
		},
		{
			name: "promotion prefers a region without voters",
			state: stateOf(srvState("a", "us", L, true, long), srvState("b", "eu", V, true, long),
				srvState("c", "us", NV, true, long), srvState("d", "ap", NV, true, long)),
			promote: []string{"d"},
		},
		{
			name: "at target and spread: nothing to do",
			state: stateOf(srvState("a", "us", L, true, long), srvState("b", "eu", V, true, long), srvState("c", "ap", V, true, long),
				srvState("d", "us", NV, true, long), srvState("e", "eu", NV, true, long)),
		},
		{
			name: "two voters in one region, a region with none: promote there",
			state: stateOf(srvState("a", "us", L, true, long), srvState("b", "us", V, true, long), srvState("c", "eu", V, true, long),
				srvState("d", "ap", NV, true, long)),
			promote: []string{"d"},
		},
		{
			name: "surplus voter demoted from the crowded region, never the leader",
			state: stateOf(srvState("a", "us", L, true, long), srvState("b", "us", V, true, long), srvState("c", "eu", V, true, long),
				srvState("d", "ap", V, true, long)),
			demote: []string{"b"},
		},
		{
			name: "voter unhealthy past replaceAfter is replaced by a healthy stable non-voter",
			state: stateOf(srvState("a", "us", L, true, long), dead(srvState("b", "eu", V, false, 11*time.Second)),
				srvState("c", "ap", V, true, long), srvState("d", "eu", NV, true, long)),
			promote: []string{"d"}, demote: []string{"b"},
		},
		{
			name: "voter unhealthy only briefly keeps its seat",
			state: stateOf(srvState("a", "us", L, true, long), srvState("b", "eu", V, false, 2*time.Second),
				srvState("c", "ap", V, true, long), srvState("d", "eu", NV, true, long)),
		},
		{
			name: "failed voter without a healthy replacement keeps its seat",
			state: stateOf(srvState("a", "us", L, true, long), dead(srvState("b", "eu", V, false, long)),
				srvState("c", "ap", V, true, long), dead(srvState("d", "eu", NV, false, long))),
		},
		{
			name: "failed voter replaced, not by a healthy but unstable non-voter",
			state: stateOf(srvState("a", "us", L, true, long), dead(srvState("b", "eu", V, false, long)),
				srvState("c", "ap", V, true, long), srvState("d", "eu", NV, true, time.Second)),
		},
		{
			name: "surplus with a failed voter: the failed one goes first",
			state: stateOf(srvState("a", "us", L, true, long), srvState("b", "us", V, true, long), dead(srvState("c", "eu", V, false, long)),
				srvState("d", "ap", V, true, long)),
			demote: []string{"c"},
		},
		{
			name:   "voters target 1: nothing promoted",
			state:  stateOf(srvState("a", "us", L, true, long), srvState("b", "eu", NV, true, long)),
			voters: 1,
		},
		{
			name: "replacement prefers the region the failed voter leaves empty",
			state: stateOf(srvState("a", "us", L, true, long), dead(srvState("b", "eu", V, false, long)),
				srvState("c", "ap", V, true, long), srvState("d", "us", NV, true, long), srvState("e", "eu", NV, true, long)),
			promote: []string{"e"}, demote: []string{"b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			voters := tt.voters
			if voters == 0 {
				voters = 3
			}
			ch := planVoters(tt.state, voters, stable, replace, now)
			if got := ids(ch.Promotions); !slices.Equal(got, tt.promote) && len(got)+len(tt.promote) > 0 {
				t.Errorf("promotions %v, want %v", got, tt.promote)
			}
			if got := ids(ch.Demotions); !slices.Equal(got, tt.demote) && len(got)+len(tt.demote) > 0 {
				t.Errorf("demotions %v, want %v", got, tt.demote)
			}
		})
	}
}

func TestFilterRemovalsWaitsForTheGrace(t *testing.T) {
	down := func(id string, ago time.Duration) *autopilot.Server {
		return &autopilot.Server{ID: raft.ServerID(id), NodeStatus: autopilot.NodeFailed,
			Meta: map[string]string{metaDownSince: strconv.FormatInt(now.Add(-ago).UnixNano(), 10)}}
	}
	f := &autopilot.FailedServers{
		FailedVoters:    []*autopilot.Server{down("a", 61*time.Second), down("b", 30*time.Second)},
		FailedNonVoters: []*autopilot.Server{down("c", 2*time.Minute), {ID: "d"}},
		StaleVoters:     []raft.ServerID{"e"},
	}
	got := filterRemovals(f, time.Minute, now)
	if len(got.FailedVoters) != 1 || got.FailedVoters[0].ID != "a" {
		t.Fatalf("failed voters %v", got.FailedVoters)
	}
	if len(got.FailedNonVoters) != 1 || got.FailedNonVoters[0].ID != "c" {
		t.Fatalf("failed non-voters %v", got.FailedNonVoters)
	}
	if len(got.StaleVoters)+len(got.StaleNonVoters) != 0 {
		t.Fatalf("stale servers removed without the grace: %+v", got)
	}
}

func TestPromoterReadsTheLatestConfiguration(t *testing.T) {
	// Autopilot's state still shows b as a non-voter, but the configuration
	// already made it a voter: b must not be promoted again.
	s := stateOf(srvState("a", "us", autopilot.RaftLeader, true, time.Minute), srvState("b", "eu", autopilot.RaftNonVoter, true, time.Minute),
		srvState("c", "ap", autopilot.RaftNonVoter, true, time.Minute))
	conf := raft.Configuration{Servers: []raft.Server{server("a", true), server("b", true), server("c", false)}}
	p := &promoter{voters: 3, replaceAfter: time.Second, deadGrace: time.Minute, now: func() time.Time { return now },
		current: func() (raft.Configuration, bool) { return conf, true }}
	ch := p.CalculatePromotionsAndDemotions(&autopilot.Config{ServerStabilizationTime: time.Second}, s)
	if got := ids(ch.Promotions); !slices.Equal(got, []string{"c"}) || len(ch.Demotions) != 0 {
		t.Fatalf("promotions %v demotions %v, want [c] []", got, ch.Demotions)
	}
}

// raft-autopilot v0.3.0 keeps StableSince at the first sighting of a
// server; the promoter measures health changes itself.
func TestPromoterMeasuresHealthChangesItself(t *testing.T) {
	clock := now
	p := &promoter{voters: 3, replaceAfter: 3 * time.Second, deadGrace: time.Minute, now: func() time.Time { return clock }}
	cfg := &autopilot.Config{ServerStabilizationTime: time.Second}
	// Autopilot's view: b has been "stable" for an hour whatever happens.
	mk := func(bHealthy bool) *autopilot.State {
		s := stateOf(srvState("a", "us", autopilot.RaftLeader, true, time.Hour), srvState("b", "eu", autopilot.RaftVoter, bHealthy, time.Hour),
			srvState("c", "ap", autopilot.RaftVoter, true, time.Hour), srvState("d", "eu", autopilot.RaftNonVoter, true, time.Hour))
		for _, srv := range s.Servers {
			p.GetServerExt(cfg, srv)
		}
		p.GetStateExt(cfg, s)
		return s
	}
	mk(true)
	clock = clock.Add(10 * time.Second)
	s := mk(false) // b just turned unhealthy
	if ch := p.CalculatePromotionsAndDemotions(cfg, s); len(ch.Demotions)+len(ch.Promotions) != 0 {
		t.Fatalf("b replaced as soon as it turned unhealthy: %+v", ch)
	}
	clock = clock.Add(3 * time.Second)
	s = mk(false)
	ch := p.CalculatePromotionsAndDemotions(cfg, s)
	if !slices.Equal(ids(ch.Demotions), []string{"b"}) || !slices.Equal(ids(ch.Promotions), []string{"d"}) {
		t.Fatalf("after replaceAfter: %+v", ch)
	}
	p.reset()
	if len(p.marks) != 0 {
		t.Fatal("reset kept marks")
	}
}
