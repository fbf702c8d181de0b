package router

import (
	"cmp"
	"slices"
)

// Rendezvous returns nodes ordered by highest random weight for key
// (rendezvous hashing): the first is the key's owner, the next ones its
// successors. The order depends only on key and the set of nodes, not on
// their order in the slice; duplicates are dropped. When a node leaves, only
// the keys it owned move, each to its next node in the order. nodes is not
// modified.
func Rendezvous(key string, nodes []string) []string {
	type scored struct {
		node  string
		score uint64
	}
	all := make([]scored, 0, len(nodes))
	for _, n := range nodes {
		all = append(all, scored{node: n, score: hrwScore(n, key)})
	}
	slices.SortFunc(all, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.node, b.node)
	})
	out := make([]string, 0, len(all))
	for i, s := range all {
		if i > 0 && s.node == all[i-1].node {
			continue
		}
		out = append(out, s.node)
	}
	return out
}

// Owner returns the first node of Rendezvous(key, nodes), or "" for no
// nodes, without allocating the full order.
func Owner(key string, nodes []string) string {
	best, bestScore := "", uint64(0)
	for _, n := range nodes {
		s := hrwScore(n, key)
		if best == "" || s > bestScore || (s == bestScore && n < best) {
			best, bestScore = n, s
		}
	}
	return best
}

// FNV-1a 64-bit parameters.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// hrwScore is the weight of node for key: FNV-1a over node, a separator
// and key, finished with the murmur3 64-bit mixer so that nearby inputs
// give unrelated scores.
func hrwScore(node, key string) uint64 {
	h := uint64(fnvOffset64)
	for i := 0; i < len(node); i++ {
		h ^= uint64(node[i])
		h *= fnvPrime64
	}
	h ^= 0xff // separator: ("ab","c") and ("a","bc") must differ
	h *= fnvPrime64
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= fnvPrime64
	}
	return fmix64(h)
}

// fmix64 is the finalizer of MurmurHash3: a bijective avalanche step.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
