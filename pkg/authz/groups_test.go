package authz

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"testing"
)

func TestPermissionGroupTable(t *testing.T) {
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	ids, names := map[string]bool{}, map[string]bool{}
	for _, g := range PermissionGroups() {
		if !hex32.MatchString(g.ID) {
			t.Errorf("%s: id %q is not 32 hex digits", g.Name, g.ID)
		}
		if ids[g.ID] || names[g.Name] {
			t.Errorf("duplicate group %s %q", g.ID, g.Name)
		}
		ids[g.ID], names[g.Name] = true, true
		if !g.Cloudflare {
			sum := sha256.Sum256([]byte("edgeplane permission group: " + g.Name))
			if want := hex.EncodeToString(sum[:])[:32]; g.ID != want {
				t.Errorf("Edgeplane group %q has id %s, want the derived %s", g.Name, g.ID, want)
			}
		}
		if len(g.Permissions) == 0 {
			t.Errorf("%s grants nothing", g.Name)
		}
		for _, p := range g.Permissions {
			if !p.Valid() {
				t.Errorf("%s: unknown permission %q", g.Name, p)
			}
			if g.Scope != ScopeCluster && p.Scope() != g.Scope {
				t.Errorf("%s (%s) carries %s of scope %s", g.Name, g.Scope, p, p.Scope())
			}
		}
	}
	// Cloudflare's ids for the groups Cloudflare has.
	for name, id := range map[string]string{
		"Workers KV Storage Read":  "8b47d2786a534c08a1f94ee8f9f599ef",
		"Workers KV Storage Write": "f7f0eda5697f475c90846e879bab8666",
		"D1 Read":                  "192192df92ee43ac90f2aeeffce67e35",
		"D1 Write":                 "09b2857d1c31407795e75e3fed8617a1",
		"Account Settings Read":    "c1fde68c7bcc44588cbb6ddbc16d6480",
		"API Tokens Read":          "0cc3a61731504c89b99ec1be78b77aa0",
		"API Tokens Write":         "686d18d5ac6c441c867cbf6771e58a0a",
	} {
		g, ok := GroupByName(name)
		if !ok || g.ID != id || !g.Cloudflare {
			t.Errorf("group %q = %+v, want Cloudflare id %s", name, g, id)
		}
	}
	for _, name := range []string{"Durable Objects Read", "Durable Objects Write", "Cluster Admin", "Cluster Read"} {
		if g, ok := GroupByName(name); !ok || g.Cloudflare {
			t.Errorf("Edgeplane group %q = %+v, %v", name, g, ok)
		}
	}
	// The table handed out is a copy.
	gs := PermissionGroups()
	gs[0].Permissions[0] = "x"
	if PermissionGroups()[0].Permissions[0] == "x" {
		t.Fatal("PermissionGroups exposes the table")
	}
}

func TestPermissionFor(t *testing.T) {
	cases := []struct {
		svc    Service
		method string
		want   Permission
	}{
		{ServiceKV, "GET", KVRead}, {ServiceKV, "HEAD", KVRead}, {ServiceKV, "PUT", KVWrite}, {ServiceKV, "DELETE", KVWrite},
		{ServiceD1, "GET", D1Read}, {ServiceD1, "POST", D1Write},
		{ServiceDO, "GET", DORead}, {ServiceDO, "PATCH", DOWrite},
		{ServiceTokens, "GET", TokensRead}, {ServiceTokens, "POST", TokensWrite},
		{ServiceAccount, "OPTIONS", AccountRead}, {ServiceAccount, "PUT", AccountWrite},
		{ServiceCluster, "GET", ClusterRead}, {ServiceCluster, "POST", ClusterWrite},
		{ServiceKV, "BREW", KVWrite}, {ServiceKV, "get", KVWrite}, // unknown methods need write
	}
	for _, c := range cases {
		got, err := PermissionFor(c.svc, c.method)
		if err != nil || got != c.want {
			t.Errorf("PermissionFor(%s, %s) = %q, %v; want %q", c.svc, c.method, got, err, c.want)
		}
	}
	if _, err := PermissionFor("r2", "GET"); err == nil {
		t.Error("unknown service accepted")
	}
}

func TestAdminPolicies(t *testing.T) {
	ev, err := Compile(&Token{Name: "admin", Policies: AdminPolicies()})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Permissions() {
		req := Request{Permission: p, Account: "any", User: "edgeplane-admin"}
		if d := ev.Allowed(req); !d.Allowed {
			t.Errorf("%s: %s", p, d.Reason)
		}
	}
	for _, id := range []string{GroupClusterAdmin, GroupClusterRead, GroupTokensWrite, GroupAccountWrite, GroupKVWrite, GroupD1Write, GroupDOWrite} {
		if _, ok := GroupByID(id); !ok {
			t.Errorf("group %s unknown", id)
		}
	}
}
