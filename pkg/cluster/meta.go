package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
)

// metaVersion is the first byte of the encoded node record; a node refuses
// records of a version it does not know rather than misreading them.
const metaVersion byte = 1

// Meta is the record a node publishes about itself through gossip.
type Meta struct {
	ID       string `json:"id"`
	Region   string `json:"region"`
	HTTPAddr string `json:"http"`
	GRPCAddr string `json:"grpc"`
	RaftAddr string `json:"raft"`
	Version  string `json:"ver"`
	Voter    bool   `json:"voter,omitempty"`
	// Cluster is the id of the cluster the node belongs to, once it has
	// learned it (empty on a node that never joined one). Members of
	// another cluster are refused (cluster_guard.go).
	Cluster string `json:"cluster,omitempty"`
	// Leaving is set just before a graceful leave, so peers can tell a
	// departure from a crash (memberlist's leave event does not say).
	Leaving bool `json:"leaving,omitempty"`
}

// ErrMetaVersion reports a node record encoded by an unknown version.
var ErrMetaVersion = errors.New("unknown node record version")

func encodeMeta(m Meta) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode node record: %w", err)
	}
	return append([]byte{metaVersion}, b...), nil
}

func decodeMeta(b []byte) (Meta, error) {
	var m Meta
	if len(b) == 0 {
		return m, fmt.Errorf("decode node record: empty")
	}
	if b[0] != metaVersion {
		return m, fmt.Errorf("decode node record: %w %d", ErrMetaVersion, b[0])
	}
	if err := json.Unmarshal(b[1:], &m); err != nil {
		return m, fmt.Errorf("decode node record: %w", err)
	}
	return m, nil
}
