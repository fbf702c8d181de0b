package consensus

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hashicorp/raft"
)

// PeersFile is the name, in the Raft directory (<data-dir>/raft), of the
// file an operator writes to recover a cluster that lost its quorum: a
// JSON list of {"id", "address", "non_voter"}, as raft.ReadConfigJSON reads
// it. Once applied it is renamed PeersFile + ".applied".
const PeersFile = "peers.json"

// recoverFromPeersFile applies <dir>/peers.json, if present, with
// raft.RecoverCluster: the local log and snapshots are replayed into a new
// snapshot whose configuration is the file's, so every entry this server
// holds is kept, and Raft then starts with only the listed servers. It
// reports whether it recovered.
func recoverFromPeersFile(dir string, rc *raft.Config, fsm raft.FSM, logs raft.LogStore, stable raft.StableStore,
	snaps raft.SnapshotStore, trans raft.Transport, log *slog.Logger) (bool, error) {
	path := filepath.Join(dir, PeersFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("raft recovery: %w", err)
	}
	conf, err := raft.ReadConfigJSON(path)
	if err != nil {
		return false, fmt.Errorf("raft recovery: read %s: %w", path, err)
	}
	self := false
	for _, s := range conf.Servers {
		if s.ID == rc.LocalID {
			self = s.Suffrage == raft.Voter
		}
	}
	if !self {
		return false, fmt.Errorf("raft recovery: %s does not list this server (%s) as a voter", path, rc.LocalID)
	}
	log.Warn("RECOVERING RAFT FROM peers.json: replacing the cluster configuration by the operator's; "+
		"every entry in this server's log is kept, entries only the lost servers had are gone",
		"file", path, "servers", describeServers(conf.Servers))
	if err := raft.RecoverCluster(rc, fsm, logs, stable, snaps, trans, conf); err != nil {
		return false, fmt.Errorf("raft recovery from %s: %w", path, err)
	}
	applied := path + ".applied"
	if err := os.Rename(path, applied); err != nil {
		return true, fmt.Errorf("raft recovery: applied %s but could not rename it (remove it before the next start): %w", path, err)
	}
	log.Warn("raft recovery applied; renamed the peers file so it is not applied again", "file", applied)
	return true, nil
}

func describeServers(servers []raft.Server) []string {
	out := make([]string, 0, len(servers))
	for _, s := range servers {
		out = append(out, fmt.Sprintf("%s@%s(%s)", s.ID, s.Address, s.Suffrage))
	}
	return out
}
