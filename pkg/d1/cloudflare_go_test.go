package d1_test

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"

	cloudflare "github.com/cloudflare/cloudflare-go/v6"
	cfd1 "github.com/cloudflare/cloudflare-go/v6/d1"
	cfkv "github.com/cloudflare/cloudflare-go/v6/kv"
	"github.com/cloudflare/cloudflare-go/v6/option"

	"github.com/edgeplane/edgeplane/internal/testcluster"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// groupD1Write is Cloudflare's "D1 Write" permission group.
const groupD1Write = "09b2857d1c31407795e75e3fed8617a1"

// scopedToken creates a token that holds D1 Write on the account and
// nothing else, as a Cloudflare user would make for a tool.
func scopedToken(t *testing.T, c *testcluster.Cluster, account, group string) string {
	t.Helper()
	cl := client{t, c}
	body := map[string]any{"name": "sdk", "policies": []map[string]any{{"effect": "allow",
		"resources":         map[string]string{"com.cloudflare.api.account." + account: "*"},
		"permission_groups": []map[string]string{{"id": group}}}}}
	var tok wire.Token
	cl.must(c.Member(0), http.MethodPost, "/client/v4/user/tokens", body, &tok)
	if tok.Value == "" {
		t.Fatalf("no token value: %+v", tok)
	}
	return tok.Value
}

