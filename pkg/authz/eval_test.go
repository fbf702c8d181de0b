package authz

import (
	"net"
	"strings"
	"testing"
	"time"
)

func policy(effect Effect, resources []string, groupIDs ...string) Policy {
	p := Policy{Effect: effect, Resources: map[string]string{}}
	for _, r := range resources {
		p.Resources[r] = "*"
	}
	for _, id := range groupIDs {
		p.PermissionGroups = append(p.PermissionGroups, GroupRef{ID: id})
	}
	return p
}

func token(policies ...Policy) *Token { return &Token{Name: "t", Policies: policies} }

func mustCompile(t *testing.T, tok *Token) *Evaluator {
	t.Helper()
	e, err := Compile(tok)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestScopeMatrix checks each token against every permission on two
// accounts, A and B.
func TestScopeMatrix(t *testing.T) {
	A, B := AccountResource("A"), AccountResource("B")
	d1Write := "09b2857d1c31407795e75e3fed8617a1"
	doRead, doWrite := "5887e3574c6ea441b4044cab7cb96f93", "6f59d500c9adfed4f9771ea55169e045"
	acctRead := "c1fde68c7bcc44588cbb6ddbc16d6480"
	tokWrite := "686d18d5ac6c441c867cbf6771e58a0a"
	clusterRead := "a151ad207b4a7cfd67297c155838aab5"
	tokens := map[string]*Token{
		"kv read on A":          token(policy(Allow, []string{A}, kvRead)),
		"kv write on A":         token(policy(Allow, []string{A}, kvWrite)),
		"kv write on all":       token(policy(Allow, []string{AllAccounts}, kvWrite)),
		"kv write all, deny B":  token(policy(Allow, []string{AllAccounts}, kvWrite), policy(Deny, []string{B}, kvWrite)),
		"kv write A, deny read": token(policy(Allow, []string{A}, kvWrite), policy(Deny, []string{A}, kvRead)),
		"d1 on A, do on B":      token(policy(Allow, []string{A}, d1Read, d1Write), policy(Allow, []string{B}, doRead)),
		"do write on both":      token(policy(Allow, []string{A, B}, doWrite)),
		"account read on A":     token(policy(Allow, []string{A}, acctRead)),
		"tokens write":          token(policy(Allow, []string{AllUsers}, tokWrite)),
		"cluster read":          token(policy(Allow, []string{ClusterResource}, clusterRead)),
		"cluster admin":         token(policy(Allow, []string{ClusterResource}, admin)),
		"admin, deny cluster":   token(policy(Allow, []string{ClusterResource}, admin), policy(Deny, []string{ClusterResource}, admin)),
	}
	type key struct {
		tok     string
		account string
	}
	// allowed lists, per token and account, the permissions it allows;
	// everything else must be denied.
	all := func(ps ...Permission) []Permission { return ps }
	adminPerms := all(ClusterRead, ClusterWrite, AccountRead, AccountWrite, TokensRead, TokensWrite)
	allowed := map[key][]Permission{
		{"kv read on A", "A"}:          all(KVRead),
		{"kv write on A", "A"}:         all(KVRead, KVWrite),
		{"kv write on all", "A"}:       all(KVRead, KVWrite),
		{"kv write on all", "B"}:       all(KVRead, KVWrite),
		{"kv write all, deny B", "A"}:  all(KVRead, KVWrite),
		{"kv write all, deny B", "B"}:  all(KVRead), // deny of Write leaves read
		{"kv write A, deny read", "A"}: all(KVWrite),
		{"d1 on A, do on B", "A"}:      all(D1Read, D1Write),
		{"d1 on A, do on B", "B"}:      all(DORead),
		{"do write on both", "A"}:      all(DORead, DOWrite),
		{"do write on both", "B"}:      all(DORead, DOWrite),
		{"account read on A", "A"}:     all(AccountRead),
		{"tokens write", "A"}:          all(TokensRead, TokensWrite),
		{"tokens write", "B"}:          all(TokensRead, TokensWrite),
		{"cluster read", "A"}:          all(ClusterRead),
		{"cluster read", "B"}:          all(ClusterRead),
		{"cluster admin", "A"}:         adminPerms,
		{"cluster admin", "B"}:         adminPerms,
		{"admin, deny cluster", "A"}:   all(ClusterRead, AccountRead, TokensRead),
		{"admin, deny cluster", "B"}:   all(ClusterRead, AccountRead, TokensRead),
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for name, tok := range tokens {
		e := mustCompile(t, tok)
		for _, acct := range []string{"A", "B"} {
			want := map[Permission]bool{}
			for _, p := range allowed[key{name, acct}] {
				want[p] = true
			}
			for _, p := range Permissions() {
				d := e.Allowed(Request{Account: acct, User: "u1", Permission: p, Now: now})
				if d.Allowed != want[p] {
					t.Errorf("%s: %s on %s: allowed=%v (%s), want %v", name, p, acct, d.Allowed, d.Reason, want[p])
				}
				if d.Reason == "" {
					t.Errorf("%s: %s on %s: no reason", name, p, acct)
				}
				if d.Allowed != (d.Policy >= 0 && tok.Policies[d.Policy].Effect == Allow) {
					t.Errorf("%s: %s on %s: deciding policy %d inconsistent", name, p, acct, d.Policy)
				}
			}
		}
	}
}

func TestAccountlessRequests(t *testing.T) {
	one := mustCompile(t, token(policy(Allow, []string{AccountResource("A")}, kvRead)))
	every := mustCompile(t, token(policy(Allow, []string{AllAccounts}, kvRead)))
	if d := one.Allowed(Request{Permission: KVRead}); d.Allowed {
		t.Fatalf("a one-account token listed all accounts: %s", d.Reason)
	}
	if d := every.Allowed(Request{Permission: KVRead}); !d.Allowed {
		t.Fatalf("an all-accounts token: %s", d.Reason)
	}
	users := mustCompile(t, token(policy(Allow, []string{UserResource("u1")}, tokRead)))
	if !users.Allowed(Request{User: "u1", Permission: TokensRead}).Allowed || users.Allowed(Request{User: "u2", Permission: TokensRead}).Allowed ||
		users.Allowed(Request{Permission: TokensRead}).Allowed {
		t.Fatal("user resource matching")
	}
}

func TestDenyWins(t *testing.T) {
	// The deny comes first or last: order does not matter.
	for _, tok := range []*Token{
		token(policy(Deny, []string{AccountResource("A")}, kvWrite), policy(Allow, []string{AllAccounts}, kvWrite)),
		token(policy(Allow, []string{AllAccounts}, kvWrite), policy(Deny, []string{AccountResource("A")}, kvWrite)),
	} {
		d := Allowed(tok, Request{Account: "A", Permission: KVWrite})
		if d.Allowed || !strings.Contains(d.Reason, "denied by policy") {
			t.Fatalf("deny did not win: %+v", d)
		}
	}
	tok := token(policy(Allow, []string{AllAccounts}, kvWrite), policy(Deny, []string{AllAccounts}, kvWrite))
	tok.Policies[1].ID = "p-deny"
	if d := Allowed(tok, Request{Account: "Z", Permission: KVWrite}); d.Allowed || d.Policy != 1 || !strings.Contains(d.Reason, `"p-deny"`) {
		t.Fatalf("deny everywhere: %+v", d)
	}
}

func TestTimeWindowAndStatus(t *testing.T) {
	nb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ex := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	tok := token(policy(Allow, []string{AllAccounts}, kvRead))
	tok.NotBefore, tok.ExpiresOn = &nb, &ex
	e := mustCompile(t, tok)
	cases := []struct {
		now time.Time
		ok  bool
		why string
	}{
		{nb.Add(-time.Second), false, "not valid before"},
		{nb, true, "allowed"},
		{ex.Add(-time.Nanosecond), true, "allowed"},
		{ex, false, "expired"},
		{ex.Add(time.Hour), false, "expired"},
	}
	for _, c := range cases {
		d := e.Allowed(Request{Account: "A", Permission: KVRead, Now: c.now})
		if d.Allowed != c.ok || !strings.Contains(d.Reason, c.why) {
			t.Errorf("at %v: %+v, want allowed=%v (%s)", c.now, d, c.ok, c.why)
		}
	}
	for _, s := range []Status{StatusDisabled, StatusExpired} {
		tok := token(policy(Allow, []string{AllAccounts}, kvRead))
		tok.Status = s
		if d := Allowed(tok, Request{Account: "A", Permission: KVRead}); d.Allowed || !strings.Contains(d.Reason, string(s)) {
			t.Errorf("status %s: %+v", s, d)
		}
	}
	// Zero Now means the present: a token that expired in the past denies.
	past := time.Now().Add(-time.Hour)
	tok = token(policy(Allow, []string{AllAccounts}, kvRead))
	tok.ExpiresOn = &past
	if Allowed(tok, Request{Account: "A", Permission: KVRead}).Allowed {
		t.Error("expired token allowed with a zero Now")
	}
}

func TestIPCondition(t *testing.T) {
	tok := token(policy(Allow, []string{AllAccounts}, kvRead))
	tok.Condition = &Condition{RequestIP: &IPCondition{
		In:    []string{"192.0.2.0/24", "2001:db8::/32", "198.51.100.7"},
		NotIn: []string{"192.0.2.128/25"},
	}}
	e := mustCompile(t, tok)
	cases := []struct {
		ip  string
		ok  bool
		why string
	}{
		{"192.0.2.10", true, "allowed"},
		{"::ffff:192.0.2.10", true, "allowed"}, // IPv4 in IPv6 form
		{"2001:db8::1", true, "allowed"},
		{"198.51.100.7", true, "allowed"},
		{"198.51.100.8", false, "not in the token's allowed ranges"},
		{"192.0.2.200", false, "excluded"},
		{"203.0.113.1", false, "not in"},
		{"", false, "unknown"},
	}
	for _, c := range cases {
		d := e.Allowed(Request{Account: "A", Permission: KVRead, ClientIP: net.ParseIP(c.ip)})
		if d.Allowed != c.ok || !strings.Contains(d.Reason, c.why) {
			t.Errorf("ip %q: %+v, want allowed=%v (%s)", c.ip, d, c.ok, c.why)
		}
	}
	// not_in alone: everything else is allowed, an unknown IP is not.
	tok.Condition.RequestIP.In = nil
	e = mustCompile(t, tok)
	if !e.Allowed(Request{Account: "A", Permission: KVRead, ClientIP: net.ParseIP("203.0.113.1")}).Allowed {
		t.Error("not_in only: an address outside it was denied")
	}
	if e.Allowed(Request{Account: "A", Permission: KVRead, ClientIP: net.ParseIP("192.0.2.129")}).Allowed {
		t.Error("not_in only: an excluded address was allowed")
	}
	if e.Allowed(Request{Account: "A", Permission: KVRead}).Allowed {
		t.Error("not_in only: an unknown address was allowed")
	}
}

func TestAllowedInvalid(t *testing.T) {
	if d := Allowed(&Token{Name: "t"}, Request{Account: "A", Permission: KVRead}); d.Allowed || !strings.Contains(d.Reason, "invalid token") {
		t.Fatalf("invalid token: %+v", d)
	}
	e := mustCompile(t, token(policy(Allow, []string{AllAccounts}, kvRead)))
	if d := e.Allowed(Request{Account: "A", Permission: "kv.admin"}); d.Allowed || !strings.Contains(d.Reason, "unknown permission") {
		t.Fatalf("unknown permission: %+v", d)
	}
}

func TestEveryAccountWithADeny(t *testing.T) {
	// Allowed on every account but B: a request across all accounts is
	// not allowed, one on A is.
	e := mustCompile(t, token(policy(Allow, []string{AllAccounts}, kvRead), policy(Deny, []string{AccountResource("B")}, kvRead)))
	if d := e.Allowed(Request{Permission: KVRead}); d.Allowed || d.Policy != 1 {
		t.Fatalf("every account despite a deny on B: %+v", d)
	}
	if d := e.Allowed(Request{Account: "A", Permission: KVRead}); !d.Allowed {
		t.Fatalf("account A: %+v", d)
	}
}
