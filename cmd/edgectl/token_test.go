package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/api/apitest"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// apiEnv serves a real API server (in-memory catalog, apitest) and returns
// it with the global flags for its admin token.
func apiEnv(t *testing.T, accounts ...string) (*apitest.Env, string, []string) {
	t.Helper()
	env := apitest.NewEnv(t, apitest.NewCatalog(accounts...))
	ts := httptest.NewServer(env.Srv.Handler())
	t.Cleanup(ts.Close)
	return env, ts.URL, []string{"--endpoint", ts.URL, "--token", apitest.Admin}
}

func TestTokenCommands(t *testing.T) {
	_, url, g := apiEnv(t, "acc2")
	out := mustKV(t, "", append(g, "token", "create", "--account", "acc2", "--permission", "Workers KV Storage Read",
		"--permission", "API Tokens Read", "--ttl", "24h", "--name", "reader", "-o", "json")...)
	var tok wire.Token
	if err := json.Unmarshal([]byte(out), &tok); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if tok.Value == "" || tok.Name != "reader" || tok.AccountID != "acc2" || tok.ExpiresOn == "" || len(tok.Policies) != 2 {
		t.Fatalf("token = %+v", tok)
	}
	// verify with the new token.
	out = mustKV(t, "", "--endpoint", url, "--token", tok.Value, "token", "verify", "-o", "json")
	var v wire.TokenVerify
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.ID != tok.ID || v.Status != "active" || v.ExpiresOn == "" {
		t.Fatalf("verify = %+v %v", v, err)
	}
	// list: the admin sees both; the reader only its account's.
	out = mustKV(t, "", append(g, "token", "list")...)
	if !strings.Contains(out, tok.ID) || !strings.Contains(out, "Workers KV Storage Read") {
		t.Fatalf("list:\n%s", out)
	}
	out = mustKV(t, "", "--endpoint", url, "--token", tok.Value, "token", "list", "-o", "json")
	var ts []wire.Token
	if err := json.Unmarshal([]byte(out), &ts); err != nil || len(ts) != 1 || ts[0].ID != tok.ID {
		t.Fatalf("reader lists %s", out)
	}
	// The reader cannot create or revoke.
	if _, errOut, code := runKV(t, "", "--endpoint", url, "--token", tok.Value, "token", "create", "--account", "acc2",
		"--permission", "Workers KV Storage Read"); code == 0 || !strings.Contains(errOut, "403") && !strings.Contains(errOut, "Authentication") {
		t.Fatalf("reader created a token: %d %s", code, errOut)
	}
	// Bad permission names fail before any call.
	if _, errOut, code := runKV(t, "", append(g, "token", "create", "--account", "acc2", "--permission", "KV Everything")...); code == 0 || !strings.Contains(errOut, "unknown permission group") {
		t.Fatalf("bad group: %d %s", code, errOut)
	}
	out = mustKV(t, "", append(g, "token", "permission-groups")...)
	if !strings.Contains(out, "Workers KV Storage Write") || !strings.Contains(out, "Cluster Admin") {
		t.Fatalf("groups:\n%s", out)
	}
	// --out writes the value with mode 0600 and does not print it.
	file := filepath.Join(t.TempDir(), "kv-token")
	out = mustKV(t, "", append(g, "token", "create", "--account", "acc1", "--permission", "Workers KV Storage Write", "--out", file)...)
	b, err := os.ReadFile(file)
	fi, _ := os.Stat(file)
	if err != nil || len(strings.TrimSpace(string(b))) != 40 || fi.Mode().Perm() != 0o600 || strings.Contains(out, strings.TrimSpace(string(b))) {
		t.Fatalf("--out: %v %q %v\n%s", err, b, fi.Mode(), out)
	}
	// revoke: the token stops working.
	mustKV(t, "", append(g, "token", "revoke", tok.ID)...)
	if _, _, code := runKV(t, "", "--endpoint", url, "--token", tok.Value, "token", "verify"); code == 0 {
		t.Fatal("revoked token still verifies")
	}
}

func TestTokenRotateAdmin(t *testing.T) {
	_, url, g := apiEnv(t)
	if _, errOut, code := runKV(t, "", append(g, "token", "rotate-admin")...); code == 0 || !strings.Contains(errOut, "--out") {
		t.Fatalf("rotate-admin without --out: %d %s", code, errOut)
	}
	file := filepath.Join(t.TempDir(), "admin-token")
	out := mustKV(t, "", append(g, "token", "rotate-admin", "--out", file)...)
	b, err := os.ReadFile(file)
	newTok := strings.TrimSpace(string(b))
	fi, _ := os.Stat(file)
	if err != nil || newTok == "" || newTok == apitest.Admin || fi.Mode().Perm() != 0o600 || strings.Contains(out, newTok) {
		t.Fatalf("rotate: %v %q %v\n%s", err, newTok, fi.Mode(), out)
	}
	if _, _, code := runKV(t, "", append(g, "status")...); code == 0 {
		t.Fatal("old admin token still works")
	}
	mustKV(t, "", "--endpoint", url, "--token", newTok, "token", "verify")
}

func TestAccountCommands(t *testing.T) {
	_, _, g := apiEnv(t)
	out := mustKV(t, "", append(g, "account", "create", "tenant", "-o", "json")...)
	var a wire.Account
	if err := json.Unmarshal([]byte(out), &a); err != nil || a.ID == "" || a.Name != "tenant" {
		t.Fatalf("create: %s %v", out, err)
	}
	out = mustKV(t, "", append(g, "account", "list", "-o", "json")...)
	var list []wire.Account
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 {
		t.Fatalf("list: %s %v", out, err)
	}
	out = mustKV(t, "", append(g, "account", "rename", a.ID, "renamed")...)
	if !strings.Contains(out, "renamed") {
		t.Fatalf("rename:\n%s", out)
	}
	out = mustKV(t, "", append(g, "account", "get", a.ID, "-o", "json")...)
	if !strings.Contains(out, `"renamed"`) {
		t.Fatalf("get: %s", out)
	}
	// Not empty: a token of the account.
	mustKV(t, "", append(g, "token", "create", "--account", a.ID, "--permission", "Workers KV Storage Read")...)
	if _, errOut, code := runKV(t, "", append(g, "account", "delete", a.ID)...); code == 0 || !strings.Contains(errOut, "1 tokens") {
		t.Fatalf("delete non-empty: %d %s", code, errOut)
	}
	out = mustKV(t, "", append(g, "token", "list", "-o", "json")...)
	var ts []wire.Token
	_ = json.Unmarshal([]byte(out), &ts)
	for _, tk := range ts {
		if tk.AccountID == a.ID {
			mustKV(t, "", append(g, "token", "revoke", tk.ID)...)
		}
	}
	out = mustKV(t, "", append(g, "account", "delete", a.ID)...)
	if !strings.Contains(out, "Deleted account "+a.ID) {
		t.Fatalf("delete:\n%s", out)
	}
}
