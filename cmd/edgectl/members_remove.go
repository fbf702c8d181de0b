package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// newMembersRemoveCmd is `edgectl members remove ID`: remove a dead node
// from the Raft configuration for good.
func newMembersRemoveCmd(a *app) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a dead node from the cluster for good",
		Long: "Remove node ID from the Raft configuration now, instead of waiting for the leader to remove it " +
			"after --dead-server-grace, and forget it in the answering node's gossip table. Any node takes the " +
			"request and hands it to the Raft leader. Refused: the only voter (always); a node gossip still sees " +
			"live, and the answering leader itself, unless --force. A live node that is removed is added back " +
			"as a non-voter while it runs: stop it first. A node that was removed must start with an empty " +
			"data directory to join again.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			return runQuery(a, cmd, func(c *client.Client, ctx context.Context) (wire.MemberRemoval, error) {
				return c.RemoveMember(ctx, id, force)
			}, printMemberRemoval)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "also remove a node that still looks live, or the answering leader itself")
	return cmd
}

func printMemberRemoval(a *app, r wire.MemberRemoval) error {
	what := "non-voter"
	if r.WasVoter {
		what = "voter"
	}
	_, err := fmt.Fprintf(a.stdout, "removed %s (%s) from the raft configuration at index %d\n", r.ID, what, r.RaftIndex)
	return err
}
