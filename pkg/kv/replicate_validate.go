package kv

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// MaxClockSkew is how far ahead of the receiver's clock a replicated
// entry's HLC may be. An entry further ahead would win every later write
// to its key for that long (last-writer-wins), and would drag this node's
// clock forward when observed, so it is refused.
const MaxClockSkew = time.Minute

// maxNamespaceIDBytes bounds a namespace id that arrives from a peer.
const maxNamespaceIDBytes = 128

// Reasons an entry is refused by replication (the reason label of
// edge_kv_replication_refused_total).
const (
	refusedNamespace = "namespace"
	refusedKey       = "key"
	refusedValue     = "value"
	refusedMetadata  = "metadata"
	refusedVersion   = "version"
	refusedClock     = "clock_skew"
)

// checkReplicated checks an entry that crosses the wire (sent or received)
// against every rule a local write obeys, plus a bounded clock skew: the
// receiver's side of "inputs are validated everywhere data enters". It
// returns the reason label and an error naming the problem, or "" and nil.
// Expirations in the past are allowed: a replicated entry may expire in
// transit, and the store treats it as dead.
func checkReplicated(e Entry, now time.Time) (string, error) {
	if err := validNamespaceID(e.Namespace); err != nil {
		return refusedNamespace, err
	}
	if err := ValidateKey(e.Key); err != nil {
		return refusedKey, err
	}
	if !e.Tombstone {
		if err := ValidateValue(e.Value); err != nil {
			return refusedValue, err
		}
		if err := ValidateMetadata(e.Metadata); err != nil {
			return refusedMetadata, err
		}
	}
	if e.Version.IsZero() || e.Version.Node == "" || len(e.Version.Node) > maxNamespaceIDBytes || !utf8.ValidString(e.Version.Node) {
		return refusedVersion, fmt.Errorf("invalid version %v", e.Version)
	}
	if ahead := e.Version.HLC.Time().Sub(now); ahead > MaxClockSkew {
		return refusedClock, fmt.Errorf("version %v is %v ahead of this node's clock (at most %v)", e.Version, ahead.Round(time.Second), MaxClockSkew)
	}
	return "", nil
}

// validNamespaceID requires a well-formed namespace id: 1 to 128 bytes of
// printable ASCII without spaces (ids are generated hex; tests use names).
func validNamespaceID(ns string) error {
	if ns == "" || len(ns) > maxNamespaceIDBytes {
		return fmt.Errorf("invalid namespace id of %d bytes", len(ns))
	}
	for i := 0; i < len(ns); i++ {
		if c := ns[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("invalid namespace id %q", ns)
		}
	}
	return nil
}

// filterReplicated drops the entries checkReplicated refuses, counting and
// logging each at ERROR (it is a bug or an attack, never normal), and
// returns the rest (reusing es's array).
func (r *Replicator) filterReplicated(es []Entry, dir, peer string) []Entry {
	now := r.now()
	out := es[:0]
	for _, e := range es {
		reason, err := checkReplicated(e, now)
		if err != nil {
			r.metrics.refused.WithLabelValues(reason).Inc()
			r.log.Error("kv replication: refused an entry", "direction", dir, "peer", peer, "reason", reason,
				"ns", e.Namespace, "key", fmt.Sprintf("%q", truncate(e.Key, 64)), "hlc", e.Version.HLC.String(), "origin", e.Version.Node, "err", err)
			continue
		}
		out = append(out, e)
	}
	return out
}

// truncate shortens s to at most n bytes for a log line.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
