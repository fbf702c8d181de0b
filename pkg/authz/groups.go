package authz

import (
	"slices"
	"strings"
)

// Permission is one action on one kind of resource, as "service.level".
type Permission string

// The permissions Edgeplane checks.
const (
	KVRead       Permission = "kv.read"
	KVWrite      Permission = "kv.write"
	D1Read       Permission = "d1.read"
	D1Write      Permission = "d1.write"
	DORead       Permission = "do.read"
	DOWrite      Permission = "do.write"
	AccountRead  Permission = "account.read"
	AccountWrite Permission = "account.write"
	TokensRead   Permission = "tokens.read"
	TokensWrite  Permission = "tokens.write"
	ClusterRead  Permission = "cluster.read"
	ClusterWrite Permission = "cluster.write"
)

// Permissions lists every permission.
func Permissions() []Permission {
	return []Permission{KVRead, KVWrite, D1Read, D1Write, DORead, DOWrite,
		AccountRead, AccountWrite, TokensRead, TokensWrite, ClusterRead, ClusterWrite}
}

// Valid reports whether p is one of Permissions.
func (p Permission) Valid() bool { return slices.Contains(Permissions(), p) }

// Scope is the kind of resource a permission applies to.
func (p Permission) Scope() Scope {
	switch p.service() {
	case "tokens":
		return ScopeUser
	case "cluster":
		return ScopeCluster
	}
	return ScopeAccount
}

func (p Permission) service() string {
	s, _, _ := strings.Cut(string(p), ".")
	return s
}

// read is the read permission of p's service, for a write permission.
func (p Permission) read() (Permission, bool) {
	s, level, _ := strings.Cut(string(p), ".")
	if level != "write" {
		return "", false
	}
	return Permission(s + ".read"), true
}

// Scope is what a permission group's resources name.
type Scope string

// The scopes, named after Cloudflare's resource prefixes.
const (
	ScopeAccount Scope = "com.cloudflare.api.account"
	ScopeUser    Scope = "com.cloudflare.api.user"
	ScopeCluster Scope = "com.edgeplane.api.cluster"
)

// PermissionGroup is a named set of permissions a policy can grant or deny.
type PermissionGroup struct {
	// ID is Cloudflare's permission group id when Cloudflare has the
	// group (Cloudflare is true), else a stable Edgeplane id: the first 32
	// hex digits of SHA-256("edgeplane permission group: " + Name).
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Scope       Scope        `json:"scope"`
	Permissions []Permission `json:"permissions"`
	Cloudflare  bool         `json:"cloudflare"`
}

// grants reports whether an allow policy with g grants p: g's own
// permissions, and the read of every write among them.
func (g *PermissionGroup) grants(p Permission) bool {
	for _, q := range g.Permissions {
		if q == p {
			return true
		}
		if r, ok := q.read(); ok && r == p {
			return true
		}
	}
	return false
}

// denies reports whether a deny policy with g denies p: g's own
// permissions only.
func (g *PermissionGroup) denies(p Permission) bool { return slices.Contains(g.Permissions, p) }

// groups is the table of permission groups. Cloudflare ids are those of
// Cloudflare's public permission group list.
var groups = []PermissionGroup{
	{ID: "8b47d2786a534c08a1f94ee8f9f599ef", Name: "Workers KV Storage Read", Cloudflare: true, Scope: ScopeAccount,
		Description: "Grants read access to Workers KV Storage", Permissions: []Permission{KVRead}},
	{ID: "f7f0eda5697f475c90846e879bab8666", Name: "Workers KV Storage Write", Cloudflare: true, Scope: ScopeAccount,
		Description: "Grants write access to Workers KV Storage", Permissions: []Permission{KVWrite}},
	{ID: "192192df92ee43ac90f2aeeffce67e35", Name: "D1 Read", Cloudflare: true, Scope: ScopeAccount,
		Description: "Grants read access to D1 configuration and SQL queries", Permissions: []Permission{D1Read}},
	{ID: "09b2857d1c31407795e75e3fed8617a1", Name: "D1 Write", Cloudflare: true, Scope: ScopeAccount,
		Description: "Grants write access to D1 configuration and SQL queries", Permissions: []Permission{D1Write}},
	// Cloudflare has no Durable Objects groups (its tokens reach Durable
	// Objects through Workers Scripts): these two are Edgeplane's.
	{ID: "5887e3574c6ea441b4044cab7cb96f93", Name: "Durable Objects Read", Scope: ScopeAccount,
		Description: "Edgeplane: grants read access to Durable Objects namespaces and objects", Permissions: []Permission{DORead}},
	{ID: "6f59d500c9adfed4f9771ea55169e045", Name: "Durable Objects Write", Scope: ScopeAccount,
		Description: "Edgeplane: grants write access to Durable Objects namespaces and objects", Permissions: []Permission{DOWrite}},
	{ID: "c1fde68c7bcc44588cbb6ddbc16d6480", Name: "Account Settings Read", Cloudflare: true, Scope: ScopeAccount,
		Description: "Grants read access to the account and its settings", Permissions: []Permission{AccountRead}},
	{ID: "1af1fa2adc104452b74a9a3364202f20", Name: "Account Settings Write", Cloudflare: true, Scope: ScopeAccount,
		Description: "Grants write access to the account and its settings", Permissions: []Permission{AccountWrite}},
	{ID: "0cc3a61731504c89b99ec1be78b77aa0", Name: "API Tokens Read", Cloudflare: true, Scope: ScopeUser,
		Description: "Grants read access to the user's API tokens", Permissions: []Permission{TokensRead}},
	{ID: "686d18d5ac6c441c867cbf6771e58a0a", Name: "API Tokens Write", Cloudflare: true, Scope: ScopeUser,
		Description: "Grants write access to the user's API tokens", Permissions: []Permission{TokensWrite}},
	{ID: "a151ad207b4a7cfd67297c155838aab5", Name: "Cluster Read", Scope: ScopeCluster,
		Description: "Edgeplane: grants read access to cluster members and status", Permissions: []Permission{ClusterRead}},
	{ID: "73728b8af7ef08ad87e3e451e7ec6600", Name: "Cluster Admin", Scope: ScopeCluster,
		Description: "Edgeplane: grants operator access to cluster members and status, every account, and the tokens of every account (not account data)",
		Permissions: []Permission{ClusterWrite, AccountWrite, TokensWrite}},
}

// PermissionGroups returns the permission group table, sorted by name.
func PermissionGroups() []PermissionGroup {
	out := make([]PermissionGroup, len(groups))
	for i, g := range groups {
		g.Permissions = slices.Clone(g.Permissions)
		out[i] = g
	}
	slices.SortFunc(out, func(a, b PermissionGroup) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// GroupByID returns the permission group with id.
func GroupByID(id string) (PermissionGroup, bool) {
	for _, g := range groups {
		if g.ID == id {
			g.Permissions = slices.Clone(g.Permissions)
			return g, true
		}
	}
	return PermissionGroup{}, false
}

// GroupByName returns the permission group named name (exact match).
func GroupByName(name string) (PermissionGroup, bool) {
	for _, g := range groups {
		if g.Name == name {
			return GroupByID(g.ID)
		}
	}
	return PermissionGroup{}, false
}

func groupByID(id string) *PermissionGroup {
	for i := range groups {
		if groups[i].ID == id {
			return &groups[i]
		}
	}
	return nil
}
