package catalog

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func mustApply(t *testing.T, c *Catalog, index uint64, op Op) Result {
	t.Helper()
	op.At = t0
	res := c.Apply(index, op)
	if res.Error != "" {
		t.Fatalf("apply %s at %d: %s %s", op.Type, index, res.Error, res.Message)
	}
	return res
}

func TestInitOnceAndTokens(t *testing.T) {
	c := New()
	mustApply(t, c, 1, Op{Type: OpInit, Account: &Account{ID: "acc1", Name: "main"}, Token: &Token{ID: "admin", Hash: HashToken("s3cret")}})
	// A second init (another node racing) changes nothing.
	mustApply(t, c, 2, Op{Type: OpInit, Account: &Account{ID: "acc2", Name: "other"}})
	if a, ok := c.DefaultAccount(); !ok || a.ID != "acc1" {
		t.Fatalf("default account = %+v, %v", a, ok)
	}
	if len(c.Accounts()) != 1 {
		t.Fatalf("accounts = %v", c.Accounts())
	}
	if tok, ok := c.TokenByHash(HashToken("s3cret")); !ok || tok.ID != "admin" {
		t.Fatalf("token lookup = %+v %v", tok, ok)
	}
	if _, ok := c.TokenByHash(HashToken("wrong")); ok {
		t.Fatal("wrong secret matched")
	}
	res := c.Apply(3, Op{Type: OpRevokeToken, Token: &Token{ID: "nope"}})
	if !errors.Is(res.Err(), ErrNotFound) {
		t.Fatalf("revoke unknown: %v", res.Err())
	}
	if c.Version() != 2 {
		t.Fatalf("a refused op moved the version to %d", c.Version())
	}
}

func TestResourcesNamesUniquePerKind(t *testing.T) {
	c := New()
	mustApply(t, c, 1, Op{Type: OpInit, Account: &Account{ID: "a"}})
	mustApply(t, c, 2, Op{Type: OpCreateResource, Resource: &Resource{Kind: KindKVNamespace, AccountID: "a", ID: "ns1", Name: "sessions"}})
	// Same name, same kind: refused and nothing changes.
	before := snapshotBytes(t, c)
	res := c.Apply(3, Op{Type: OpCreateResource, At: t0, Resource: &Resource{Kind: KindKVNamespace, AccountID: "a", ID: "ns2", Name: "sessions"}})
	if !errors.Is(res.Err(), ErrExists) {
		t.Fatalf("duplicate name: %v", res.Err())
	}
	if !bytes.Equal(before, snapshotBytes(t, c)) {
		t.Fatal("refused create changed state")
	}
	// Same name, other kind: fine.
	mustApply(t, c, 4, Op{Type: OpCreateResource, Resource: &Resource{Kind: KindD1Database, AccountID: "a", ID: "db1", Name: "sessions"}})
	// Unknown account.
	if res := c.Apply(5, Op{Type: OpCreateResource, Resource: &Resource{Kind: KindKVNamespace, AccountID: "zz", ID: "x", Name: "x"}}); !errors.Is(res.Err(), ErrNotFound) {
		t.Fatalf("unknown account: %v", res.Err())
	}
	mustApply(t, c, 6, Op{Type: OpRenameResource, Resource: &Resource{Kind: KindKVNamespace, AccountID: "a", ID: "ns1", Name: "renamed"}})
	if r, _ := c.Resource(KindKVNamespace, "a", "ns1"); r.Name != "renamed" || !r.CreatedAt.Equal(t0) {
		t.Fatalf("after rename: %+v", r)
	}
	mustApply(t, c, 7, Op{Type: OpDeleteResource, Resource: &Resource{Kind: KindKVNamespace, AccountID: "a", ID: "ns1"}})
	if got := c.Resources(KindKVNamespace, "a"); len(got) != 0 {
		t.Fatalf("after delete: %v", got)
	}
	if res := c.Apply(8, Op{Type: OpDeleteResource, Resource: &Resource{Kind: KindKVNamespace, AccountID: "a", ID: "ns1"}}); !errors.Is(res.Err(), ErrNotFound) {
		t.Fatalf("delete twice: %v", res.Err())
	}
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	c := New()
	mustApply(t, c, 1, Op{Type: OpInit, Account: &Account{ID: "a"}})
	mustApply(t, c, 2, Op{Type: OpCreateResource, Resource: &Resource{Kind: KindR2Bucket, AccountID: "a", ID: "b1", Name: "photos", Attrs: map[string]string{"location": "weur"}}})
	snap := snapshotBytes(t, c)
	d := New()
	changed := d.Changed()
	if err := d.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("restore did not signal a change")
	}
	if !bytes.Equal(snap, snapshotBytes(t, d)) || d.Version() != 2 {
		t.Fatal("restored catalog differs")
	}
	if err := d.Restore(bytes.NewReader([]byte("{not json"))); err == nil {
		t.Fatal("garbage snapshot accepted")
	}
}

