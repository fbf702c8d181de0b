package do

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/do/objstore"
	"github.com/edgeplane/edgeplane/pkg/router"
	"github.com/edgeplane/edgeplane/pkg/service"
)

// Limits of the HTTP API (Cloudflare's Durable Object storage limits).
const (
	// MaxKeyBytes bounds a storage key (UTF-8 bytes).
	MaxKeyBytes = objstore.MaxKeyBytes
	// MaxEntryBytes bounds a key plus its JSON value.
	MaxEntryBytes = objstore.MaxEntryBytes
	// MaxKeysPerCall bounds the keys (or entries, checks, ops) of one call.
	MaxKeysPerCall = 128
	// MaxWriteBody bounds the body of a write: one forwarded message.
	MaxWriteBody = router.DefaultMaxBodyBytes
	// MaxNameBytes bounds an object name (by-name paths and ids from names).
	MaxNameBytes = 1024
	// DefaultListLimit is the entries a list answers without ?limit.
	DefaultListLimit = 1000
	// MaxListLimit bounds ?limit; "truncated" says more entries follow.
	MaxListLimit = 1000
)

// objBase is the path of one object, by id or by name.
const (
	objByID   = nsBase + "/{namespace_id}/objects/{object_id}"
	objByName = nsBase + "/{namespace_id}/objects/by-name/{object_name}"
)

// Routes implements service.Service: every route, built per concern.
func (m *Module) Routes() []service.Route {
	return slices.Concat(m.idRoutes(), m.storageRoutes(), m.transactionRoutes(), m.whereRoutes(), m.edge.routes())
}

// objectRequest is a request addressed to one object, resolved.
type objectRequest struct {
	ns    catalog.Resource
	objID string
	op    string
}

// objectHandler serves a request addressed to one object.
type objectHandler func(w http.ResponseWriter, r *http.Request, or objectRequest)

// objectRoute returns the routes of method and suffix (below the object's
// path, e.g. "/storage/get") for both ways of naming an object, placed at
// the object's owner. op labels the metrics.
func (m *Module) objectRoute(method, suffix, op string, maxBody int64, access service.Access, h objectHandler) []service.Route {
	placement := router.AtOwnerBy(func(r *http.Request) (string, error) {
		ns, id, err := m.resolve(r)
		if err != nil {
			return "", err
		}
		p, err := m.Place(ns, id)
		if err != nil {
			return "", err
		}
		if p.Owner != m.deps.NodeID {
			m.metrics.forwarded.WithLabelValues(op).Inc()
		}
		return p.Owner, nil
	})
	serve := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ns, id, err := m.resolve(r)
		if err != nil {
			api.WriteFailure(w, r, err)
			return
		}
		h(w, r, objectRequest{ns: ns, objID: id, op: op})
	})
	var out []service.Route
	for _, base := range []string{objByID, objByName} {
		out = append(out, service.Route{Pattern: method + " " + base + suffix, MaxBody: maxBody, Access: access,
			Placement: placement, Handler: serve})
	}
	return out
}

// resolve finds the request's namespace and object id: 404 for an unknown
// account or namespace, 400 for a bad id or name.
func (m *Module) resolve(r *http.Request) (catalog.Resource, string, error) {
	account := r.PathValue("account_id")
	if _, ok := m.deps.Catalog.Account(account); !ok {
		return catalog.Resource{}, "", api.AccountNotFound(r)
	}
	ns, ok := m.deps.Catalog.Resource(catalog.KindDONamespace, account, r.PathValue("namespace_id"))
	if !ok {
		return catalog.Resource{}, "", nsNotFound()
	}
	if name := r.PathValue("object_name"); name != "" || r.PathValue("object_id") == "" {
		if err := checkName(name); err != nil {
			return catalog.Resource{}, "", err
		}
		return ns, FromName(ns.ID, name), nil
	}
	id, err := Parse(ns.ID, r.PathValue("object_id"))
	if err != nil {
		return catalog.Resource{}, "", &api.HTTPError{Status: http.StatusBadRequest, Code: api.CodeDOInvalidID,
			Message: err.Error(), Err: errors.Join(api.ErrBadRequest, err)}
	}
	return ns, id, nil
}

