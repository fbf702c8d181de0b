package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/client/kvfake"
)

// newKVTest starts the KV fake and returns a KV API on it.
func newKVTest(t *testing.T) (*kvfake.Server, *KV) {
	t.Helper()
	f := kvfake.Start("acc1", "tok")
	t.Cleanup(f.Close)
	c, err := New([]string{f.URL}, "tok")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	acc, err := c.AccountID(ctx)
	if err != nil || acc != "acc1" {
		t.Fatalf("AccountID = %q, %v; want acc1", acc, err)
	}
	return f, c.KV(acc)
}

func TestKVNamespaces(t *testing.T) {
	_, kv := newKVTest(t)
	ctx := context.Background()
	var ids []string
	for i := 0; i < 105; i++ { // more than one page of ListAllNamespaces
		ns, err := kv.CreateNamespace(ctx, fmt.Sprintf("ns-%03d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ns.ID)
	}
	_, err := kv.CreateNamespace(ctx, "ns-000")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 {
		t.Fatalf("duplicate title: %v, want HTTP 400", err)
	}
	all, err := kv.ListAllNamespaces(ctx)
	if err != nil || len(all) != 105 || all[0].Title != "ns-000" || all[104].Title != "ns-104" {
		t.Fatalf("ListAllNamespaces = %d namespaces, %v", len(all), err)
	}
	page, info, err := kv.ListNamespaces(ctx, KVNamespaceListOptions{Page: 2, PerPage: 50, Order: "title", Direction: "desc"})
	if err != nil || len(page) != 50 || page[0].Title != "ns-054" || info == nil || info.Page != 2 {
		t.Fatalf("page 2 desc = %v %+v %v", page, info, err)
	}
	ns, err := kv.RenameNamespace(ctx, ids[0], "renamed")
	if err != nil || ns.Title != "renamed" || ns.ID != ids[0] {
		t.Fatalf("rename = %+v, %v", ns, err)
	}
	got, err := kv.GetNamespace(ctx, ids[0])
	if err != nil || got.Title != "renamed" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	if err := kv.DeleteNamespace(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	_, err = kv.GetNamespace(ctx, ids[0])
	if !errors.As(err, &ae) || !ae.HasCode(CodeKVNamespaceNotFound) {
		t.Fatalf("get deleted namespace: %v, want code 10013", err)
	}
}

func TestKVValuesRoundTrip(t *testing.T) {
	f, kv := newKVTest(t)
	ctx := context.Background()
	ns, err := kv.CreateNamespace(ctx, "values")
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"plain", "dir/a b", "q?x=1#f", "%2F", "ünï"}
	for _, k := range keys {
		if err := kv.PutValue(ctx, ns.ID, k, []byte("v:"+k), KVPutOptions{}); err != nil {
			t.Fatalf("put %q: %v", k, err)
		}
		v, err := kv.GetValue(ctx, ns.ID, k)
		if err != nil || string(v.Value) != "v:"+k || v.Expiration != 0 {
			t.Fatalf("get %q = %+v, %v", k, v, err)
		}
		if _, _, _, ok := f.Value(ns.ID, k); !ok {
			t.Fatalf("key %q was not stored under its own name (escaping)", k)
		}
	}
	md := json.RawMessage(`{"m":1}`)
	exp := time.Now().Add(time.Hour).Unix()
	if err := kv.PutValue(ctx, ns.ID, "meta", []byte("bin\x00ary"), KVPutOptions{Expiration: 1, ExpirationTTL: 3600, Metadata: md}); err != nil {
		t.Fatal(err)
	}
	v, err := kv.GetValue(ctx, ns.ID, "meta")
	if err != nil || string(v.Value) != "bin\x00ary" || v.Expiration < exp-5 || v.Expiration > exp+5 {
		t.Fatalf("get meta = %+v, %v (want expiration near %d)", v, err, exp)
	}
	gotMD, err := kv.Metadata(ctx, ns.ID, "meta")
	if err != nil || string(gotMD) != `{"m":1}` {
		t.Fatalf("metadata = %s, %v", gotMD, err)
	}
	if err := kv.PutValue(ctx, ns.ID, "bad", nil, KVPutOptions{Metadata: json.RawMessage("{")}); err == nil {
		t.Fatal("invalid metadata JSON was sent")
	}
	if err := kv.DeleteValue(ctx, ns.ID, "plain"); err != nil {
		t.Fatal(err)
	}
	_, err = kv.GetValue(ctx, ns.ID, "plain")
	if !IsKVKeyNotFound(err) {
		t.Fatalf("get deleted key: %v, want key not found", err)
	}
	_, err = kv.Metadata(ctx, ns.ID, "plain")
	if !IsKVKeyNotFound(err) {
		t.Fatalf("metadata of deleted key: %v, want key not found", err)
	}
	if IsKVKeyNotFound(errors.New("other")) {
		t.Fatal("IsKVKeyNotFound true for a plain error")
	}
}

func TestKVListKeysPagesThroughCursor(t *testing.T) {
	_, kv := newKVTest(t)
	ctx := context.Background()
	ns, err := kv.CreateNamespace(ctx, "list")
	if err != nil {
		t.Fatal(err)
	}
	pairs := make([]KVBulkPair, 0, 2500)
	for i := 0; i < 2500; i++ {
		pairs = append(pairs, KVBulkPair{Key: fmt.Sprintf("k/%05d", i), Value: "x"})
	}
	pairs = append(pairs, KVBulkPair{Key: "other", Value: "y"})
	res, err := kv.BulkPut(ctx, ns.ID, pairs)
	if err != nil || res.SuccessfulKeyCount != 2501 || len(res.UnsuccessfulKeys) != 0 {
		t.Fatalf("bulk put = %+v, %v", res, err)
	}
	var got []string
	pages := 0
	err = kv.ListAllKeys(ctx, ns.ID, "k/", 1000, 10, func(p KVKeyPage) error {
		pages++
		for _, k := range p.Keys {
			got = append(got, k.Name)
		}
		return nil
	})
	if err != nil || pages != 3 || len(got) != 2500 || got[0] != "k/00000" || got[2499] != "k/02499" {
		t.Fatalf("ListAllKeys: %d pages, %d keys, %v", pages, len(got), err)
	}
	if err := kv.ListAllKeys(ctx, ns.ID, "k/", 10, 2, func(KVKeyPage) error { return nil }); err == nil {
		t.Fatal("ListAllKeys past maxPages did not fail")
	}
}

func TestKVBulk(t *testing.T) {
	f, kv := newKVTest(t)
	ctx := context.Background()
	ns, err := kv.CreateNamespace(ctx, "bulk")
	if err != nil {
		t.Fatal(err)
	}
	res, err := kv.BulkPut(ctx, ns.ID, []KVBulkPair{
		{Key: "a", Value: "1"},
		{Key: "b", Value: "AAE=", Base64: true, Metadata: json.RawMessage(`{"x":true}`)},
		{Key: "j", Value: `{"n":2}`},
	})
	if err != nil || res.SuccessfulKeyCount != 3 {
		t.Fatalf("bulk put = %+v, %v", res, err)
	}
	if v, md, _, ok := f.Value(ns.ID, "b"); !ok || string(v) != "\x00\x01" || string(md) != `{"x":true}` {
		t.Fatalf("b = %q %s %v", v, md, ok)
	}
	got, err := kv.BulkGet(ctx, ns.ID, []string{"a", "j", "missing"}, KVBulkGetOptions{})
	if err != nil || string(got.Values["a"]) != `"1"` || string(got.Values["missing"]) != "null" {
		t.Fatalf("bulk get = %v, %v", got.Values, err)
	}
	got, err = kv.BulkGet(ctx, ns.ID, []string{"j"}, KVBulkGetOptions{Type: "json", WithMetadata: true})
	if err != nil || string(got.Values["j"]) != `{"metadata":null,"value":{"n":2}}` {
		t.Fatalf("bulk get json = %s, %v", got.Values["j"], err)
	}
	res, err = kv.BulkDelete(ctx, ns.ID, []string{"a", "b"})
	if err != nil || res.SuccessfulKeyCount != 2 || res.UnsuccessfulKeys == nil {
		t.Fatalf("bulk delete = %+v, %v", res, err)
	}
	if keys := f.Keys(ns.ID); len(keys) != 1 || keys[0] != "j" {
		t.Fatalf("keys after bulk delete = %v", keys)
	}
}
