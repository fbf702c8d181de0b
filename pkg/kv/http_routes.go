package kv

import (
	"context"
	"net/http"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/router"
	"github.com/edgeplane/edgeplane/pkg/service"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// serviceName is KV's name: its metrics label, data directory and routes'
// service.
const serviceName = "kv"

// namespacesPath is the collection path of namespaces below the account.
const namespacesPath = "storage/kv/namespaces"

// kvBase is the path prefix of every data route: one namespace.
const kvBase = "/client/v4/accounts/{account_id}/" + namespacesPath + "/{namespace_id}"

// Body limits of KV routes.
const (
	// kvValueBodyLimit admits a 25 MiB value plus multipart framing and
	// metadata; the value itself is checked against MaxValueBytes.
	kvValueBodyLimit = MaxValueBytes + 1<<20
	// kvValueRouteLimit is the route's limit, above kvValueBodyLimit so
	// that the handler, not the generic limit, answers values up to it
	// (413 with code 10024 for raw and multipart alike).
	kvValueRouteLimit = 2 * kvValueBodyLimit
	// kvBulkBodyLimit is Cloudflare's 100 MB bound on a bulk write.
	kvBulkBodyLimit = 100 << 20
	// kvBulkDeleteBodyLimit admits 10,000 keys of 512 bytes even when
	// every byte is JSON-escaped.
	kvBulkDeleteBodyLimit = 64 << 20
)

// NamespaceKind is KV's catalog resource: namespaces, with Cloudflare's
// shapes ({id, title, supports_url_encoding}), a duplicate title answered
// 400 with code 10014 and an unknown id 404 with code 10013, as Cloudflare
// does.
var NamespaceKind = api.ResourceKind{
	Kind:            catalog.KindKVNamespace,
	Service:         serviceName,
	Path:            namespacesPath,
	IDParam:         "namespace_id",
	NameField:       "title",
	MaxNameBytes:    MaxNamespaceTitle,
	RenameMethod:    http.MethodPut,
	NotFoundCode:    api.CodeKVNamespaceNotFound,
	NotFoundMessage: "namespace not found",
	ExistsCode:      api.CodeKVNamespaceTitleExists,
	ExistsStatus:    http.StatusBadRequest,
	View: func(r catalog.Resource) any {
		return wire.KVNamespace{ID: r.ID, Title: r.Name, SupportsURLEncoding: true}
	},
}

// Data is the data side of KV the handlers serve: *Service implements it.
type Data interface {
	// Put writes one value; expiration is an absolute Unix second, 0 never.
	Put(ctx context.Context, ns, key string, value, metadata []byte, expiration int64) (Entry, error)
	// Delete removes one key.
	Delete(ctx context.Context, ns, key string) error
	// Get returns a live entry or ErrKeyNotFound.
	Get(ctx context.Context, ns, key string) (Entry, error)
	// List pages live keys by an opaque cursor, "" when done.
	List(ctx context.Context, ns, prefix, cursor string, limit int) ([]Entry, string, error)
	// PutMany writes items all-or-nothing.
	PutMany(ctx context.Context, ns string, items []Entry) error
	// DeleteMany deletes keys all-or-nothing.
	DeleteMany(ctx context.Context, ns string, keys []string) error
	// GetMany returns the live entries among keys.
	GetMany(ctx context.Context, ns string, keys []string) ([]Entry, error)
}

var _ Data = (*Service)(nil)

// handlers serves KV's data routes.
type handlers struct {
	cat  service.Catalog
	data Data
}

// Routes returns Workers KV's Cloudflare v4 data routes under
// /client/v4/accounts/{account_id}/storage/kv/namespaces/{namespace_id}:
// values/{key} (GET raw bytes with an expiration header, PUT raw or
// multipart value+metadata, DELETE), metadata/{key}, keys (cursor paging),
// and bulk write, delete and get. Every route is served where it arrives:
// every node holds every namespace. (Namespaces themselves are the catalog
// resource NamespaceKind.)
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
func Routes(cat service.Catalog, data Data) []service.Route {
	h := &handlers{cat: cat, data: data}
	route := func(pattern string, limit int64, f http.HandlerFunc) service.Route {
		return service.Route{Pattern: pattern, MaxBody: limit, Placement: router.Here(), Handler: f}
	}
	return []service.Route{
		route("GET "+kvBase+"/values/{key...}", 0, h.getValue),
		route("PUT "+kvBase+"/values/{key...}", kvValueRouteLimit, h.putValue),
		route("DELETE "+kvBase+"/values/{key...}", 0, h.deleteValue),
		route("GET "+kvBase+"/metadata/{key...}", 0, h.getMetadata),
		route("GET "+kvBase+"/keys", 0, h.listKeys),
		route("PUT "+kvBase+"/bulk", kvBulkBodyLimit, h.bulkPut),
		route("POST "+kvBase+"/bulk/delete", kvBulkDeleteBodyLimit, h.bulkDelete),
		route("DELETE "+kvBase+"/bulk", kvBulkDeleteBodyLimit, h.bulkDelete),
		// A read through POST: Workers KV Storage Read suffices.
		{Pattern: "POST " + kvBase + "/bulk/get", Access: service.AccessRead, Placement: router.Here(), Handler: http.HandlerFunc(h.bulkGet)},
	}
}

// namespace returns the request's account and namespace, answering 404 and
// false when either is unknown.
func (h *handlers) namespace(w http.ResponseWriter, r *http.Request) (string, catalog.Resource, bool) {
	account := r.PathValue("account_id")
	if _, ok := h.cat.Account(account); !ok {
		api.WriteFailure(w, r, api.AccountNotFound(r))
		return "", catalog.Resource{}, false
	}
	ns, ok := h.cat.Resource(catalog.KindKVNamespace, account, r.PathValue("namespace_id"))
	if !ok {
		api.WriteFailure(w, r, kvNamespaceNotFound())
		return "", catalog.Resource{}, false
	}
	return account, ns, true
}
