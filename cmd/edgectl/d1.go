package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// newD1Cmd is `edgectl d1`: D1 databases and SQL.
func newD1Cmd(a *app) *cobra.Command {
	var account string
	api := func(ctx context.Context) (*client.D1, error) {
		c, err := a.client()
		if err != nil {
			return nil, err
		}
		acc := account
		if acc == "" {
			if acc, err = c.AccountID(ctx); err != nil {
				return nil, err
			}
		}
		return c.D1(acc), nil
	}
	withDB := func(cmd *cobra.Command, db string, fn func(context.Context, *client.D1, string) error) error {
		ctx, cancel := a.withTimeout(cmd.Context())
		defer cancel()
		d, err := api(ctx)
		if err != nil {
			return err
		}
		id, err := d.Resolve(ctx, db)
		if err != nil {
			return err
		}
		return fn(ctx, d, id)
	}
	cmd := &cobra.Command{
		Use:   "d1",
		Short: "Work with D1 databases",
		Long: "Work with D1 through the Cloudflare-shaped API of the cluster. DB is a database id or name. " +
			"The account is the cluster's (from status) unless --account is given.",
	}
	cmd.PersistentFlags().StringVar(&account, "account", "", "account id (default: the cluster's, from status)")
	var hint string
	create := &cobra.Command{
		Use: "create NAME", Short: "Create a database", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runQuery(a, cmd, func(_ *client.Client, ctx context.Context) (client.D1Database, error) {
				d, err := api(ctx)
				if err != nil {
					return client.D1Database{}, err
				}
				return d.Create(ctx, args[0], hint)
			}, func(a *app, db client.D1Database) error { return printD1Databases(a, []client.D1Database{db}) })
		},
	}
	create.Flags().StringVar(&hint, "location", "", "primary_location_hint (e.g. weur)")
	var command, file string
	execute := &cobra.Command{
		Use: "execute DB (--command SQL | --file FILE)", Short: "Run SQL statements as one transaction", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sql := command
			switch {
			case command != "" && file != "":
				return errors.New("give --command or --file, not both")
			case file != "":
				b, err := os.ReadFile(file)
				if err != nil {
					return err
				}
				sql = string(b)
			case command == "":
				return errors.New("give --command SQL or --file FILE")
			}
			return withDB(cmd, args[0], func(ctx context.Context, d *client.D1, id string) error {
				res, err := d.Raw(ctx, id, sql)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return writeJSON(a.stdout, res)
				}
				return printD1Results(a, res)
			})
		},
	}
	execute.Flags().StringVar(&command, "command", "", "SQL to run (several statements separated by ;)")
	execute.Flags().StringVar(&file, "file", "", "file of SQL statements to run")
	cmd.AddCommand(
		create,
		&cobra.Command{
			Use: "list", Short: "List the account's databases", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runQuery(a, cmd, func(_ *client.Client, ctx context.Context) ([]client.D1Database, error) {
					d, err := api(ctx)
					if err != nil {
						return nil, err
					}
					return d.List(ctx)
				}, printD1Databases)
			},
		},
		&cobra.Command{
			Use: "info DB", Short: "Show one database", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withDB(cmd, args[0], func(ctx context.Context, d *client.D1, id string) error {
					db, err := d.Get(ctx, id)
					if err != nil {
						return err
					}
					if a.jsonOutput() {
						return writeJSON(a.stdout, db)
					}
					return printD1Databases(a, []client.D1Database{db})
				})
			},
		},
		&cobra.Command{
			Use: "delete DB", Short: "Delete a database and its data on every node", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withDB(cmd, args[0], func(ctx context.Context, d *client.D1, id string) error {
					if err := d.Delete(ctx, id); err != nil {
						return err
					}
					return printDone(a, map[string]any{"deleted": id}, "Deleted database "+id)
				})
			},
		},
		execute,
		newD1ExportCmd(a, withDB),
		newD1ImportCmd(a, withDB),
		newD1MigrationsCmd(a, withDB),
	)
	return cmd
}

func printD1Databases(a *app, dbs []client.D1Database) error {
	t := newTable(a.stdout, "UUID", "NAME", "CREATED", "TABLES", "SIZE")
	for _, db := range dbs {
		t.row(db.UUID, db.Name, db.CreatedAt, strconv.Itoa(db.NumTables), strconv.FormatInt(db.FileSize, 10))
	}
	return t.flush()
}

// printD1Results prints each statement's rows as a table, then its counts.
func printD1Results(a *app, res []client.D1RawResult) error {
	for i, r := range res {
		if len(res) > 1 {
			fmt.Fprintf(a.stdout, "-- statement %d\n", i+1)
		}
		if len(r.Results.Columns) > 0 {
			t := newTable(a.stdout, r.Results.Columns...)
			for _, row := range r.Results.Rows {
				cells := make([]string, len(row))
				for j, v := range row {
					cells[j] = d1Cell(v)
				}
				t.row(cells...)
			}
			if err := t.flush(); err != nil {
				return err
			}
		}
		fmt.Fprintf(a.stdout, "rows read %d, written %d, changes %d, last row id %d, served by %s, bookmark %s\n",
			r.Meta.RowsRead, r.Meta.RowsWritten, r.Meta.Changes, r.Meta.LastRowID, r.Meta.ServedByNode, r.Meta.Bookmark)
	}
	return nil
}

func d1Cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}
