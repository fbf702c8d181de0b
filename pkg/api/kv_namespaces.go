package api

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/kv"
)

// kvTitleBody is the body of namespace create and rename.
type kvTitleBody struct {
	Title string `json:"title"`
}

// listNamespaces answers one page of the account's namespaces, ordered by
// order (id or title, default id) and direction (asc or desc, default asc).
func (h *kvHandlers) listNamespaces(w http.ResponseWriter, r *http.Request) {
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
	order, direction := q.Get("order"), q.Get("direction")
	if order != "" && order != "id" && order != "title" {
		WriteFailure(w, r, badRequest(CodeBadRequest, "order must be id or title"))
		return
	}
	if direction != "" && direction != "asc" && direction != "desc" {
		WriteFailure(w, r, badRequest(CodeBadRequest, "direction must be asc or desc"))
		return
	}
	items := slices.Clone(h.nss.ListKVNamespaces(account))
	slices.SortStableFunc(items, func(a, b KVNamespace) int {
		c := cmp.Compare(a.ID, b.ID)
		if order == "title" {
			c = cmp.Or(cmp.Compare(a.Title, b.Title), c)
		}
		if direction == "desc" {
			c = -c
		}
		return c
	})
	for i := range items {
		items[i].SupportsURLEncoding = true
	}
	out, info := Paginate(items, page, perPage)
	WriteResult(w, http.StatusOK, out, info)
}

// createNamespace creates a namespace; a title the account already uses is
// a 400, as on Cloudflare.
func (h *kvHandlers) createNamespace(w http.ResponseWriter, r *http.Request) {
	account, ok := h.account(w, r)
	if !ok {
		return
	}
	title, err := decodeTitle(r)
	if err != nil {
		WriteFailure(w, r, err)
		return
	}
	ns, err := h.nss.CreateKVNamespace(r.Context(), account, title)
	if err != nil {
		WriteFailure(w, r, namespaceWriteError(err, title))
		return
	}
	ns.SupportsURLEncoding = true
	WriteResult(w, http.StatusOK, ns, nil)
}

// getNamespace answers one namespace.
func (h *kvHandlers) getNamespace(w http.ResponseWriter, r *http.Request) {
	if _, ns, ok := h.namespace(w, r); ok {
		ns.SupportsURLEncoding = true
		WriteResult(w, http.StatusOK, ns, nil)
	}
}

// renameNamespace retitles a namespace and answers it.
func (h *kvHandlers) renameNamespace(w http.ResponseWriter, r *http.Request) {
	account, ns, ok := h.namespace(w, r)
	if !ok {
		return
	}
	title, err := decodeTitle(r)
	if err != nil {
		WriteFailure(w, r, err)
		return
	}
	if err := h.nss.RenameKVNamespace(r.Context(), account, ns.ID, title); err != nil {
		WriteFailure(w, r, namespaceWriteError(err, title))
		return
	}
	ns.Title, ns.SupportsURLEncoding = title, true
	WriteResult(w, http.StatusOK, ns, nil)
}

// deleteNamespace deletes a namespace and its data.
func (h *kvHandlers) deleteNamespace(w http.ResponseWriter, r *http.Request) {
	account, ns, ok := h.namespace(w, r)
	if !ok {
		return
	}
	if err := h.nss.DeleteKVNamespace(r.Context(), account, ns.ID); err != nil {
		WriteFailure(w, r, namespaceWriteError(err, ""))
		return
	}
	WriteEmptyResult(w)
}

// decodeTitle reads {"title": ...} and checks it: 1..512 bytes, not blank.
func decodeTitle(r *http.Request) (string, error) {
	var body kvTitleBody
	if err := DecodeJSON(r, &body); err != nil {
		return "", err
	}
	switch {
	case strings.TrimSpace(body.Title) == "":
		return "", badRequest(CodeBadRequest, "title is required")
	case len(body.Title) > kv.MaxNamespaceTitle:
		return "", badRequest(CodeBadRequest, "title is %d bytes, the limit is %d", len(body.Title), kv.MaxNamespaceTitle)
	}
	return body.Title, nil
}

// namespaceWriteError maps catalog errors of namespace writes: a duplicate
// title is a 400 (Cloudflare's answer), an unknown id 10013.
func namespaceWriteError(err error, title string) error {
	switch {
	case errors.Is(err, catalog.ErrExists):
		return &HTTPError{Status: http.StatusBadRequest, Code: CodeKVNamespaceTitleExists,
			Message: "a namespace with this account ID and title already exists: " + title, Err: errors.Join(ErrBadRequest, err)}
	case errors.Is(err, catalog.ErrNotFound), errors.Is(err, kv.ErrNamespaceNotFound):
		return kvNamespaceNotFound()
	}
	return err
}
