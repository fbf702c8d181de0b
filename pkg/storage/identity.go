package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// IdentityFile records which node a data directory belongs to.
func (l Layout) IdentityFile() string { return filepath.Join(l.Root, "IDENTITY") }

// Identity is the content of a data directory's IDENTITY file, written
// once when a node first starts on the directory.
type Identity struct {
	// NodeID is the node the directory belongs to.
	NodeID string `json:"node_id"`
	// ClusterID is the cluster the node belongs to; empty until recorded
	// (not yet learned at bootstrap or join).
	ClusterID string `json:"cluster_id,omitempty"`
	// Created is when the file was written.
	Created time.Time `json:"created"`
}

// ErrWrongNode means the data directory belongs to another node id.
var ErrWrongNode = errors.New("data directory belongs to another node")

// ClaimIdentity checks that the data directory belongs to nodeID, and
// records that it does on first use. A directory holding another node's
// Raft log and data would start a node that never finds its leader and
// serves an empty catalog; it is refused instead, naming both ids. A
// directory that already has data but no IDENTITY file (made before the
// file existed) is claimed.
func (l Layout) ClaimIdentity(nodeID string) (Identity, error) {
	path := l.IdentityFile()
	b, err := os.ReadFile(path)
	if err == nil {
		var id Identity
		if err := json.Unmarshal(b, &id); err != nil || id.NodeID == "" {
			return Identity{}, fmt.Errorf("identity file %s is damaged (%v): remove it only if this directory belongs to node %q",
				path, errOrEmpty(err), nodeID)
		}
		if id.NodeID != nodeID {
			return id, fmt.Errorf("%w: %s was created by node %q, refusing to start it as node %q "+
				"(start with --node-id %s, or give this node its own --data-dir)",
				ErrWrongNode, l.Root, id.NodeID, nodeID, id.NodeID)
		}
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return Identity{}, fmt.Errorf("read identity file: %w", err)
	}
	id := Identity{NodeID: nodeID, Created: time.Now().UTC().Truncate(time.Second)}
	return id, writeFileAtomic(path, id)
}

// SetClusterID records the cluster the node belongs to, once known. It
// refuses to change a recorded cluster id.
func (l Layout) SetClusterID(clusterID string) error {
	path := l.IdentityFile()
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read identity file: %w", err)
	}
	var id Identity
	if err := json.Unmarshal(b, &id); err != nil {
		return fmt.Errorf("identity file %s is damaged: %w", path, err)
	}
	switch id.ClusterID {
	case clusterID:
		return nil
	case "":
		id.ClusterID = clusterID
		return writeFileAtomic(path, id)
	default:
		return fmt.Errorf("data dir %s belongs to cluster %q, not %q", l.Root, id.ClusterID, clusterID)
	}
}

func errOrEmpty(err error) string {
	if err == nil {
		return "no node id"
	}
	return err.Error()
}

// writeFileAtomic writes v as JSON to path through a synced temporary file
// and a rename, then syncs the directory, so a crash leaves the old file
// or the new one, never a torn one.
func writeFileAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := f.Write(append(b, '\n'))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("sync dir of %s: %w", path, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir of %s: %w", path, err)
	}
	return nil
}
