package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/edgeplane/edgeplane/pkg/catalog"
)

// ResourceKind describes one kind of account-scoped catalog resource (a KV
// namespace, a D1 database, a Durable Object namespace, an R2 bucket, a
// queue), served under /client/v4/accounts/{account_id}/Path with one set of
// handlers: list (Cloudflare's page/per_page paging, order, direction and a
// name filter), create, get, rename and delete.
type ResourceKind struct {
	// Kind is the catalog registry.
	Kind catalog.Kind
	// Service labels the routes' metrics ("kv", "d1").
	Service string
	// Path is the collection path below the account, e.g.
	// "storage/kv/namespaces" or "d1/database".
	Path string
	// IDParam names the id path wildcard, e.g. "namespace_id".
	IDParam string
	// NameField is the JSON field of the name in create and rename bodies
	// and in list's order parameter ("title" for KV, "name" for the rest).
	NameField string
	// MaxNameBytes bounds a name (default 512).
	MaxNameBytes int
	// Attrs lists optional string fields a create body may hold besides the
	// name, kept as the resource's attributes (e.g. primary_location_hint).
	// A JSON number is accepted too and kept as its text.
	Attrs []string
	// MaxAttrBytes bounds one attribute (default 64).
	MaxAttrBytes int
	// UpdateAttrs lists the attributes a PATCH on a resource may change
	// (a subset of Attrs); empty, the kind has no PATCH. A field sent as
	// null or "" removes the attribute.
	UpdateAttrs []string
	// ValidateAttrs, when set, checks a create's attributes and the values
	// a PATCH sets (not the ones it removes); its error is answered as is
	// (an *HTTPError) or as a 400.
	ValidateAttrs func(attrs map[string]string) error
	// View renders a resource as the API shows it.
	View func(catalog.Resource) any
	// RenameMethod is the HTTP method of rename ("PUT" for KV); empty when
	// the kind cannot be renamed.
	RenameMethod string
	// NotFoundCode and NotFoundMessage answer an id the account lacks
	// (default CodeNotFound).
	NotFoundCode    int
	NotFoundMessage string
	// ExistsCode and ExistsStatus answer a name the account already uses
	// for this kind (default CodeNameExists, 409).
	ExistsCode   int
	ExistsStatus int
	// MaxPerAccount caps the resources of this kind one account may hold
	// (0: no cap); a create past it is 403 with CodeQuotaExceeded. It is
	// checked on the node that serves the create (the Raft leader), before
	// proposing: two creates racing there may pass it by one.
	MaxPerAccount int
}

func (k ResourceKind) withDefaults() ResourceKind {
	if k.MaxNameBytes == 0 {
		k.MaxNameBytes = 512
	}
	if k.NameField == "" {
		k.NameField = "name"
	}
	if k.MaxAttrBytes == 0 {
		k.MaxAttrBytes = 64
	}
	if k.NotFoundCode == 0 {
		k.NotFoundCode = CodeNotFound
	}
	if k.NotFoundMessage == "" {
		k.NotFoundMessage = strings.ReplaceAll(string(k.Kind), "_", " ") + " not found"
	}
	if k.ExistsCode == 0 {
		k.ExistsCode = CodeNameExists
	}
	if k.ExistsStatus == 0 {
		k.ExistsStatus = http.StatusConflict
	}
	if k.View == nil {
		k.View = func(r catalog.Resource) any { return r }
	}
	return k
}

// Base is the collection's route prefix.
func (k ResourceKind) Base() string { return "/client/v4/accounts/{account_id}/" + k.Path }

// Item is the route prefix of one resource.
func (k ResourceKind) Item() string { return k.Base() + "/{" + k.IDParam + "}" }

// Resources is the catalog side of resource handlers: reads from this
// node's replica, writes through Raft.
type Resources interface {
	// Account returns one account.
	Account(id string) (catalog.Account, bool)
	// Resource returns one resource of an account.
	Resource(kind catalog.Kind, account, id string) (catalog.Resource, bool)
	// Resources lists the resources of a kind in an account.
	Resources(kind catalog.Kind, account string) []catalog.Resource
	// CreateResource registers a resource; a name the account already uses
	// for the kind is an error matching catalog.ErrExists.
	CreateResource(ctx context.Context, r catalog.Resource) (catalog.Resource, error)
	// RenameResource renames one (catalog.ErrExists, catalog.ErrNotFound).
	RenameResource(ctx context.Context, kind catalog.Kind, account, id, name string) error
	// DeleteResource deletes one (catalog.ErrNotFound).
	DeleteResource(ctx context.Context, kind catalog.Kind, account, id string) error
	// SetResourceAttrs merges attrs into one's attributes (an empty value
	// removes one) and returns the resource as changed (catalog.ErrNotFound).
	SetResourceAttrs(ctx context.Context, kind catalog.Kind, account, id string, attrs map[string]string) (catalog.Resource, error)
}

