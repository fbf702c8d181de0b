package consensus

import (
	"sort"

	"github.com/edgeplane/edgeplane/pkg/cluster"
	"github.com/hashicorp/raft"
)

// actionKind is one kind of Raft configuration change the leader's own
// reconciler makes (autopilot makes the others).
type actionKind string

const (
	actAddNonvoter actionKind = "add-nonvoter"
	actAddVoter    actionKind = "add-voter" // update a voter's address
)

// action is one configuration change and why.
type action struct {
	kind   actionKind
	id     string
	addr   string
	reason string
}

// planAdditions decides the next change autopilot does not make: adding a
// live gossip member missing from the Raft configuration (always as a
// non-voter: only autopilot promotes, once the server proves healthy), or
// updating the address of a server that moved. It returns false when
// there is none. Suffrage changes and removals are autopilot's, through
// the promoter (promoter.go).
func planAdditions(servers []raft.Server, members []cluster.Member) (action, bool) {
	inConfig := make(map[string]raft.Server, len(servers))
	for _, s := range servers {
		inConfig[string(s.ID)] = s
	}
	sorted := append([]cluster.Member(nil), members...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	for _, m := range sorted {
		if m.State != cluster.StateAlive || m.RaftAddr == "" || m.Leaving {
			continue
		}
		s, ok := inConfig[m.ID]
		if !ok {
			return action{actAddNonvoter, m.ID, m.RaftAddr, "live member not in raft configuration"}, true
		}
		if string(s.Address) != m.RaftAddr {
			kind := actAddNonvoter
			if s.Suffrage == raft.Voter {
				kind = actAddVoter
			}
			return action{kind, m.ID, m.RaftAddr, "raft address changed"}, true
		}
	}
	return action{}, false
}
