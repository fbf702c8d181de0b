package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// doGetOutput is `do get -o json`: the value is null when the key is absent.
type doGetOutput struct {
	Key      string          `json:"key"`
	Value    json.RawMessage `json:"value"`
	Found    bool            `json:"found"`
	ServedBy string          `json:"served_by"`
}

// newDOGetCmd is `edgectl do get NS OBJ KEY`.
func newDOGetCmd(a *app, f *doFlags) *cobra.Command {
	return &cobra.Command{
		Use: "get NS OBJ KEY", Short: "Print the JSON value of a key (null when absent)", Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withObject(cmd, a, args[0], args[1], func(ctx context.Context, d *client.DO, ns string, o client.ObjectRef) error {
				res, err := d.Get(ctx, ns, o, []string{args[2]})
				if err != nil {
					return err
				}
				v, ok := res.Entries[args[2]]
				out := doGetOutput{Key: args[2], Value: json.RawMessage("null"), Found: ok, ServedBy: res.ServedBy}
				if ok {
					out.Value = v
				}
				if a.jsonOutput() {
					return writeJSON(a.stdout, out)
				}
				if !ok {
					return fmt.Errorf("key %q of object %s: not found", args[2], o)
				}
				_, err = fmt.Fprintln(a.stdout, string(v))
				return err
			})
		},
	}
}

// newDOPutCmd is `edgectl do put NS OBJ KEY VALUE`.
func newDOPutCmd(a *app, f *doFlags) *cobra.Command {
	var asString bool
	cmd := &cobra.Command{
		Use: "put NS OBJ KEY VALUE", Short: "Write a value (JSON, or text stored as a JSON string)", Args: cobra.ExactArgs(4),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withObject(cmd, a, args[0], args[1], func(ctx context.Context, d *client.DO, ns string, o client.ObjectRef) error {
				res, err := d.Put(ctx, ns, o, map[string]json.RawMessage{args[2]: parseValue(args[3], asString)})
				if err != nil {
					return err
				}
				return printDone(a, map[string]any{"key": args[2], "served_by": res.ServedBy},
					fmt.Sprintf("Wrote %q (served by %s)", args[2], res.ServedBy))
			})
		},
	}
	cmd.Flags().BoolVar(&asString, "string", false, "store VALUE as a JSON string even when it parses as JSON")
	return cmd
}

// newDODeleteCmd is `edgectl do delete NS OBJ KEY...`.
func newDODeleteCmd(a *app, f *doFlags) *cobra.Command {
	return &cobra.Command{
		Use: "delete NS OBJ KEY...", Short: "Delete keys (at most 128)", Args: cobra.MinimumNArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withObject(cmd, a, args[0], args[1], func(ctx context.Context, d *client.DO, ns string, o client.ObjectRef) error {
				res, err := d.Delete(ctx, ns, o, args[2:])
				if err != nil {
					return err
				}
				return printDone(a, map[string]any{"deleted": res.Deleted, "served_by": res.ServedBy},
					fmt.Sprintf("Deleted %d of %d keys", res.Deleted, len(args)-2))
			})
		},
	}
}

// newDOListCmd is `edgectl do list NS OBJ`.
func newDOListCmd(a *app, f *doFlags) *cobra.Command {
	var opts client.DOListOptions
	cmd := &cobra.Command{
		Use: "list NS OBJ", Short: "List an object's keys and values in key order", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withObject(cmd, a, args[0], args[1], func(ctx context.Context, d *client.DO, ns string, o client.ObjectRef) error {
				res, err := d.List(ctx, ns, o, opts)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return writeJSON(a.stdout, res)
				}
				t := newTable(a.stdout, "KEY", "VALUE")
				for _, e := range res.Entries {
					t.row(strconv.QuoteToGraphic(e.Key), string(e.Value))
				}
				if err := t.flush(); err != nil {
					return err
				}
				if res.Truncated {
					_, err = fmt.Fprintln(a.stderr, "(more keys: raise --limit or continue with --start-after)")
				}
				return err
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Prefix, "prefix", "", "only keys with this prefix")
	fl.StringVar(&opts.Start, "start", "", "first key (inclusive)")
	fl.StringVar(&opts.StartAfter, "start-after", "", "list after this key")
	fl.StringVar(&opts.End, "end", "", "stop before this key")
	fl.BoolVar(&opts.Reverse, "reverse", false, "descending key order")
	fl.IntVar(&opts.Limit, "limit", 0, "at most this many entries (server default 1000)")
	return cmd
}

// newDOIncrCmd is `edgectl do incr NS OBJ KEY [--by N]`.
func newDOIncrCmd(a *app, f *doFlags) *cobra.Command {
	var by int64
	cmd := &cobra.Command{
		Use: "incr NS OBJ KEY", Short: "Add to a number atomically and print the new value", Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withObject(cmd, a, args[0], args[1], func(ctx context.Context, d *client.DO, ns string, o client.ObjectRef) error {
				// An error (not acknowledged, or outcome unknown) exits
				// non-zero: scripts count only what was acknowledged.
				res, err := d.Incr(ctx, ns, o, args[2], by)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return writeJSON(a.stdout, map[string]any{"key": args[2], "value": res.Value, "served_by": res.ServedBy})
				}
				_, err = fmt.Fprintf(a.stdout, "%s (served by %s)\n", res.Value, res.ServedBy)
				return err
			})
		},
	}
	cmd.Flags().Int64Var(&by, "by", 1, "amount to add (may be negative)")
	return cmd
}

// newDOWhereCmd is `edgectl do where NS OBJ`.
func newDOWhereCmd(a *app, f *doFlags) *cobra.Command {
	return &cobra.Command{
		Use: "where NS OBJ", Short: "Show an object's id, owner node, replicas and lease", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withObject(cmd, a, args[0], args[1], func(ctx context.Context, d *client.DO, ns string, o client.ObjectRef) error {
				w, err := d.Where(ctx, ns, o)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return writeJSON(a.stdout, w)
				}
				t := newTable(a.stdout)
				t.row("ID", w.ID)
				t.row("OWNER", w.Owner)
				t.row("REPLICAS", fmt.Sprint(w.Replicas))
				t.row("EPOCH", strconv.FormatUint(w.Epoch, 10))
				t.row("LEASE EXPIRES", orDash(w.LeaseExpiresAt))
				return t.flush()
			})
		},
	}
}
