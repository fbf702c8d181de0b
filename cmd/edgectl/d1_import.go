package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// newD1ImportCmd is `edgectl d1 import DB FILE`: wrangler's import flow.
func newD1ImportCmd(a *app, withDB d1WithDB) *cobra.Command {
	return &cobra.Command{
		Use:   "import DB FILE",
		Short: "Run a SQL file as one transaction on every replica (wrangler's import flow)",
		Long: "Import uploads FILE to a signed URL of the node (checked against its MD5), then applies all of its " +
			"statements as one replicated write: either every statement is applied on every replica, or none is. " +
			"It is what `wrangler d1 execute DB --remote --file FILE` does.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd, args[0], func(ctx context.Context, d *client.D1, id string) error {
				res, err := d.ImportFile(ctx, id, args[1])
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return writeJSON(a.stdout, res)
				}
				if res.Result == nil {
					_, err = fmt.Fprintf(a.stdout, "Imported %s into %s (bookmark %s)\n", args[1], id, res.AtBookmark)
					return err
				}
				m := res.Result.Meta
				_, err = fmt.Fprintf(a.stdout, "Imported %d statements into %s: rows read %d, written %d, size %d bytes, bookmark %s\n",
					res.Result.NumQueries, id, m.RowsRead, m.RowsWritten, m.SizeAfter, res.Result.FinalBookmark)
				return err
			})
		},
	}
}
