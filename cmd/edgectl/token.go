package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// newTokenCmd is `edgectl token create|list|get|revoke|verify|permission-groups|rotate-admin`.
func newTokenCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Create, list, revoke and verify scoped API tokens"}
	cmd.AddCommand(newTokenCreateCmd(a), newTokenRotateAdminCmd(a),
		&cobra.Command{
			Use: "list", Short: "List the tokens this token manages", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runQuery(a, cmd, func(c *client.Client, ctx context.Context) ([]wire.Token, error) {
					return c.ListTokens(ctx)
				}, printTokens)
			},
		},
		&cobra.Command{
			Use: "get ID", Short: "Show one token (never its value)", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runQuery(a, cmd, func(c *client.Client, ctx context.Context) (wire.Token, error) {
					return c.GetToken(ctx, args[0])
				}, func(a *app, t wire.Token) error { return printTokens(a, []wire.Token{t}) })
			},
		},
		&cobra.Command{
			Use: "revoke ID", Short: "Revoke a token: every node refuses it once the catalog replicates", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runQuery(a, cmd, func(c *client.Client, ctx context.Context) (map[string]string, error) {
					return map[string]string{"revoked": args[0]}, c.RevokeToken(ctx, args[0])
				}, func(a *app, _ map[string]string) error { return printDone(a, nil, "Revoked token "+args[0]) })
			},
		},
		&cobra.Command{
			Use: "verify", Short: "Check the token edgectl uses (--token, EDGE_TOKEN)", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runQuery(a, cmd, func(c *client.Client, ctx context.Context) (wire.TokenVerify, error) {
					return c.VerifyToken(ctx)
				}, func(a *app, v wire.TokenVerify) error {
					t := newTable(a.stdout, "ID", "STATUS", "NOT BEFORE", "EXPIRES ON")
					t.row(v.ID, v.Status, orDash(v.NotBefore), orDash(v.ExpiresOn))
					return t.flush()
				})
			},
		},
		&cobra.Command{
			Use: "permission-groups", Short: "List the permission groups a token may hold", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runQuery(a, cmd, func(c *client.Client, ctx context.Context) ([]client.PermissionGroup, error) {
					return c.PermissionGroups(ctx)
				}, func(a *app, gs []client.PermissionGroup) error {
					t := newTable(a.stdout, "ID", "NAME", "SCOPE")
					for _, g := range gs {
						t.row(g.ID, g.Name, strings.Join(g.Scopes, ","))
					}
					return t.flush()
				})
			},
		},
	)
	return cmd
}

// newTokenCreateCmd is `edgectl token create`.
func newTokenCreateCmd(a *app) *cobra.Command {
	var (
		spec    client.TokenSpec
		ttl     time.Duration
		outFile string
	)
	cmd := &cobra.Command{
		Use:   "create --account ID --permission GROUP [--permission GROUP ...]",
		Short: "Create a scoped token; its value is shown once (or written to --out)",
		Long: "Builds Cloudflare's token body: the account permission groups on --account, API Tokens groups on\n" +
			"the user, cluster groups on the cluster. See `edgectl token permission-groups` for the names.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if spec.Name == "" {
				spec.Name = strings.Join(spec.Groups, ", ")
				if spec.Account != "" {
					spec.Name += " on " + spec.Account
				}
			}
			if ttl < 0 {
				return fmt.Errorf("invalid --ttl %v: must be positive", ttl)
			}
			if ttl > 0 {
				spec.ExpiresOn = time.Now().Add(ttl)
			}
			body, err := client.NewTokenBody(spec)
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			ctx, cancel := a.withTimeout(cmd.Context())
			defer cancel()
			tok, err := c.CreateToken(ctx, body)
			if err != nil {
				return err
			}
			if outFile != "" {
				if err := writeSecret(outFile, tok.Value); err != nil {
					return fmt.Errorf("token %s created, but: %w", tok.ID, err)
				}
				tok.Value = ""
			}
			if a.jsonOutput() {
				return writeJSON(a.stdout, tok)
			}
			if err := printTokens(a, []wire.Token{tok}); err != nil {
				return err
			}
			if outFile != "" {
				_, err = fmt.Fprintf(a.stdout, "value written to %s\n", outFile)
			} else {
				_, err = fmt.Fprintf(a.stdout, "value (shown once): %s\n", tok.Value)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Name, "name", "", "token name (default: its permissions)")
	f.StringVar(&spec.Account, "account", "", "account the account-scoped permissions apply to (* for every account)")
	f.StringArrayVar(&spec.Groups, "permission", nil, `permission group name or id, e.g. "Workers KV Storage Read" (repeatable)`)
	f.DurationVar(&ttl, "ttl", 0, "expire the token after this long (e.g. 24h); default: never")
	f.StringSliceVar(&spec.AllowIPs, "allow-ip", nil, "only accept the token from these CIDR ranges")
	f.StringSliceVar(&spec.DenyIPs, "deny-ip", nil, "refuse the token from these CIDR ranges")
	f.StringVar(&outFile, "out", "", "write the token's value to this file (mode 0600) instead of printing it")
	return cmd
}