// TestD1WithCloudflareGo drives D1 on a real node with the official Go SDK
// (cloudflare-go v6), changing only its base URL and using a token scoped
// to D1 Write: create, list, get, query (one statement, several, a batch,
// parameters, an SQL error), raw, read replication, import (init, upload,
// ingest), export and its download, delete.
func TestD1WithCloudflareGo(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 1})
	acct := accountID(t, c)
	token := scopedToken(t, c, acct, groupD1Write)
	sdk := cloudflare.NewClient(option.WithBaseURL(c.Member(0).URL()+"/client/v4/"), option.WithAPIToken(token), option.WithMaxRetries(0))
	ctx := t.Context()
	acc := cloudflare.F(acct)

	db, err := sdk.D1.Database.New(ctx, cfd1.DatabaseNewParams{AccountID: acc, Name: cloudflare.F("sdk-db"),
		PrimaryLocationHint: cloudflare.F(cfd1.DatabaseNewParamsPrimaryLocationHintWeur)})
	if err != nil || db.UUID == "" || db.Name != "sdk-db" || db.ReadReplication.Mode != "auto" {
		t.Fatalf("new: %+v, %v", db, err)
	}
	_, err = sdk.D1.Database.New(ctx, cfd1.DatabaseNewParams{AccountID: acc, Name: cloudflare.F("sdk-db")})
	var apiErr *cloudflare.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
		t.Fatalf("duplicate name: %v", err)
	}
	pager := sdk.D1.Database.ListAutoPaging(ctx, cfd1.DatabaseListParams{AccountID: acc, PerPage: cloudflare.F(1.0)})
	var names []string
	for n := 0; pager.Next() && n < 10; n++ {
		names = append(names, pager.Current().Name)
	}
	if err := pager.Err(); err != nil || len(names) != 1 || names[0] != "sdk-db" {
		t.Fatalf("list: %v, %v", names, err)
	}
	got, err := sdk.D1.Database.Get(ctx, db.UUID, cfd1.DatabaseGetParams{AccountID: acc})
	if err != nil || got.UUID != db.UUID || got.Name != "sdk-db" {
		t.Fatalf("get: %+v, %v", got, err)
	}

	query := func(body cfd1.DatabaseQueryParamsBodyUnion) []cfd1.QueryResult {
		t.Helper()
		page, err := sdk.D1.Database.Query(ctx, db.UUID, cfd1.DatabaseQueryParams{AccountID: acc, Body: body})
		if err != nil {
			t.Fatalf("query: %v", err)
		}
		return page.Result
	}
	res := query(cfd1.DatabaseQueryParamsBodyD1SingleQuery{Sql: cloudflare.F(
		"CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER); INSERT INTO items(name, qty) VALUES ('a', 1), ('b', 2)")})
	if len(res) != 2 || !res[1].Success || res[1].Meta.Changes != 2 || !res[1].Meta.ChangedDB {
		t.Fatalf("multi-statement: %+v", res)
	}
	res = query(cfd1.DatabaseQueryParamsBodyD1SingleQuery{Sql: cloudflare.F("SELECT name, qty FROM items WHERE qty >= ? ORDER BY id"),
		Params: cloudflare.F([]string{"2"})})
	if len(res) != 1 || len(res[0].Results) != 1 || res[0].Results[0].(map[string]any)["name"] != "b" {
		t.Fatalf("single with params: %+v", res)
	}
	res = query(cfd1.DatabaseQueryParamsBodyMultipleQueries{Batch: cloudflare.F([]cfd1.DatabaseQueryParamsBodyMultipleQueriesBatch{
		{Sql: cloudflare.F("INSERT INTO items(name, qty) VALUES (?, ?)"), Params: cloudflare.F([]string{"c", "3"})},
		{Sql: cloudflare.F("SELECT count(*) AS n FROM items")},
	})})
	if len(res) != 2 || res[0].Meta.LastRowID != 3 || res[1].Results[0].(map[string]any)["n"] != float64(3) {
		t.Fatalf("batch: %+v", res)
	}
	_, err = sdk.D1.Database.Query(ctx, db.UUID, cfd1.DatabaseQueryParams{AccountID: acc,
		Body: cfd1.DatabaseQueryParamsBodyD1SingleQuery{Sql: cloudflare.F("SELECT * FROM nope")}})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || !strings.Contains(err.Error(), "no such table") {
		t.Fatalf("SQL error: %v", err)
	}
	raw, err := sdk.D1.Database.Raw(ctx, db.UUID, cfd1.DatabaseRawParams{AccountID: acc,
		Body: cfd1.DatabaseRawParamsBodyD1SingleQuery{Sql: cloudflare.F("SELECT id, name FROM items ORDER BY id")}})
	if err != nil || len(raw.Result) != 1 || strings.Join(raw.Result[0].Results.Columns, ",") != "id,name" || len(raw.Result[0].Results.Rows) != 3 {
		t.Fatalf("raw: %+v, %v", raw, err)
	}

	up, err := sdk.D1.Database.Update(ctx, db.UUID, cfd1.DatabaseUpdateParams{AccountID: acc,
		ReadReplication: cloudflare.F(cfd1.DatabaseUpdateParamsReadReplication{Mode: cloudflare.F(cfd1.DatabaseUpdateParamsReadReplicationModeDisabled)})})
	if err != nil || up.ReadReplication.Mode != "disabled" {
		t.Fatalf("update read replication: %+v, %v", up, err)
	}
	res = query(cfd1.DatabaseQueryParamsBodyD1SingleQuery{Sql: cloudflare.F("SELECT 1")})
	if !res[0].Meta.ServedByPrimary {
		t.Fatalf("read with replication disabled: %+v", res[0].Meta)
	}
	ed, err := sdk.D1.Database.Edit(ctx, db.UUID, cfd1.DatabaseEditParams{AccountID: acc,
		ReadReplication: cloudflare.F(cfd1.DatabaseEditParamsReadReplication{Mode: cloudflare.F(cfd1.DatabaseEditParamsReadReplicationModeAuto)})})
	if err != nil || ed.ReadReplication.Mode != "auto" {
		t.Fatalf("edit read replication: %+v, %v", ed, err)
	}

	// Import through the SDK's three calls and a plain PUT, as wrangler.
	file := "INSERT INTO items(name, qty) VALUES ('d', 4);\nUPDATE items SET qty = qty * 10;\n"
	sum := md5.Sum([]byte(file))
	etag := hex.EncodeToString(sum[:])
	init, err := sdk.D1.Database.Import(ctx, db.UUID, cfd1.DatabaseImportParams{AccountID: acc,
		Body: cfd1.DatabaseImportParamsBodyInit{Action: cloudflare.F(cfd1.DatabaseImportParamsBodyInitActionInit), Etag: cloudflare.F(etag)}})
	if err != nil || init.UploadURL == "" || init.Filename == "" {
		t.Fatalf("import init: %+v, %v", init, err)
	}
	status, hdr, body := rawDo(t, http.MethodPut, init.UploadURL, []byte(file))
	if status != http.StatusOK || hdr.Get("ETag") != `"`+etag+`"` {
		t.Fatalf("upload: %d %s", status, body)
	}
	ing, err := sdk.D1.Database.Import(ctx, db.UUID, cfd1.DatabaseImportParams{AccountID: acc,
		Body: cfd1.DatabaseImportParamsBodyIngest{Action: cloudflare.F(cfd1.DatabaseImportParamsBodyIngestActionIngest),
			Etag: cloudflare.F(etag), Filename: cloudflare.F(init.Filename)}})
	if err != nil || ing.Status != cfd1.DatabaseImportResponseStatusComplete || ing.Result.NumQueries != 2 || ing.Result.Meta.RowsWritten != 5 {
		t.Fatalf("import ingest: %+v, %v", ing, err)
	}

	exp, err := sdk.D1.Database.Export(ctx, db.UUID, cfd1.DatabaseExportParams{AccountID: acc,
		OutputFormat: cloudflare.F(cfd1.DatabaseExportParamsOutputFormatPolling),
		DumpOptions:  cloudflare.F(cfd1.DatabaseExportParamsDumpOptions{Tables: cloudflare.F([]string{"items"})})})
	if err != nil || exp.Status != cfd1.DatabaseExportResponseStatusComplete || exp.AtBookmark != ing.Result.FinalBookmark || exp.Result.SignedURL == "" {
		t.Fatalf("export: %+v, %v", exp, err)
	}
	status, _, dump := rawDo(t, http.MethodGet, exp.Result.SignedURL, nil)
	if status != http.StatusOK || !strings.Contains(string(dump), `VALUES(4,'d',40);`) {
		t.Fatalf("download: %d %s", status, dump)
	}

	// The scoped token does not reach beyond D1.
	_, err = sdk.KV.Namespaces.List(ctx, cfkv.NamespaceListParams{AccountID: acc})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden {
		t.Fatalf("D1 token listing KV namespaces: %v", err)
	}

	if _, err := sdk.D1.Database.Delete(ctx, db.UUID, cfd1.DatabaseDeleteParams{AccountID: acc}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = sdk.D1.Database.Get(ctx, db.UUID, cfd1.DatabaseGetParams{AccountID: acc})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		t.Fatalf("get after delete: %v", err)
	}
	if len(apiErr.Errors) != 1 || apiErr.Errors[0].Code != 7404 {
		t.Fatalf("get after delete: %+v", apiErr.Errors)
	}
}
