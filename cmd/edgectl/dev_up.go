package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// readyTimeout bounds the wait for every node of `dev up` to be ready.
const readyTimeout = 60 * time.Second

// readyProbeTimeout bounds one GET /readyz while waiting.
const readyProbeTimeout = 2 * time.Second

// cleanupGrace is how long a failed `dev up` waits for the processes it
// started to stop before killing them.
const cleanupGrace = 5 * time.Second

// devUpResult is the JSON output of `edgectl dev up`.
type devUpResult struct {
	Dir       string         `json:"dir"`
	Token     string         `json:"token"`
	Endpoints []string       `json:"endpoints"`
	CACert    string         `json:"ca_cert,omitempty"`
	Nodes     []devStateNode `json:"nodes"`
	Export    string         `json:"export"`
}

// newDevUpCmd is `edgectl dev up`: start a local cluster of edged
// processes and wait until each is ready.
func newDevUpCmd(a *app) *cobra.Command {
	cfg := defaultDevConfig()
	regions := strings.Join(cfg.Regions, ",")
	var edged string
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start a local cluster of edged processes",
		Long: "Start N edged processes: node i listens on --base-ip + i with the default ports, data in " +
			"DIR/node-N, log in DIR/node-N.log. The first --voters nodes form the cluster together " +
			"(--bootstrap-expect), all of them voters; later nodes join as non-voters. Every node gets the same " +
			"generated admin token (in its environment). Unless --insecure, the nodes talk mutual TLS with " +
			"certificates from a CA created in DIR/tls, encrypt gossip with a generated key and serve HTTPS. " +
			"Waits until each answers /readyz, then prints the endpoints, the token, the CA and an export line " +
			"for EDGE_ENDPOINT, EDGE_TOKEN and EDGE_CA_CERT.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Regions = splitList(regions)
			dir, err := filepath.Abs(cfg.Dir)
			if err != nil {
				return fmt.Errorf("dev up: %w", err)
			}
			cfg.Dir = dir
			cfg.Token = newToken()
			if !cfg.Insecure {
				// Plan first for the node addresses, then issue their
				// certificates and the gossip key, then plan with it.
				cfg.GossipKey = "pending"
				planned, err := planNodes(cfg, nil)
				if err != nil {
					return err
				}
				if cfg.GossipKey, err = ensureDevTLS(cfg.Dir, planned); err != nil {
					return err
				}
			}
			nodes, err := planNodes(cfg, a.environ())
			if err != nil {
				return err
			}
			path, err := findEdged(edged)
			if err != nil {
				return err
			}
			st, err := devUp(cmd.Context(), path, cfg, nodes)
			if err != nil {
				return err
			}
			return printDevUp(a, st)
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Nodes, "nodes", cfg.Nodes, "number of edged processes")
	f.StringVar(&regions, "regions", regions, "comma-separated regions, assigned to the nodes round-robin")
	f.StringVar(&cfg.Dir, "dir", cfg.Dir, "directory for node data, logs and cluster.json")
	f.StringVar(&edged, "edged", "", "path of the edged binary (default: beside edgectl, else $PATH)")
	f.IntVar(&cfg.Voters, "voters", cfg.Voters, "number of Raft voters")
	f.BoolVar(&cfg.Global, "global", false, "simulate latency between regions (edged --region-latency)")
	f.DurationVar(&cfg.Latency, "latency", cfg.Latency, "one-way latency between regions with --global")
	f.StringVar(&cfg.BaseIP, "base-ip", cfg.BaseIP, "address of node-1; node i gets base-ip + i")
	f.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "edged log format: text or json")
	f.BoolVar(&cfg.Insecure, "insecure", false, "no TLS and no gossip key: plain HTTP and plaintext between nodes")
	return cmd
}

// devUp starts the planned nodes (node-1 first, the rest once node-1
// serves HTTP), records them in DIR/cluster.json and waits for each to be ready.
// It refuses when cluster.json names processes that still run. On failure
// it stops what it started and removes cluster.json.
func devUp(ctx context.Context, edged string, cfg devConfig, nodes []devNode) (devState, error) {
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return devState{}, fmt.Errorf("dev up: %w", err)
	}
	if err := checkNotRunning(cfg.Dir); err != nil {
		return devState{}, err
	}
	st := devState{Version: devStateVersion, Dir: cfg.Dir, Edged: edged, Token: cfg.Token, Started: time.Now().UTC()}
	if !cfg.Insecure {
		st.CACert = devCAFile(cfg.Dir)
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	procs := make([]*startedProc, 0, len(nodes))
	fail := func(n devNode, err error) (devState, error) {
		_, stopErr := stopNodes(st.Nodes, cleanupGrace)
		if stopErr != nil {
			return devState{}, fmt.Errorf("dev up: %s: %w (see %s); cleanup: %w", n.ID, err, n.LogFile, stopErr)
		}
		if rmErr := removeState(cfg.Dir); rmErr != nil {
			return devState{}, fmt.Errorf("dev up: %s: %w (see %s); cleanup: %w", n.ID, err, n.LogFile, rmErr)
		}
		return devState{}, fmt.Errorf("dev up: %s: %w (see %s)", n.ID, err, n.LogFile)
	}
	start := func(n devNode) error {
		p, err := startProcess(edged, n)
		if err != nil {
			return err
		}
		procs = append(procs, p)
		st.Nodes = append(st.Nodes, devStateNode{
			ID: n.ID, Region: n.Region, PID: p.pid, Endpoint: n.Endpoint(), DataDir: n.DataDir, LogFile: n.LogFile,
		})
		return writeState(cfg.Dir, st)
	}
	// node-1 starts first and the others once it serves HTTP, not once it
	// is ready: the founders form Raft only once they all see each other
	// (--bootstrap-expect), and on a restart over existing data node-1
	// cannot elect a leader until the other voters are back.
	if err := start(nodes[0]); err != nil {
		return fail(nodes[0], err)
	}
	if err := waitFor(ctx, nodes[0].Endpoint(), st.CACert, (*client.Client).Healthz, procs[0]); err != nil {
		return fail(nodes[0], err)
	}
	for _, n := range nodes[1:] {
		if err := start(n); err != nil {
			return fail(n, err)
		}
	}
	for i, n := range nodes {
		if err := waitFor(ctx, n.Endpoint(), st.CACert, (*client.Client).Ready, procs[i]); err != nil {
			return fail(n, err)
		}
	}
	return st, nil
}