// newTokenRotateAdminCmd is `edgectl token rotate-admin --out FILE`.
func newTokenRotateAdminCmd(a *app) *cobra.Command {
	var outFile string
	cmd := &cobra.Command{
		Use:   "rotate-admin --out FILE",
		Short: "Give the admin token in use a new value, written to FILE (mode 0600); the old value stops working",
		Long: "Rolls the value of the token edgectl presents (PUT /client/v4/user/tokens/{id}/value): the token keeps\n" +
			"its id and policies, the old value is refused by every node once the catalog replicates. The new value\n" +
			"is written to --out, never printed. To keep a node's data dir current, run on the node with\n" +
			"--out <data-dir>/admin-token.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if outFile == "" {
				return errors.New("--out is required: the new admin token is written to a file, never printed")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			ctx, cancel := a.withTimeout(cmd.Context())
			defer cancel()
			v, err := c.VerifyToken(ctx)
			if err != nil {
				return err
			}
			// Write first to a temporary file next to --out, so a failure
			// to write never loses the new value after the old one is gone.
			tmp := outFile + ".new"
			if err := writeSecret(tmp, "placeholder"); err != nil {
				return err
			}
			secret, err := c.RollToken(ctx, v.ID)
			if err != nil {
				_ = os.Remove(tmp)
				return err
			}
			if err := writeSecret(tmp, secret); err != nil {
				return fmt.Errorf("token %s rolled but the new value could not be written: %w", v.ID, err)
			}
			if err := os.Rename(tmp, outFile); err != nil {
				return fmt.Errorf("token %s rolled; new value in %s: %w", v.ID, tmp, err)
			}
			return printDone(a, map[string]string{"id": v.ID, "file": outFile},
				fmt.Sprintf("Rotated token %s; the new value is in %s, the old one no longer works", v.ID, outFile))
		},
	}
	cmd.Flags().StringVar(&outFile, "out", "", "file to write the new token to (mode 0600)")
	return cmd
}

// writeSecret writes value to path with mode 0600 (also when it exists).
func writeSecret(path, value string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.WriteString(value + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// printTokens prints tokens as a table.
func printTokens(a *app, ts []wire.Token) error {
	t := newTable(a.stdout, "ID", "NAME", "ACCOUNT", "STATUS", "EXPIRES ON", "PERMISSIONS")
	for _, tk := range ts {
		var groups []string
		for _, p := range tk.Policies {
			for _, g := range p.PermissionGroups {
				name := g.Name
				if name == "" {
					name = g.ID
				}
				if p.Effect != "allow" {
					name = string(p.Effect) + " " + name
				}
				groups = append(groups, name)
			}
		}
		t.row(tk.ID, tk.Name, orDash(tk.AccountID), tk.Status, orDash(tk.ExpiresOn), orDash(strings.Join(groups, ", ")))
	}
	return t.flush()
}
