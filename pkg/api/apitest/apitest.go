// Package apitest serves a service's routes and catalog resources through a
// real api.Server in one process, without a cluster: an in-memory catalog
// that applies operations directly (no Raft), fake cluster and identity
// views, and helpers that check Cloudflare v4 envelopes strictly. Services'
// HTTP tests build on it.
package apitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/authz"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/service"
	"github.com/edgeplane/edgeplane/pkg/wire"
	"github.com/edgeplane/edgeplane/pkg/wire/wiretest"
	"github.com/prometheus/client_golang/prometheus"
)

// Fixed names of the test server.
const (
	// Admin is the admin token the server accepts.
	Admin = "admin-secret-token"
	// Node is the server's node id.
	Node = "node-a"
	// Account is the account NewCatalog creates.
	Account = "acc1"
)

// Catalog is a replicated catalog without replication: operations apply to
// a real catalog.Catalog at once. It implements api.Resources and
// service.Catalog.
type Catalog struct {
	*catalog.Catalog
	mu    sync.Mutex
	index uint64
}

var (
	_ api.Resources   = (*Catalog)(nil)
	_ service.Catalog = (*Catalog)(nil)
)

// NewCatalog returns an initialized catalog: Account is the default
// account, Admin its cluster admin token (authz.AdminPolicies, which reach
// every account's data), and the given accounts exist too.
func NewCatalog(accounts ...string) *Catalog {
	c := &Catalog{Catalog: catalog.New()}
	c.apply(catalog.Op{Type: catalog.OpInit, Account: &catalog.Account{ID: Account, Name: Account},
		Token: &catalog.Token{ID: api.BootstrapTokenID, Name: "admin", Hash: catalog.HashToken(Admin),
			AccountID: Account, Policies: authz.AdminPolicies()}})
	for _, id := range accounts {
		c.apply(catalog.Op{Type: catalog.OpCreateAccount, Account: &catalog.Account{ID: id, Name: id}})
	}
	return c
}

// Apply applies op as the next log entry: the Apply of api.CatalogIdentity.
func (c *Catalog) Apply(_ context.Context, op catalog.Op) (catalog.Result, error) {
	res := c.apply(op)
	return res, res.Err()
}

// Identity is the api.Identity over c.
func (c *Catalog) Identity() *api.CatalogIdentity {
	return &api.CatalogIdentity{Catalog: c.Catalog, Apply: c.Apply}
}

// Token creates a token of account allowed the named permission groups
// (authz.PermissionGroups names) on it, or on the cluster or the user for
// groups of those scopes, and returns its secret.
func (c *Catalog) Token(t testing.TB, account string, groups ...string) string {
	t.Helper()
	byScope := map[authz.Scope][]authz.GroupRef{}
	for _, name := range groups {
		g, ok := authz.GroupByName(name)
		if !ok {
			t.Fatalf("no permission group %q", name)
		}
		byScope[g.Scope] = append(byScope[g.Scope], authz.GroupRef{ID: g.ID})
	}
	var policies []authz.Policy
	for scope, refs := range byScope {
		res := map[authz.Scope]string{authz.ScopeAccount: authz.AccountResource(account),
			authz.ScopeUser: authz.UserResource(api.UserID), authz.ScopeCluster: authz.ClusterResource}[scope]
		policies = append(policies, authz.Policy{Effect: authz.Allow, Resources: map[string]string{res: "*"}, PermissionGroups: refs})
	}
	_, secret, err := c.Identity().CreateToken(context.Background(),
		catalog.Token{Name: strings.Join(groups, ", "), AccountID: account, Policies: policies})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	return secret
}

// apply applies op as the next log entry.
func (c *Catalog) apply(op catalog.Op) catalog.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.index++
	op.At = time.Now().UTC()
	return c.Catalog.Apply(c.index, op)
}

// CreateResource implements api.Resources with a random 32-hex id.
func (c *Catalog) CreateResource(_ context.Context, r catalog.Resource) (catalog.Resource, error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	r.ID = hex.EncodeToString(b[:])
	res := c.apply(catalog.Op{Type: catalog.OpCreateResource, Resource: &r, Limit: r.MaxPerAccount})
	if err := res.Err(); err != nil {
		return catalog.Resource{}, err
	}
	return *res.Resource, nil
}

// RenameResource implements api.Resources.
func (c *Catalog) RenameResource(_ context.Context, kind catalog.Kind, account, id, name string) error {
	return c.apply(catalog.Op{Type: catalog.OpRenameResource,
		Resource: &catalog.Resource{Kind: kind, AccountID: account, ID: id, Name: name}}).Err()
}

// SetResourceAttrs implements api.Resources.
func (c *Catalog) SetResourceAttrs(_ context.Context, kind catalog.Kind, account, id string, attrs map[string]string) (catalog.Resource, error) {
	res := c.apply(catalog.Op{Type: catalog.OpSetResourceAttrs,
		Resource: &catalog.Resource{Kind: kind, AccountID: account, ID: id, Attrs: attrs}})
	if err := res.Err(); err != nil {
		return catalog.Resource{}, err
	}
	return *res.Resource, nil
}

// DeleteResource implements api.Resources.
func (c *Catalog) DeleteResource(_ context.Context, kind catalog.Kind, account, id string) error {
	return c.apply(catalog.Op{Type: catalog.OpDeleteResource,
		Resource: &catalog.Resource{Kind: kind, AccountID: account, ID: id}}).Err()
}

// Env is an api.Server over a Catalog, with its registry and captured log.
type Env struct {
	Srv *api.Server
	Cat *Catalog
	Reg *prometheus.Registry
	Log *SyncBuffer
}

// NewEnv builds a server whose accounts are cat's.
func NewEnv(t testing.TB, cat *Catalog) *Env {
	t.Helper()
	env := &Env{Cat: cat, Reg: prometheus.NewRegistry(), Log: &SyncBuffer{}}
	logger := slog.New(slog.NewJSONHandler(env.Log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := api.New(api.Config{NodeID: Node, Version: "v-test", AdminToken: Admin},
		cluster{}, cat.Identity(), env.Reg, env.Reg, logger)
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	env.Srv = srv
	return env
}

// Mount serves a service's catalog resources and routes (every route where
// it arrives: there is one node).
func (e *Env) Mount(name string, kinds []api.ResourceKind, routes []service.Route) {
	for _, k := range kinds {
		e.Srv.MountResources(k, e.Cat)
	}
	for _, r := range routes {
		e.Srv.MountAccess(r.Pattern, name, r.Access, r.MaxBody, r.Handler)
	}
}

// Serve runs r through the server's handler.
func (e *Env) Serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.Srv.Handler().ServeHTTP(w, r)
	return w
}

// Request builds a request; token "" sends no Authorization header.
func Request(method, target, token string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

// The envelope checks of wiretest, for tests that build on this package.
var (
	// DecodeEnvelope is wiretest.DecodeEnvelope.
	DecodeEnvelope = wiretest.DecodeEnvelope
	// WantError is wiretest.WantError.
	WantError = wiretest.WantError
	// Result is wiretest.Result.
	Result = wiretest.Result
)

// SyncBuffer is a bytes.Buffer safe for concurrent writers (a log sink).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cluster is a single ready node.
type cluster struct{}

func (cluster) Members() []wire.Member { return []wire.Member{{ID: Node, State: "alive", Self: true}} }
func (cluster) Status() wire.Status    { return wire.Status{NodeID: Node} }
func (cluster) Ready() error           { return nil }
