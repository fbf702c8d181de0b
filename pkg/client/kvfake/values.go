package kvfake

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds a request body in the fake.
const maxBody = 32 << 20

// expiry resolves the expiration and expiration_ttl parameters (ttl wins).
func expiry(exp, ttl int64) int64 {
	if ttl > 0 {
		return time.Now().Unix() + ttl
	}
	return exp
}

func (s *Server) getValue(w http.ResponseWriter, r *http.Request, ns *namespace) {
	e, found := live(ns, r.PathValue("key"))
	if !found {
		fail(w, http.StatusNotFound, 10009, "get: 'key not found'")
		return
	}
	if e.expiration != 0 {
		w.Header().Set("Expiration", strconv.FormatInt(e.expiration, 10))
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(e.value)
}

func (s *Server) putValue(w http.ResponseWriter, r *http.Request, ns *namespace) {
	q := r.URL.Query()
	exp, _ := strconv.ParseInt(q.Get("expiration"), 10, 64)
	ttl, _ := strconv.ParseInt(q.Get("expiration_ttl"), 10, 64)
	e := entry{expiration: expiry(exp, ttl)}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if mt == "multipart/form-data" {
		if err := r.ParseMultipartForm(maxBody); err != nil {
			fail(w, http.StatusBadRequest, 1001, "bad multipart body")
			return
		}
		e.value = []byte(r.FormValue("value"))
		if md := r.FormValue("metadata"); md != "" {
			if !json.Valid([]byte(md)) {
				fail(w, http.StatusBadRequest, 1001, "metadata is not JSON")
				return
			}
			e.metadata = json.RawMessage(md)
		}
	} else {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			fail(w, http.StatusRequestEntityTooLarge, 10014, "body too large")
			return
		}
		e.value = raw
	}
	ns.keys[r.PathValue("key")] = e
	ok(w, nil, nil)
}

func (s *Server) deleteValue(w http.ResponseWriter, r *http.Request, ns *namespace) {
	delete(ns.keys, r.PathValue("key"))
	ok(w, nil, nil)
}

func (s *Server) getMetadata(w http.ResponseWriter, r *http.Request, ns *namespace) {
	e, found := live(ns, r.PathValue("key"))
	if !found {
		fail(w, http.StatusNotFound, 10009, "get: 'key not found'")
		return
	}
	var md any = e.metadata
	if e.metadata == nil {
		md = nil
	}
	ok(w, md, nil)
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, ns *namespace) {
	limit, good := intQuery(r, "limit", 1000)
	if !good || limit < 10 || limit > 1000 {
		fail(w, http.StatusBadRequest, 1001, "limit must be 10..1000")
		return
	}
	after := ""
	if c := r.URL.Query().Get("cursor"); c != "" {
		raw, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			fail(w, http.StatusBadRequest, 1001, "bad cursor")
			return
		}
		after = string(raw)
	}
	out := []map[string]any{}
	cursor := ""
	for _, k := range sortedKeys(ns, r.URL.Query().Get("prefix")) {
		if after != "" && k <= after {
			continue
		}
		if len(out) == limit {
			cursor = base64.RawURLEncoding.EncodeToString([]byte(out[len(out)-1]["name"].(string)))
			break
		}
		e := ns.keys[k]
		item := map[string]any{"name": k}
		if e.expiration != 0 {
			item["expiration"] = e.expiration
		}
		if e.metadata != nil {
			item["metadata"] = e.metadata
		}
		out = append(out, item)
	}
	ok(w, out, map[string]any{"count": len(out), "cursor": cursor, "cursors": map[string]string{"after": cursor}})
}

// bulkPair is one element of a bulk write.
type bulkPair struct {
	Key           string          `json:"key"`
	Value         string          `json:"value"`
	Base64        bool            `json:"base64"`
	Expiration    int64           `json:"expiration"`
	ExpirationTTL int64           `json:"expiration_ttl"`
	Metadata      json.RawMessage `json:"metadata"`
}

func (s *Server) bulkPut(w http.ResponseWriter, r *http.Request, ns *namespace) {
	var pairs []bulkPair
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&pairs); err != nil {
		fail(w, http.StatusBadRequest, 6007, "body must be a JSON array of pairs")
		return
	}
	bad := []string{}
	for _, p := range pairs {
		v := []byte(p.Value)
		if p.Base64 {
			raw, err := base64.StdEncoding.DecodeString(p.Value)
			if err != nil || p.Key == "" {
				bad = append(bad, p.Key)
				continue
			}
			v = raw
		}
		if p.Key == "" {
			bad = append(bad, p.Key)
			continue
		}
		ns.keys[p.Key] = entry{value: v, metadata: p.Metadata, expiration: expiry(p.Expiration, p.ExpirationTTL)}
	}
	ok(w, map[string]any{"successful_key_count": len(pairs) - len(bad), "unsuccessful_keys": bad}, nil)
}

func (s *Server) bulkDelete(w http.ResponseWriter, r *http.Request, ns *namespace) {
	var keys []string
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&keys); err != nil {
		fail(w, http.StatusBadRequest, 6007, "body must be a JSON array of keys")
		return
	}
	for _, k := range keys {
		delete(ns.keys, k)
	}
	ok(w, map[string]any{"successful_key_count": len(keys), "unsuccessful_keys": []string{}}, nil)
}

func (s *Server) bulkGet(w http.ResponseWriter, r *http.Request, ns *namespace) {
	var body struct {
		Keys         []string `json:"keys"`
		Type         string   `json:"type"`
		WithMetadata bool     `json:"withMetadata"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&body); err != nil || len(body.Keys) > 100 {
		fail(w, http.StatusBadRequest, 6007, "body must be {\"keys\": [...]} with at most 100 keys")
		return
	}
	values := map[string]any{}
	for _, k := range body.Keys {
		e, found := live(ns, k)
		if !found {
			values[k] = nil
			continue
		}
		var v any = string(e.value)
		if strings.EqualFold(body.Type, "json") {
			v = json.RawMessage(e.value)
		}
		if body.WithMetadata {
			item := map[string]any{"value": v, "metadata": e.metadata}
			if e.expiration != 0 {
				item["expiration"] = e.expiration
			}
			v = item
		}
		values[k] = v
	}
	ok(w, map[string]any{"values": values}, nil)
}
