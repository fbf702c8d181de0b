package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// doFlags are the flags shared by every do command.
type doFlags struct {
	account string
	byID    bool
}

// newDOCmd is `edgectl do`: Durable Object namespaces, storage, placement
// and alarms.
func newDOCmd(a *app) *cobra.Command {
	f := &doFlags{}
	cmd := &cobra.Command{
		Use:   "do",
		Short: "Work with Durable Objects: namespaces, storage, placement and alarms",
		Long: "Work with Durable Objects through the cluster's API. NS is a namespace id or name; OBJ is an " +
			"object name (the id is derived from it, as idFromName does), or with --id a 64-hex object id. " +
			"The account is the cluster's (from status) unless --account is given.",
	}
	cmd.PersistentFlags().StringVar(&f.account, "account", "", "account id (default: the cluster's, from status)")
	cmd.PersistentFlags().BoolVar(&f.byID, "id", false, "OBJ is a 64-hex object id, not a name")
	cmd.AddCommand(
		newDONamespaceCmd(a, f),
		newDOGetCmd(a, f),
		newDOPutCmd(a, f),
		newDODeleteCmd(a, f),
		newDOListCmd(a, f),
		newDOIncrCmd(a, f),
		newDOWhereCmd(a, f),
		newDOAlarmCmd(a, f),
	)
	return cmd
}

// doAPI makes the DO API for --account, or the cluster's account.
func (f *doFlags) doAPI(ctx context.Context, a *app) (*client.DO, error) {
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
	return c.DO(acc), nil
}

// object turns OBJ into a reference: a name, or an id with --id.
func (f *doFlags) object(obj string) (client.ObjectRef, error) {
	if !f.byID {
		if obj == "" {
			return client.ObjectRef{}, fmt.Errorf("object name must not be empty")
		}
		return client.ByName(obj), nil
	}
	if !client.IsObjectID(obj) {
		return client.ObjectRef{}, fmt.Errorf("--id: %q is not an object id (64 lowercase hex digits)", obj)
	}
	return client.ByID(obj), nil
}

// withNS runs fn within --timeout with the DO API and the id of NS.
func (f *doFlags) withNS(cmd *cobra.Command, a *app, ns string, fn func(context.Context, *client.DO, string) error) error {
	ctx, cancel := a.withTimeout(cmd.Context())
	defer cancel()
	d, err := f.doAPI(ctx, a)
	if err != nil {
		return err
	}
	n, err := d.ResolveNamespace(ctx, ns)
	if err != nil {
		return err
	}
	return fn(ctx, d, n.ID)
}

// withObject is withNS plus OBJ resolved to a reference.
func (f *doFlags) withObject(cmd *cobra.Command, a *app, ns, obj string, fn func(context.Context, *client.DO, string, client.ObjectRef) error) error {
	ref, err := f.object(obj)
	if err != nil {
		return err
	}
	return f.withNS(cmd, a, ns, func(ctx context.Context, d *client.DO, id string) error {
		return fn(ctx, d, id, ref)
	})
}

// parseValue reads a command-line VALUE: JSON when it parses as JSON,
// else the text as a JSON string (--string forces the latter).
func parseValue(s string, asString bool) json.RawMessage {
	if !asString && json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s) // a string always encodes
	return b
}
