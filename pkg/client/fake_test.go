package client

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// fakeNode is an httptest server speaking the parts of edged's public API
// the client uses.
type fakeNode struct {
	srv     *httptest.Server
	id      string
	token   string
	delay   time.Duration // added to every response
	members []wire.Member
	status  wire.Status
	apiHits atomic.Int64 // requests under /client/v4/
}

// newFakeNode starts a fake node; it is closed when the test ends.
func newFakeNode(t *testing.T, id, token string, delay time.Duration) *fakeNode {
	t.Helper()
	f := &fakeNode{id: id, token: token, delay: delay}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeTestJSON(w, http.StatusOK, Health{Status: "ok", NodeID: f.id, Version: "v9.9.9"})
	})
	mux.HandleFunc("GET /client/v4/cluster/members", f.auth(func(w http.ResponseWriter, _ *http.Request) {
		writeTestEnvelope(w, http.StatusOK, f.members)
	}))
	mux.HandleFunc("GET /client/v4/cluster/status", f.auth(func(w http.ResponseWriter, _ *http.Request) {
		writeTestEnvelope(w, http.StatusOK, f.status)
	}))
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.delay > 0 {
			time.Sleep(f.delay) // simulated network distance, not a wait for a condition
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// auth refuses requests without the fake's bearer token, as edged does.
func (f *fakeNode) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.apiHits.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			writeTestFailure(w, http.StatusUnauthorized, wire.Error{Code: 10000, Message: "Authentication error"})
			return
		}
		h(w, r)
	}
}

// deadEndpoint returns the URL of a server that has been shut down.
func deadEndpoint(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

func writeTestJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeTestEnvelope(w http.ResponseWriter, status int, result any) {
	raw, _ := json.Marshal(result)
	writeTestJSON(w, status, wire.Envelope{Success: true, Errors: []wire.Error{}, Messages: []wire.Message{}, Result: raw})
}

func writeTestFailure(w http.ResponseWriter, status int, errs ...wire.Error) {
	writeTestJSON(w, status, wire.Envelope{Success: false, Errors: errs, Messages: []wire.Message{}, Result: json.RawMessage("null")})
}
