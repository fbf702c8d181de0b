package client

import (
	"context"
	"fmt"
	"net/url"
)

// KV is the Workers KV API of one account. Make one with Client.KV; it is
// safe for concurrent use.
type KV struct {
	c       *Client
	account string
}

// KV returns the Workers KV API of account accountID (see AccountID).
func (c *Client) KV(accountID string) *KV {
	return &KV{c: c, account: accountID}
}

// Account returns the account id the KV API acts on.
func (k *KV) Account() string { return k.account }

// AccountID returns the cluster's account id, from GET
// /client/v4/cluster/status.
func (c *Client) AccountID(ctx context.Context) (string, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return "", fmt.Errorf("account id: %w", err)
	}
	if st.AccountID == "" {
		return "", fmt.Errorf("account id: %w: status has no account_id", ErrBadResponse)
	}
	return st.AccountID, nil
}

// namespacesPath is the path of the account's namespace collection.
func (k *KV) namespacesPath() string {
	return "/client/v4/accounts/" + url.PathEscape(k.account) + "/storage/kv/namespaces"
}

// nsPath is the path of namespace ns followed by rest (which starts with
// "/" or is empty).
func (k *KV) nsPath(ns, rest string) string {
	return k.namespacesPath() + "/" + url.PathEscape(ns) + rest
}

// keyPath is the path of key under kind ("values" or "metadata") of
// namespace ns; the key is path-escaped, so "/" travels as %2F.
func (k *KV) keyPath(ns, kind, key string) string {
	return k.nsPath(ns, "/"+kind+"/"+url.PathEscape(key))
}
