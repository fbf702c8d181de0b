package catalog

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestSetResourceAttrs merges attributes into a resource (an empty value
// removes one), refuses unknown resources and the attribute cap, and leaves
// the name and the other attributes alone.
func TestSetResourceAttrs(t *testing.T) {
	c := New()
	mustApply(t, c, 1, Op{Type: OpInit, Account: &Account{ID: "acc", Name: "main"}})
	mustApply(t, c, 2, Op{Type: OpCreateResource, Resource: &Resource{Kind: KindD1Database, AccountID: "acc", ID: "db1", Name: "shop",
		Attrs: map[string]string{"primary_location_hint": "weur"}}})
	set := func(index uint64, attrs map[string]string) Result {
		op := Op{Type: OpSetResourceAttrs, At: t0, Resource: &Resource{Kind: KindD1Database, AccountID: "acc", ID: "db1", Attrs: attrs}}
		if err := op.Validate(); err != nil {
			t.Fatalf("validate: %v", err)
		}
		return c.Apply(index, op)
	}
	if res := set(3, map[string]string{"read_replication": "disabled"}); res.Error != "" {
		t.Fatalf("set: %+v", res)
	}
	r, _ := c.Resource(KindD1Database, "acc", "db1")
	if r.Name != "shop" || r.Attrs["read_replication"] != "disabled" || r.Attrs["primary_location_hint"] != "weur" {
		t.Fatalf("after set: %+v", r)
	}
	set(4, map[string]string{"read_replication": ""})
	if r, _ := c.Resource(KindD1Database, "acc", "db1"); len(r.Attrs) != 1 {
		t.Fatalf("after removal: %+v", r.Attrs)
	}
	many := map[string]string{}
	for i := range maxAttrs {
		many[fmt.Sprintf("a%d", i)] = "x"
	}
	if res := set(5, many); !errors.Is(res.Err(), ErrInvalid) {
		t.Fatalf("17 attributes: %+v", res)
	}
	res := c.Apply(6, Op{Type: OpSetResourceAttrs, At: t0, Resource: &Resource{Kind: KindD1Database, AccountID: "acc", ID: "nope", Attrs: map[string]string{"k": "v"}}})
	if !errors.Is(res.Err(), ErrNotFound) {
		t.Fatalf("unknown resource: %+v", res)
	}
}

// An attribute value at the limit passes the log's own check and one byte
// more is refused there, whoever proposed it: the API's per-kind limits
// (a DO webhook of 2,048 bytes) are not the only guard.
func TestAttributeValueLimitInTheLog(t *testing.T) {
	for _, tc := range []struct {
		n  int
		ok bool
	}{{maxAttrValueBytes, true}, {maxAttrValueBytes + 1, false}} {
		op := Op{Type: OpSetResourceAttrs, At: t0, Resource: &Resource{Kind: KindDONamespace, AccountID: "acc", ID: "ns1",
			Attrs: map[string]string{"alarm_webhook": strings.Repeat("h", tc.n)}}}
		if err := op.Validate(); (err == nil) != tc.ok {
			t.Fatalf("a value of %d bytes: %v", tc.n, err)
		}
	}
}
