package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// newAccountCmd is `edgectl account create|list|get|rename|delete`.
func newAccountCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "account", Short: "Create, list, rename and delete accounts (tenants)"}
	cmd.AddCommand(
		&cobra.Command{
			Use: "create NAME", Short: "Create an account (cluster admin)", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runQuery(a, cmd, func(c *client.Client, ctx context.Context) (wire.Account, error) {
					return c.CreateAccount(ctx, args[0])
				}, printAccount)
			},
		},
		&cobra.Command{
			Use: "list", Short: "List the accounts the token reaches", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runQuery(a, cmd, func(c *client.Client, ctx context.Context) ([]wire.Account, error) {
					return c.ListAccounts(ctx)
				}, printAccounts)
			},
		},
		&cobra.Command{
			Use: "get ID", Short: "Show one account", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runQuery(a, cmd, func(c *client.Client, ctx context.Context) (wire.Account, error) {
					return c.GetAccount(ctx, args[0])
				}, printAccount)
			},
		},
		&cobra.Command{
			Use: "rename ID NAME", Short: "Rename an account", Args: cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runQuery(a, cmd, func(c *client.Client, ctx context.Context) (wire.Account, error) {
					return c.RenameAccount(ctx, args[0], args[1])
				}, printAccount)
			},
		},
		&cobra.Command{
			Use: "delete ID", Short: "Delete an account holding no resources and no tokens (cluster admin)", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runQuery(a, cmd, func(c *client.Client, ctx context.Context) (map[string]string, error) {
					return map[string]string{"deleted": args[0]}, c.DeleteAccount(ctx, args[0])
				}, func(a *app, _ map[string]string) error { return printDone(a, nil, "Deleted account "+args[0]) })
			},
		},
	)
	return cmd
}

func printAccount(a *app, acc wire.Account) error { return printAccounts(a, []wire.Account{acc}) }

func printAccounts(a *app, accs []wire.Account) error {
	t := newTable(a.stdout, "ID", "NAME", "CREATED")
	for _, acc := range accs {
		t.row(acc.ID, acc.Name, orDash(acc.CreatedOn))
	}
	return t.flush()
}
