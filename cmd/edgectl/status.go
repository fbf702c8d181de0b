package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// newStatusCmd is `edgectl status`: the answering node's view of itself and
// of Raft.
func newStatusCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the answering node's status",
		Long: "Show the answering node's status: node, region, account, Raft state, leader, term, " +
			"commit and applied index, catalog version. -o json prints the status object.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runQuery(a, cmd, (*client.Client).Status, printStatus)
		},
	}
}

// printStatus prints the status as a key/value table.
func printStatus(a *app, st wire.Status) error {
	leader := orDash(st.Raft.LeaderID)
	if st.Raft.LeaderAddr != "" {
		leader += " (" + st.Raft.LeaderAddr + ")"
	}
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	uptime := (time.Duration(st.UptimeSeconds) * time.Second).String()
	t := newTable(a.stdout)
	t.row("Node:", orDash(st.NodeID))
	t.row("Cluster:", orDash(st.ClusterID))
	t.row("Region:", orDash(st.Region))
	t.row("Account:", orDash(st.AccountID))
	t.row("Version:", orDash(st.Version))
	t.row("HTTP:", orDash(st.HTTPAddr))
	t.row("Raft state:", orDash(st.Raft.State))
	t.row("Leader:", leader)
	t.row("Term:", u(st.Raft.Term))
	t.row("Commit index:", u(st.Raft.CommitIndex))
	t.row("Applied index:", u(st.Raft.AppliedIndex))
	t.row("Last index:", u(st.Raft.LastIndex))
	t.row("Voters:", fmt.Sprintf("%d (+%d non-voters)", st.Raft.Voters, st.Raft.Nonvoters))
	t.row("Catalog version:", u(st.CatalogVersion))
	t.row("Members:", strconv.Itoa(st.Members))
	t.row("Uptime:", uptime)
	return t.flush()
}
