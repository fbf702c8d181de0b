package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/edgeplane/edgeplane/pkg/authz"
)

// Kind names a resource registry.
type Kind string

// The resource kinds services register in the catalog.
const (
	KindKVNamespace Kind = "kv_namespace"
	KindD1Database  Kind = "d1_database"
	KindDONamespace Kind = "do_namespace"
	KindR2Bucket    Kind = "r2_bucket"
	KindQueue       Kind = "queue"
)

func (k Kind) valid() bool {
	switch k {
	case KindKVNamespace, KindD1Database, KindDONamespace, KindR2Bucket, KindQueue:
		return true
	}
	return false
}

// Account is a tenant that owns resources.
type Account struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Token is an API token. Only the SHA-256 of its secret is kept.
// Its scope is Cloudflare's policy model (pkg/authz): policies, validity
// window and client IP condition, replicated with it. A token without
// policies (created before tokens were scoped) allows nothing.
type Token struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	// AccountID is the account the token belongs to: its tenant, whose
	// token managers may list and revoke it.
	AccountID string           `json:"account_id,omitempty"`
	Policies  []authz.Policy   `json:"policies,omitempty"`
	NotBefore *time.Time       `json:"not_before,omitempty"`
	ExpiresOn *time.Time       `json:"expires_on,omitempty"`
	Condition *authz.Condition `json:"condition,omitempty"`
	// ModifiedAt is when the token's value was last rolled (zero: never).
	ModifiedAt time.Time `json:"modified_at,omitzero"`
}

// Scope returns the token as pkg/authz evaluates it.
// A token stored without a name is named by its id (authz requires one).
func (t Token) Scope() *authz.Token {
	name := t.Name
	if name == "" {
		name = t.ID
	}
	return &authz.Token{ID: t.ID, Name: name, Policies: t.Policies, NotBefore: t.NotBefore,
		ExpiresOn: t.ExpiresOn, Condition: t.Condition}
}

// Resource is one entry of a registry: a KV namespace, a D1 database, ...
// Names are unique per kind within an account.
type Resource struct {
	Kind      Kind              `json:"kind"`
	AccountID string            `json:"account_id"`
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	CreatedAt time.Time         `json:"created_at"`
	Attrs     map[string]string `json:"attrs,omitempty"`
	// MaxPerAccount, when creating, refuses the resource with ErrQuota if
	// its account already holds that many of its kind (0: no cap). It is
	// not stored: it travels as the create operation's Limit and is
	// checked when the operation applies, so racing creates cannot pass it.
	MaxPerAccount int `json:"-"`
}

// HashToken returns the hex SHA-256 of a token secret, the form the catalog
// stores and compares.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
