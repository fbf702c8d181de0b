package catalog

import (
	"bytes"
	"errors"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/authz"
)

func TestAccountUpdateAndDelete(t *testing.T) {
	c := New()
	mustApply(t, c, 1, Op{Type: OpInit, Account: &Account{ID: "main"}})
	mustApply(t, c, 2, Op{Type: OpCreateAccount, Account: &Account{ID: "t1", Name: "tenant"}})
	res := mustApply(t, c, 3, Op{Type: OpUpdateAccount, Account: &Account{ID: "t1", Name: "renamed"}})
	if res.Account == nil || res.Account.Name != "renamed" || !res.Account.CreatedAt.Equal(t0) {
		t.Fatalf("update result = %+v", res.Account)
	}
	if err := c.Apply(4, Op{Type: OpUpdateAccount, Account: &Account{ID: "nope", Name: "x"}}).Err(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update unknown: %v", err)
	}
	mustApply(t, c, 5, Op{Type: OpCreateResource, Resource: &Resource{Kind: KindKVNamespace, AccountID: "t1", ID: "ns", Name: "n"}})
	mustApply(t, c, 6, Op{Type: OpCreateToken, Token: &Token{ID: "tk", Hash: HashToken("x"), AccountID: "t1"}})
	err := c.Apply(7, Op{Type: OpDeleteAccount, Account: &Account{ID: "t1"}}).Err()
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("delete non-empty: %v", err)
	}
	mustApply(t, c, 8, Op{Type: OpDeleteResource, Resource: &Resource{Kind: KindKVNamespace, AccountID: "t1", ID: "ns"}})
	mustApply(t, c, 9, Op{Type: OpRevokeToken, Token: &Token{ID: "tk"}})
	mustApply(t, c, 10, Op{Type: OpDeleteAccount, Account: &Account{ID: "t1"}})
	if _, ok := c.Account("t1"); ok {
		t.Fatal("account still there")
	}
	if err := c.Apply(11, Op{Type: OpDeleteAccount, Account: &Account{ID: "main"}}).Err(); !errors.Is(err, ErrInUse) {
		t.Fatalf("delete default account: %v", err)
	}
	// A token of an unknown account is refused.
	if err := c.Apply(12, Op{Type: OpCreateToken, Token: &Token{ID: "tk2", Hash: HashToken("y"), AccountID: "t1"}}).Err(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("token of a deleted account: %v", err)
	}
}

func TestTokenScopeRollAndSnapshot(t *testing.T) {
	c := New()
	mustApply(t, c, 1, Op{Type: OpInit, Account: &Account{ID: "main"}})
	tok := Token{ID: "tk", Name: "kv", Hash: HashToken("old"), AccountID: "main", Policies: []authz.Policy{{
		Effect: authz.Allow, Resources: map[string]string{authz.AccountResource("main"): "*"},
		PermissionGroups: []authz.GroupRef{{ID: authz.GroupKVWrite}}}}}
	op := Op{Type: OpCreateToken, Token: &tok}
	if err := op.Validate(); err != nil {
		t.Fatal(err)
	}
	mustApply(t, c, 2, op)
	bad := tok
	bad.Policies = []authz.Policy{{Effect: "maybe"}}
	if err := (Op{Type: OpCreateToken, Token: &bad}).Validate(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad policies validate: %v", err)
	}
	mustApply(t, c, 3, Op{Type: OpRollToken, Token: &Token{ID: "tk", Hash: HashToken("new")}})
	if _, ok := c.TokenByHash(HashToken("old")); ok {
		t.Fatal("old value still valid")
	}
	got, ok := c.TokenByHash(HashToken("new"))
	if !ok || len(got.Policies) != 1 || got.ModifiedAt.IsZero() {
		t.Fatalf("rolled token = %+v %v", got, ok)
	}
	// Policies survive a snapshot.
	var buf bytes.Buffer
	if err := c.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	c2 := New()
	if err := c2.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if r, ok := c2.Token("tk"); !ok || len(r.Policies) != 1 || r.AccountID != "main" {
		t.Fatalf("restored = %+v", r)
	}
	if _, err := authz.Compile(got.Scope()); err != nil {
		t.Fatal(err)
	}
}