// resourceHandlers serves one kind.
type resourceHandlers struct {
	kind ResourceKind
	res  Resources
}

// MountResources serves the catalog handlers of kind. Writes are wrapped by
// Config.Leader, so they run on the Raft leader.
func (s *Server) MountResources(kind ResourceKind, res Resources) {
	h := &resourceHandlers{kind: kind.withDefaults(), res: res}
	k := h.kind
	s.Mount("GET "+k.Base(), k.Service, 0, http.HandlerFunc(h.list))
	s.Mount("POST "+k.Base(), k.Service, 0, s.cfg.Leader(k.Service, http.HandlerFunc(h.create)))
	s.Mount("GET "+k.Item(), k.Service, 0, http.HandlerFunc(h.get))
	if k.RenameMethod != "" {
		s.Mount(k.RenameMethod+" "+k.Item(), k.Service, 0, s.cfg.Leader(k.Service, http.HandlerFunc(h.rename)))
	}
	if len(k.UpdateAttrs) > 0 {
		s.Mount("PATCH "+k.Item(), k.Service, 0, s.cfg.Leader(k.Service, http.HandlerFunc(h.update)))
	}
	s.Mount("DELETE "+k.Item(), k.Service, 0, s.cfg.Leader(k.Service, http.HandlerFunc(h.delete)))
}

// AccountNotFound is the answer to an account id the catalog does not hold,
// worded as Cloudflare's 7003.
func AccountNotFound(r *http.Request) *HTTPError {
	return &HTTPError{Status: http.StatusNotFound, Code: CodeInvalidIdentifier,
		Message: "Could not route to " + r.URL.EscapedPath() + ", perhaps your object identifier is invalid?", Err: ErrNotFound}
}

// account returns the request's account id, or answers 404.
func (h *resourceHandlers) account(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("account_id")
	if _, ok := h.res.Account(id); ok {
		return id, true
	}
	WriteFailure(w, r, AccountNotFound(r))
	return "", false
}

// resource returns the request's resource, or answers 404.
func (h *resourceHandlers) resource(w http.ResponseWriter, r *http.Request) (catalog.Resource, bool) {
	account, ok := h.account(w, r)
	if !ok {
		return catalog.Resource{}, false
	}
	res, ok := h.res.Resource(h.kind.Kind, account, r.PathValue(h.kind.IDParam))
	if !ok {
		WriteFailure(w, r, h.notFound())
		return catalog.Resource{}, false
	}
	return res, true
}

func (h *resourceHandlers) notFound() *HTTPError {
	return &HTTPError{Status: http.StatusNotFound, Code: h.kind.NotFoundCode, Message: h.kind.NotFoundMessage,
		Err: errors.Join(ErrNotFound, catalog.ErrNotFound)}
}

// list answers one page of the account's resources, ordered by order (id or
// the name field, default id) and direction (asc or desc, default asc),
// keeping those whose name contains the name parameter when given.
func (h *resourceHandlers) list(w http.ResponseWriter, r *http.Request) {
	account, ok := h.account(w, r)
	if !ok {
		return
	}
	page, perPage, err := ParsePage(r)
	if err != nil {
		WriteFailure(w, r, err)
		return
	}
	q := r.URL.Query()
	order, direction, filter := q.Get("order"), q.Get("direction"), q.Get("name")
	if order != "" && order != "id" && order != h.kind.NameField {
		WriteFailure(w, r, BadRequest(CodeBadRequest, "order must be id or %s", h.kind.NameField))
		return
	}
	if direction != "" && direction != "asc" && direction != "desc" {
		WriteFailure(w, r, BadRequest(CodeBadRequest, "direction must be asc or desc"))
		return
	}
	items := slices.Clone(h.res.Resources(h.kind.Kind, account))
	if filter != "" {
		items = slices.DeleteFunc(items, func(x catalog.Resource) bool { return !strings.Contains(x.Name, filter) })
	}
	slices.SortStableFunc(items, func(a, b catalog.Resource) int {
		c := cmp.Compare(a.ID, b.ID)
		if order == h.kind.NameField {
			c = cmp.Or(cmp.Compare(a.Name, b.Name), c)
		}
		if direction == "desc" {
			c = -c
		}
		return c
	})
	out, info := Paginate(items, page, perPage)
	views := make([]any, len(out))
	for i, x := range out {
		views[i] = h.kind.View(x)
	}
	WriteResult(w, http.StatusOK, views, info)
}

