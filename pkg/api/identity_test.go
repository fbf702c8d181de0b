package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

func accountsN(n int) []wire.Account {
	out := make([]wire.Account, n)
	for i := range out {
		// Reverse order, to check that the API sorts.
		out[i] = wire.Account{ID: fmt.Sprintf("acc-%02d", n-1-i), Name: fmt.Sprintf("Account %d", n-1-i), Type: "standard"}
	}
	return out
}

func TestTokenVerify(t *testing.T) {
	env := newEnv(t, nil)
	for tok, want := range map[string]string{testAdmin: AdminPrincipal, testToken: testTokenID} {
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
	env.id.accounts = func() []wire.Account { return accountsN(5) }
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
	w := env.get("/client/v4/accounts")
	if !strings.Contains(w.Body.String(), `"result":[]`) {
		t.Fatalf("no accounts is not []: %s", w.Body)
	}
}

func TestGetAccount(t *testing.T) {
	env := newEnv(t, nil)
	env.id.accounts = func() []wire.Account { return accountsN(3) }
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
	env.id.accounts = func() []wire.Account { return accountsN(3) }
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
	env.id.tokens = func() []wire.Token {
		return []wire.Token{{ID: "b", Name: "B", Status: "active", Value: "leak"}, {ID: "a", Name: "A", Status: "active"}}
	}
	var ts []wire.Token
	result(t, env.get("/client/v4/user/tokens?per_page=1"), &ts)
	if len(ts) != 1 || ts[0].ID != "a" {
		t.Fatalf("page 1 = %+v", ts)
	}
	w := env.get("/client/v4/user/tokens")
	if strings.Contains(w.Body.String(), "leak") {
		t.Fatalf("token list shows a value: %s", w.Body)
	}
	var one wire.Token
	result(t, env.get("/client/v4/user/tokens/b"), &one)
	if one.ID != "b" || one.Value != "" {
		t.Fatalf("token = %+v", one)
	}
	wantError(t, env.get("/client/v4/user/tokens/zzz"), http.StatusNotFound, CodeInvalidIdentifier)
}

func TestTokenCreate(t *testing.T) {
	env := newEnv(t, nil)
	var names []string
	env.id.create = func(_ context.Context, name string) (wire.Token, error) {
		names = append(names, name)
		return wire.Token{ID: "new", Name: name, Status: "active", Value: "s3cret"}, nil
	}
	post := func(body string) *http.Request {
		return request(http.MethodPost, "/client/v4/user/tokens", testAdmin, strings.NewReader(body))
	}
	var tok wire.Token
	result(t, env.serve(post(`{"name":" ci ","policies":[{"effect":"allow"}]}`)), &tok)
	if tok.Value != "s3cret" || tok.Name != "ci" {
		t.Fatalf("token = %+v", tok)
	}
	for _, bad := range []string{`{}`, `{"name":""}`, `{"name":"` + strings.Repeat("x", 121) + `"}`} {
		wantError(t, env.serve(post(bad)), http.StatusBadRequest, CodeBadRequest)
	}
	for _, bad := range []string{``, `{`, `{"name":1}`, `{"name":"a","bogus":1}`, `{"name":"a"} {}`} {
		wantError(t, env.serve(post(bad)), http.StatusBadRequest, CodeMalformedJSON)
	}
	if len(names) != 1 {
		t.Fatalf("CreateToken called with %q, want once", names)
	}
	env.id.create = func(context.Context, string) (wire.Token, error) {
		return wire.Token{}, fmt.Errorf("propose: %w", ErrUnavailable)
	}
	w := env.serve(post(`{"name":"x"}`))
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
		case "ours":
			return fmt.Errorf("revoke: %w", ErrNotFound)
		case "broken":
			return errors.New("raft exploded")
		}
		return nil
	}
	del := func(id string) *http.Request {
		return request(http.MethodDelete, "/client/v4/user/tokens/"+id, testAdmin, nil)
	}
	var res map[string]string
	result(t, env.serve(del("t1")), &res)
	if res["id"] != "t1" {
		t.Fatalf("result = %+v", res)
	}
	wantError(t, env.serve(del("gone")), http.StatusNotFound, CodeInvalidIdentifier)
	wantError(t, env.serve(del("ours")), http.StatusNotFound, CodeInvalidIdentifier)
	w := env.serve(del("broken"))
	wantError(t, w, http.StatusInternalServerError, CodeInternal)
	if strings.Contains(w.Body.String(), "exploded") {
		t.Fatalf("500 leaks the cause: %s", w.Body)
	}
	if !strings.Contains(env.log.String(), "raft exploded") {
		t.Fatal("the cause of a 500 is not in the access log")
	}
}