func snapshotBytes(t *testing.T, c *Catalog) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := c.Snapshot(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The cluster id is chosen once: by init, or by set_cluster_id in a catalog
// initialized without one; later ids change nothing, and it survives a
// snapshot.
func TestClusterIDIsChosenOnce(t *testing.T) {
	c := New()
	mustApply(t, c, 1, Op{Type: OpInit, Account: &Account{ID: "a"}, ClusterID: "0123-abcd"})
	mustApply(t, c, 2, Op{Type: OpInit, Account: &Account{ID: "b"}, ClusterID: "4567-ef01"})
	mustApply(t, c, 3, Op{Type: OpSetClusterID, ClusterID: "89ab-cdef"})
	if got := c.ClusterID(); got != "0123-abcd" {
		t.Fatalf("cluster id %q, want the first one", got)
	}
	var snap bytes.Buffer
	if err := c.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	restored := New()
	if err := restored.Restore(&snap); err != nil {
		t.Fatal(err)
	}
	if got := restored.ClusterID(); got != "0123-abcd" {
		t.Fatalf("restored cluster id %q", got)
	}

	old := New()
	mustApply(t, old, 1, Op{Type: OpInit, Account: &Account{ID: "a"}})
	if old.ClusterID() != "" {
		t.Fatal("init without an id recorded one")
	}
	mustApply(t, old, 2, Op{Type: OpSetClusterID, ClusterID: "aaaa"})
	mustApply(t, old, 3, Op{Type: OpSetClusterID, ClusterID: "bbbb"})
	if got := old.ClusterID(); got != "aaaa" {
		t.Fatalf("cluster id %q, want aaaa", got)
	}

	for _, op := range []Op{
		{Type: OpSetClusterID},
		{Type: OpSetClusterID, ClusterID: "NOT-HEX"},
		{Type: OpSetClusterID, ClusterID: strings.Repeat("a", maxIDBytes+1)},
		{Type: OpInit, Account: &Account{ID: "a"}, ClusterID: "zz"},
	} {
		if err := op.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalid", op, err)
		}
	}
	if err := (Op{Type: OpSetClusterID, ClusterID: strings.Repeat("a", maxIDBytes)}).Validate(); err != nil {
		t.Errorf("a %d-byte id: %v", maxIDBytes, err)
	}
}

// A create's Limit is checked as it applies: of creates that all passed a
// proposer's check on a stale view, only those under the cap are applied.
func TestCreateLimitCheckedInTheLog(t *testing.T) {
	c := New()
	mustApply(t, c, 1, Op{Type: OpInit, Account: &Account{ID: "a"}})
	for i, name := range []string{"one", "two"} {
		mustApply(t, c, uint64(2+i), Op{Type: OpCreateResource, Limit: 2,
			Resource: &Resource{Kind: KindKVNamespace, AccountID: "a", ID: name, Name: name}})
	}
	res := c.Apply(4, Op{Type: OpCreateResource, Limit: 2, At: t0,
		Resource: &Resource{Kind: KindKVNamespace, AccountID: "a", ID: "three", Name: "three"}})
	if !errors.Is(res.Err(), ErrQuota) {
		t.Fatalf("third create under a cap of 2: %v, want ErrQuota", res.Err())
	}
	if n := len(c.Resources(KindKVNamespace, "a")); n != 2 {
		t.Fatalf("%d namespaces after a refused create", n)
	}
	// Another kind, or no cap, is not limited by it.
	mustApply(t, c, 5, Op{Type: OpCreateResource, Limit: 2,
		Resource: &Resource{Kind: KindD1Database, AccountID: "a", ID: "db", Name: "db"}})
	mustApply(t, c, 6, Op{Type: OpCreateResource,
		Resource: &Resource{Kind: KindKVNamespace, AccountID: "a", ID: "three", Name: "three"}})
}
