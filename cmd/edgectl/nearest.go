package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// nearestEndpoint is one row of `edgectl nearest -o json`.
type nearestEndpoint struct {
	Endpoint string   `json:"endpoint"`
	NodeID   string   `json:"node_id,omitempty"`
	RTTMs    *float64 `json:"rtt_ms"`
	Error    string   `json:"error,omitempty"`
}

// nearestResult is the JSON output of `edgectl nearest`.
type nearestResult struct {
	Nearest   string            `json:"nearest"`
	Endpoints []nearestEndpoint `json:"endpoints"`
}

// newNearestCmd is `edgectl nearest`: rank the --endpoint list by measured
// round trip and say which one the other commands would use.
func newNearestCmd(a *app) *cobra.Command {
	probes := client.DefaultProbes
	cmd := &cobra.Command{
		Use:   "nearest",
		Short: "Rank the --endpoint list by measured round trip",
		Long: "Send a few GET /healthz to every --endpoint, rank them by median round trip and say which " +
			"one the other commands would use. Fails when none answers.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if probes < 1 {
				return fmt.Errorf("invalid --probes %d: must be at least 1", probes)
			}
			eps := client.SplitEndpoints(a.endpoints)
			if len(eps) == 0 {
				return fmt.Errorf("no --endpoint given")
			}
			ctx, cancel := a.withTimeout(cmd.Context())
			defer cancel()
			res := toNearest(client.Rank(ctx, a.httpClient(), eps, probes))
			var err error
			if a.jsonOutput() {
				err = writeJSON(a.stdout, res)
			} else {
				err = printNearest(a, res)
			}
			if err != nil {
				return err
			}
			if res.Nearest == "" {
				return fmt.Errorf("%w among %d endpoint(s)", client.ErrNoEndpoint, len(eps))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&probes, "probes", probes, "GET /healthz per endpoint; the median counts")
	return cmd
}

// toNearest turns a ranking into the command's result.
func toNearest(ranked []client.EndpointRTT) nearestResult {
	res := nearestResult{Endpoints: make([]nearestEndpoint, 0, len(ranked))}
	for _, r := range ranked {
		e := nearestEndpoint{Endpoint: r.Endpoint, NodeID: r.NodeID}
		if r.Err != nil {
			e.Error = oneLine(r.Err.Error())
		} else {
			ms := float64(r.RTT) / float64(time.Millisecond)
			e.RTTMs = &ms
			if res.Nearest == "" {
				res.Nearest = r.Endpoint
			}
		}
		res.Endpoints = append(res.Endpoints, e)
	}
	return res
}

// printNearest prints the ranking table and the chosen endpoint.
func printNearest(a *app, res nearestResult) error {
	t := newTable(a.stdout, "ENDPOINT", "NODE", "RTT", "STATUS")
	for _, e := range res.Endpoints {
		status := "ok"
		switch {
		case e.Error != "":
			status = "unreachable: " + e.Error
		case e.Endpoint == res.Nearest:
			status = "nearest"
		}
		rtt := "-"
		if e.RTTMs != nil {
			rtt = fmt.Sprintf("%.2fms", *e.RTTMs)
		}
		t.row(e.Endpoint, orDash(e.NodeID), rtt, status)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if res.Nearest != "" {
		fmt.Fprintf(a.stdout, "using %s\n", res.Nearest)
	}
	return nil
}
