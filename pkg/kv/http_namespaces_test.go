package kv

import (
	"github.com/edgeplane/edgeplane/pkg/api"
	"net/http"
	"strings"
	"testing"
)

func TestKVNamespaceLifecycle(t *testing.T) {
	e := newKVEnv(t)
	base := "/client/v4/accounts/" + testAccount + "/storage/kv/namespaces"
	var ns KVNamespace
	result(t, e.do(http.MethodPost, base, "application/json", `{"title":"b-title"}`), &ns)
	if ns.ID == "" || ns.Title != "b-title" || !ns.SupportsURLEncoding {
		t.Fatalf("created %+v", ns)
	}
	wantError(t, e.do(http.MethodPost, base, "", `{"title":"b-title"}`), http.StatusBadRequest, api.CodeKVNamespaceTitleExists)
	wantError(t, e.do(http.MethodPost, base, "", `{"title":"  "}`), http.StatusBadRequest, api.CodeBadRequest)
	wantError(t, e.do(http.MethodPost, base, "", `{"title":"`+strings.Repeat("t", 513)+`"}`), http.StatusBadRequest, api.CodeBadRequest)
	result(t, e.do(http.MethodPost, base, "", `{"title":"`+strings.Repeat("t", 512)+`"}`), nil)

	var list []KVNamespace
	env := result(t, e.get(base+"?order=title&direction=desc&per_page=2"), &list)
	if len(list) != 2 || list[0].Title != strings.Repeat("t", 512) || list[1].Title != "test-ns" || env.ResultInfo.TotalCount != 3 {
		t.Fatalf("list = %+v %+v", list, env.ResultInfo)
	}
	result(t, e.get(base+"?page=9"), &list)
	if len(list) != 0 {
		t.Fatal("past the end must be empty")
	}
	wantError(t, e.get(base+"?order=size"), http.StatusBadRequest, api.CodeBadRequest)

	var got KVNamespace
	result(t, e.do(http.MethodPut, base+"/"+ns.ID, "", `{"title":"renamed"}`), &got)
	if got.Title != "renamed" || got.ID != ns.ID {
		t.Fatalf("renamed = %+v", got)
	}
	wantError(t, e.do(http.MethodPut, base+"/"+ns.ID, "", `{"title":"test-ns"}`), http.StatusBadRequest, api.CodeKVNamespaceTitleExists)
	result(t, e.get(base+"/"+ns.ID), &got)
	if got.Title != "renamed" {
		t.Fatalf("get = %+v", got)
	}
	result(t, e.do(http.MethodDelete, base+"/"+ns.ID, "", ""), nil)
	wantError(t, e.get(base+"/"+ns.ID), http.StatusNotFound, api.CodeKVNamespaceNotFound)
	wantError(t, e.do(http.MethodDelete, base+"/"+ns.ID, "", ""), http.StatusNotFound, api.CodeKVNamespaceNotFound)
	wantError(t, e.do(http.MethodPut, base+"/nope", "", `{"title":"x"}`), http.StatusNotFound, api.CodeKVNamespaceNotFound)
}
