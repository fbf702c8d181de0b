package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// maxValueBytes is Cloudflare's value limit; edgectl reads one byte more
// so the server can refuse an oversize value with its own error.
const maxValueBytes = 25 << 20

// newKVPutCmd is `edgectl kv put NS KEY [VALUE]`.
func newKVPutCmd(a *app, f *kvFlags) *cobra.Command {
	var file, metadata string
	var ttl, expiration int64
	cmd := &cobra.Command{
		Use:   "put NS KEY [VALUE]",
		Short: "Write a value",
		Long: "Write a value: from the VALUE argument, from --file, or from stdin when neither is given. " +
			"--ttl and --expiration set an expiry (the server prefers --ttl); --metadata stores a JSON value with the key.",
		Args: cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 3 && file != "" {
				return fmt.Errorf("kv put: give the value as an argument or --file, not both")
			}
			opts := client.KVPutOptions{Expiration: expiration, ExpirationTTL: ttl}
			if metadata != "" {
				if !json.Valid([]byte(metadata)) {
					return fmt.Errorf("kv put: --metadata is not valid JSON")
				}
				opts.Metadata = json.RawMessage(metadata)
			}
			value, err := readValue(cmd, args, file)
			if err != nil {
				return err
			}
			return f.withNS(cmd, a, args[0], func(ctx context.Context, kv *client.KV, id string) error {
				if err := kv.PutValue(ctx, id, args[1], value, opts); err != nil {
					return err
				}
				return printDone(a, map[string]any{"namespace_id": id, "key": args[1], "bytes": len(value)},
					fmt.Sprintf("Wrote %d bytes to %q", len(value), args[1]))
			})
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "read the value from this file")
	cmd.Flags().Int64Var(&ttl, "ttl", 0, "expire the key this many seconds from now (at least 60)")
	cmd.Flags().Int64Var(&expiration, "expiration", 0, "expire the key at this Unix time in seconds")
	cmd.Flags().StringVar(&metadata, "metadata", "", "JSON metadata to store with the key")
	return cmd
}

// readValue takes the value from the argument, the file, or stdin.
func readValue(cmd *cobra.Command, args []string, file string) ([]byte, error) {
	if len(args) == 3 {
		return []byte(args[2]), nil
	}
	var r io.Reader = cmd.InOrStdin()
	if file != "" {
		fh, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("kv put: %w", err)
		}
		defer fh.Close()
		r = fh
	}
	v, err := io.ReadAll(io.LimitReader(r, maxValueBytes+1))
	if err != nil {
		return nil, fmt.Errorf("kv put: read value: %w", err)
	}
	return v, nil
}

// newKVGetCmd is `edgectl kv get NS KEY`.
func newKVGetCmd(a *app, f *kvFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get NS KEY",
		Short: "Print a value",
		Long: "Print a value's raw bytes to stdout. -o json prints {key, value, expiration} instead " +
			"(value as a string when it is UTF-8 text, else value_base64).",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withNS(cmd, a, args[0], func(ctx context.Context, kv *client.KV, id string) error {
				v, err := kv.GetValue(ctx, id, args[1])
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return writeJSON(a.stdout, valueJSON(args[1], v))
				}
				_, err = a.stdout.Write(v.Value)
				return err
			})
		},
	}
}

// valueJSON is the -o json form of a value.
func valueJSON(key string, v client.KVValue) map[string]any {
	out := map[string]any{"key": key}
	if v.Expiration != 0 {
		out["expiration"] = v.Expiration
	}
	if isText(v.Value) {
		out["value"] = string(v.Value)
	} else {
		out["value_base64"] = v.Value // encoding/json writes []byte as base64
	}
	return out
}

// isText reports whether b is valid UTF-8 without NUL bytes.
func isText(b []byte) bool {
	s := string(b)
	for _, r := range s {
		if r == 0 || r == '\uFFFD' {
			return false
		}
	}
	return true
}

// newKVDeleteCmd is `edgectl kv delete NS KEY`.
func newKVDeleteCmd(a *app, f *kvFlags) *cobra.Command {
	return &cobra.Command{
		Use: "delete NS KEY", Short: "Delete a key", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withNS(cmd, a, args[0], func(ctx context.Context, kv *client.KV, id string) error {
				if err := kv.DeleteValue(ctx, id, args[1]); err != nil {
					return err
				}
				return printDone(a, map[string]any{"namespace_id": id, "deleted": args[1]},
					fmt.Sprintf("Deleted %q", args[1]))
			})
		},
	}
}
