package kv

import (
	"strings"
	"time"

	"github.com/edgeplane/edgeplane/pkg/hlc"
)

// Version orders the writes to one key across the cluster: the hybrid
// logical clock timestamp of the write, then the id of the node that
// accepted it as a tie-break.
type Version struct {
	HLC  hlc.Timestamp `json:"hlc"`
	Node string        `json:"node"`
}

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than o.
func (v Version) Compare(o Version) int {
	switch {
	case v.HLC < o.HLC:
		return -1
	case v.HLC > o.HLC:
		return 1
	}
	return strings.Compare(v.Node, o.Node)
}

// IsZero reports an unset version.
func (v Version) IsZero() bool { return v.HLC == 0 && v.Node == "" }

// Entry is one key of a namespace as stored and replicated. A delete is an
// entry too (a tombstone), so that it wins over older writes that arrive
// late.
type Entry struct {
	Namespace string `json:"ns"`
	Key       string `json:"key"`
	Value     []byte `json:"value,omitempty"`
	// Metadata is the raw JSON given with the value; nil when none.
	Metadata []byte `json:"metadata,omitempty"`
	// Expiration is the Unix second after which the entry is invisible;
	// 0 means never.
	Expiration int64   `json:"expiration,omitempty"`
	Version    Version `json:"version"`
	Tombstone  bool    `json:"tombstone,omitempty"`
}

// Wins reports whether e should replace cur under last-writer-wins. It is
// the single rule every node applies, so any delivery order converges.
func (e Entry) Wins(cur Entry) bool { return e.Version.Compare(cur.Version) > 0 }

// Live reports whether the entry is visible at now: not deleted, not expired.
func (e Entry) Live(now time.Time) bool {
	return !e.Tombstone && (e.Expiration == 0 || now.Unix() < e.Expiration)
}
