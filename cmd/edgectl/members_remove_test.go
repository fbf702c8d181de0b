package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// removeServer fakes DELETE /client/v4/cluster/members/{id}: node-3 is
// dead (removable), node-2 is live (needs force).
func removeServer(t *testing.T) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var seen []string
	mux := http.NewServeMux()
	mux.HandleFunc("DELETE /client/v4/cluster/members/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.RequestURI())
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(wire.Envelope{Errors: []wire.Error{{Code: 10000, Message: "Authentication error"}}})
			return
		}
		id, force := r.PathValue("id"), r.URL.Query().Get("force") == "true"
		w.Header().Set("Content-Type", "application/json")
		switch {
		case id == "node-2" && !force:
			w.WriteHeader(http.StatusConflict)
			_ = json.NewEncoder(w).Encode(wire.Envelope{Errors: []wire.Error{{Code: 1003, Message: "removal refused: node-2 is a live voter"}}})
		case id == "node-3" || id == "node-2":
			res, _ := json.Marshal(wire.MemberRemoval{ID: id, WasVoter: true, RaftIndex: 42})
			_ = json.NewEncoder(w).Encode(wire.Envelope{Success: true, Errors: []wire.Error{}, Messages: []wire.Message{}, Result: res})
		default:
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(wire.Envelope{Errors: []wire.Error{{Code: 1004, Message: "not found"}}})
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &seen
}

func TestMembersRemove(t *testing.T) {
	srv, seen := removeServer(t)
	stdout, stderr, code := runCLI(t, nil, "members", "remove", "node-3", "--endpoint", srv.URL, "--token", "tok")
	if code != 0 || !strings.Contains(stdout, "removed node-3 (voter)") || !strings.Contains(stdout, "index 42") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, _, code = runCLI(t, nil, "members", "remove", "node-3", "-o", "json", "--endpoint", srv.URL, "--token", "tok")
	var got wire.MemberRemoval
	if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil || got.ID != "node-3" || !got.WasVoter || got.RaftIndex != 42 {
		t.Fatalf("json: exit %d, %q", code, stdout)
	}
	_, stderr, code = runCLI(t, nil, "members", "remove", "node-2", "--endpoint", srv.URL, "--token", "tok")
	if code == 0 || !strings.Contains(stderr, "live voter") {
		t.Fatalf("live voter without --force: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code = runCLI(t, nil, "members", "remove", "node-2", "--force", "--endpoint", srv.URL, "--token", "tok"); code != 0 {
		t.Fatalf("--force: exit %d, stderr %q", code, stderr)
	}
	if _, _, code = runCLI(t, nil, "members", "remove", "--endpoint", srv.URL, "--token", "tok"); code == 0 {
		t.Fatal("no id accepted")
	}
	if (*seen)[len(*seen)-1] != "/client/v4/cluster/members/node-2?force=true" {
		t.Fatalf("requests %v", *seen)
	}
}
