package catalog

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Catalog holds the replicated catalog state. Apply and Restore are called by
// the Raft state machine only; the query methods are safe from any goroutine
// and see a consistent state.
type Catalog struct {
	mu sync.RWMutex
	st state
	// applied is closed and replaced each time Version advances.
	applied chan struct{}
}

// state is the serializable content of the catalog (what a snapshot holds).
type state struct {
	Version        uint64              `json:"version"`
	DefaultAccount string              `json:"default_account"`
	ClusterID      string              `json:"cluster_id,omitempty"`
	Accounts       map[string]Account  `json:"accounts"`
	Tokens         map[string]Token    `json:"tokens"`
	Resources      map[string]Resource `json:"resources"`
}

func emptyState() state {
	return state{
		Accounts:  make(map[string]Account),
		Tokens:    make(map[string]Token),
		Resources: make(map[string]Resource),
	}
}

// New returns an empty catalog.
func New() *Catalog {
	return &Catalog{st: emptyState(), applied: make(chan struct{})}
}

func resourceKey(kind Kind, account, id string) string {
	return string(kind) + "/" + account + "/" + id
}

// Apply applies one operation taken from the log at index and returns its
// result. Refused operations (a duplicate name, an unknown id) change nothing.
func (c *Catalog) Apply(index uint64, op Op) Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	res := c.apply(op)
	if res.Error == "" {
		c.st.Version = index
		close(c.applied)
		c.applied = make(chan struct{})
	}
	res.Version = c.st.Version
	return res
}

func (c *Catalog) apply(op Op) Result {
	switch op.Type {
	case OpInit:
		return c.applyInit(op)
	case OpSetClusterID:
		if c.st.ClusterID == "" && op.ClusterID != "" {
			c.st.ClusterID = op.ClusterID
		}
		return Result{}
	case OpCreateAccount:
		if op.Account == nil || op.Account.ID == "" {
			return failure("invalid", "account id is required")
		}
		if _, ok := c.st.Accounts[op.Account.ID]; ok {
			return failure("exists", "account %s", op.Account.ID)
		}
		a := *op.Account
		a.CreatedAt = op.At
		c.st.Accounts[a.ID] = a
		return Result{}
	case OpUpdateAccount:
		if op.Account == nil {
			return failure("invalid", "account id is required")
		}
		a, ok := c.st.Accounts[op.Account.ID]
		if !ok {
			return failure("not_found", "account %s", op.Account.ID)
		}
		a.Name = op.Account.Name
		c.st.Accounts[a.ID] = a
		return Result{Account: &a}
	case OpDeleteAccount:
		return c.applyDeleteAccount(op)
	case OpCreateToken:
		if op.Token == nil || op.Token.ID == "" || op.Token.Hash == "" {
			return failure("invalid", "token id and hash are required")
		}
		if _, ok := c.st.Tokens[op.Token.ID]; ok {
			return failure("exists", "token %s", op.Token.ID)
		}
		if a := op.Token.AccountID; a != "" {
			if _, ok := c.st.Accounts[a]; !ok {
				return failure("not_found", "account %s", a)
			}
		}
		t := *op.Token
		t.CreatedAt = op.At
		c.st.Tokens[t.ID] = t
		return Result{}
	case OpRevokeToken:
		if op.Token == nil {
			return failure("invalid", "token id is required")
		}
		if _, ok := c.st.Tokens[op.Token.ID]; !ok {
			return failure("not_found", "token %s", op.Token.ID)
		}
		delete(c.st.Tokens, op.Token.ID)
		return Result{}
	case OpRollToken:
		if op.Token == nil || op.Token.Hash == "" {
			return failure("invalid", "token id and hash are required")
		}
		t, ok := c.st.Tokens[op.Token.ID]
		if !ok {
			return failure("not_found", "token %s", op.Token.ID)
		}
		t.Hash = op.Token.Hash
		t.ModifiedAt = op.At
		c.st.Tokens[t.ID] = t
		return Result{}
	case OpCreateResource, OpRenameResource, OpDeleteResource:
		return c.applyResource(op)
	default:
		return failure("invalid", "unknown catalog operation %q", op.Type)
	}
}

// applyInit records the default account and the bootstrap admin token, once:
// later init operations (another node racing to initialize) change nothing.
func (c *Catalog) applyInit(op Op) Result {
	if c.st.DefaultAccount != "" {
		return Result{}
	}
	if c.st.ClusterID == "" {
		c.st.ClusterID = op.ClusterID
	}
	if op.Account == nil || op.Account.ID == "" {
		return failure("invalid", "init needs an account")
	}
	a := *op.Account
	a.CreatedAt = op.At
	if _, ok := c.st.Accounts[a.ID]; !ok {
		c.st.Accounts[a.ID] = a
	}
	c.st.DefaultAccount = a.ID
	if op.Token != nil && op.Token.Hash != "" {
		t := *op.Token
		t.CreatedAt = op.At
		c.st.Tokens[t.ID] = t
	}
	return Result{}
}

// applyDeleteAccount removes an empty account: one holding no resources
// and no tokens, and not the default account.
func (c *Catalog) applyDeleteAccount(op Op) Result {
	if op.Account == nil {
		return failure("invalid", "account id is required")
	}
	id := op.Account.ID
	a, ok := c.st.Accounts[id]
	if !ok {
		return failure("not_found", "account %s", id)
	}
	if id == c.st.DefaultAccount {
		return failure("in_use", "account %s is the cluster's default account", id)
	}
	resources, tokens := 0, 0
	for _, r := range c.st.Resources {
		if r.AccountID == id {
			resources++
		}
	}
	for _, t := range c.st.Tokens {
		if t.AccountID == id {
			tokens++
		}
	}
	if resources > 0 || tokens > 0 {
		return failure("in_use", "account %s still holds %d resources and %d tokens: delete them first", id, resources, tokens)
	}
	delete(c.st.Accounts, id)
	return Result{Account: &a}
}

