package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// devStateFile is the name of the state file in a dev cluster's directory.
const devStateFile = "cluster.json"

// devStateVersion is the format version of cluster.json.
const devStateVersion = 1

// maxStateBytes bounds how much of cluster.json is read.
const maxStateBytes = 1 << 20

// devState is cluster.json: what `dev up` started, so that `dev down` can
// stop it. It holds the admin token, so it is written with mode 0600.
type devState struct {
	Version int            `json:"version"`
	Dir     string         `json:"dir"`
	Edged   string         `json:"edged"`
	Token   string         `json:"token"`
	CACert  string         `json:"ca_cert,omitempty"` // the cluster CA without --insecure
	Started time.Time      `json:"started"`
	Nodes   []devStateNode `json:"nodes"`
}

// devStateNode is one started process in cluster.json.
type devStateNode struct {
	ID       string `json:"id"`
	Region   string `json:"region"`
	PID      int    `json:"pid"`
	Endpoint string `json:"endpoint"`
	DataDir  string `json:"data_dir"`
	LogFile  string `json:"log_file"`
}

// statePath returns DIR/cluster.json.
func statePath(dir string) string { return filepath.Join(dir, devStateFile) }

// readState reads DIR/cluster.json; a missing file is an error that
// errors.Is os.ErrNotExist.
func readState(dir string) (devState, error) {
	var st devState
	f, err := os.Open(statePath(dir))
	if err != nil {
		return st, fmt.Errorf("read dev state: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return st, fmt.Errorf("read dev state: %w", err)
	}
	if info.Size() > maxStateBytes {
		return st, fmt.Errorf("read dev state: %s is over %d bytes", statePath(dir), maxStateBytes)
	}
	if err := json.NewDecoder(f).Decode(&st); err != nil {
		return st, fmt.Errorf("read dev state %s: %w", statePath(dir), err)
	}
	if st.Version != devStateVersion {
		return st, fmt.Errorf("read dev state %s: unknown version %d", statePath(dir), st.Version)
	}
	return st, nil
}

// writeState writes DIR/cluster.json atomically (temporary file, rename).
func writeState(dir string, st devState) error {
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("write dev state: %w", err)
	}
	tmp, err := os.CreateTemp(dir, devStateFile+".tmp*")
	if err != nil {
		return fmt.Errorf("write dev state: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write dev state: %w", err)
	}
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write dev state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write dev state: %w", err)
	}
	if err := os.Rename(tmp.Name(), statePath(dir)); err != nil {
		return fmt.Errorf("write dev state: %w", err)
	}
	return nil
}

// removeState deletes DIR/cluster.json; a missing file is fine.
func removeState(dir string) error {
	if err := os.Remove(statePath(dir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove dev state: %w", err)
	}
	return nil
}

// liveNodes returns the nodes of st whose process still runs.
func liveNodes(st devState) []devStateNode {
	var live []devStateNode
	for _, n := range st.Nodes {
		if processAlive(n.PID, n.DataDir) {
			live = append(live, n)
		}
	}
	return live
}
