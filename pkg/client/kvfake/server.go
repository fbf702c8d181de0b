package kvfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// entry is one stored key.
type entry struct {
	value      []byte
	metadata   json.RawMessage
	expiration int64
}

// namespace is one stored namespace.
type namespace struct {
	id    string
	title string
	keys  map[string]entry
}

// Server is the fake. Start one with Start; it is safe for concurrent use.
type Server struct {
	// URL is the base URL of the running server.
	URL string
	// Requests counts requests under /client/v4/.
	Requests atomic.Int64

	account string
	token   string
	srv     *httptest.Server

	mu     sync.Mutex
	nextID int
	spaces map[string]*namespace
}

// Start runs a fake for account, requiring "Bearer token" when token is
// not empty. Call Close when done.
func Start(account, token string) *Server {
	s := &Server{account: account, token: token, spaces: map[string]*namespace{}}
	s.srv = httptest.NewServer(s.routes())
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Value returns the stored value of key in namespace id, and whether it
// exists (and has not expired).
func (s *Server) Value(id, key string) ([]byte, json.RawMessage, int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.spaces[id]
	if ns == nil {
		return nil, nil, 0, false
	}
	e, ok := live(ns, key)
	return e.value, e.metadata, e.expiration, ok
}

// Keys returns the live keys of namespace id, sorted.
func (s *Server) Keys(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.spaces[id]
	if ns == nil {
		return nil
	}
	return sortedKeys(ns, "")
}

// live returns key's entry if it exists and has not expired.
func live(ns *namespace, key string) (entry, bool) {
	e, ok := ns.keys[key]
	if !ok || (e.expiration != 0 && e.expiration <= time.Now().Unix()) {
		return entry{}, false
	}
	return e, true
}

// sortedKeys returns the live keys of ns with prefix, sorted by bytes.
func sortedKeys(ns *namespace, prefix string) []string {
	out := make([]string, 0, len(ns.keys))
	for k := range ns.keys {
		if _, ok := live(ns, k); ok && len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// routes builds the handler.
func (s *Server) routes() http.Handler {
	const base = "/client/v4/accounts/{account}/storage/kv/namespaces"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok","node_id":"fake","version":"v0.0.0"}`))
	})
	mux.HandleFunc("GET /client/v4/cluster/status", func(w http.ResponseWriter, _ *http.Request) {
		ok(w, map[string]string{"node_id": "fake", "account_id": s.account}, nil)
	})
	mux.HandleFunc("GET "+base, s.listNamespaces)
	mux.HandleFunc("POST "+base, s.createNamespace)
	mux.HandleFunc("GET "+base+"/{ns}", s.withNS(s.getNamespace))
	mux.HandleFunc("PUT "+base+"/{ns}", s.withNS(s.renameNamespace))
	mux.HandleFunc("DELETE "+base+"/{ns}", s.withNS(s.deleteNamespace))
	mux.HandleFunc("GET "+base+"/{ns}/values/{key...}", s.withNS(s.getValue))
	mux.HandleFunc("PUT "+base+"/{ns}/values/{key...}", s.withNS(s.putValue))
	mux.HandleFunc("DELETE "+base+"/{ns}/values/{key...}", s.withNS(s.deleteValue))
	mux.HandleFunc("GET "+base+"/{ns}/metadata/{key...}", s.withNS(s.getMetadata))
	mux.HandleFunc("GET "+base+"/{ns}/keys", s.withNS(s.listKeys))
	mux.HandleFunc("PUT "+base+"/{ns}/bulk", s.withNS(s.bulkPut))
	mux.HandleFunc("POST "+base+"/{ns}/bulk/delete", s.withNS(s.bulkDelete))
	mux.HandleFunc("POST "+base+"/{ns}/bulk/get", s.withNS(s.bulkGet))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			s.Requests.Add(1)
			if s.token != "" && r.Header.Get("Authorization") != "Bearer "+s.token {
				fail(w, http.StatusUnauthorized, 10000, "Authentication error")
				return
			}
			if a := r.PathValue("account"); a != "" && a != s.account {
				fail(w, http.StatusNotFound, 7003, "Could not route to account")
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// withNS resolves the {ns} path value, answering 10013 when it is unknown
// or the account is not the fake's.
func (s *Server) withNS(h func(http.ResponseWriter, *http.Request, *namespace)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("account") != s.account {
			fail(w, http.StatusNotFound, 7003, "Could not route to account")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		ns := s.spaces[r.PathValue("ns")]
		if ns == nil {
			fail(w, http.StatusNotFound, 10013, "namespace not found")
			return
		}
		h(w, r, ns)
	}
}

// ok writes a successful envelope.
func ok(w http.ResponseWriter, result any, info map[string]any) {
	env := map[string]any{"success": true, "errors": []any{}, "messages": []any{}, "result": result}
	if info != nil {
		env["result_info"] = info
	}
	writeJSON(w, http.StatusOK, env)
}

// fail writes a failed envelope.
func fail(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{
		"success": false, "messages": []any{}, "result": nil,
		"errors": []map[string]any{{"code": code, "message": msg}},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// intQuery reads an integer query parameter, def when absent.
func intQuery(r *http.Request, name string, def int) (int, bool) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return def, true
	}
	n, err := strconv.Atoi(raw)
	return n, err == nil
}
