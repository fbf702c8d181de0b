package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// d1WithDB resolves DB (an id or a name) and runs fn with the D1 API, under
// --timeout.
type d1WithDB func(cmd *cobra.Command, db string, fn func(context.Context, *client.D1, string) error) error

// newD1ExportCmd is `edgectl d1 export DB`: a SQL dump of the database, to
// stdout or --out.
func newD1ExportCmd(a *app, withDB d1WithDB) *cobra.Command {
	var opts client.D1DumpOptions
	var output string
	cmd := &cobra.Command{
		Use:   "export DB [--table T ...] [--no-data] [--no-schema] [--out FILE]",
		Short: "Write a SQL dump of a database (schema, then rows) to stdout or a file",
		Long: "Export takes a SQL dump of the database from one consistent read on the node that serves it " +
			"(CREATE TABLE, INSERT INTO ... VALUES, then indexes, triggers and views) and downloads it from the " +
			"node's signed URL. `edgectl d1 import` or `wrangler d1 execute --remote --file` load it again. " +
			"With -o json, the dump goes to --out and stdout gets the export's answer.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.NoData && opts.NoSchema {
				return errors.New("--no-data and --no-schema together leave nothing to export")
			}
			if a.jsonOutput() && output == "" {
				return errors.New("-o json prints the export's answer: give --out FILE for the dump")
			}
			return withDB(cmd, args[0], func(ctx context.Context, d *client.D1, id string) error {
				var w io.Writer = a.stdout
				var f *os.File
				if output != "" {
					var err error
					if f, err = os.Create(output); err != nil {
						return err
					}
					w = f
				}
				res, n, err := d.Export(ctx, id, opts, w)
				if f != nil {
					err = errors.Join(err, f.Close())
					if err != nil {
						_ = os.Remove(output)
					}
				}
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return writeJSON(a.stdout, map[string]any{"database": id, "at_bookmark": res.AtBookmark,
						"file": output, "bytes": n, "export": res})
				}
				if output != "" {
					_, err = fmt.Fprintf(a.stdout, "Exported %d bytes of database %s at bookmark %s to %s\n", n, id, res.AtBookmark, output)
				}
				return err
			})
		},
	}
	cmd.Flags().StringArrayVar(&opts.Tables, "table", nil, "export only this table (repeat for several)")
	cmd.Flags().BoolVar(&opts.NoData, "no-data", false, "schema only")
	cmd.Flags().BoolVar(&opts.NoSchema, "no-schema", false, "rows only")
	cmd.Flags().StringVar(&output, "out", "", "write the dump to FILE instead of stdout (--output is the global output format)")
	return cmd
}
