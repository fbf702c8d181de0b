package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// maxBulkFileBytes bounds a bulk file (Cloudflare's 100 MB request limit).
const maxBulkFileBytes = 100 << 20

// newKVBulkCmd is `edgectl kv bulk put|delete`.
func newKVBulkCmd(a *app, f *kvFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "bulk", Short: "Write or delete many keys from a JSON file"}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "put NS FILE",
			Short: "Write the pairs of a Cloudflare bulk JSON file",
			Long: "Write the pairs of FILE, Cloudflare's bulk format: a JSON array of " +
				"{key, value, base64, expiration, expiration_ttl, metadata}, in one request.",
			Args: cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				var pairs []client.KVBulkPair
				if err := readJSONFile(args[1], &pairs); err != nil {
					return err
				}
				return f.withNS(cmd, a, args[0], func(ctx context.Context, kv *client.KV, id string) error {
					res, err := kv.BulkPut(ctx, id, pairs)
					if err != nil {
						return err
					}
					return printBulk(a, res, "Wrote")
				})
			},
		},
		&cobra.Command{
			Use:   "delete NS FILE",
			Short: "Delete the keys of a JSON array file",
			Args:  cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				var keys []string
				if err := readJSONFile(args[1], &keys); err != nil {
					return err
				}
				return f.withNS(cmd, a, args[0], func(ctx context.Context, kv *client.KV, id string) error {
					res, err := kv.BulkDelete(ctx, id, keys)
					if err != nil {
						return err
					}
					return printBulk(a, res, "Deleted")
				})
			},
		},
	)
	return cmd
}

// readJSONFile decodes the JSON file path into v.
func readJSONFile(path string, v any) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("bulk file: %w", err)
	}
	if st.Size() > maxBulkFileBytes {
		return fmt.Errorf("bulk file %s: over %d bytes", path, maxBulkFileBytes)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("bulk file: %w", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("bulk file %s: %w", path, err)
	}
	return nil
}

// printBulk reports a bulk result; unsuccessful keys make it an error, so
// scripts see a non-zero exit.
func printBulk(a *app, res client.KVBulkResult, verb string) error {
	if err := printDone(a, res, fmt.Sprintf("%s %d keys", verb, res.SuccessfulKeyCount)); err != nil {
		return err
	}
	if n := len(res.UnsuccessfulKeys); n > 0 {
		return fmt.Errorf("kv bulk: %d keys were not applied (retry them): %q", n, res.UnsuccessfulKeys)
	}
	return nil
}