// create registers a resource named by the body's name field.
func (h *resourceHandlers) create(w http.ResponseWriter, r *http.Request) {
	account, ok := h.account(w, r)
	if !ok {
		return
	}
	name, attrs, err := h.decodeBody(r, true)
	if err != nil {
		WriteFailure(w, r, err)
		return
	}
	if max := h.kind.MaxPerAccount; max > 0 && len(h.res.Resources(h.kind.Kind, account)) >= max {
		WriteFailure(w, r, h.quotaError())
		return
	}
	res, err := h.res.CreateResource(r.Context(), catalog.Resource{Kind: h.kind.Kind, AccountID: account, Name: name, Attrs: attrs,
		MaxPerAccount: h.kind.MaxPerAccount})
	if err != nil {
		WriteFailure(w, r, h.writeError(err, name))
		return
	}
	WriteResult(w, http.StatusOK, h.kind.View(res), nil)
}

// get answers one resource.
func (h *resourceHandlers) get(w http.ResponseWriter, r *http.Request) {
	if res, ok := h.resource(w, r); ok {
		WriteResult(w, http.StatusOK, h.kind.View(res), nil)
	}
}

// rename renames a resource and answers it.
func (h *resourceHandlers) rename(w http.ResponseWriter, r *http.Request) {
	res, ok := h.resource(w, r)
	if !ok {
		return
	}
	name, _, err := h.decodeBody(r, false)
	if err != nil {
		WriteFailure(w, r, err)
		return
	}
	if err := h.res.RenameResource(r.Context(), h.kind.Kind, res.AccountID, res.ID, name); err != nil {
		WriteFailure(w, r, h.writeError(err, name))
		return
	}
	res.Name = name
	WriteResult(w, http.StatusOK, h.kind.View(res), nil)
}

// update changes the attributes the body names (UpdateAttrs only) and
// answers the resource as changed.
func (h *resourceHandlers) update(w http.ResponseWriter, r *http.Request) {
	res, ok := h.resource(w, r)
	if !ok {
		return
	}
	attrs, err := h.decodeUpdate(r)
	if err != nil {
		WriteFailure(w, r, err)
		return
	}
	res, err = h.res.SetResourceAttrs(r.Context(), h.kind.Kind, res.AccountID, res.ID, attrs)
	if err != nil {
		WriteFailure(w, r, h.writeError(err, ""))
		return
	}
	WriteResult(w, http.StatusOK, h.kind.View(res), nil)
}

// decodeUpdate reads a PATCH body: at least one of UpdateAttrs, each a
// string (a number is kept as its text), or null or "" to remove it.
func (h *resourceHandlers) decodeUpdate(r *http.Request) (map[string]string, error) {
	var body map[string]json.RawMessage
	if err := DecodeJSON(r, &body); err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, BadRequest(CodeBadRequest, "nothing to change: send one or more of %s", strings.Join(h.kind.UpdateAttrs, ", "))
	}
	attrs := make(map[string]string, len(body))
	set := make(map[string]string, len(body))
	for field, raw := range body {
		if !slices.Contains(h.kind.UpdateAttrs, field) {
			return nil, BadRequest(CodeMalformedJSON, "unknown field %q: a PATCH changes only %s", field, strings.Join(h.kind.UpdateAttrs, ", "))
		}
		v, err := h.attrValue(field, raw)
		if err != nil {
			return nil, err
		}
		attrs[field] = v
		if v != "" {
			set[field] = v
		}
	}
	if err := h.validateAttrs(set); err != nil {
		return nil, err
	}
	return attrs, nil
}

// validateAttrs runs the kind's ValidateAttrs, if any: its error as is
// when it is an *HTTPError, else as a 400.
func (h *resourceHandlers) validateAttrs(attrs map[string]string) error {
	if h.kind.ValidateAttrs == nil {
		return nil
	}
	if err := h.kind.ValidateAttrs(attrs); err != nil {
		var he *HTTPError
		if errors.As(err, &he) {
			return err
		}
		return BadRequest(CodeBadRequest, "%v", err)
	}
	return nil
}

