package router

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// A PerRequest placement resolves from the request; a nested one is served
// here rather than resolved again.
func TestPerRequestPlacement(t *testing.T) {
	strong := PerRequest(func(r *http.Request) Placement {
		if r.URL.Query().Get("consistency") == "strong" {
			return AtLeader()
		}
		return Here()
	})
	if got := strong.For(httptest.NewRequest("POST", "/q?consistency=strong", nil)).Kind(); got != PlaceLeader {
		t.Fatalf("strong request placed %s", got)
	}
	if got := strong.For(httptest.NewRequest("POST", "/q", nil)).Kind(); got != PlaceHere {
		t.Fatalf("plain request placed %s", got)
	}
	nested := PerRequest(func(*http.Request) Placement { return strong })
	if got := nested.For(httptest.NewRequest("POST", "/q?consistency=strong", nil)).Kind(); got != PlaceHere {
		t.Fatalf("nested per-request placement resolved to %s", got)
	}
	if got := AtLeader().For(httptest.NewRequest("GET", "/", nil)).Kind(); got != PlaceLeader {
		t.Fatalf("static placement changed to %s", got)
	}
}
