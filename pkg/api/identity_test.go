package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/authz"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

func TestTokenVerify(t *testing.T) {
	env := newEnv(t, nil)
	for tok, want := range map[string]string{testAdmin: BootstrapTokenID, testToken: testTokenID} {
		var v wire.TokenVerify
		result(t, env.serve(request(http.MethodGet, "/client/v4/user/tokens/verify", tok, nil)), &v)
		if v.ID != want || v.Status != "active" {
			t.Errorf("verify with %s = %+v", tok, v)
		}
	}
}

func TestUser(t *testing.T) {
	env := newEnv(t, nil)
	var u wire.User
	result(t, env.get("/client/v4/user"), &u)
	if u.ID != UserID || u.Email != UserEmail {
		t.Fatalf("user = %+v", u)
	}
}

func TestAccountsPaged(t *testing.T) {
	env := newEnv(t, nil)
	addAccounts(env, 4) // and the default account, acc-default: 5
	var got []wire.Account
	e := result(t, env.get("/client/v4/accounts?page=2&per_page=2"), &got)
	if len(got) != 2 || got[0].ID != "acc-02" || got[1].ID != "acc-03" {
		t.Fatalf("page 2 = %+v", got)
	}
	if i := e.ResultInfo; i == nil || i.Page != 2 || i.PerPage != 2 || i.Count != 2 || i.TotalCount != 5 {
		t.Fatalf("result_info = %+v", e.ResultInfo)
	}
	w := env.get("/client/v4/accounts?page=9")
	if !strings.Contains(w.Body.String(), `"result":[]`) {
		t.Fatalf("past the end is not []: %s", w.Body)
	}
	wantError(t, env.get("/client/v4/accounts?per_page=5000"), http.StatusBadRequest, CodeBadRequest)
}

func TestAccountsEmptyIsArray(t *testing.T) {
	env := newEnv(t, nil)
	// A token reaching no account sees none.
	tok := newToken(t, env, testAccount, "API Tokens Read")
	w := env.serve(request(http.MethodGet, "/client/v4/accounts", tok, nil))
	if !strings.Contains(w.Body.String(), `"result":[]`) {
		t.Fatalf("no accounts is not []: %s", w.Body)
	}
}

func TestGetAccount(t *testing.T) {
	env := newEnv(t, nil)
	addAccounts(env, 3)
	var a wire.Account
	result(t, env.get("/client/v4/accounts/acc-01"), &a)
	if a.ID != "acc-01" || a.Name != "Account 1" {
		t.Fatalf("account = %+v", a)
	}
	w := env.get("/client/v4/accounts/nope")
	wantError(t, w, http.StatusNotFound, CodeInvalidIdentifier)
	if w.Header().Get("x-should-retry") != "false" {
		t.Fatal("404 without x-should-retry: false")
	}
}

func TestMemberships(t *testing.T) {
	env := newEnv(t, nil)
	addAccounts(env, 2) // and acc-default: 3
	var ms []wire.Membership
	e := result(t, env.get("/client/v4/memberships?page=1"), &ms)
	if len(ms) != 3 || e.ResultInfo.TotalCount != 3 {
		t.Fatalf("memberships = %+v", ms)
	}
	m := ms[0]
	if m.Account.ID != "acc-00" || m.Account.Name != "Account 0" || m.Status != "accepted" ||
		len(m.Roles) != 1 || m.Roles[0] != "Administrator" {
		t.Fatalf("membership = %+v", m)
	}
	result(t, env.get("/client/v4/memberships?page=2"), &ms)
	if len(ms) != 0 {
		t.Fatalf("page 2 = %+v", ms)
	}
}

func TestTokensList(t *testing.T) {
	env := newEnv(t, nil)
	var ts []wire.Token
	result(t, env.get("/client/v4/user/tokens?per_page=1"), &ts)
	if len(ts) != 1 || ts[0].ID != BootstrapTokenID {
		t.Fatalf("page 1 = %+v", ts)
	}
	w := env.get("/client/v4/user/tokens")
	if strings.Contains(w.Body.String(), `"value"`) || strings.Contains(w.Body.String(), `"hash"`) {
		t.Fatalf("token list shows a secret: %s", w.Body)
	}
	var one wire.Token
	result(t, env.get("/client/v4/user/tokens/"+testTokenID), &one)
	if one.ID != testTokenID || one.Value != "" || len(one.Policies) != 3 || one.AccountID != testAccount {
		t.Fatalf("token = %+v", one)
	}
	wantError(t, env.get("/client/v4/user/tokens/zzz"), http.StatusNotFound, CodeInvalidIdentifier)
}