// checkNotRunning fails when DIR/cluster.json names live processes.
func checkNotRunning(dir string) error {
	st, err := readState(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("dev up: %w (remove it if no cluster runs)", err)
	}
	live := liveNodes(st)
	if len(live) == 0 {
		return nil
	}
	ids := make([]string, 0, len(live))
	for _, n := range live {
		ids = append(ids, n.ID+" pid "+strconv.Itoa(n.PID))
	}
	return fmt.Errorf("dev up: a dev cluster already runs in %s (%s); stop it with: edgectl dev down --dir %s",
		dir, strings.Join(ids, ", "), dir)
}

// waitFor polls endpoint with check (Client.Healthz or Client.Ready) until
// it succeeds, the process p exits or ctx ends. caCert, when not empty, is
// the CA the endpoint's HTTPS certificate comes from.
func waitFor(ctx context.Context, endpoint, caCert string, check func(*client.Client, context.Context) error, p *startedProc) error {
	opts := []client.Option{client.WithTimeout(readyProbeTimeout)}
	if caCert != "" {
		opts = append(opts, client.WithCACert(caCert))
	}
	c, err := client.New([]string{endpoint}, "", opts...)
	if err != nil {
		return err
	}
	for {
		last := check(c, ctx)
		if last == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("exited before it was ready: %v", p.err)
		case <-ctx.Done():
			return fmt.Errorf("not ready at %s: %w (last: %v)", endpoint, context.Cause(ctx), last)
		case <-time.After(pollInterval):
		}
	}
}

// findEdged returns the edged binary to run: flagPath when given, else an
// edged beside the edgectl executable, else edged from $PATH.
func findEdged(flagPath string) (string, error) {
	if flagPath != "" {
		p, err := exec.LookPath(flagPath)
		if err != nil {
			return "", fmt.Errorf("--edged: %w", err)
		}
		return filepath.Abs(p)
	}
	if exe, err := os.Executable(); err == nil {
		beside := filepath.Join(filepath.Dir(exe), "edged")
		if p, err := exec.LookPath(beside); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("edged")
	if err != nil {
		return "", fmt.Errorf("edged not found beside edgectl or in $PATH (build it, or pass --edged): %w", err)
	}
	return filepath.Abs(p)
}

// newToken returns a random admin token: 32 hex digits.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// splitList splits a comma-separated flag value, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// exportLine is the shell line that points edgectl at the cluster.
func exportLine(st devState) string {
	line := "export EDGE_ENDPOINT=" + strings.Join(stateEndpoints(st), ",") + " EDGE_TOKEN=" + st.Token
	if st.CACert != "" {
		line += " EDGE_CA_CERT=" + st.CACert
	}
	return line
}

// stateEndpoints lists the nodes' endpoints.
func stateEndpoints(st devState) []string {
	eps := make([]string, 0, len(st.Nodes))
	for _, n := range st.Nodes {
		eps = append(eps, n.Endpoint)
	}
	return eps
}

// printDevUp prints the started cluster.
func printDevUp(a *app, st devState) error {
	if a.jsonOutput() {
		return writeJSON(a.stdout, devUpResult{
			Dir: st.Dir, Token: st.Token, Endpoints: stateEndpoints(st), CACert: st.CACert, Nodes: st.Nodes, Export: exportLine(st),
		})
	}
	fmt.Fprintf(a.stdout, "dev cluster of %d node(s) ready in %s\n", len(st.Nodes), st.Dir)
	t := newTable(a.stdout, "ID", "REGION", "ENDPOINT", "PID", "LOG")
	for _, n := range st.Nodes {
		t.row(n.ID, n.Region, n.Endpoint, strconv.Itoa(n.PID), n.LogFile)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if st.CACert != "" {
		fmt.Fprintf(a.stdout, "tls: mutual TLS between nodes, gossip encrypted; API over HTTPS, CA %s\n", st.CACert)
	} else {
		fmt.Fprintf(a.stdout, "INSECURE: plaintext between nodes and plain HTTP (--insecure)\n")
	}
	fmt.Fprintf(a.stdout, "token: %s\n%s\n", st.Token, exportLine(st))
	return nil
}