func checkName(name string) error {
	if name == "" || len(name) > MaxNameBytes || !utf8.ValidString(name) {
		return &api.HTTPError{Status: http.StatusBadRequest, Code: api.CodeDOInvalidID,
			Message: fmt.Sprintf("object name must be 1..%d bytes of UTF-8", MaxNameBytes), Err: api.ErrBadRequest}
	}
	return nil
}

// run runs fn on the object under its input gate and answers: result (a
// map that gets served_by) on success, the envelope of the error otherwise.
func (m *Module) run(w http.ResponseWriter, r *http.Request, or objectRequest, fn func(o *objstore.Object) (map[string]any, error)) {
	var result map[string]any
	err := m.Do(r.Context(), or.ns, or.objID, func(o *objstore.Object) error {
		var err error
		result, err = fn(o)
		return err
	})
	if err != nil {
		m.metrics.requests.WithLabelValues(or.op, "error").Inc()
		api.WriteFailure(w, r, err)
		return
	}
	m.metrics.requests.WithLabelValues(or.op, "ok").Inc()
	if result == nil {
		result = map[string]any{}
	}
	result["served_by"] = m.deps.NodeID
	api.WriteResult(w, http.StatusOK, result, nil)
}

// decodeBody reads the body strictly into v. The body must be valid UTF-8
// as a whole: encoding/json would silently replace invalid bytes in keys,
// storing a key other than the one sent.
func decodeBody(r *http.Request, v any) error {
	if r.Body == nil || r.Body == http.NoBody {
		return api.BadRequest(api.CodeMalformedJSON, "request body is empty; expected JSON")
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if !utf8.Valid(b) {
		return api.BadRequest(api.CodeMalformedJSON, "request body is not valid UTF-8")
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return api.DecodeJSON(r, v)
}

// reservedPrefix starts the keys the service keeps in an object's storage
// for itself (a room's history): users can neither read, list nor write
// them. userKeysStart is the first key a user may use.
const (
	reservedPrefix = "\x00"
	userKeysStart  = "\x01"
)

// checkKey checks one storage key.
func checkKey(k string) error {
	if k == "" || len(k) > MaxKeyBytes || !utf8.ValidString(k) {
		return &api.HTTPError{Status: http.StatusBadRequest, Code: api.CodeDOInvalidKey,
			Message: fmt.Sprintf("key must be 1..%d bytes of UTF-8, got %d bytes", MaxKeyBytes, len(k)), Err: api.ErrBadRequest}
	}
	if strings.HasPrefix(k, reservedPrefix) {
		return &api.HTTPError{Status: http.StatusBadRequest, Code: api.CodeDOInvalidKey,
			Message: "keys beginning with a NUL byte are reserved", Err: api.ErrBadRequest}
	}
	return nil
}

// checkKeys checks a list of keys: 1..MaxKeysPerCall valid keys.
func checkKeys(keys []string) error {
	if err := checkCount("keys", len(keys)); err != nil {
		return err
	}
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return err
		}
	}
	return nil
}

func checkCount(what string, n int) error {
	if n < 1 || n > MaxKeysPerCall {
		return &api.HTTPError{Status: http.StatusBadRequest, Code: api.CodeDOTooManyKeys,
			Message: fmt.Sprintf("%s must hold 1..%d items, got %d", what, MaxKeysPerCall, n), Err: api.ErrBadRequest}
	}
	return nil
}

// value checks a JSON value for key and returns its compact bytes, the
// form stored (transaction checks compare these bytes).
func value(key string, raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 {
		return nil, &api.HTTPError{Status: http.StatusBadRequest, Code: api.CodeDOInvalidValue,
			Message: fmt.Sprintf("value of %q is missing", key), Err: api.ErrBadRequest}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, &api.HTTPError{Status: http.StatusBadRequest, Code: api.CodeDOInvalidValue,
			Message: fmt.Sprintf("value of %q is not JSON", key), Err: api.ErrBadRequest}
	}
	if len(key)+buf.Len() > MaxEntryBytes {
		return nil, &api.HTTPError{Status: http.StatusRequestEntityTooLarge, Code: api.CodeDOValueTooLarge,
			Message: fmt.Sprintf("key and value of %q are %d bytes, the limit is %d", key, len(key)+buf.Len(), MaxEntryBytes),
			Err:     api.ErrBodyTooLarge}
	}
	return buf.Bytes(), nil
}
