package api

import (
	"context"
	"net/http"

	"github.com/edgeplane/edgeplane/pkg/kv"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// serviceKV is the "service" label of KV's routes.
const serviceKV = "kv"

// kvBase is the path prefix of every KV route.
const kvBase = "/client/v4/accounts/{account_id}/storage/kv/namespaces"

// Body limits of KV routes.
const (
	// kvValueBodyLimit admits a 25 MiB value plus multipart framing and
	// metadata; the value itself is checked against kv.MaxValueBytes.
	kvValueBodyLimit = kv.MaxValueBytes + 1<<20
	// kvBulkBodyLimit is Cloudflare's 100 MB bound on a bulk write.
	kvBulkBodyLimit = 100 << 20
	// kvBulkDeleteBodyLimit admits 10,000 keys of 512 bytes even when
	// every byte is JSON-escaped.
	kvBulkDeleteBodyLimit = 64 << 20
)

// KVNamespace is a Workers KV namespace as the API shows it.
type KVNamespace = wire.KVNamespace

// KVNamespaces is the catalog side of KV (the node implements it over the
// Raft catalog; titles are unique per account).
type KVNamespaces interface {
	// ListKVNamespaces returns the namespaces of account, in any order.
	ListKVNamespaces(account string) []KVNamespace
	// GetKVNamespace returns namespace id of account.
	GetKVNamespace(account, id string) (KVNamespace, bool)
	// CreateKVNamespace creates a namespace; a title the account already
	// uses is an error matching catalog.ErrExists.
	CreateKVNamespace(ctx context.Context, account, title string) (KVNamespace, error)
	// RenameKVNamespace retitles a namespace (catalog.ErrExists on a
	// duplicate title, catalog.ErrNotFound on an unknown id).
	RenameKVNamespace(ctx context.Context, account, id, title string) error
	// DeleteKVNamespace deletes a namespace and, on every node, its data.
	DeleteKVNamespace(ctx context.Context, account, id string) error
}

// KVData is the data side of KV: *kv.Service implements it.
type KVData interface {
	// Put writes one value; expiration is an absolute Unix second, 0 never.
	Put(ctx context.Context, ns, key string, value, metadata []byte, expiration int64) (kv.Entry, error)
	// Delete removes one key.
	Delete(ctx context.Context, ns, key string) error
	// Get returns a live entry or kv.ErrKeyNotFound.
	Get(ctx context.Context, ns, key string) (kv.Entry, error)
	// List pages live keys by an opaque cursor, "" when done.
	List(ctx context.Context, ns, prefix, cursor string, limit int) ([]kv.Entry, string, error)
	// PutMany writes items all-or-nothing.
	PutMany(ctx context.Context, ns string, items []kv.Entry) error
	// DeleteMany deletes keys all-or-nothing.
	DeleteMany(ctx context.Context, ns string, keys []string) error
	// GetMany returns the live entries among keys.
	GetMany(ctx context.Context, ns string, keys []string) ([]kv.Entry, error)
}

var _ KVData = (*kv.Service)(nil)

// kvHandlers serves the KV routes of one Server.
type kvHandlers struct {
	srv  *Server
	nss  KVNamespaces
	data KVData
}

// MountKV adds Workers KV's Cloudflare v4 routes under
// /client/v4/accounts/{account_id}/storage/kv/namespaces: namespaces
// (list, create, get, rename, delete), values/{key} (GET raw bytes with an
// expiration header, PUT raw or multipart value+metadata, DELETE),
// metadata/{key}, keys (cursor paging), and bulk write, delete and get.
//
// An unknown account is a 404 (7003); an unknown namespace a 404 (10013);
// a missing key a 404 (10009). Keys are the rest of the path after
// values/ or metadata/, percent-decoded once, so both a literal "/" and
// "%2F" work.
//
// Bulk writes and deletes are all-or-nothing: every entry is checked
// before anything is written, and one bad entry refuses the whole request
// with a 400 naming it; a successful answer therefore always has an empty
// unsuccessful_keys.
func (s *Server) MountKV(nss KVNamespaces, data KVData) {
	h := &kvHandlers{srv: s, nss: nss, data: data}
	mount := func(pattern string, limit int64, f http.HandlerFunc) { s.Mount(pattern, serviceKV, limit, f) }
	mount("GET "+kvBase, 0, h.listNamespaces)
	mount("POST "+kvBase, 0, h.createNamespace)
	mount("GET "+kvBase+"/{namespace_id}", 0, h.getNamespace)
	mount("PUT "+kvBase+"/{namespace_id}", 0, h.renameNamespace)
	mount("DELETE "+kvBase+"/{namespace_id}", 0, h.deleteNamespace)
	mount("GET "+kvBase+"/{namespace_id}/values/{key...}", 0, h.getValue)
	mount("PUT "+kvBase+"/{namespace_id}/values/{key...}", kvValueBodyLimit, h.putValue)
	mount("DELETE "+kvBase+"/{namespace_id}/values/{key...}", 0, h.deleteValue)
	mount("GET "+kvBase+"/{namespace_id}/metadata/{key...}", 0, h.getMetadata)
	mount("GET "+kvBase+"/{namespace_id}/keys", 0, h.listKeys)
	mount("PUT "+kvBase+"/{namespace_id}/bulk", kvBulkBodyLimit, h.bulkPut)
	mount("POST "+kvBase+"/{namespace_id}/bulk/delete", kvBulkDeleteBodyLimit, h.bulkDelete)
	mount("DELETE "+kvBase+"/{namespace_id}/bulk", kvBulkDeleteBodyLimit, h.bulkDelete)
	mount("POST "+kvBase+"/{namespace_id}/bulk/get", 0, h.bulkGet)
}

// account returns the request's account id, answering 404 and false when
// the catalog does not know it.
func (h *kvHandlers) account(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("account_id")
	if h.srv.identity.HasAccount(id) {
		return id, true
	}
	WriteFailure(w, r, &HTTPError{Status: http.StatusNotFound, Code: CodeInvalidIdentifier,
		Message: "Could not route to " + r.URL.EscapedPath() + ", perhaps your object identifier is invalid?", Err: ErrNotFound})
	return "", false
}

// namespace returns the request's account and namespace, answering 404 and
// false when either is unknown.
func (h *kvHandlers) namespace(w http.ResponseWriter, r *http.Request) (string, KVNamespace, bool) {
	account, ok := h.account(w, r)
	if !ok {
		return "", KVNamespace{}, false
	}
	ns, ok := h.nss.GetKVNamespace(account, r.PathValue("namespace_id"))
	if !ok {
		WriteFailure(w, r, kvNamespaceNotFound())
		return "", KVNamespace{}, false
	}
	return account, ns, true
}