// attrValue reads one attribute of a body: a string, a number (kept as its
// text), or null (""; only a PATCH gives null a meaning: removal), of at
// most MaxAttrBytes of UTF-8.
func (h *resourceHandlers) attrValue(field string, raw json.RawMessage) (string, error) {
	if string(raw) == "null" {
		return "", nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return "", BadRequest(CodeMalformedJSON, "%s must be a string", field)
		}
		v = n.String()
	}
	if len(v) > h.kind.MaxAttrBytes || !utf8.ValidString(v) {
		return "", BadRequest(CodeBadRequest, "%s must be at most %d bytes of UTF-8", field, h.kind.MaxAttrBytes)
	}
	return v, nil
}

// delete deletes a resource (its data goes with it on every node).
func (h *resourceHandlers) delete(w http.ResponseWriter, r *http.Request) {
	res, ok := h.resource(w, r)
	if !ok {
		return
	}
	if err := h.res.DeleteResource(r.Context(), h.kind.Kind, res.AccountID, res.ID); err != nil {
		WriteFailure(w, r, h.writeError(err, ""))
		return
	}
	WriteEmptyResult(w)
}

// decodeBody reads {"<name field>": ..., attrs...}: the name 1..MaxNameBytes
// of valid UTF-8, not blank; attributes (on create) short strings.
func (h *resourceHandlers) decodeBody(r *http.Request, withAttrs bool) (string, map[string]string, error) {
	var body map[string]json.RawMessage
	if err := DecodeJSON(r, &body); err != nil {
		return "", nil, err
	}
	var name string
	var attrs map[string]string
	for field, raw := range body {
		var v string
		isAttr := withAttrs && slices.Contains(h.kind.Attrs, field)
		if isAttr {
			var err error
			if v, err = h.attrValue(field, raw); err != nil {
				return "", nil, err
			}
		} else if err := json.Unmarshal(raw, &v); err != nil {
			return "", nil, BadRequest(CodeMalformedJSON, "%s must be a string", field)
		}
		switch {
		case field == h.kind.NameField:
			name = v
		case isAttr:
			if attrs == nil {
				attrs = make(map[string]string)
			}
			attrs[field] = v
		default:
			return "", nil, BadRequest(CodeMalformedJSON, "unknown field %q", field)
		}
	}
	switch {
	case strings.TrimSpace(name) == "":
		return "", nil, BadRequest(CodeBadRequest, "%s is required", h.kind.NameField)
	case len(name) > h.kind.MaxNameBytes:
		return "", nil, BadRequest(CodeBadRequest, "%s is %d bytes, the limit is %d", h.kind.NameField, len(name), h.kind.MaxNameBytes)
	case !utf8.ValidString(name):
		return "", nil, BadRequest(CodeBadRequest, "%s must be valid UTF-8", h.kind.NameField)
	}
	if withAttrs {
		if err := h.validateAttrs(attrs); err != nil {
			return "", nil, err
		}
	}
	return name, attrs, nil
}

// writeError maps catalog refusals of writes to the kind's envelopes.
func (h *resourceHandlers) writeError(err error, name string) error {
	switch {
	case errors.Is(err, catalog.ErrExists):
		sentinel := ErrConflict
		if h.kind.ExistsStatus == http.StatusBadRequest {
			sentinel = ErrBadRequest
		}
		return &HTTPError{Status: h.kind.ExistsStatus, Code: h.kind.ExistsCode,
			Message: fmt.Sprintf("a %s with this account ID and %s already exists: %s",
				strings.ReplaceAll(string(h.kind.Kind), "_", " "), h.kind.NameField, name), Err: errors.Join(sentinel, err)}
	case errors.Is(err, catalog.ErrNotFound):
		return h.notFound()
	case errors.Is(err, catalog.ErrQuota):
		return h.quotaError()
	}
	return err
}

// quotaError answers a create past the kind's cap per account (checked on
// the receiving node's view first, then authoritatively when the create
// applies in the log).
func (h *resourceHandlers) quotaError() error {
	return &HTTPError{Status: http.StatusForbidden, Code: CodeQuotaExceeded,
		Message: fmt.Sprintf("quota exceeded: an account may hold at most %d of %s", h.kind.MaxPerAccount, h.kind.Path), Err: ErrBadRequest}
}
