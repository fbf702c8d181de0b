package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// Migrations in wrangler's format: numbered files NNNN_name.sql in a
// directory, applied in name order; each applied one is a row of the
// database's d1_migrations table (the table and its columns are
// wrangler's, so either tool can take over from the other). A migration
// and its row are written by one request, one transaction: a failing
// migration leaves no row and no change, and the UNIQUE name makes a
// second apply of the same file (two operators at once) fail as a whole.

// migrationsTable is wrangler's table of applied migrations.
const migrationsTable = "d1_migrations"

const createMigrationsTable = "CREATE TABLE IF NOT EXISTS " + migrationsTable + `(
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT UNIQUE,
	applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)`

// migrationFileRE is a migration file: a number, "_", a name, ".sql".
var migrationFileRE = regexp.MustCompile(`^(\d+)_.*\.sql$`)

// migrationFiles lists dir's migration files in the order they apply.
func migrationFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("migrations dir: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && migrationFileRE.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// appliedMigrations makes sure the table exists and lists its names.
func appliedMigrations(ctx context.Context, d *client.D1, id string) ([]string, error) {
	res, err := d.Raw(ctx, id, createMigrationsTable+";\nSELECT name FROM "+migrationsTable+" ORDER BY id")
	if err != nil {
		return nil, err
	}
	if len(res) != 2 {
		return nil, fmt.Errorf("list applied migrations: %w: %d results", client.ErrBadResponse, len(res))
	}
	var names []string
	for _, row := range res[1].Results.Rows {
		if len(row) == 1 {
			if s, ok := row[0].(string); ok {
				names = append(names, s)
			}
		}
	}
	return names, nil
}

// pendingMigrations lists dir's files not yet applied to the database.
func pendingMigrations(ctx context.Context, d *client.D1, id, dir string) (applied, pending []string, err error) {
	files, err := migrationFiles(dir)
	if err != nil {
		return nil, nil, err
	}
	if applied, err = appliedMigrations(ctx, d, id); err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		if !slices.Contains(applied, f) {
			pending = append(pending, f)
		}
	}
	return applied, pending, nil
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// newD1MigrationsCmd is `edgectl d1 migrations create|list|apply`.
func newD1MigrationsCmd(a *app, withDB d1WithDB) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "migrations",
		Short: "Create, list and apply numbered SQL migrations (wrangler's format)",
		Long: "Migrations are files NNNN_name.sql in --dir (default ./migrations), applied in name order. Applied " +
			"ones are recorded in the database's d1_migrations table, in the same transaction as the migration, " +
			"so each applies once, all or nothing.",
	}
	cmd.PersistentFlags().StringVar(&dir, "dir", "migrations", "directory of the migration files")
	create := &cobra.Command{
		Use: "create DB NAME", Short: "Create the next numbered migration file", Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("migrations dir: %w", err)
			}
			files, err := migrationFiles(dir)
			if err != nil {
				return err
			}
			next := 1
			for _, f := range files {
				n, _ := strconv.Atoi(migrationFileRE.FindStringSubmatch(f)[1])
				next = max(next, n+1)
			}
			name := fmt.Sprintf("%04d_%s.sql", next, strings.Join(strings.Fields(args[1]), "_"))
			if strings.ContainsAny(name, `/\`) {
				return errors.New("a migration name cannot hold a path separator")
			}
			path := filepath.Join(dir, name)
			header := fmt.Sprintf("-- Migration number: %04d \t %s\n", next, time.Now().UTC().Format(time.RFC3339))
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return fmt.Errorf("create migration: %w", err)
			}
			_, err = f.WriteString(header)
			if err = errors.Join(err, f.Close()); err != nil {
				return fmt.Errorf("create migration: %w", err)
			}
			return printDone(a, map[string]any{"file": path, "number": next}, "Created "+path)
		},
	}
	list := &cobra.Command{
		Use: "list DB", Short: "List the migrations not yet applied", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd, args[0], func(ctx context.Context, d *client.D1, id string) error {
				applied, pending, err := pendingMigrations(ctx, d, id, dir)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return writeJSON(a.stdout, map[string]any{"database": id, "applied": nonNil(applied), "pending": nonNil(pending)})
				}
				if len(pending) == 0 {
					_, err := fmt.Fprintln(a.stdout, "No migrations to apply")
					return err
				}
				t := newTable(a.stdout, "PENDING")
				for _, p := range pending {
					t.row(p)
				}
				return t.flush()
			})
		},
	}
	apply := &cobra.Command{
		Use: "apply DB", Short: "Apply the pending migrations in order, each in one transaction", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd, args[0], func(ctx context.Context, d *client.D1, id string) error {
				_, pending, err := pendingMigrations(ctx, d, id, dir)
				if err != nil {
					return err
				}
				var done []string
				for _, name := range pending {
					body, err := os.ReadFile(filepath.Join(dir, name))
					if err != nil {
						return fmt.Errorf("migration %s: %w", name, err)
					}
					// One request, so one transaction: the migration and its
					// record land together or not at all.
					sql := string(body) + "\n;\nINSERT INTO " + migrationsTable + " (name) VALUES (" + sqlString(name) + ")"
					if _, err := d.Raw(ctx, id, sql); err != nil {
						return fmt.Errorf("migration %s (nothing of it was applied; %d applied before it): %w", name, len(done), err)
					}
					done = append(done, name)
					if !a.jsonOutput() {
						fmt.Fprintf(a.stdout, "Applied %s\n", name)
					}
				}
				if a.jsonOutput() {
					return writeJSON(a.stdout, map[string]any{"database": id, "applied": nonNil(done)})
				}
				if len(done) == 0 {
					_, err = fmt.Fprintln(a.stdout, "No migrations to apply")
				}
				return err
			})
		},
	}
	cmd.AddCommand(create, list, apply)
	return cmd
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
