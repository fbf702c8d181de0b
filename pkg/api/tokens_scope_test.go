package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/api/apitest"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

func tokenBody(name, account string, groupIDs ...string) string {
	var refs []string
	for _, id := range groupIDs {
		refs = append(refs, `{"id":"`+id+`"}`)
	}
	return `{"name":"` + name + `","policies":[{"effect":"allow","resources":{"com.cloudflare.api.account.` + account +
		`":"*"},"permission_groups":[` + strings.Join(refs, ",") + `]}]}`
}

const (
	kvReadID  = "8b47d2786a534c08a1f94ee8f9f599ef"
	kvWriteID = "f7f0eda5697f475c90846e879bab8666"
)

// A token manager creates only tokens of its own account that grant no
// more than it holds, and sees and revokes only its account's tokens.
func TestTokenCreateNoEscalationAndAccountScope(t *testing.T) {
	cat := apitest.NewCatalog(otherAccount)
	env := apitest.NewEnv(t, cat)
	post := func(tok, body string) *http.Response {
		w := env.Serve(apitest.Request("POST", "/client/v4/user/tokens", tok, strings.NewReader(body)))
		return w.Result()
	}
	mgr := cat.Token(t, apitest.Account, "API Tokens Write", "Workers KV Storage Read")
	// Within its own grants: fine.
	w := env.Serve(apitest.Request("POST", "/client/v4/user/tokens", mgr, strings.NewReader(tokenBody("r", apitest.Account, kvReadID))))
	var created wire.Token
	apitest.Result(t, w, &created)
	if created.AccountID != apitest.Account || created.Value == "" {
		t.Fatalf("created = %+v", created)
	}
	// More than it holds, or another account: 403.
	for _, body := range []string{tokenBody("w", apitest.Account, kvWriteID), tokenBody("o", otherAccount, kvReadID)} {
		if r := post(mgr, body); r.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", body, r.StatusCode)
		}
	}
	// A token of the other account, made by the admin.
	other := cat.Token(t, otherAccount, "API Tokens Write", "Workers KV Storage Write")
	var list []wire.Token
	apitest.Result(t, env.Serve(apitest.Request("GET", "/client/v4/user/tokens", mgr, nil)), &list)
	for _, tk := range list {
		if tk.AccountID != apitest.Account {
			t.Fatalf("manager of %s lists %+v", apitest.Account, tk)
		}
	}
	var otherList []wire.Token
	apitest.Result(t, env.Serve(apitest.Request("GET", "/client/v4/user/tokens", other, nil)), &otherList)
	if len(otherList) != 1 || otherList[0].AccountID != otherAccount {
		t.Fatalf("other account's list = %+v", otherList)
	}
	// Revoking another account's token: 404, it stays.
	w = env.Serve(apitest.Request("DELETE", "/client/v4/user/tokens/"+otherList[0].ID, mgr, nil))
	apitest.WantError(t, w, http.StatusNotFound, api.CodeInvalidIdentifier)
	// Revoking one's own account's token works, and the token stops working.
	reader := created.Value
	apitest.Result(t, env.Serve(apitest.Request("GET", "/client/v4/user/tokens/verify", reader, nil)), nil)
	apitest.Result(t, env.Serve(apitest.Request("DELETE", "/client/v4/user/tokens/"+created.ID, mgr, nil)), nil)
	apitest.WantError(t, env.Serve(apitest.Request("GET", "/client/v4/user/tokens/verify", reader, nil)), http.StatusUnauthorized, api.CodeAuthentication)
	// The admin sees every token.
	var all []wire.Token
	apitest.Result(t, env.Serve(apitest.Request("GET", "/client/v4/user/tokens", apitest.Admin, nil)), &all)
	if len(all) != 3 { // admin, mgr, other
		t.Fatalf("admin lists %d tokens: %+v", len(all), all)
	}
}

// Rolling a token (how the admin token is rotated) ends the old value.
func TestTokenRoll(t *testing.T) {
	cat := apitest.NewCatalog()
	env := apitest.NewEnv(t, cat)
	var v wire.TokenVerify
	apitest.Result(t, env.Serve(apitest.Request("GET", "/client/v4/user/tokens/verify", apitest.Admin, nil)), &v)
	var secret string
	apitest.Result(t, env.Serve(apitest.Request("PUT", "/client/v4/user/tokens/"+v.ID+"/value", apitest.Admin, strings.NewReader(`{}`))), &secret)
	if secret == "" || secret == apitest.Admin {
		t.Fatalf("new value %q", secret)
	}
	apitest.WantError(t, env.Serve(apitest.Request("GET", "/client/v4/cluster/status", apitest.Admin, nil)), http.StatusUnauthorized, api.CodeAuthentication)
	apitest.Result(t, env.Serve(apitest.Request("GET", "/client/v4/cluster/status", secret, nil)), nil)
}

