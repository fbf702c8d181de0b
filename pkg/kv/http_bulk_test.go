package kv

import (
	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/wire"

	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestKVBulkRoundTrip(t *testing.T) {
	e := newKVEnv(t)
	body := fmt.Sprintf(`[{"key":"a","value":"1"},{"key":"b","value":%q,"base64":true,"metadata":{"m": 1}},
		{"key":"j","value":"{\"x\":2}","expiration_ttl":120},{"key":"a/b","value":"x","expiration":%d}]`,
		base64.StdEncoding.EncodeToString([]byte{0, 1, 2}), time.Now().Unix()+600)
	var res wire.KVBulkResult
	result(t, e.do(http.MethodPut, e.url("/bulk"), "application/json", body), &res)
	if res.SuccessfulKeyCount != 4 || res.UnsuccessfulKeys == nil || len(res.UnsuccessfulKeys) != 0 {
		t.Fatalf("bulk put = %+v", res)
	}
	if w := e.get(e.url("/values/b")); w.Body.String() != "\x00\x01\x02" {
		t.Fatalf("b = %q", w.Body)
	}
	var meta map[string]int
	result(t, e.get(e.url("/metadata/b")), &meta)
	if meta["m"] != 1 {
		t.Fatalf("metadata = %v", meta)
	}

	var got struct {
		Values map[string]any `json:"values"`
	}
	result(t, e.do(http.MethodPost, e.url("/bulk/get"), "application/json", `{"keys":["a","j","missing"]}`), &got)
	if got.Values["a"] != "1" || got.Values["j"] != `{"x":2}` || got.Values["missing"] != nil || len(got.Values) != 3 {
		t.Fatalf("bulk get text = %v", got.Values)
	}
	result(t, e.do(http.MethodPost, e.url("/bulk/get"), "application/json", `{"keys":["j"],"type":"json","withMetadata":true}`), &got)
	j, _ := got.Values["j"].(map[string]any)
	if v, _ := j["value"].(map[string]any); v["x"] != 2.0 || j["metadata"] != nil || j["expiration"] == nil {
		t.Fatalf("bulk get json = %v", got.Values)
	}
	wantError(t, e.do(http.MethodPost, e.url("/bulk/get"), "", `{"keys":["b"],"type":"json"}`), http.StatusBadRequest, api.CodeBadRequest)
	wantError(t, e.do(http.MethodPost, e.url("/bulk/get"), "", `{"keys":["a"],"type":"xml"}`), http.StatusBadRequest, api.CodeBadRequest)

	result(t, e.do(http.MethodPost, e.url("/bulk/delete"), "application/json", `["a","missing"]`), &res)
	if res.SuccessfulKeyCount != 2 {
		t.Fatalf("bulk delete = %+v", res)
	}
	wantError(t, e.get(e.url("/values/a")), http.StatusNotFound, api.CodeKVKeyNotFound)
	result(t, e.do(http.MethodDelete, e.url("/bulk"), "application/json", `["b"]`), &res) // the legacy form
	wantError(t, e.get(e.url("/values/b")), http.StatusNotFound, api.CodeKVKeyNotFound)
}

// TestKVBulkRefusesWhole: one bad entry refuses the request and nothing is
// written.
func TestKVBulkRefusesWhole(t *testing.T) {
	t.Run("fake store", func(t *testing.T) { testKVBulkRefusesWhole(t, newKVEnv(t)) })
	t.Run("pebble store", func(t *testing.T) { testKVBulkRefusesWhole(t, newPebbleKVEnv(t)) })
}

func testKVBulkRefusesWhole(t *testing.T, e *kvEnv) {
	good := `{"key":"ok","value":"v"}`
	bigMeta := `{"a":"` + strings.Repeat("x", MaxMetadataBytes-7) + `"}`
	for name, c := range map[string]struct {
		bad  string
		code int
	}{
		"empty key":     {`{"key":"","value":"v"}`, api.CodeKVInvalidKey},
		"key 513":       {fmt.Sprintf(`{"key":%q,"value":"v"}`, strings.Repeat("k", 513)), api.CodeKVInvalidKey},
		"bad base64":    {`{"key":"b","value":"!!","base64":true}`, api.CodeBadRequest},
		"ttl 59":        {`{"key":"t","value":"v","expiration_ttl":59}`, api.CodeKVInvalidExpiration},
		"metadata 1025": {fmt.Sprintf(`{"key":"m","value":"v","metadata":%s}`, bigMeta), api.CodeKVInvalidMetadata},
		"unknown field": {`{"key":"u","value":"v","colour":1}`, api.CodeMalformedJSON},
	} {
		t.Run(name, func(t *testing.T) {
			before := e.st.snapshot()
			w := e.do(http.MethodPut, e.url("/bulk"), "application/json", "["+good+","+c.bad+"]")
			wantError(t, w, http.StatusBadRequest, c.code)
			e.wantUnchanged(t, before)
		})
	}
	// 1024 bytes of metadata pass, even when sent indented.
	okMeta := `{"a":  "` + strings.Repeat("x", MaxMetadataBytes-8) + `"}`
	result(t, e.do(http.MethodPut, e.url("/bulk"), "", fmt.Sprintf(`[{"key":"m","value":"v","metadata":%s}]`, okMeta)), nil)
}

func TestKVBulkCountLimits(t *testing.T) {
	e := newKVEnv(t)
	pairs := func(n int) string {
		items := make([]wire.KVBulkPair, n)
		for i := range items {
			items[i] = wire.KVBulkPair{Key: fmt.Sprint("k", i), Value: "v"}
		}
		b, _ := json.Marshal(items)
		return string(b)
	}
	keys := func(n int) string {
		ks := make([]string, n)
		for i := range ks {
			ks[i] = fmt.Sprint("k", i)
		}
		b, _ := json.Marshal(ks)
		return string(b)
	}
	before := e.st.snapshot()
	wantError(t, e.do(http.MethodPut, e.url("/bulk"), "", pairs(MaxBulkWrite+1)), http.StatusBadRequest, api.CodeKVTooManyKeys)
	e.wantUnchanged(t, before)
	var res wire.KVBulkResult
	result(t, e.do(http.MethodPut, e.url("/bulk"), "", pairs(MaxBulkWrite)), &res)
	if res.SuccessfulKeyCount != MaxBulkWrite {
		t.Fatalf("bulk put of 10,000 = %+v", res)
	}
	before = e.st.snapshot()
	wantError(t, e.do(http.MethodPost, e.url("/bulk/delete"), "", keys(MaxBulkWrite+1)), http.StatusBadRequest, api.CodeKVTooManyKeys)
	e.wantUnchanged(t, before)
	result(t, e.do(http.MethodPost, e.url("/bulk/delete"), "", keys(MaxBulkWrite)), nil)
	wantError(t, e.do(http.MethodPost, e.url("/bulk/get"), "", `{"keys":`+keys(MaxBulkGet+1)+`}`), http.StatusBadRequest, api.CodeKVTooManyKeys)
	result(t, e.do(http.MethodPost, e.url("/bulk/get"), "", `{"keys":`+keys(MaxBulkGet)+`}`), nil)
}
