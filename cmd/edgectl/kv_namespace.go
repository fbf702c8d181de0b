package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// newKVNamespaceCmd is `edgectl kv namespace create|list|rename|delete`.
func newKVNamespaceCmd(a *app, f *kvFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "namespace", Aliases: []string{"ns"}, Short: "Create, list, rename and delete KV namespaces"}
	cmd.AddCommand(
		&cobra.Command{
			Use: "create TITLE", Short: "Create a namespace", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runQuery(a, cmd, func(c *client.Client, ctx context.Context) (client.KVNamespace, error) {
					kv, err := f.kvAPI(ctx, a)
					if err != nil {
						return client.KVNamespace{}, err
					}
					return kv.CreateNamespace(ctx, args[0])
				}, printNamespace)
			},
		},
		&cobra.Command{
			Use: "list", Short: "List every namespace of the account", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runQuery(a, cmd, func(c *client.Client, ctx context.Context) ([]client.KVNamespace, error) {
					kv, err := f.kvAPI(ctx, a)
					if err != nil {
						return nil, err
					}
					return kv.ListAllNamespaces(ctx)
				}, printNamespaces)
			},
		},
		&cobra.Command{
			Use: "rename NS TITLE", Short: "Give a namespace a new title", Args: cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				return f.withNS(cmd, a, args[0], func(ctx context.Context, kv *client.KV, id string) error {
					ns, err := kv.RenameNamespace(ctx, id, args[1])
					if err != nil {
						return err
					}
					if a.jsonOutput() {
						return writeJSON(a.stdout, ns)
					}
					return printNamespace(a, ns)
				})
			},
		},
		&cobra.Command{
			Use: "delete NS", Short: "Delete a namespace and all its keys", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return f.withNS(cmd, a, args[0], func(ctx context.Context, kv *client.KV, id string) error {
					if err := kv.DeleteNamespace(ctx, id); err != nil {
						return err
					}
					return printDone(a, map[string]any{"deleted": id}, "Deleted namespace "+id)
				})
			},
		},
	)
	return cmd
}

// printNamespace prints one namespace as a table.
func printNamespace(a *app, ns client.KVNamespace) error {
	return printNamespaces(a, []client.KVNamespace{ns})
}

// printNamespaces prints namespaces as a table.
func printNamespaces(a *app, nss []client.KVNamespace) error {
	t := newTable(a.stdout, "ID", "TITLE")
	for _, ns := range nss {
		t.row(ns.ID, ns.Title)
	}
	return t.flush()
}

// printDone reports a write: v as JSON with -o json, else the sentence.
func printDone(a *app, v any, sentence string) error {
	if a.jsonOutput() {
		return writeJSON(a.stdout, v)
	}
	_, err := a.stdout.Write([]byte(sentence + "\n"))
	return err
}