func (c *Catalog) applyResource(op Op) Result {
	r := op.Resource
	if r == nil || !r.Kind.valid() || r.AccountID == "" || r.ID == "" {
		return failure("invalid", "resource kind, account and id are required")
	}
	if _, ok := c.st.Accounts[r.AccountID]; !ok {
		return failure("not_found", "account %s", r.AccountID)
	}
	key := resourceKey(r.Kind, r.AccountID, r.ID)
	cur, exists := c.st.Resources[key]
	switch op.Type {
	case OpCreateResource:
		if exists {
			return failure("exists", "%s %s", r.Kind, r.ID)
		}
		if c.nameTaken(r.Kind, r.AccountID, r.Name, "") {
			return failure("exists", "%s named %q", r.Kind, r.Name)
		}
		if op.Limit > 0 && c.count(r.Kind, r.AccountID) >= op.Limit {
			return failure("quota", "account %s already holds %d %s, its cap", r.AccountID, op.Limit, r.Kind)
		}
		nr := *r
		nr.CreatedAt = op.At
		nr.Attrs = maps.Clone(r.Attrs)
		c.st.Resources[key] = nr
		return Result{Resource: &nr}
	case OpRenameResource:
		if !exists {
			return failure("not_found", "%s %s", r.Kind, r.ID)
		}
		if c.nameTaken(r.Kind, r.AccountID, r.Name, r.ID) {
			return failure("exists", "%s named %q", r.Kind, r.Name)
		}
		cur.Name = r.Name
		c.st.Resources[key] = cur
		return Result{Resource: &cur}
	default: // OpDeleteResource
		if !exists {
			return failure("not_found", "%s %s", r.Kind, r.ID)
		}
		delete(c.st.Resources, key)
		return Result{Resource: &cur}
	}
}

// count is the number of resources of kind in account.
func (c *Catalog) count(kind Kind, account string) int {
	n := 0
	for _, r := range c.st.Resources {
		if r.Kind == kind && r.AccountID == account {
			n++
		}
	}
	return n
}

func (c *Catalog) nameTaken(kind Kind, account, name, exceptID string) bool {
	if name == "" {
		return false
	}
	for _, r := range c.st.Resources {
		if r.Kind == kind && r.AccountID == account && r.Name == name && r.ID != exceptID {
			return true
		}
	}
	return false
}

// Version is the log index of the last change applied.
func (c *Catalog) Version() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.st.Version
}

// Changed returns a channel closed at the next applied change.
func (c *Catalog) Changed() <-chan struct{} {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.applied
}

// DefaultAccount is the account created when the cluster was initialized.
func (c *Catalog) DefaultAccount() (Account, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a, ok := c.st.Accounts[c.st.DefaultAccount]
	return a, ok
}

// ClusterID is the id of the cluster, chosen once when the catalog was
// initialized; empty before that (or in a catalog initialized before ids
// existed, until a node records one with OpSetClusterID).
func (c *Catalog) ClusterID() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.st.ClusterID
}

// Account returns one account.
func (c *Catalog) Account(id string) (Account, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a, ok := c.st.Accounts[id]
	return a, ok
}

// Accounts lists every account by id.
func (c *Catalog) Accounts() []Account {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := slices.Collect(maps.Values(c.st.Accounts))
	slices.SortFunc(out, func(a, b Account) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Tokens lists every token by id (hashes included).
func (c *Catalog) Tokens() []Token {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := slices.Collect(maps.Values(c.st.Tokens))
	slices.SortFunc(out, func(a, b Token) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Token returns one token (hash included).
func (c *Catalog) Token(id string) (Token, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.st.Tokens[id]
	return t, ok
}

// TokenByHash finds the token whose secret hashes to hash.
func (c *Catalog) TokenByHash(hash string) (Token, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, t := range c.st.Tokens {
		if t.Hash == hash {
			return t, true
		}
	}
	return Token{}, false
}

// Resource returns one registry entry.
func (c *Catalog) Resource(kind Kind, account, id string) (Resource, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.st.Resources[resourceKey(kind, account, id)]
	return r, ok
}

// Resources lists an account's entries of one kind, by name then id.
func (c *Catalog) Resources(kind Kind, account string) []Resource {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []Resource
	for _, r := range c.st.Resources {
		if r.Kind == kind && r.AccountID == account {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Resource) int {
		if n := strings.Compare(a.Name, b.Name); n != 0 {
			return n
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Snapshot writes the whole state as JSON.
func (c *Catalog) Snapshot(w io.Writer) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if err := json.NewEncoder(w).Encode(c.st); err != nil {
		return fmt.Errorf("catalog: snapshot: %w", err)
	}
	return nil
}

// Restore replaces the state with one written by Snapshot.
func (c *Catalog) Restore(r io.Reader) error {
	st := emptyState()
	if err := json.NewDecoder(r).Decode(&st); err != nil {
		return fmt.Errorf("catalog: restore: %w", err)
	}
	if st.Accounts == nil {
		st.Accounts = make(map[string]Account)
	}
	if st.Tokens == nil {
		st.Tokens = make(map[string]Token)
	}
	if st.Resources == nil {
		st.Resources = make(map[string]Resource)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st = st
	close(c.applied)
	c.applied = make(chan struct{})
	return nil
}
