package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// maxNamespacePages bounds ListAllNamespaces (Cloudflare allows 1,000
// namespaces per account; this is far past that at any page size).
const maxNamespacePages = 10_000

// namespacePageSize is the page size ListAllNamespaces asks for.
const namespacePageSize = 100

// KVNamespaceListOptions selects a page of namespaces.
type KVNamespaceListOptions struct {
	// Page is the 1-based page number; zero means 1.
	Page int
	// PerPage is the page size; zero means the server's default.
	PerPage int
	// Order is "id" or "title"; empty for the server's default.
	Order string
	// Direction is "asc" or "desc"; empty for the server's default.
	Direction string
}

// ListNamespaces returns one page of the account's namespaces and the
// page's result_info (which may be nil).
func (k *KV) ListNamespaces(ctx context.Context, opts KVNamespaceListOptions) ([]KVNamespace, *wire.ResultInfo, error) {
	q := url.Values{}
	if opts.Page > 0 {
		q.Set("page", strconv.Itoa(opts.Page))
	}
	if opts.PerPage > 0 {
		q.Set("per_page", strconv.Itoa(opts.PerPage))
	}
	if opts.Order != "" {
		q.Set("order", opts.Order)
	}
	if opts.Direction != "" {
		q.Set("direction", opts.Direction)
	}
	path := k.namespacesPath()
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out []KVNamespace
	info, err := k.c.Do(ctx, http.MethodGet, path, nil, &out)
	if err != nil {
		return nil, nil, fmt.Errorf("list kv namespaces: %w", err)
	}
	if out == nil {
		out = []KVNamespace{}
	}
	return out, info, nil
}

// ListAllNamespaces pages through every namespace of the account, ordered
// by title, until a short or empty page.
func (k *KV) ListAllNamespaces(ctx context.Context) ([]KVNamespace, error) {
	all := []KVNamespace{}
	for page := 1; page <= maxNamespacePages; page++ {
		got, _, err := k.ListNamespaces(ctx, KVNamespaceListOptions{
			Page: page, PerPage: namespacePageSize, Order: "title", Direction: "asc",
		})
		if err != nil {
			return nil, err
		}
		all = append(all, got...)
		if len(got) < namespacePageSize {
			return all, nil
		}
	}
	return nil, fmt.Errorf("list kv namespaces: %w: more than %d pages", ErrBadResponse, maxNamespacePages)
}

// CreateNamespace creates a namespace titled title. A title the account
// already uses is refused by the server (HTTP 400).
func (k *KV) CreateNamespace(ctx context.Context, title string) (KVNamespace, error) {
	var ns KVNamespace
	if _, err := k.c.Do(ctx, http.MethodPost, k.namespacesPath(), map[string]string{"title": title}, &ns); err != nil {
		return KVNamespace{}, fmt.Errorf("create kv namespace %q: %w", title, err)
	}
	return ns, nil
}

// GetNamespace returns the namespace with id.
func (k *KV) GetNamespace(ctx context.Context, id string) (KVNamespace, error) {
	var ns KVNamespace
	if _, err := k.c.Do(ctx, http.MethodGet, k.nsPath(id, ""), nil, &ns); err != nil {
		return KVNamespace{}, fmt.Errorf("get kv namespace %s: %w", id, err)
	}
	return ns, nil
}

// RenameNamespace gives namespace id a new title. Servers that answer with
// an empty result get the namespace from the arguments.
func (k *KV) RenameNamespace(ctx context.Context, id, title string) (KVNamespace, error) {
	var ns KVNamespace
	if _, err := k.c.Do(ctx, http.MethodPut, k.nsPath(id, ""), map[string]string{"title": title}, &ns); err != nil {
		return KVNamespace{}, fmt.Errorf("rename kv namespace %s: %w", id, err)
	}
	if ns.ID == "" {
		ns = KVNamespace{ID: id, Title: title}
	}
	return ns, nil
}

// DeleteNamespace deletes namespace id and all its keys.
func (k *KV) DeleteNamespace(ctx context.Context, id string) error {
	if _, err := k.c.Do(ctx, http.MethodDelete, k.nsPath(id, ""), nil, nil); err != nil {
		return fmt.Errorf("delete kv namespace %s: %w", id, err)
	}
	return nil
}
