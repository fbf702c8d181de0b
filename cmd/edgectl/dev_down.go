package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// stopGrace is how long `dev down` waits after SIGTERM before SIGKILL.
const stopGrace = 15 * time.Second

// devDownResult is the JSON output of `edgectl dev down`.
type devDownResult struct {
	Dir    string        `json:"dir"`
	Nodes  []stopOutcome `json:"nodes"`
	Purged bool          `json:"purged"`
}

// newDevDownCmd is `edgectl dev down`: stop the processes of a dev cluster.
func newDevDownCmd(a *app) *cobra.Command {
	dir := defaultDevDir
	var purge bool
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop a local cluster started by dev up",
		Long: "Send SIGTERM to the processes in DIR/cluster.json one after another (last started first), " +
			"waiting up to 15 s for each, then SIGKILL the rest. A node whose log shows it exited with an error " +
			"(for example a leave that timed out) is reported as unclean. --purge also removes the nodes' data and logs.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			abs, err := filepath.Abs(dir)
			if err != nil {
				return fmt.Errorf("dev down: %w", err)
			}
			res, err := devDown(abs, purge, stopGrace)
			if err != nil {
				return err
			}
			return printDevDown(a, res)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", dir, "directory of the dev cluster (holds cluster.json)")
	cmd.Flags().BoolVar(&purge, "purge", false, "also remove the nodes' data directories and logs")
	return cmd
}

// devDown stops the cluster recorded in dir/cluster.json, removes the state
// file and, with purge, the data and logs it lists.
func devDown(dir string, purge bool, grace time.Duration) (devDownResult, error) {
	st, err := readState(dir)
	if errors.Is(err, os.ErrNotExist) {
		return devDownResult{}, fmt.Errorf("dev down: no dev cluster in %s (no %s)", dir, devStateFile)
	}
	if err != nil {
		return devDownResult{}, fmt.Errorf("dev down: %w", err)
	}
	outcomes, err := stopNodes(st.Nodes, grace)
	if err != nil {
		return devDownResult{}, fmt.Errorf("dev down: %w", err)
	}
	res := devDownResult{Dir: dir, Nodes: outcomes}
	if err := removeState(dir); err != nil {
		return res, fmt.Errorf("dev down: %w", err)
	}
	if purge {
		if err := purgeNodes(dir, st.Nodes); err != nil {
			return res, fmt.Errorf("dev down: %w", err)
		}
		res.Purged = true
	}
	return res, nil
}

// purgeNodes removes the data dirs and logs of nodes that lie inside dir,
// then dir itself if it is left empty.
func purgeNodes(dir string, nodes []devStateNode) error {
	var errs []error
	for _, n := range nodes {
		for _, p := range []string{n.DataDir, n.LogFile} {
			if !inside(dir, p) {
				errs = append(errs, fmt.Errorf("purge: %s is outside %s, left alone", p, dir))
				continue
			}
			if err := os.RemoveAll(p); err != nil {
				errs = append(errs, fmt.Errorf("purge: %w", err))
			}
		}
	}
	_ = os.Remove(dir) // only succeeds when empty, which is the point
	return errors.Join(errs...)
}

// inside reports whether p is strictly below dir.
func inside(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == "." || !filepath.IsLocal(rel) {
		return false
	}
	return true
}

// printDevDown prints what happened to each node.
func printDevDown(a *app, res devDownResult) error {
	if a.jsonOutput() {
		return writeJSON(a.stdout, res)
	}
	t := newTable(a.stdout, "ID", "PID", "RESULT")
	for _, o := range res.Nodes {
		t.row(o.ID, strconv.Itoa(o.PID), o.Result)
	}
	if err := t.flush(); err != nil {
		return err
	}
	for _, o := range res.Nodes {
		if o.Detail != "" {
			fmt.Fprintf(a.stdout, "%s did not leave cleanly: %s\n", o.ID, o.Detail)
		}
	}
	if res.Purged {
		fmt.Fprintf(a.stdout, "purged data and logs in %s\n", res.Dir)
	} else {
		fmt.Fprintf(a.stdout, "data kept in %s (remove with --purge)\n", strings.TrimRight(res.Dir, "/"))
	}
	return nil
}
