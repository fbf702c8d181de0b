package api_test

import (
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/api/apitest"
	"github.com/edgeplane/edgeplane/pkg/authz"
	"github.com/edgeplane/edgeplane/pkg/kv"
	"github.com/edgeplane/edgeplane/pkg/service"
)

// matrixRoute is one request of the scope matrix. Per-account routes are
// sent to the token's own account and to another one.
type matrixRoute struct {
	label, method, path, body string
	perAccount                bool
}

const otherAccount = "acc2"

var matrixRoutes = []matrixRoute{
	{"kv.list", "GET", "/client/v4/accounts/{a}/storage/kv/namespaces", "", true},
	{"kv.create", "POST", "/client/v4/accounts/{a}/storage/kv/namespaces", `{"title":"x"}`, true},
	{"kv.get", "GET", "/client/v4/accounts/{a}/storage/kv/namespaces/ns/values/k", "", true},
	{"kv.put", "PUT", "/client/v4/accounts/{a}/storage/kv/namespaces/ns/values/k", "v", true},
	{"kv.bulk-get", "POST", "/client/v4/accounts/{a}/storage/kv/namespaces/ns/bulk/get", `{"keys":["k"]}`, true},
	{"kv.bulk-delete", "POST", "/client/v4/accounts/{a}/storage/kv/namespaces/ns/bulk/delete", `["k"]`, true},
	{"d1.list", "GET", "/client/v4/accounts/{a}/d1/database", "", true},
	{"d1.query", "POST", "/client/v4/accounts/{a}/d1/database/db/query", `{}`, true},
	{"do.list", "GET", "/client/v4/accounts/{a}/workers/durable_objects/namespaces", "", true},
	{"do.create", "POST", "/client/v4/accounts/{a}/workers/durable_objects/namespaces", `{}`, true},
	{"account.get", "GET", "/client/v4/accounts/{a}", "", true},
	{"account.rename", "PATCH", "/client/v4/accounts/{a}", `{"name":"renamed"}`, true},
	{"account.create", "POST", "/client/v4/accounts", `{"name":"new"}`, false},
	{"tokens.list", "GET", "/client/v4/user/tokens", "", false},
	{"tokens.create", "POST", "/client/v4/user/tokens", `{"name":"t","policies":[{"effect":"allow",
		"resources":{"com.cloudflare.api.user.edgeplane-admin":"*"},"permission_groups":[{"id":"0cc3a61731504c89b99ec1be78b77aa0"}]}]}`, false},
	{"cluster.status", "GET", "/client/v4/cluster/status", "", false},
	{"cluster.members", "GET", "/client/v4/cluster/members", "", false},
}

// allowedByGroup is what each permission group allows: labels in the
// token's own account ("own:"), in every account ("any:") and routes not
// tied to an account. Everything else must answer 403.
var allowedByGroup = map[string][]string{
	"Workers KV Storage Read":  {"own:kv.list", "own:kv.get", "own:kv.bulk-get", "own:account.get"},
	"Workers KV Storage Write": {"own:kv.list", "own:kv.create", "own:kv.get", "own:kv.put", "own:kv.bulk-get", "own:kv.bulk-delete", "own:account.get"},
	"D1 Read":                  {"own:d1.list", "own:account.get"},
	"D1 Write":                 {"own:d1.list", "own:d1.query", "own:account.get"},
	"Durable Objects Read":     {"own:do.list", "own:account.get"},
	"Durable Objects Write":    {"own:do.list", "own:do.create", "own:account.get"},
	"Account Settings Read":    {"own:account.get"},
	"Account Settings Write":   {"own:account.get", "own:account.rename"},
	"API Tokens Read":          {"tokens.list"},
	"API Tokens Write":         {"tokens.list", "tokens.create"},
	"Cluster Read":             {"cluster.status", "cluster.members"},
	"Cluster Admin": {"cluster.status", "cluster.members", "account.create", "tokens.list", "tokens.create",
		"any:account.get", "any:account.rename"},
}

// TestTokenScopeMatrix checks, for every permission group, that a token
// holding only it on one account is served on each route it allows and
// refused with 403 (code 10000, handler not run) on every other route and
// on every route of another account.
func TestTokenScopeMatrix(t *testing.T) {
	cat := apitest.NewCatalog(otherAccount)
	env := apitest.NewEnv(t, cat)
	var ran atomic.Int64
	stub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran.Add(1)
		api.WriteResult(w, http.StatusOK, nil, nil)
	})
	// The real KV route table (patterns and access levels) with stub
	// handlers: authorization happens before the handler.
	var routes []service.Route
	for _, rt := range kv.Routes(cat, nil) {
		rt.Handler = stub
		routes = append(routes, rt)
	}
	env.Mount("kv", []api.ResourceKind{kv.NamespaceKind}, nil)
	for _, rt := range routes {
		env.Srv.MountAccess(rt.Pattern, "kv", rt.Access, rt.MaxBody, rt.Handler)
	}
	for _, p := range []string{"GET /client/v4/accounts/{account_id}/d1/database",
		"POST /client/v4/accounts/{account_id}/d1/database/{db}/query"} {
		env.Srv.Mount(p, "d1", 0, stub)
	}
	for _, p := range []string{"GET /client/v4/accounts/{account_id}/workers/durable_objects/namespaces",
		"POST /client/v4/accounts/{account_id}/workers/durable_objects/namespaces"} {
		env.Srv.Mount(p, "do", 0, stub)
	}
	if len(allowedByGroup) != len(authz.PermissionGroups()) {
		t.Fatalf("matrix covers %d groups, authz has %d", len(allowedByGroup), len(authz.PermissionGroups()))
	}
	for _, g := range authz.PermissionGroups() {
		t.Run(g.Name, func(t *testing.T) {
			tok := cat.Token(t, apitest.Account, g.Name)
			allowed := allowedByGroup[g.Name]
			for _, rt := range matrixRoutes {
				accounts := []string{""}
				if rt.perAccount {
					accounts = []string{apitest.Account, otherAccount}
				}
				for _, acct := range accounts {
					want := slices.Contains(allowed, rt.label)
					switch acct {
					case apitest.Account:
						want = slices.Contains(allowed, "own:"+rt.label) || slices.Contains(allowed, "any:"+rt.label)
					case otherAccount:
						want = slices.Contains(allowed, "any:"+rt.label)
					}
					path := strings.ReplaceAll(rt.path, "{a}", acct)
					before := ran.Load()
					w := env.Serve(apitest.Request(rt.method, path, tok, strings.NewReader(rt.body)))
					switch {
					case want && (w.Code == http.StatusForbidden || w.Code == http.StatusUnauthorized):
						t.Errorf("%s %s: %d, want allowed; %s", rt.method, path, w.Code, w.Body)
					case !want:
						if w.Code != http.StatusForbidden {
							t.Errorf("%s %s: %d, want 403; %s", rt.method, path, w.Code, w.Body)
							continue
						}
						apitest.WantError(t, w, http.StatusForbidden, api.CodeAuthentication)
						if ran.Load() != before {
							t.Errorf("%s %s: handler ran for a refused request", rt.method, path)
						}
					}
				}
			}
		})
	}
	// The admin token reaches everything.
	for _, rt := range matrixRoutes {
		path := strings.ReplaceAll(rt.path, "{a}", otherAccount)
		w := env.Serve(apitest.Request(rt.method, path, apitest.Admin, strings.NewReader(rt.body)))
		if w.Code == http.StatusForbidden || w.Code == http.StatusUnauthorized {
			t.Errorf("admin: %s %s: %d %s", rt.method, path, w.Code, w.Body)
		}
	}
}