func TestTokenVerifyShowsValidity(t *testing.T) {
	cat := apitest.NewCatalog()
	env := apitest.NewEnv(t, cat)
	body := `{"name":"exp","expires_on":"2099-01-02T03:04:05Z","not_before":"2020-01-01T00:00:00Z","policies":[{"effect":"allow",
		"resources":{"com.cloudflare.api.account.acc1":"*"},"permission_groups":[{"id":"` + kvReadID + `"}]}]}`
	var tok wire.Token
	apitest.Result(t, env.Serve(apitest.Request("POST", "/client/v4/user/tokens", apitest.Admin, strings.NewReader(body))), &tok)
	var v wire.TokenVerify
	apitest.Result(t, env.Serve(apitest.Request("GET", "/client/v4/user/tokens/verify", tok.Value, nil)), &v)
	if v.ID != tok.ID || v.Status != "active" || v.ExpiresOn != "2099-01-02T03:04:05Z" || v.NotBefore != "2020-01-01T00:00:00Z" {
		t.Fatalf("verify = %+v", v)
	}
	// An expired token authenticates (verify says so) but is refused elsewhere.
	body = strings.Replace(body, "2099-01-02T03:04:05Z", "2021-01-01T00:00:00Z", 1)
	apitest.Result(t, env.Serve(apitest.Request("POST", "/client/v4/user/tokens", apitest.Admin, strings.NewReader(body))), &tok)
	apitest.Result(t, env.Serve(apitest.Request("GET", "/client/v4/user/tokens/verify", tok.Value, nil)), &v)
	if v.Status != "expired" {
		t.Fatalf("expired token verifies as %+v", v)
	}
	apitest.WantError(t, env.Serve(apitest.Request("GET", "/client/v4/accounts/acc1", tok.Value, nil)),
		http.StatusForbidden, api.CodeAuthentication)
}

func TestPermissionGroupsList(t *testing.T) {
	env := apitest.NewEnv(t, apitest.NewCatalog())
	var groups []struct{ ID, Name string }
	apitest.Result(t, env.Serve(apitest.Request("GET", "/client/v4/user/tokens/permission_groups", apitest.Admin, nil)), &groups)
	found := false
	for _, g := range groups {
		if g.ID == kvReadID && g.Name == "Workers KV Storage Read" {
			found = true
		}
	}
	if len(groups) != 12 || !found {
		t.Fatalf("groups = %+v", groups)
	}
}

// Accounts: created by cluster admins, renamed, deleted only when empty.
func TestAccountsLifecycle(t *testing.T) {
	cat := apitest.NewCatalog()
	env := apitest.NewEnv(t, cat)
	do := func(tok, method, target, body string) *http.Request {
		return apitest.Request(method, target, tok, strings.NewReader(body))
	}
	var a wire.Account
	apitest.Result(t, env.Serve(do(apitest.Admin, "POST", "/client/v4/accounts", `{"name":"tenant"}`)), &a)
	if a.ID == "" || a.Name != "tenant" {
		t.Fatalf("created %+v", a)
	}
	apitest.WantError(t, env.Serve(do(apitest.Admin, "POST", "/client/v4/accounts", `{"name":""}`)), http.StatusBadRequest, api.CodeBadRequest)
	apitest.Result(t, env.Serve(do(apitest.Admin, "PATCH", "/client/v4/accounts/"+a.ID, `{"name":"renamed"}`)), &a)
	if a.Name != "renamed" {
		t.Fatalf("renamed %+v", a)
	}
	// A tenant's token sees its account only.
	tok := cat.Token(t, a.ID, "Workers KV Storage Write")
	var list []wire.Account
	apitest.Result(t, env.Serve(do(tok, "GET", "/client/v4/accounts", "")), &list)
	if len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("tenant lists %+v", list)
	}
	apitest.WantError(t, env.Serve(do(tok, "GET", "/client/v4/accounts/"+apitest.Account, "")), http.StatusForbidden, api.CodeAuthentication)
	apitest.WantError(t, env.Serve(do(tok, "POST", "/client/v4/accounts", `{"name":"x"}`)), http.StatusForbidden, api.CodeAuthentication)
	// Not empty: a namespace and a token.
	if _, err := cat.CreateResource(t.Context(), catalog.Resource{Kind: catalog.KindKVNamespace, AccountID: a.ID, Name: "ns"}); err != nil {
		t.Fatal(err)
	}
	w := env.Serve(do(apitest.Admin, "DELETE", "/client/v4/accounts/"+a.ID, ""))
	e := apitest.WantError(t, w, http.StatusConflict, api.CodeConflict)
	if !strings.Contains(e.Errors[0].Message, "1 resources and 1 tokens") {
		t.Fatalf("message %q", e.Errors[0].Message)
	}
	for _, r := range cat.Resources(catalog.KindKVNamespace, a.ID) {
		if err := cat.DeleteResource(t.Context(), catalog.KindKVNamespace, a.ID, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, tk := range cat.Tokens() {
		if tk.AccountID == a.ID {
			apitest.Result(t, env.Serve(do(apitest.Admin, "DELETE", "/client/v4/user/tokens/"+tk.ID, "")), nil)
		}
	}
	apitest.Result(t, env.Serve(do(apitest.Admin, "DELETE", "/client/v4/accounts/"+a.ID, "")), nil)
	apitest.WantError(t, env.Serve(do(apitest.Admin, "GET", "/client/v4/accounts/"+a.ID, "")), http.StatusNotFound, api.CodeInvalidIdentifier)
	// The default account is never deleted.
	apitest.WantError(t, env.Serve(do(apitest.Admin, "DELETE", "/client/v4/accounts/"+apitest.Account, "")), http.StatusConflict, api.CodeConflict)
}
