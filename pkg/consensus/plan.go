package consensus

import (
	"sort"
	"time"

	"github.com/edgeplane/edgeplane/pkg/cluster"
	"github.com/hashicorp/raft"
)

// actionKind is one kind of Raft configuration change the leader makes.
type actionKind string

const (
	actAddNonvoter actionKind = "add-nonvoter"
	actAddVoter    actionKind = "add-voter" // promote, or update a voter's address
	actDemote      actionKind = "demote"
	actRemove      actionKind = "remove"
)

// action is one configuration change and why.
type action struct {
	kind   actionKind
	id     string
	addr   string
	reason string
}

// planInput is everything the membership plan looks at.
type planInput struct {
	self              string
	servers           []raft.Server
	members           []cluster.Member
	missingSince      map[string]time.Time // servers gossip does not know, first seen missing
	now               time.Time
	voters            int
	deadGrace         time.Duration
	voterReplaceAfter time.Duration
}

// plan decides the next single configuration change that brings Raft in
// line with gossip, or returns false when there is none. One change per
// round keeps every step safe: each is committed before the next is chosen.
//
// In order: add live members that are missing (as non-voters) or whose
// address changed; remove members that stayed failed or away (a graceful
// leave counts the same, so a rolling restart does not churn the
// configuration) past the grace period; demote a voter that has been failed a while if a healthy
// non-voter can take its place; promote healthy non-voters up to the
// voter target, preferring regions with fewest voters; demote surplus
// voters from the most crowded region; and move a vote into a region that
// has none when another region has two.
func plan(in planInput) (action, bool) {
	byID := make(map[string]cluster.Member, len(in.members))
	for _, m := range in.members {
		byID[m.ID] = m
	}
	inConfig := make(map[string]raft.Server, len(in.servers))
	for _, s := range in.servers {
		inConfig[string(s.ID)] = s
	}

	// 1. Live members missing from the configuration, or moved.
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		m := byID[id]
		if m.State != cluster.StateAlive || m.RaftAddr == "" || m.Leaving {
			continue
		}
		s, ok := inConfig[id]
		if !ok {
			return action{actAddNonvoter, id, m.RaftAddr, "live member not in raft configuration"}, true
		}
		if string(s.Address) != m.RaftAddr {
			kind := actAddNonvoter
			if s.Suffrage == raft.Voter {
				kind = actAddVoter
			}
			return action{kind, id, m.RaftAddr, "raft address changed"}, true
		}
	}

	// 2. Servers whose member left, or is failed/unknown past the grace.
	for _, s := range in.servers {
		id := string(s.ID)
		if id == in.self {
			continue
		}
		m, known := byID[id]
		switch {
		case known && !m.Live() && in.now.Sub(m.Since) >= in.deadGrace:
			return action{actRemove, id, "", "member " + string(m.State) + " longer than the grace period"}, true
		case !known:
			if since, ok := in.missingSince[id]; ok && in.now.Sub(since) >= in.deadGrace {
				return action{actRemove, id, "", "server unknown to gossip longer than the grace period"}, true
			}
		}
	}

	// 3. Voters.
	healthy := func(id string) bool {
		if id == in.self {
			return true
		}
		m, ok := byID[id]
		return ok && m.State == cluster.StateAlive
	}
	regionOf := func(id string) string { return byID[id].Region }
	var voters, nonvoters []raft.Server
	liveServers := 0
	voterRegions := make(map[string]int)
	for _, s := range in.servers {
		if healthy(string(s.ID)) {
			liveServers++
		}
		if s.Suffrage == raft.Voter {
			voters = append(voters, s)
			if healthy(string(s.ID)) {
				voterRegions[regionOf(string(s.ID))]++
			}
		} else {
			nonvoters = append(nonvoters, s)
		}
	}
	var candidates []raft.Server
	for _, s := range nonvoters {
		if healthy(string(s.ID)) {
			candidates = append(candidates, s)
		}
	}
	// Best candidate: from the region with the fewest healthy voters, then by id.
	sort.Slice(candidates, func(i, j int) bool {
		ri, rj := voterRegions[regionOf(string(candidates[i].ID))], voterRegions[regionOf(string(candidates[j].ID))]
		if ri != rj {
			return ri < rj
		}
		return candidates[i].ID < candidates[j].ID
	})

	// 3a. A voter failed for a while, with a healthy non-voter to replace it.
	if len(candidates) > 0 {
		for _, v := range voters {
			m, ok := byID[string(v.ID)]
			if string(v.ID) != in.self && ok && !m.Live() && in.now.Sub(m.Since) >= in.voterReplaceAfter {
				return action{actDemote, string(v.ID), "", "voter unreachable; a healthy non-voter will replace it"}, true
			}
		}
	}
	healthyVoters := 0
	for _, v := range voters {
		if healthy(string(v.ID)) {
			healthyVoters++
		}
	}
	desired := min(in.voters, liveServers)
	// 3b. Promote up to the target.
	if healthyVoters < desired && len(candidates) > 0 {
		c := candidates[0]
		return action{actAddVoter, string(c.ID), string(c.Address), "below the voter target"}, true
	}
	// 3c. Too many voters: demote from the most crowded region, never self.
	if len(voters) > in.voters {
		var best raft.Server
		bestScore := -1
		for _, v := range voters {
			id := string(v.ID)
			if id == in.self {
				continue
			}
			score := voterRegions[regionOf(id)]
			if !healthy(id) {
				score += 100
			}
			if score > bestScore || (score == bestScore && v.ID > best.ID) {
				best, bestScore = v, score
			}
		}
		if bestScore >= 0 {
			return action{actDemote, string(best.ID), "", "above the voter target"}, true
		}
	}
	// 3d. Spread: a region holds two voters while a candidate's region holds none.
	if len(candidates) > 0 && voterRegions[regionOf(string(candidates[0].ID))] == 0 {
		for _, n := range voterRegions {
			if n >= 2 {
				c := candidates[0]
				return action{actAddVoter, string(c.ID), string(c.Address), "spread voters over regions"}, true
			}
		}
	}
	return action{}, false
}
