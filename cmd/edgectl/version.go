package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// serverVersion is the answering node's part of `edgectl version -o json`.
type serverVersion struct {
	Endpoint string `json:"endpoint"`
	NodeID   string `json:"node_id"`
	Version  string `json:"version"`
}

// versionResult is the JSON output of `edgectl version`.
type versionResult struct {
	Client string         `json:"client"`
	Server *serverVersion `json:"server,omitempty"`
}

// newVersionCmd is `edgectl version`: edgectl's version and, when an
// endpoint answers, the server's.
func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print edgectl's version and the server's",
		Long:  "Print edgectl's version and, if an --endpoint answers, the version of the edged behind it.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res := versionResult{Client: a.version}
			// An unreachable server is not an error here: the client's
			// version is still worth printing.
			if c, err := a.client(); err == nil {
				ctx, cancel := a.withTimeout(cmd.Context())
				defer cancel()
				if h, err := c.Health(ctx); err == nil {
					res.Server = &serverVersion{Endpoint: c.Endpoint(), NodeID: h.NodeID, Version: h.Version}
				}
			}
			if a.jsonOutput() {
				return writeJSON(a.stdout, res)
			}
			fmt.Fprintf(a.stdout, "edgectl %s\n", res.Client)
			if s := res.Server; s != nil {
				fmt.Fprintf(a.stdout, "edged   %s (%s at %s)\n", orDash(s.Version), orDash(s.NodeID), s.Endpoint)
			} else {
				fmt.Fprintln(a.stdout, "edged   (no endpoint answered)")
			}
			return nil
		},
	}
}
