package main

import (
	"github.com/spf13/cobra"
)

// defaultDevDir is where `edgectl dev` keeps a local cluster.
const defaultDevDir = "./edge-dev"

// newDevCmd is `edgectl dev`, the parent of the local cluster commands.
func newDevCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a local development cluster of edged processes",
		Long: "Run a local development cluster: `dev up` starts N edged processes on 127.0.0.1, 127.0.0.2, ... " +
			"with the default ports, `dev down` stops them.",
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newDevUpCmd(a), newDevDownCmd(a))
	return cmd
}
