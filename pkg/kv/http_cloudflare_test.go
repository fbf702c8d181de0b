package kv

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	cloudflare "github.com/cloudflare/cloudflare-go/v6"
	cfkv "github.com/cloudflare/cloudflare-go/v6/kv"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/shared"
)

// TestKVWithCloudflareGo drives the KV routes with the official Go SDK,
// changing only its base URL: namespaces, values with metadata and TTL,
// list paging over 2,500 keys, and bulk write, get and delete.
func TestKVWithCloudflareGo(t *testing.T) {
	t.Run("fake store", func(t *testing.T) { testKVWithCloudflareGo(t, newKVEnv(t)) })
	t.Run("pebble store", func(t *testing.T) { testKVWithCloudflareGo(t, newPebbleKVEnv(t)) })
}

func testKVWithCloudflareGo(t *testing.T, e *kvEnv) {
	ts := httptest.NewServer(e.Srv.Handler())
	t.Cleanup(ts.Close)
	// A token scoped as a Cloudflare user would make it: KV write (and so
	// read) on the one account, nothing else.
	token := e.Cat.Token(t, testAccount, "Workers KV Storage Write")
	c := cloudflare.NewClient(option.WithBaseURL(ts.URL+"/client/v4/"), option.WithAPIToken(token), option.WithMaxRetries(0))
	ctx := t.Context()
	acc := cloudflare.F(testAccount)

	ns, err := c.KV.Namespaces.New(ctx, cfkv.NamespaceNewParams{AccountID: acc, Title: cloudflare.F("sdk")})
	if err != nil || ns.ID == "" || ns.Title != "sdk" {
		t.Fatalf("new namespace: %+v, %v", ns, err)
	}
	_, err = c.KV.Namespaces.New(ctx, cfkv.NamespaceNewParams{AccountID: acc, Title: cloudflare.F("sdk")})
	var apiErr *cloudflare.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
		t.Fatalf("duplicate title: %v", err)
	}
	if _, err := c.KV.Namespaces.Update(ctx, ns.ID, cfkv.NamespaceUpdateParams{AccountID: acc, Title: cloudflare.F("sdk2")}); err != nil {
		t.Fatalf("rename: %v", err)
	}
	got, err := c.KV.Namespaces.Get(ctx, ns.ID, cfkv.NamespaceGetParams{AccountID: acc})
	if err != nil || got.Title != "sdk2" {
		t.Fatalf("get namespace: %+v, %v", got, err)
	}
	titles := map[string]bool{}
	iter := c.KV.Namespaces.ListAutoPaging(ctx, cfkv.NamespaceListParams{AccountID: acc, PerPage: cloudflare.F(1.0)})
	for n := 0; iter.Next() && n < 10; n++ {
		titles[iter.Current().Title] = true
	}
	if err := iter.Err(); err != nil || len(titles) != 2 || !titles["sdk2"] || !titles["test-ns"] {
		t.Fatalf("list namespaces: %v, %v", titles, err)
	}

	// A value with metadata and a TTL, under a key with a slash and a space.
	key := "dir/a b"
	before := time.Now().Unix()
	_, err = c.KV.Namespaces.Values.Update(ctx, ns.ID, url.PathEscape(key), cfkv.NamespaceValueUpdateParams{
		AccountID:     acc,
		Value:         cloudflare.F[cfkv.NamespaceValueUpdateParamsValueUnion](shared.UnionString("hello")),
		Metadata:      cloudflare.F[any](`{"owner":"sdk"}`),
		ExpirationTTL: cloudflare.F(3600.0),
	})
	if err != nil {
		t.Fatalf("put value: %v", err)
	}
	res, err := c.KV.Namespaces.Values.Get(ctx, ns.ID, url.PathEscape(key), cfkv.NamespaceValueGetParams{AccountID: acc})
	if err != nil {
		t.Fatalf("get value: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	exp, _ := strconv.ParseInt(res.Header.Get("expiration"), 10, 64)
	if string(body) != "hello" || exp < before+3600 {
		t.Fatalf("value %q, expiration %d", body, exp)
	}
	meta, err := c.KV.Namespaces.Metadata.Get(ctx, ns.ID, url.PathEscape(key), cfkv.NamespaceMetadataGetParams{AccountID: acc})
	if m, _ := (*meta).(map[string]any); err != nil || m["owner"] != "sdk" {
		t.Fatalf("metadata: %v, %v", *meta, err)
	}
	if _, err := c.KV.Namespaces.Values.Delete(ctx, ns.ID, url.PathEscape(key), cfkv.NamespaceValueDeleteParams{AccountID: acc}); err != nil {
		t.Fatalf("delete value: %v", err)
	}
	_, err = c.KV.Namespaces.Values.Get(ctx, ns.ID, url.PathEscape(key), cfkv.NamespaceValueGetParams{AccountID: acc})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		t.Fatalf("get deleted value: %v", err)
	}

	// Bulk write 2,500 keys in one request, then page through them.
	pairs := make([]cfkv.NamespaceBulkUpdateParamsBody, 2500)
	keys := make([]string, len(pairs))
	for i := range pairs {
		keys[i] = fmt.Sprintf("k/%04d", i)
		pairs[i] = cfkv.NamespaceBulkUpdateParamsBody{Key: cloudflare.F(keys[i]), Value: cloudflare.F(strconv.Itoa(i))}
	}
	pairs[0].Metadata = cloudflare.F[any](map[string]any{"first": true})
	up, err := c.KV.Namespaces.BulkUpdate(ctx, ns.ID, cfkv.NamespaceBulkUpdateParams{AccountID: acc, Body: pairs})
	if err != nil || up.SuccessfulKeyCount != 2500 || len(up.UnsuccessfulKeys) != 0 {
		t.Fatalf("bulk update: %+v, %v", up, err)
	}
	pager := c.KV.Namespaces.Keys.ListAutoPaging(ctx, ns.ID, cfkv.NamespaceKeyListParams{AccountID: acc, Prefix: cloudflare.F("k/"), Limit: cloudflare.F(1000.0)})
	var listed []string
	for n := 0; pager.Next() && n < 3000; n++ {
		listed = append(listed, pager.Current().Name)
	}
	if err := pager.Err(); err != nil || len(listed) != 2500 || listed[0] != keys[0] || listed[2499] != keys[2499] {
		t.Fatalf("listed %d keys, %v", len(listed), err)
	}

	bg, err := c.KV.Namespaces.BulkGet(ctx, ns.ID, cfkv.NamespaceBulkGetParams{AccountID: acc, Keys: cloudflare.F([]string{keys[0], keys[7], "missing"}),
		WithMetadata: cloudflare.F(true)})
	if err != nil {
		t.Fatalf("bulk get: %v", err)
	}
	// The SDK's union types hide the values; read the JSON it received.
	var raw struct {
		Values map[string]*struct {
			Value    string         `json:"value"`
			Metadata map[string]any `json:"metadata"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(bg.JSON.RawJSON()), &raw); err != nil {
		t.Fatalf("bulk get result %q: %v", bg.JSON.RawJSON(), err)
	}
	first := raw.Values[keys[0]]
	if len(raw.Values) != 3 || raw.Values["missing"] != nil || first == nil || first.Value != "0" || first.Metadata["first"] != true {
		t.Fatalf("bulk get values = %s", bg.JSON.RawJSON())
	}

	del, err := c.KV.Namespaces.BulkDelete(ctx, ns.ID, cfkv.NamespaceBulkDeleteParams{AccountID: acc, Body: keys[:2000]})
	if err != nil || del.SuccessfulKeyCount != 2000 {
		t.Fatalf("bulk delete: %+v, %v", del, err)
	}
	page, err := c.KV.Namespaces.Keys.List(ctx, ns.ID, cfkv.NamespaceKeyListParams{AccountID: acc, Prefix: cloudflare.F("k/")})
	if err != nil || len(page.Result) != 500 || page.Result[0].Name != keys[2000] || page.ResultInfo.Cursor != "" {
		t.Fatalf("after bulk delete: %d keys, %v", len(page.Result), err)
	}

	if _, err := c.KV.Namespaces.Delete(ctx, ns.ID, cfkv.NamespaceDeleteParams{AccountID: acc}); err != nil {
		t.Fatalf("delete namespace: %v", err)
	}
	_, err = c.KV.Namespaces.Get(ctx, ns.ID, cfkv.NamespaceGetParams{AccountID: acc})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		t.Fatalf("get deleted namespace: %v", err)
	}
}
