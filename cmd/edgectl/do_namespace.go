package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// newDONamespaceCmd is `edgectl do namespace create|update|list|delete`.
func newDONamespaceCmd(a *app, f *doFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "namespace", Aliases: []string{"ns"}, Short: "Create, change, list and delete Durable Object namespaces"}
	var create client.DONamespaceCreate
	var history int
	createCmd := &cobra.Command{
		Use: "create NAME", Short: "Create a namespace", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if history < 0 {
				return fmt.Errorf("--websocket-history must not be negative")
			}
			create.Name, create.WebsocketHistory = args[0], history
			return runQuery(a, cmd, func(c *client.Client, ctx context.Context) (client.DONamespace, error) {
				d, err := f.doAPI(ctx, a)
				if err != nil {
					return client.DONamespace{}, err
				}
				return d.CreateNamespace(ctx, create)
			}, func(a *app, ns client.DONamespace) error { return printDONamespaces(a, []client.DONamespace{ns}) })
		},
	}
	createCmd.Flags().StringVar(&create.LocationHint, "location-hint", "", "region whose nodes own the namespace's objects")
	createCmd.Flags().StringVar(&create.AlarmWebhook, "alarm-webhook", "",
		"http(s) URL alarms are POSTed to (called from whichever node owns the object)")
	createCmd.Flags().IntVar(&history, "websocket-history", 0, "messages each WebSocket room keeps and replays to new sockets")
	cmd.AddCommand(
		createCmd,
		newDONamespaceUpdateCmd(a, f),
		&cobra.Command{
			Use: "list", Short: "List every namespace of the account", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runQuery(a, cmd, func(c *client.Client, ctx context.Context) ([]client.DONamespace, error) {
					d, err := f.doAPI(ctx, a)
					if err != nil {
						return nil, err
					}
					return d.ListNamespaces(ctx)
				}, printDONamespaces)
			},
		},
		&cobra.Command{
			Use: "delete NS", Short: "Delete a namespace and all its objects", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return f.withNS(cmd, a, args[0], func(ctx context.Context, d *client.DO, id string) error {
					if err := d.DeleteNamespace(ctx, id); err != nil {
						return err
					}
					return printDone(a, map[string]any{"deleted": id}, "Deleted namespace "+id)
				})
			},
		},
	)
	return cmd
}

// newDONamespaceUpdateCmd is `edgectl do namespace update NS`: a new alarm
// webhook or WebSocket history, set without recreating the namespace (which
// would delete its objects).
func newDONamespaceUpdateCmd(a *app, f *doFlags) *cobra.Command {
	var webhook string
	var history int
	cmd := &cobra.Command{
		Use:   "update NS",
		Short: "Change a namespace's alarm webhook or WebSocket history",
		Long: "Change a namespace's alarm webhook or WebSocket history; flags not given stay as they are. " +
			`--alarm-webhook "" removes the webhook (alarms can then no longer be set). The location hint cannot ` +
			"change: it would move the namespace's objects.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var req client.DONamespaceUpdate
			if cmd.Flags().Changed("alarm-webhook") {
				req.AlarmWebhook = &webhook
			}
			if cmd.Flags().Changed("websocket-history") {
				if history < 0 {
					return fmt.Errorf("--websocket-history must not be negative")
				}
				req.WebsocketHistory = &history
			}
			if req.AlarmWebhook == nil && req.WebsocketHistory == nil {
				return fmt.Errorf("nothing to change: give --alarm-webhook or --websocket-history")
			}
			return f.withNS(cmd, a, args[0], func(ctx context.Context, d *client.DO, id string) error {
				ns, err := d.UpdateNamespace(ctx, id, req)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return writeJSON(a.stdout, ns)
				}
				return printDONamespaces(a, []client.DONamespace{ns})
			})
		},
	}
	cmd.Flags().StringVar(&webhook, "alarm-webhook", "", `new http(s) URL alarms are POSTed to; "" removes it`)
	cmd.Flags().IntVar(&history, "websocket-history", 0, "messages each WebSocket room keeps and replays (new rooms)")
	return cmd
}

// printDONamespaces prints namespaces as a table.
func printDONamespaces(a *app, nss []client.DONamespace) error {
	t := newTable(a.stdout, "ID", "NAME", "LOCATION", "ALARM WEBHOOK", "WS HISTORY")
	for _, ns := range nss {
		t.row(ns.ID, ns.Name, orDash(ns.LocationHint), orDash(ns.AlarmWebhook), strconv.Itoa(ns.WebsocketHistory))
	}
	return t.flush()
}
