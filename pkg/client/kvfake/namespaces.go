package kvfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// nsJSON is a namespace as the API shows it.
func nsJSON(ns *namespace) map[string]any {
	return map[string]any{"id": ns.id, "title": ns.title, "supports_url_encoding": true}
}

func (s *Server) listNamespaces(w http.ResponseWriter, r *http.Request) {
	page, ok1 := intQuery(r, "page", 1)
	per, ok2 := intQuery(r, "per_page", 20)
	if !ok1 || !ok2 || page < 1 || per < 1 || per > 1000 {
		fail(w, http.StatusBadRequest, 1001, "bad page or per_page")
		return
	}
	s.mu.Lock()
	all := make([]*namespace, 0, len(s.spaces))
	for _, ns := range s.spaces {
		all = append(all, ns)
	}
	s.mu.Unlock()
	byTitle := r.URL.Query().Get("order") == "title"
	sort.Slice(all, func(i, j int) bool {
		if byTitle {
			return all[i].title < all[j].title
		}
		return all[i].id < all[j].id
	})
	if r.URL.Query().Get("direction") == "desc" {
		for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
			all[i], all[j] = all[j], all[i]
		}
	}
	out := []map[string]any{}
	for i := (page - 1) * per; i < len(all) && i < page*per; i++ {
		out = append(out, nsJSON(all[i]))
	}
	ok(w, out, map[string]any{"page": page, "per_page": per, "count": len(out), "total_count": len(all)})
}

// titleBody decodes {"title": "..."}.
func titleBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	var body struct {
		Title string `json:"title"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || strings.TrimSpace(body.Title) == "" {
		fail(w, http.StatusBadRequest, 6007, "body must be {\"title\": \"...\"}")
		return "", false
	}
	return body.Title, true
}

// titleTaken reports whether another namespace uses title; mu held.
func (s *Server) titleTaken(title, except string) bool {
	for _, ns := range s.spaces {
		if ns.title == title && ns.id != except {
			return true
		}
	}
	return false
}

func (s *Server) createNamespace(w http.ResponseWriter, r *http.Request) {
	title, good := titleBody(w, r)
	if !good {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.titleTaken(title, "") {
		fail(w, http.StatusBadRequest, 10014, "a namespace with this account ID and title already exists")
		return
	}
	s.nextID++
	ns := &namespace{id: fmt.Sprintf("%032x", s.nextID), title: title, keys: map[string]entry{}}
	s.spaces[ns.id] = ns
	ok(w, nsJSON(ns), nil)
}

func (s *Server) getNamespace(w http.ResponseWriter, _ *http.Request, ns *namespace) {
	ok(w, nsJSON(ns), nil)
}

func (s *Server) renameNamespace(w http.ResponseWriter, r *http.Request, ns *namespace) {
	title, good := titleBody(w, r)
	if !good {
		return
	}
	if s.titleTaken(title, ns.id) {
		fail(w, http.StatusBadRequest, 10014, "a namespace with this account ID and title already exists")
		return
	}
	ns.title = title
	ok(w, nsJSON(ns), nil)
}

func (s *Server) deleteNamespace(w http.ResponseWriter, _ *http.Request, ns *namespace) {
	delete(s.spaces, ns.id)
	ok(w, nil, nil)
}
