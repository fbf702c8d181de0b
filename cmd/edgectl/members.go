package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// newMembersCmd is `edgectl members`: the cluster's nodes as the answering
// node sees them.
func newMembersCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "members",
		Short: "List the cluster's nodes",
		Long: "List the cluster's nodes as the answering node sees them: region, gossip state, " +
			"Raft voter or not, addresses and estimated round trip. -o json prints the members array.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runQuery(a, cmd, (*client.Client).Members, printMembers)
		},
	}
	cmd.AddCommand(newMembersRemoveCmd(a))
	return cmd
}

// printMembers prints the members table.
func printMembers(a *app, ms []wire.Member) error {
	t := newTable(a.stdout, "ID", "REGION", "STATE", "VOTER", "HTTP", "GRPC", "RAFT", "GOSSIP", "RTT")
	for _, m := range ms {
		t.row(m.ID, orDash(m.Region), orDash(m.State), yesNo(m.Voter),
			orDash(m.HTTPAddr), orDash(m.GRPCAddr), orDash(m.RaftAddr), orDash(m.GossipAddr), rttMillis(m.RTTMillis))
	}
	return t.flush()
}

// rttMillis renders an estimated round trip in milliseconds, "-" when
// unknown.
func rttMillis(ms *float64) string {
	if ms == nil {
		return "-"
	}
	return fmt.Sprintf("%sms", strconv.FormatFloat(*ms, 'f', 1, 64))
}
