package authz

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestCanGrant(t *testing.T) {
	A, B := AccountResource("A"), AccountResource("B")
	tokWrite := "686d18d5ac6c441c867cbf6771e58a0a"
	creators := map[string]*Token{
		"kv write A":   token(policy(Allow, []string{A}, kvWrite), policy(Allow, []string{AllUsers}, tokWrite)),
		"kv write all": token(policy(Allow, []string{AllAccounts}, kvWrite), policy(Allow, []string{AllUsers}, tokWrite)),
		"kv write all but B": token(policy(Allow, []string{AllAccounts}, kvWrite), policy(Deny, []string{B}, kvWrite),
			policy(Allow, []string{AllUsers}, tokWrite)),
		"cluster admin": token(policy(Allow, []string{ClusterResource}, admin)),
	}
	cases := []struct {
		creator string
		newTok  *Token
		ok      bool
	}{
		{"kv write A", token(policy(Allow, []string{A}, kvRead)), true},
		{"kv write A", token(policy(Allow, []string{A}, kvWrite)), true},
		{"kv write A", token(policy(Allow, []string{B}, kvRead)), false},
		{"kv write A", token(policy(Allow, []string{AllAccounts}, kvRead)), false},
		{"kv write A", token(policy(Allow, []string{A}, d1Read)), false},
		{"kv write A", token(policy(Allow, []string{ClusterResource}, admin)), false},
		{"kv write A", token(policy(Deny, []string{AllAccounts}, d1Read), policy(Allow, []string{A}, kvRead)), true},
		{"kv write all", token(policy(Allow, []string{A, B}, kvWrite)), true},
		{"kv write all", token(policy(Allow, []string{AllAccounts}, kvWrite)), true},
		{"kv write all but B", token(policy(Allow, []string{A}, kvWrite)), true},
		{"kv write all but B", token(policy(Allow, []string{B}, kvWrite)), false},
		{"kv write all but B", token(policy(Allow, []string{B}, kvRead)), true}, // the deny is of write only
		{"kv write all but B", token(policy(Allow, []string{AllAccounts}, kvWrite)), false},
		{"kv write all", token(policy(Allow, []string{AllUsers}, tokWrite)), true},
		{"cluster admin", token(policy(Allow, []string{ClusterResource}, admin)), true},
		{"cluster admin", token(policy(Allow, []string{A}, "1af1fa2adc104452b74a9a3364202f20")), true}, // account settings write
		{"cluster admin", token(policy(Allow, []string{A}, kvRead)), false},                            // no tenant data
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for i, c := range cases {
		e := mustCompile(t, creators[c.creator])
		err := e.CanGrant(c.newTok, net.ParseIP("127.0.0.1"), now)
		if (err == nil) != c.ok {
			t.Errorf("case %d: %s granting %+v: %v, want ok=%v", i, c.creator, c.newTok.Policies, err, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "cannot grant") {
			t.Errorf("case %d: error %v", i, err)
		}
	}
	// An invalid new token is a validation error.
	e := mustCompile(t, creators["kv write all"])
	if err := e.CanGrant(&Token{Name: "x"}, nil, now); err == nil || strings.Contains(err.Error(), "cannot grant") {
		t.Errorf("invalid token: %v", err)
	}
	// The creator's own conditions apply to the creation request.
	limited := creators["kv write all"]
	limited.Condition = &Condition{RequestIP: &IPCondition{In: []string{"10.0.0.0/8"}}}
	e = mustCompile(t, limited)
	if err := e.CanGrant(token(policy(Allow, []string{A}, kvRead)), net.ParseIP("192.0.2.1"), now); err == nil {
		t.Error("a creator outside its IP ranges granted")
	}
}