func TestTokenCreate(t *testing.T) {
	env := newEnv(t, nil)
	post := func(body string) *http.Request {
		return request(http.MethodPost, "/client/v4/user/tokens", testAdmin, strings.NewReader(body))
	}
	kvRead := `"permission_groups":[{"id":"8b47d2786a534c08a1f94ee8f9f599ef"}]`
	var tok wire.Token
	result(t, env.serve(post(`{"name":" ci ","policies":[{"effect":"allow","resources":{"com.cloudflare.api.account.`+testAccount+`":"*"},`+kvRead+`}],
		"expires_on":"2099-01-01T00:00:00Z","condition":{"request_ip":{"in":["192.0.2.0/24"]}}}`)), &tok)
	if tok.Value == "" || tok.Name != "ci" || tok.AccountID != testAccount || tok.ExpiresOn != "2099-01-01T00:00:00Z" ||
		tok.Condition == nil || len(tok.Policies) != 1 {
		t.Fatalf("token = %+v", tok)
	}
	stored, ok := env.id.LookupToken(tok.Value)
	if !ok || stored.ID != tok.ID || len(stored.Policies) != 1 || stored.ExpiresOn == nil {
		t.Fatalf("stored = %+v %v", stored, ok)
	}
	for bad, field := range map[string]string{
		`{}`:                         "name",
		`{"name":""}`:                "name",
		`{"name":"x","policies":[]}`: "policies",
		`{"name":"` + strings.Repeat("x", 121) + `","policies":[]}`:                                                                                       "name",
		`{"name":"x","policies":[{"effect":"allow","resources":{"com.cloudflare.api.account.nope":"*"},` + kvRead + `}]}`:                                 `policies[0].resources["com.cloudflare.api.account.nope"]`,
		`{"name":"x","policies":[{"effect":"maybe","resources":{"com.cloudflare.api.account.a":"*"},` + kvRead + `}]}`:                                    "policies[0].effect",
		`{"name":"x","policies":[{"effect":"allow","resources":{"com.cloudflare.api.account.a":"*","com.cloudflare.api.account.b":"*"},` + kvRead + `}]}`: "policies",
	} {
		w := env.serve(post(bad))
		e := wantError(t, w, http.StatusBadRequest, CodeBadRequest)
		if !strings.HasPrefix(e.Errors[0].Message, field) {
			t.Errorf("%s: message %q does not name %s", bad, e.Errors[0].Message, field)
		}
	}
	for _, bad := range []string{``, `{`, `{"name":"a"} {}`} {
		wantError(t, env.serve(post(bad)), http.StatusBadRequest, CodeMalformedJSON)
	}
	wantError(t, env.serve(post(`{"name":1}`)), http.StatusBadRequest, CodeBadRequest)
	env.id.create = func(context.Context, catalog.Token) (catalog.Token, string, error) {
		return catalog.Token{}, "", fmt.Errorf("propose: %w", ErrUnavailable)
	}
	w := env.serve(post(`{"name":"x","policies":[{"effect":"allow","resources":{"com.cloudflare.api.account.` + testAccount + `":"*"},` + kvRead + `}]}`))
	wantError(t, w, http.StatusServiceUnavailable, CodeUnavailable)
	if w.Header().Get("x-should-retry") != "" {
		t.Fatal("503 must stay retryable")
	}
}

func TestTokenRevoke(t *testing.T) {
	env := newEnv(t, nil)
	env.id.revoke = func(_ context.Context, id string) error {
		switch id {
		case "gone":
			return fmt.Errorf("revoke token %s: catalog revoke_token: %w", id, catalog.ErrNotFound)
		case "broken":
			return errors.New("raft exploded")
		}
		return nil
	}
	for _, id := range []string{"gone", "broken"} {
		_, _ = env.id.apply(context.Background(), catalog.Op{Type: catalog.OpCreateToken,
			Token: &catalog.Token{ID: id, Name: id, Hash: catalog.HashToken("v-" + id), AccountID: testAccount}})
	}
	del := func(id string) *http.Request {
		return request(http.MethodDelete, "/client/v4/user/tokens/"+id, testAdmin, nil)
	}
	var res map[string]string
	result(t, env.serve(del(testTokenID)), &res)
	if res["id"] != testTokenID {
		t.Fatalf("result = %+v", res)
	}
	wantError(t, env.serve(del("gone")), http.StatusNotFound, CodeInvalidIdentifier)
	wantError(t, env.serve(del("never")), http.StatusNotFound, CodeInvalidIdentifier)
	w := env.serve(del("broken"))
	wantError(t, w, http.StatusInternalServerError, CodeInternal)
	if strings.Contains(w.Body.String(), "exploded") {
		t.Fatalf("500 leaks the cause: %s", w.Body)
	}
	if !strings.Contains(env.log.String(), "raft exploded") {
		t.Fatal("the cause of a 500 is not in the access log")
	}
}

// addAccounts adds accounts acc-00 .. acc-<n-1>, named "Account i", in
// reverse order to check that the API sorts.
func addAccounts(env *testEnv, n int) {
	for i := n - 1; i >= 0; i-- {
		env.id.addAccount(fmt.Sprintf("acc-%02d", i), fmt.Sprintf("Account %d", i))
	}
}

// newToken creates a token of account allowed the named groups on it (or
// the user, or the cluster, by the group's scope) and returns its value.
func newToken(t *testing.T, env *testEnv, account string, groups ...string) string {
	t.Helper()
	var policies []authz.Policy
	for _, name := range groups {
		g, ok := authz.GroupByName(name)
		if !ok {
			t.Fatalf("no group %q", name)
		}
		res := map[authz.Scope]string{authz.ScopeAccount: authz.AccountResource(account),
			authz.ScopeUser: authz.UserResource(UserID), authz.ScopeCluster: authz.ClusterResource}[g.Scope]
		policies = append(policies, authz.Policy{Effect: authz.Allow, Resources: map[string]string{res: "*"},
			PermissionGroups: []authz.GroupRef{{ID: g.ID}}})
	}
	if len(policies) == 0 {
		policies = nil
	}
	_, secret, err := env.id.CatalogIdentity.CreateToken(context.Background(),
		catalog.Token{Name: "test", AccountID: account, Policies: policies})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}
