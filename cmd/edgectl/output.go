package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// Output formats of -o.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// writeJSON prints v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// table collects rows and prints them as aligned columns.
type table struct {
	tw *tabwriter.Writer
}

// newTable starts a table on w with the given header (nil for none).
func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

// row adds one row; tabs and line breaks inside cells are replaced so they
// cannot break the layout.
func (t *table) row(cells ...string) {
	clean := make([]string, len(cells))
	for i, c := range cells {
		clean[i] = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(c)
	}
	fmt.Fprintln(t.tw, strings.Join(clean, "\t"))
}

// flush prints the table.
func (t *table) flush() error {
	if err := t.tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// orDash returns s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// yesNo renders a boolean for a table.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// runQuery is the shape of every read command: ask the chosen endpoint
// within the command's timeout, then print the result as JSON (-o json) or
// as a table for people.
func runQuery[T any](a *app, cmd *cobra.Command, fetch func(*client.Client, context.Context) (T, error), table func(*app, T) error) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := a.withTimeout(cmd.Context())
	defer cancel()
	v, err := fetch(c, ctx)
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return writeJSON(a.stdout, v)
	}
	return table(a, v)
}
