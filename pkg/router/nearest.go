package router

import (
	"cmp"
	"slices"
	"time"
)

// Candidate is a node that could serve a read, as seen from this node.
type Candidate struct {
	// NodeID identifies the node.
	NodeID string
	// Region is the node's region.
	Region string
	// RTT is the estimated round-trip time to the node (Vivaldi
	// coordinates); meaningful only when RTTKnown.
	RTT time.Duration
	// RTTKnown says whether RTT holds an estimate.
	RTTKnown bool
}

// Nearest orders cands from nearest to farthest as seen from local: those
// with a known RTT first, by RTT; then those without, same region as local
// first (region is the coarse fallback). Ties go by node id, so the order is
// stable. cands is not modified.
func Nearest(local Candidate, cands []Candidate) []Candidate {
	out := slices.Clone(cands)
	rank := func(c Candidate) int {
		switch {
		case c.RTTKnown:
			return 0
		case c.Region != "" && c.Region == local.Region:
			return 1
		default:
			return 2
		}
	}
	slices.SortStableFunc(out, func(a, b Candidate) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		if a.RTTKnown {
			if c := cmp.Compare(a.RTT, b.RTT); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.NodeID, b.NodeID)
	})
	return out
}
