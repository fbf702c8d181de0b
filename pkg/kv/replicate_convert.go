package kv

import (
	"github.com/edgeplane/edgeplane/pkg/hlc"
	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// entryToProto converts an entry for the wire.
func entryToProto(e Entry) *edgev1.KVEntry {
	return &edgev1.KVEntry{
		Ns:         e.Namespace,
		Key:        e.Key,
		Value:      e.Value,
		Metadata:   e.Metadata,
		Expiration: e.Expiration,
		Hlc:        uint64(e.Version.HLC),
		Node:       e.Version.Node,
		Tombstone:  e.Tombstone,
	}
}

// entryFromProto converts a wire entry back; empty value and metadata come
// back as nil, as Entry keeps them.
func entryFromProto(p *edgev1.KVEntry) Entry {
	e := Entry{
		Namespace:  p.GetNs(),
		Key:        p.GetKey(),
		Expiration: p.GetExpiration(),
		Version:    Version{HLC: hlc.Timestamp(p.GetHlc()), Node: p.GetNode()},
		Tombstone:  p.GetTombstone(),
	}
	if len(p.GetValue()) > 0 {
		e.Value = p.GetValue()
	}
	if len(p.GetMetadata()) > 0 {
		e.Metadata = p.GetMetadata()
	}
	return e
}

func entriesToProto(es []Entry) []*edgev1.KVEntry {
	out := make([]*edgev1.KVEntry, len(es))
	for i, e := range es {
		out[i] = entryToProto(e)
	}
	return out
}

func entriesFromProto(ps []*edgev1.KVEntry) []Entry {
	out := make([]Entry, len(ps))
	for i, p := range ps {
		out[i] = entryFromProto(p)
	}
	return out
}

// entrySize is the payload weight of an entry in a batch.
func entrySize(e Entry) int {
	return len(e.Value) + len(e.Metadata) + len(e.Key) + len(e.Namespace) + 64
}
