package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// maxListPages bounds `kv list` (a million keys at the largest page size).
const maxListPages = 100_000

// kvFlags are the flags shared by every kv command.
type kvFlags struct {
	account string
}

// newKVCmd is `edgectl kv`: Workers KV namespaces and keys.
func newKVCmd(a *app) *cobra.Command {
	f := &kvFlags{}
	cmd := &cobra.Command{
		Use:   "kv",
		Short: "Work with Workers KV namespaces and keys",
		Long: "Work with Workers KV through the Cloudflare-shaped API of the cluster. NS is a namespace id " +
			"or title. The account is the cluster's (from status) unless --account is given.",
	}
	cmd.PersistentFlags().StringVar(&f.account, "account", "", "account id (default: the cluster's, from status)")
	cmd.AddCommand(
		newKVNamespaceCmd(a, f),
		newKVPutCmd(a, f),
		newKVGetCmd(a, f),
		newKVDeleteCmd(a, f),
		newKVListCmd(a, f),
		newKVBulkCmd(a, f),
	)
	return cmd
}

// kvAPI makes the KV API for the account of --account, or the cluster's.
func (f *kvFlags) kvAPI(ctx context.Context, a *app) (*client.KV, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	acc := f.account
	if acc == "" {
		if acc, err = c.AccountID(ctx); err != nil {
			return nil, err
		}
	}
	return c.KV(acc), nil
}

// resolveNS turns NS (an id or a title) into a namespace id: an id match
// wins over a title match.
func resolveNS(ctx context.Context, kv *client.KV, ns string) (string, error) {
	all, err := kv.ListAllNamespaces(ctx)
	if err != nil {
		return "", err
	}
	for _, n := range all {
		if n.ID == ns {
			return n.ID, nil
		}
	}
	for _, n := range all {
		if n.Title == ns {
			return n.ID, nil
		}
	}
	return "", fmt.Errorf("kv namespace %q: no namespace has this id or title", ns)
}

// withNS runs fn with the KV API and the resolved id of NS, within
// --timeout.
func (f *kvFlags) withNS(cmd *cobra.Command, a *app, ns string, fn func(context.Context, *client.KV, string) error) error {
	ctx, cancel := a.withTimeout(cmd.Context())
	defer cancel()
	kv, err := f.kvAPI(ctx, a)
	if err != nil {
		return err
	}
	id, err := resolveNS(ctx, kv, ns)
	if err != nil {
		return err
	}
	return fn(ctx, kv, id)
}
