package api

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/authz"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

func TestAuthRejects(t *testing.T) {
	env := newEnv(t, nil)
	var ran atomic.Int32
	env.srv.Mount("POST /client/v4/accounts/{account_id}/things", "things", 0,
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ran.Add(1)
			WriteResult(w, http.StatusOK, nil, nil)
		}))
	headers := map[string]string{
		"missing":        "",
		"bad token":      "Bearer nope",
		"wrong scheme":   "Basic " + testAdmin,
		"no token":       "Bearer ",
		"bare token":     testAdmin,
		"admin prefix":   "Bearer " + testAdmin[:len(testAdmin)-1],
		"admin extended": "Bearer " + testAdmin + "x",
		"too long":       "Bearer " + strings.Repeat("a", maxTokenLen+1),
	}
	for name, h := range headers {
		r := request(http.MethodPost, "/client/v4/accounts/a/things", "", strings.NewReader(`{}`))
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		w := env.serve(r)
		e := wantError(t, w, http.StatusUnauthorized, CodeAuthentication)
		if e.Errors[0].Message != "Authentication error" {
			t.Errorf("%s: message %q", name, e.Errors[0].Message)
		}
		if w.Header().Get("x-should-retry") != "false" {
			t.Errorf("%s: 401 without x-should-retry: false", name)
		}
	}
	if n := ran.Load(); n != 0 {
		t.Fatalf("handler ran %d times for unauthenticated requests", n)
	}
}

func TestAuthAccepts(t *testing.T) {
	env := newEnv(t, nil)
	for _, tok := range []string{testAdmin, testToken} {
		w := env.serve(request(http.MethodGet, "/client/v4/cluster/status", tok, nil))
		result(t, w, nil)
	}
	// Scheme is case-insensitive.
	r := request(http.MethodGet, "/client/v4/cluster/status", "", nil)
	r.Header.Set("Authorization", "bearer "+testToken)
	result(t, env.serve(r), nil)
}

func TestEveryOwnClientV4RouteNeedsAuth(t *testing.T) {
	env := newEnv(t, nil)
	for _, target := range []string{
		"/client/v4/cluster/members", "/client/v4/cluster/status", "/client/v4/user",
		"/client/v4/user/tokens/verify", "/client/v4/accounts", "/client/v4/accounts/x",
		"/client/v4/memberships", "/client/v4/user/tokens", "/client/v4/user/tokens/t",
	} {
		w := env.serve(request(http.MethodGet, target, "", nil))
		wantError(t, w, http.StatusUnauthorized, CodeAuthentication)
	}
}

func TestNoAdminTokenConfigured(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.AdminToken = "" })
	w := env.serve(request(http.MethodGet, "/client/v4/cluster/status", "", nil))
	wantError(t, w, http.StatusUnauthorized, CodeAuthentication)
	// The catalog's token still works.
	result(t, env.serve(request(http.MethodGet, "/client/v4/cluster/status", testAdmin, nil)), nil)
}

// The node-local admin token authenticates only before the catalog is
// initialized, and then only cluster status; afterwards it is valid only
// as the catalog token, so revoking or rolling it there ends it.
func TestLocalAdminTokenOnlyBeforeInit(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.AdminToken = "local-admin" })
	env.id.cat = catalog.New() // a fresh node: nothing initialized
	env.id.CatalogIdentity.Catalog = env.id.cat
	env.id.index = 0
	result(t, env.serve(request(http.MethodGet, "/client/v4/cluster/status", "local-admin", nil)), nil)
	result(t, env.serve(request(http.MethodGet, "/client/v4/cluster/members", "local-admin", nil)), nil)
	for _, target := range []string{"/client/v4/accounts", "/client/v4/user/tokens", "/client/v4/user"} {
		wantError(t, env.serve(request(http.MethodGet, target, "local-admin", nil)), http.StatusForbidden, CodeAuthentication)
	}
	// Initialized with another value as the admin token: the local one is over.
	_, _ = env.id.apply(context.Background(), catalog.Op{Type: catalog.OpInit, Account: &catalog.Account{ID: "a"},
		Token: &catalog.Token{ID: BootstrapTokenID, Hash: catalog.HashToken("rolled"), Policies: authz.AdminPolicies()}})
	wantError(t, env.serve(request(http.MethodGet, "/client/v4/cluster/status", "local-admin", nil)), http.StatusUnauthorized, CodeAuthentication)
	result(t, env.serve(request(http.MethodGet, "/client/v4/cluster/status", "rolled", nil)), nil)
}

func TestPublicEndpointsNeedNoAuth(t *testing.T) {
	env := newEnv(t, nil)
	for _, target := range []string{"/healthz", "/readyz", "/metrics"} {
		w := env.serve(request(http.MethodGet, target, "", nil))
		if w.Code != http.StatusOK {
			t.Errorf("%s: status %d", target, w.Code)
		}
	}
}

// Tokens stored before policies existed allow nothing, except the
// bootstrap admin token, read as the cluster admin token it now is.
func TestTokensWithoutPolicies(t *testing.T) {
	env := newEnv(t, nil)
	ctx := context.Background()
	_, _ = env.id.apply(ctx, catalog.Op{Type: catalog.OpCreateToken, Token: &catalog.Token{ID: "old", Name: "old", Hash: catalog.HashToken("old-value")}})
	// Authenticates (verify answers) but is refused everywhere else.
	result(t, env.serve(request(http.MethodGet, "/client/v4/user/tokens/verify", "old-value", nil)), nil)
	wantError(t, env.serve(request(http.MethodGet, "/client/v4/cluster/status", "old-value", nil)), http.StatusForbidden, CodeAuthentication)

	env.id.cat = catalog.New()
	env.id.CatalogIdentity.Catalog = env.id.cat
	env.id.index = 0
	_, _ = env.id.apply(ctx, catalog.Op{Type: catalog.OpInit, Account: &catalog.Account{ID: "a"},
		Token: &catalog.Token{ID: BootstrapTokenID, Hash: catalog.HashToken("legacy-admin")}})
	result(t, env.serve(request(http.MethodGet, "/client/v4/cluster/status", "legacy-admin", nil)), nil)
	var ts []wire.Token
	result(t, env.serve(request(http.MethodGet, "/client/v4/user/tokens", "legacy-admin", nil)), &ts)
	if len(ts) != 1 || ts[0].AccountID != "a" || len(ts[0].Policies) != 3 {
		t.Fatalf("legacy admin = %+v", ts)
	}
}
