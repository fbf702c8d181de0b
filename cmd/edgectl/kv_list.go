package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// newKVListCmd is `edgectl kv list NS`.
func newKVListCmd(a *app, f *kvFlags) *cobra.Command {
	var prefix string
	var limit int
	cmd := &cobra.Command{
		Use:   "list NS",
		Short: "List keys, paging through the cursor to the end",
		Long: "List the keys of a namespace in byte order, following the cursor until the list is complete. " +
			"-o json prints the array of {name, expiration, metadata}.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withNS(cmd, a, args[0], func(ctx context.Context, kv *client.KV, id string) error {
				keys := []client.KVKey{}
				err := kv.ListAllKeys(ctx, id, prefix, limit, maxListPages, func(p client.KVKeyPage) error {
					keys = append(keys, p.Keys...)
					return nil
				})
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return writeJSON(a.stdout, keys)
				}
				t := newTable(a.stdout, "KEY", "EXPIRES", "METADATA")
				for _, k := range keys {
					exp := "-"
					if k.Expiration != 0 {
						exp = time.Unix(k.Expiration, 0).UTC().Format(time.RFC3339)
					}
					t.row(k.Name, exp, orDash(string(k.Metadata)))
				}
				return t.flush()
			})
		},
	}
	cmd.Flags().StringVar(&prefix, "prefix", "", "list only keys that start with this")
	cmd.Flags().IntVar(&limit, "limit", 1000, "keys per page (10..1000)")
	return cmd
}
